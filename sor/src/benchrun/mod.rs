//! `sor bench`: runs scenarios over many seeds on their simulated venues and writes a
//! report directory: `report.json`, `report.md` and SVG charts (slippage by strategy
//! against the ex-post optimum and the baselines, latency per hop, fill progress).
//!
//! Every cost figure is the run report's own (`RunReport`: the TCA and the gap
//! analysis, docs/tca.md); this module only gathers them over seeds
//! ([`collect`], [`summary`]), merges the per-hop latency ([`latency`]), and writes the
//! directory whole or not at all ([`outdir`]).

pub mod charts;
pub mod collect;
pub mod latency;
pub mod markdown;
pub mod outdir;
pub mod stats;
pub mod summary;

use crate::report::RunReport;
use crate::scenario::Scenario;
use crate::sim::{Pace, run};
use collect::collect;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use latency::Latency;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use summary::{BenchReport, ScenarioRuns};

/// Most seeds per scenario.
pub const MAX_SEEDS: u32 = 10_000;

/// The arguments of `sor bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Scenario files (TOML), e.g. scenarios/corridor.toml.
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// Seeds per scenario.
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SEEDS)))]
    pub seeds: u32,
    /// The first seed: runs seeds S, S+1, …, S+N−1 of every scenario.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub first_seed: u64,
    /// The report directory [default: bench-report/<scenario names>-<N>seeds].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the report directory if it is not empty.
    #[arg(long)]
    pub force: bool,
}

/// Why `sor bench` stopped.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A scenario file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A scenario file is not a valid scenario.
    #[error("{path}: {detail}")]
    Scenario {
        /// The file.
        path: PathBuf,
        /// The scenario's own error.
        detail: String,
    },
    /// Two files give the same scenario name.
    #[error(
        "{path}: scenario name {name:?} is already the name of {first}; give each scenario once"
    )]
    Duplicate {
        /// The later file.
        path: PathBuf,
        /// The name.
        name: String,
        /// The earlier file.
        first: String,
    },
    /// The seeds run past the largest seed.
    #[error(
        "--first-seed {first} with --seeds {seeds}: the last seed would pass {}",
        u64::MAX
    )]
    SeedRange {
        /// `--first-seed`.
        first: u64,
        /// `--seeds`.
        seeds: u32,
    },
    /// `--out` is not empty.
    #[error("--out {}: the directory is not empty; pass --force to replace it", .0.display())]
    NotEmpty(PathBuf),
    /// `--out` is a file.
    #[error("--out {}: is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// Writing the report failed.
    #[error("--out {}: {source}", path.display())]
    Write {
        /// The path written.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A run broke.
    #[error("scenario {scenario} seed {seed}: run failed: {detail}")]
    Run {
        /// Scenario name.
        scenario: String,
        /// Seed.
        seed: u64,
        /// The runner's error.
        detail: String,
    },
    /// A chart could not be drawn.
    #[error("chart {0}")]
    Chart(#[from] charts::ChartError),
    /// The JSON report could not be written.
    #[error("report.json: {0}")]
    Json(#[from] serde_json::Error),
}

impl BenchError {
    /// The exit code: 2 for what the user gave (arguments, files), 1 for a failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            BenchError::Read { .. }
            | BenchError::Scenario { .. }
            | BenchError::Duplicate { .. }
            | BenchError::SeedRange { .. }
            | BenchError::NotEmpty(_)
            | BenchError::NotADirectory(_) => 2,
            BenchError::Write { .. }
            | BenchError::Run { .. }
            | BenchError::Chart(_)
            | BenchError::Json(_) => 1,
        }
    }
}

/// A scenario file read and checked.
struct Input {
    path: PathBuf,
    text: String,
    name: String,
}

fn read_inputs(paths: &[PathBuf]) -> Result<Vec<Input>, BenchError> {
    let mut out: Vec<Input> = Vec::with_capacity(paths.len());
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|source| BenchError::Read {
            path: path.clone(),
            source,
        })?;
        let parsed = Scenario::parse(&text, None).map_err(|e| BenchError::Scenario {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        if let Some(first) = out.iter().find(|i| i.name == parsed.name) {
            return Err(BenchError::Duplicate {
                path: path.clone(),
                name: parsed.name,
                first: first.path.display().to_string(),
            });
        }
        out.push(Input {
            path: path.clone(),
            name: parsed.name,
            text,
        });
    }
    Ok(out)
}

/// The default report directory: `bench-report/<names joined by +>-<N>seeds`.
pub fn default_out(names: &[&str], seeds: u32) -> PathBuf {
    Path::new("bench-report").join(format!("{}-{seeds}seeds", names.join("+")))
}

fn progress_bar(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} runs {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Runs one scenario over the seeds.
fn run_scenario(
    input: &Input,
    seeds: std::ops::Range<u64>,
    bar: &ProgressBar,
) -> Result<ScenarioRuns, BenchError> {
    let mut latency = Latency::default();
    let mut runs = Vec::with_capacity(usize::try_from(seeds.end - seeds.start).unwrap_or(0));
    for seed in seeds {
        bar.set_message(format!("{} seed {seed}", input.name));
        let scenario =
            Scenario::parse(&input.text, Some(seed)).map_err(|e| BenchError::Scenario {
                path: input.path.clone(),
                detail: e.to_string(),
            })?;
        let outcome = run(scenario, Pace::Instant).map_err(|e| BenchError::Run {
            scenario: input.name.clone(),
            seed,
            detail: e.to_string(),
        })?;
        let report = RunReport::new(&input.name, seed, &outcome);
        latency.add(&outcome);
        runs.push(collect(seed, &outcome, &report));
        bar.inc(1);
    }
    Ok(ScenarioRuns {
        name: input.name.clone(),
        file: input.path.display().to_string(),
        seeds: runs,
        latency,
    })
}

/// The command line that reproduces a report.
fn command_line(args: &BenchArgs) -> String {
    let files: Vec<String> = args
        .scenarios
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    format!(
        "sor bench {} --seeds {} --first-seed {}",
        files.join(" "),
        args.seeds,
        args.first_seed
    )
}

/// The three charts' SVG texts, in [`summary::CHARTS`] order.
fn draw_charts(report: &BenchReport, runs: &[ScenarioRuns]) -> Result<[String; 3], BenchError> {
    let mut groups = Vec::new();
    let mut panels = Vec::new();
    for (sc, runs) in report.scenarios.iter().zip(runs) {
        for st in &sc.strategies {
            let label = format!("{} {}", sc.scenario, st.strategy);
            groups.push(charts::SlippageGroup {
                label: label.clone(),
                by_strategy: st.all_in_vs_arrival_by_strategy_bps.clone(),
            });
            let seed = st.representative_seed;
            let progress = runs
                .seeds
                .iter()
                .filter(|s| Some(s.seed) == seed)
                .flat_map(|s| {
                    s.parents
                        .iter()
                        .zip(&s.progress)
                        .filter(|(p, _)| p.strategy == st.strategy)
                        .map(|(_, pr)| pr.clone())
                })
                .collect();
            panels.push(charts::FillPanel {
                label: match seed {
                    Some(s) => format!("{label}, seed {s} (median all-in slippage)"),
                    None => label,
                },
                progress,
            });
        }
    }
    let lat: Vec<(String, &Latency)> = runs.iter().map(|r| (r.name.clone(), &r.latency)).collect();
    Ok([
        charts::slippage(&groups, report.seeds)?,
        charts::latency(&lat)?,
        charts::fill_progress(&panels)?,
    ])
}

/// Runs the benchmark and writes its directory; returns where.
pub fn bench(args: &BenchArgs) -> Result<PathBuf, BenchError> {
    let inputs = read_inputs(&args.scenarios)?;
    let end = args
        .first_seed
        .checked_add(u64::from(args.seeds))
        .ok_or(BenchError::SeedRange {
            first: args.first_seed,
            seeds: args.seeds,
        })?;
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&names, args.seeds));
    let staging = outdir::Staging::prepare(&out, args.force)?;
    let bar = progress_bar(u64::from(args.seeds) * inputs.len() as u64);
    let mut runs = Vec::with_capacity(inputs.len());
    for input in &inputs {
        runs.push(run_scenario(input, args.first_seed..end, &bar)?);
    }
    bar.finish_and_clear();
    let report = BenchReport::new(command_line(args), args.first_seed, args.seeds, &runs);
    let svgs = draw_charts(&report, &runs)?;
    staging.write(
        "report.json",
        &(serde_json::to_string_pretty(&report)? + "\n"),
    )?;
    staging.write("report.md", &markdown::render(&report))?;
    for ((_, file), svg) in summary::CHARTS.iter().zip(&svgs) {
        staging.write(file, svg)?;
    }
    staging.commit()
}

/// `sor bench` from the command line: prints where the report went, or one line
/// saying what is wrong.
pub fn cli(args: BenchArgs) -> ExitCode {
    let started = std::time::Instant::now();
    match bench(&args) {
        Ok(dir) => {
            println!(
                "wrote {} (report.json, report.md, {}) in {:.1} s",
                dir.display(),
                summary::CHARTS
                    .iter()
                    .map(|(_, f)| *f)
                    .collect::<Vec<_>>()
                    .join(", "),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
