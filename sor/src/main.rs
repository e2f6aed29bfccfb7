//! `sor`: the smart order router's command line.

use clap::{Parser, Subcommand};
use sor::report::RunReport;
use sor::scenario::Scenario;
use sor::sim::{Pace, run};
use std::path::PathBuf;
use std::process::ExitCode;
use venues::pmm::MathVersion;

/// Smart order router and execution gateway.
#[derive(Debug, Parser)]
#[command(name = "sor", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario's parent orders against its simulated venues and print the report.
    Run {
        /// The scenario file (TOML), e.g. scenarios/corridor.toml.
        scenario: PathBuf,
        /// Print the report as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Seed of every random draw (overrides the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Let wall time follow simulated time, with a progress bar.
        #[arg(long)]
        realtime: bool,
        /// With --realtime: simulated seconds per wall second.
        #[arg(long, default_value_t = 1.0, requires = "realtime", value_parser = parse_speed)]
        speed: f64,
    },
    /// Run the gateway: desks connect over FIX 4.4 (../shared/specs/desk-fix.md).
    Serve {
        /// The gateway configuration, e.g. config/gateway.toml.
        config: PathBuf,
        /// Start the market file's venues as simulators on this machine.
        #[arg(long)]
        sim: bool,
        /// Override the desk acceptor's port.
        #[arg(long)]
        port: Option<u16>,
    },
    /// Print the stored form of a desk password read from stdin (for a gateway
    /// config's `password_hash`).
    HashPassword {
        /// Salt; random when absent.
        #[arg(long)]
        salt: Option<String>,
    },
    /// On-chain PMM pool tools.
    Pmm {
        #[command(subcommand)]
        command: PmmCommand,
    },
    /// Benchmark and transaction-cost tools.
    Tca {
        #[command(subcommand)]
        command: TcaCommand,
    },
    /// Read and change the live risk limits, kill switches and ramp stages through the
    /// gateway's admin API (the token comes from $SOR_ADMIN_TOKEN).
    Risk(sor::admin::cli::RiskArgs),
    /// Deterministic simulation: run seeds of the engine over the scenarios' simulated
    /// venues under random faults (crashes with replay included), checking every
    /// invariant after every step (docs/dst.md).
    Sim(sor::dst::cli::SimArgs),
    /// Run scenarios over many seeds and write a report directory: report.json,
    /// report.md and SVG charts (slippage against the optimum and the baselines,
    /// latency per hop, fill progress).
    Bench(sor::benchrun::BenchArgs),
    /// Read a gateway journal without changing it (docs/journal.md).
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
}

#[derive(Debug, Subcommand)]
enum JournalCommand {
    /// Verify every record as a start would, count the entries by kind, and report a
    /// torn tail (which `sor serve` cuts when it starts). Exit 1 on damage a start
    /// would refuse.
    Check {
        /// The journal directory (`<data_dir>/journal` by default).
        dir: PathBuf,
    },
    /// Print every entry as one JSON line, its lsn first.
    Print {
        /// The journal directory.
        dir: PathBuf,
        /// The first lsn to print.
        #[arg(long, default_value_t = 1)]
        from: u64,
    },
}

#[derive(Debug, Subcommand)]
enum TcaCommand {
    /// Compute the reference rate and an order's TCA figures exactly as
    /// ../shared/specs/benchmark.md says: JSON lines on stdin, one answer per line on
    /// stdout (../shared/specs/cli-contract.md).
    Compute,
}

#[derive(Debug, Subcommand)]
enum PmmCommand {
    /// Quote DODO V2 PMM pools exactly as the contract would: JSON lines on stdin, one
    /// answer per line on stdout (../shared/specs/cli-contract.md).
    Quote {
        /// The pool template's math revision: 2021-01, 2021-12, 2022-04 or 2024-01.
        #[arg(long = "math", default_value = "2024-01", value_parser = parse_math)]
        math: MathVersion,
    },
}

fn parse_math(s: &str) -> Result<MathVersion, String> {
    match s {
        "2021-01" => Ok(MathVersion::V2021_01),
        "2021-12" => Ok(MathVersion::V2021_12),
        "2022-04" => Ok(MathVersion::V2022_04),
        "2024-01" => Ok(MathVersion::V2024_01),
        other => Err(format!(
            "{other:?} is not 2021-01, 2021-12, 2022-04 or 2024-01"
        )),
    }
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !(v.is_finite() && v > 0.0) {
        return Err(format!("{s} must be a number greater than 0"));
    }
    Ok(v)
}

/// Clap's message without its usage and help blocks, on one line.
fn one_line(rendered: &str) -> String {
    let message = rendered.split("\n\n").next().unwrap_or(rendered);
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{}", one_line(&e.render().to_string()));
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Serve { config, sim, port } => {
            match sor::serve::serve_until_signal(&config, sim, port) {
                Ok(summary) if summary.core.fatal.is_none() => ExitCode::SUCCESS,
                Ok(_) => ExitCode::from(1),
                Err(e @ sor::serve::ServeError::Config(_)) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::HashPassword { salt } => {
            let mut password = String::new();
            if let Err(e) = std::io::stdin().read_line(&mut password) {
                eprintln!("error: reading the password from stdin: {e}");
                return ExitCode::from(2);
            }
            let password = password.trim_end_matches(['\r', '\n']);
            let salt = salt.unwrap_or_else(|| {
                use rand::Rng;
                format!("{:016x}", rand::rng().random::<u64>())
            });
            match fix::auth::PasswordHash::create(password, &salt) {
                Ok(h) => {
                    println!("{h}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: --salt: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Pmm {
            command: PmmCommand::Quote { math },
        } => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            match sor::pmm_quote::run(stdin, stdout, math) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: pmm quote: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Tca {
            command: TcaCommand::Compute,
        } => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            match sor::tca::batch::run(stdin, stdout) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: tca compute: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Journal { command } => {
            let mut stdout = std::io::stdout().lock();
            let (what, done) = match command {
                JournalCommand::Check { dir } => {
                    ("check", sor::serve::inspect::check(&dir, &mut stdout))
                }
                JournalCommand::Print { dir, from } => (
                    "print",
                    sor::serve::inspect::print(&dir, from, &mut stdout).map(|_| ()),
                ),
            };
            match done {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: journal {what}: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Sim(args) => sor::dst::cli::run(args),
        Command::Bench(args) => sor::benchrun::cli(args),
        Command::Risk(args) => {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(sor::admin::cli::run(args)),
                Err(e) => {
                    eprintln!("error: cannot start the async runtime: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Run {
            scenario,
            json,
            seed,
            realtime,
            speed,
        } => {
            let text = match std::fs::read_to_string(&scenario) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {}: {e}", scenario.display());
                    return ExitCode::from(2);
                }
            };
            let parsed = match Scenario::parse(&text, seed) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {}: {e}", scenario.display());
                    return ExitCode::from(2);
                }
            };
            let (name, seed) = (parsed.name.clone(), parsed.seed);
            let pace = if realtime {
                Pace::RealTime { speed }
            } else {
                Pace::Instant
            };
            let outcome = match run(parsed, pace) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("error: run failed (seed {seed}): {e}");
                    return ExitCode::from(1);
                }
            };
            let report = RunReport::new(&name, seed, &outcome);
            if json {
                match serde_json::to_string_pretty(&report) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("error: cannot write the report: {e}");
                        return ExitCode::from(1);
                    }
                }
            } else {
                print!("{}", report.to_text());
            }
            ExitCode::SUCCESS
        }
    }
}
