//! `sor sim`: runs seeds of the deterministic simulation and prints what they did.

use super::{FaultKind, FaultProfile, ScenarioText, SeedOutcome, Summary, scenario_for};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// Most worker threads.
const MAX_JOBS: usize = 64;

/// The arguments of `sor sim`.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Scenario files (default: scenarios/corridor.toml, then the other scenarios/*.toml).
    /// Seed s runs scenario number s mod (number of scenarios).
    pub scenarios: Vec<PathBuf>,
    /// Run seeds 0..N (default 100).
    #[arg(long, conflicts_with = "seed")]
    pub seeds: Option<u64>,
    /// Run this one seed (a failure reproduces exactly).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Most steps per seed.
    #[arg(long, default_value_t = 1_000_000)]
    pub steps: u64,
    /// Fault profile: none, light, default or heavy, with optional key=value changes
    /// (e.g. default,crash=0.01,extra_parents=5).
    #[arg(long, default_value = "default")]
    pub faults: String,
    /// Seeds run at once, on that many threads.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// With --seed: print every step.
    #[arg(long, requires = "seed")]
    pub trace: bool,
}

/// The scenarios to run: the ones named, or the repository's `scenarios/` directory
/// (corridor first).
fn load(paths: &[PathBuf]) -> Result<Vec<ScenarioText>, String> {
    let paths = if paths.is_empty() {
        default_scenarios()?
    } else {
        paths.to_vec()
    };
    paths
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .map(|text| ScenarioText {
                    name: p.display().to_string(),
                    text,
                })
                .map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect()
}

fn default_scenarios() -> Result<Vec<PathBuf>, String> {
    let here = Path::new("scenarios");
    let dir = if here.is_dir() {
        here.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort_by_key(|p| {
        let corridor = p.file_name().is_some_and(|n| n == "corridor.toml");
        (!corridor, p.clone())
    });
    if files.is_empty() {
        return Err(format!("{}: no scenario files", dir.display()));
    }
    Ok(files)
}

/// Runs `sor sim`.
pub fn run(args: SimArgs) -> ExitCode {
    let profile = match FaultProfile::parse(&args.faults) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let scenarios = match load(&args.scenarios) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (first, count) = match args.seed {
        Some(s) => (s, 1),
        None => (0, args.seeds.unwrap_or(100)),
    };
    let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
    println!(
        "sor sim: {count} seed(s) from {first} over {} scenario(s), faults {}, at most {} steps a seed",
        scenarios.len(),
        profile.name,
        args.steps
    );
    println!("scenarios             {}", names.join(", "));
    let started = Instant::now();
    let summary = if args.seed.is_some() {
        let scenario = &scenarios[scenario_for(first, scenarios.len())];
        let mut trace = |line: &str| {
            if args.trace {
                eprintln!("{line}");
            }
        };
        match super::run_seed_traced(&scenario.text, first, &profile, args.steps, &mut trace) {
            Ok(o) => {
                print_seed(&o);
                let mut s = Summary::default();
                s.add(&o);
                s
            }
            Err(e) => {
                eprintln!("error: {}: {e}", scenario.name);
                return ExitCode::from(2);
            }
        }
    } else {
        match run_many(&scenarios, first, count, &profile, args.steps, args.jobs) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    };
    let wall = started.elapsed();
    print_summary(&summary, wall.as_secs_f64());
    for f in &summary.failures {
        let path = &scenarios[scenario_for(f.seed, scenarios.len())].name;
        println!();
        print!("{f}");
        println!(
            "reproduce: sor sim {path} --seed {} --faults {} --steps {} --trace",
            f.seed, profile.name, args.steps
        );
    }
    if summary.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn run_many(
    scenarios: &[ScenarioText],
    first: u64,
    count: u64,
    profile: &FaultProfile,
    steps: u64,
    jobs: usize,
) -> Result<Summary, String> {
    let bar = ProgressBar::new(count);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} seeds, {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let next = AtomicU64::new(first);
    let end = first.saturating_add(count);
    let (tx, rx) = mpsc::sync_channel::<Result<SeedOutcome, String>>(1024);
    let mut summary = Summary::default();
    let mut error = None;
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, MAX_JOBS) {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= end {
                        break;
                    }
                    let scenario = &scenarios[scenario_for(seed, scenarios.len())];
                    let result = super::run_seed(&scenario.text, seed, profile, steps)
                        .map_err(|e| format!("{}: seed {seed}: {e}", scenario.name));
                    let stop = result.is_err();
                    if tx.send(result).is_err() || stop {
                        // Tell the other workers to stop too.
                        next.store(end, Ordering::Relaxed);
                        break;
                    }
                }
            });
        }
        drop(tx);
        for result in rx {
            match result {
                Ok(o) => {
                    summary.add(&o);
                    bar.inc(1);
                    bar.set_message(format!(
                        "{} steps, {} faults, {} crashes, {} violations",
                        summary.steps,
                        summary.faults.total(),
                        summary.crashes,
                        summary.failures.len()
                    ));
                }
                Err(e) => {
                    error.get_or_insert(e);
                }
            }
        }
    });
    bar.finish_and_clear();
    summary.failures.sort_by_key(|f| f.seed);
    match error {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

fn print_seed(o: &SeedOutcome) {
    println!(
        "seed {} ({}): {} steps, {} simulated, {}",
        o.seed,
        o.scenario,
        o.steps,
        super::runner::secs_text(o.sim_time),
        if o.quiet {
            "ran until nothing was pending"
        } else {
            "stopped at the step bound"
        }
    );
}

fn print_summary(s: &Summary, wall_secs: f64) {
    println!(
        "seeds                 {} ({} ran until nothing was pending, {} stopped at the step bound)",
        s.seeds,
        s.quiet,
        s.seeds - s.quiet
    );
    if !s.bounded.is_empty() {
        let mut seeds = s.bounded.clone();
        seeds.sort_unstable();
        let list: Vec<String> = seeds.iter().map(u64::to_string).collect();
        println!("  stopped at the bound: seeds {}", list.join(" "));
    }
    println!("steps                 {}", s.steps);
    println!(
        "orders                {} parents, {} children, {} venue fills",
        s.parents, s.children, s.venue_fills
    );
    println!("faults injected       {}", s.faults.total());
    for kind in FaultKind::ALL {
        println!("  {:<19} {}", kind.name(), s.faults.get(kind));
    }
    println!(
        "crashes               {} ({} recovered with the state before the crash)",
        s.crashes, s.recoveries
    );
    println!(
        "reconciled reports    {} ({} live reports superseded by a status answer)",
        s.reconciled, s.superseded
    );
    println!(
        "duplicates            {} fills ignored by ExecID, {} acks/ends refused",
        s.duplicate_fills, s.refused_duplicates
    );
    println!("journal records       {}", s.journal_records);
    println!("invariant violations  {}", s.failures.len());
    println!("wall time             {wall_secs:.1} s");
}
