//! `sor risk ...`: the risk officer's command line over the admin API.

use super::client::{AdminClient, ClientError, DEFAULT_URL};
use super::wire::Scope;
use clap::{Args, Subcommand};
use serde_json::Value as Json;
use std::io::Write;
use std::process::ExitCode;

/// The environment variable `sor risk` reads the token from unless told otherwise.
pub const DEFAULT_TOKEN_ENV: &str = "SOR_ADMIN_TOKEN";

/// The arguments of `sor risk`: where the API is, where the token is, what to do.
#[derive(Debug, Clone, Args)]
pub struct RiskArgs {
    /// The admin API's base URL.
    #[arg(long, global = true, default_value = DEFAULT_URL)]
    pub url: String,
    /// The environment variable that holds the admin token (never a command-line
    /// argument, so it stays out of shell history and process lists).
    #[arg(long, global = true, value_name = "VAR", default_value = DEFAULT_TOKEN_ENV)]
    pub token_env: String,
    /// What to do.
    #[command(subcommand)]
    pub command: RiskCommand,
}

fn reason(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        Err("must not be empty: say why the change is made".into())
    } else {
        Ok(s.to_owned())
    }
}

/// One `sor risk` command; each maps to one admin API endpoint.
#[derive(Debug, Clone, Subcommand)]
pub enum RiskCommand {
    /// Print the limits in force (GET /v1/limits).
    Show,
    /// Print limits and usage now: notionals, cadence, ramp stages, kill switches
    /// (GET /v1/usage).
    Usage,
    /// Set one limit by its dotted key, e.g. `set venues.dealer-a.max_clip 1500000
    /// --reason "dealer asked"` (POST /v1/limits).
    Set {
        /// Dotted key: venues.dealer-a.max_clip, instruments."USDC/USD".max_clip, ...
        key: String,
        /// The value as the limits file writes it: 1500000, 20, true, '["book-x"]'.
        #[arg(allow_hyphen_values = true)]
        value: String,
        /// Why (recorded in the audit log).
        #[arg(long, value_parser = reason)]
        reason: String,
    },
    /// Remove one limit, so it no longer binds (POST /v1/limits/clear).
    Clear {
        /// Dotted key.
        key: String,
        /// Why (recorded in the audit log).
        #[arg(long, value_parser = reason)]
        reason: String,
    },
    /// Engage a kill switch: global unless --desk or --venue (POST /v1/kill).
    Kill {
        /// Only this desk's children.
        #[arg(long, conflicts_with = "venue")]
        desk: Option<String>,
        /// Only children to this venue.
        #[arg(long)]
        venue: Option<String>,
        /// Also cancel the children working in the scope.
        #[arg(long)]
        cancel: bool,
        /// Why (recorded in the audit log).
        #[arg(long, value_parser = reason)]
        reason: String,
    },
    /// Release a kill switch: global unless --desk or --venue (POST /v1/release).
    Release {
        /// This desk's switch.
        #[arg(long, conflicts_with = "venue")]
        desk: Option<String>,
        /// This venue's switch.
        #[arg(long)]
        venue: Option<String>,
        /// Why (recorded in the audit log).
        #[arg(long, value_parser = reason)]
        reason: String,
    },
    /// Move a venue to a ramp stage, at most its ceiling (POST /v1/stage).
    Stage {
        /// The venue.
        venue: String,
        /// The stage's name.
        stage: String,
        /// Why (recorded in the audit log).
        #[arg(long, value_parser = reason)]
        reason: String,
    },
    /// Set the highest ramp stage a venue may graduate to (POST /v1/stage/cap).
    Cap {
        /// The venue.
        venue: String,
        /// The ceiling stage's name.
        stage: String,
        /// Why (recorded in the audit log).
        #[arg(long, value_parser = reason)]
        reason: String,
    },
}

fn scope(desk: Option<String>, venue: Option<String>) -> Scope {
    match (desk, venue) {
        (Some(d), _) => Scope::Desk(d),
        (None, Some(v)) => Scope::Venue(v),
        (None, None) => Scope::Global,
    }
}

/// Runs one command against the API and returns its JSON answer.
pub async fn execute(client: &AdminClient, command: RiskCommand) -> Result<Json, ClientError> {
    match command {
        RiskCommand::Show => client.limits().await,
        RiskCommand::Usage => client.usage().await,
        RiskCommand::Set { key, value, reason } => client.set_limit(&key, &value, &reason).await,
        RiskCommand::Clear { key, reason } => client.clear_limit(&key, &reason).await,
        RiskCommand::Kill {
            desk,
            venue,
            cancel,
            reason,
        } => client.kill(scope(desk, venue), cancel, &reason).await,
        RiskCommand::Release {
            desk,
            venue,
            reason,
        } => client.release(scope(desk, venue), &reason).await,
        RiskCommand::Stage {
            venue,
            stage,
            reason,
        } => client.set_stage(&venue, &stage, &reason).await,
        RiskCommand::Cap {
            venue,
            stage,
            reason,
        } => client.cap_stage(&venue, &stage, &reason).await,
    }
}

/// `sor risk`: reads the token from the environment, runs the command, prints the
/// answer as pretty JSON on stdout. Exit 0 on success; 2 when the token variable is
/// unset or empty, or the URL or token cannot be used; 1 when the API refuses or cannot
/// be reached, with one line on stderr.
pub async fn run(args: RiskArgs) -> ExitCode {
    let token = match std::env::var(&args.token_env) {
        Ok(t) if !t.trim().is_empty() => t,
        _ => {
            eprintln!(
                "error: set {} to your admin token (or name another variable with --token-env)",
                args.token_env
            );
            return ExitCode::from(2);
        }
    };
    let client = match AdminClient::new(&args.url, &token) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match execute(&client, args.command).await {
        Ok(answer) => {
            let text = serde_json::to_string_pretty(&answer).unwrap_or_else(|_| answer.to_string());
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{text}") {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: writing the answer: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if e.is_usage() { 2 } else { 1 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct T {
        #[command(flatten)]
        risk: RiskArgs,
    }

    fn parse(args: &[&str]) -> Result<RiskArgs, clap::Error> {
        T::try_parse_from(std::iter::once("risk").chain(args.iter().copied())).map(|t| t.risk)
    }

    #[test]
    fn kill_scopes_and_defaults() {
        let a = parse(&["kill", "--reason", "r"]).unwrap();
        assert_eq!(a.url, DEFAULT_URL);
        assert_eq!(a.token_env, DEFAULT_TOKEN_ENV);
        let RiskCommand::Kill {
            desk,
            venue,
            cancel,
            ..
        } = a.command
        else {
            panic!("{:?}", a.command)
        };
        assert_eq!(scope(desk, venue), Scope::Global);
        assert!(!cancel);
        let a = parse(&["kill", "--venue", "dealer-a", "--cancel", "--reason", "r"]).unwrap();
        let RiskCommand::Kill { desk, venue, .. } = a.command else {
            panic!()
        };
        assert_eq!(scope(desk, venue), Scope::Venue("dealer-a".into()));
        assert!(parse(&["kill", "--desk", "D", "--venue", "v", "--reason", "r"]).is_err());
        assert!(parse(&["kill"]).is_err());
        assert!(parse(&["kill", "--reason", " "]).is_err());
    }

    #[test]
    fn global_flags_go_anywhere() {
        let a = parse(&["show", "--url", "http://127.0.0.1:1", "--token-env", "X"]).unwrap();
        assert_eq!(
            (a.url.as_str(), a.token_env.as_str()),
            ("http://127.0.0.1:1", "X")
        );
        let a = parse(&["set", "overall.min_spacing_ms", "-1", "--reason", "r"]).unwrap();
        let RiskCommand::Set { value, .. } = a.command else {
            panic!()
        };
        assert_eq!(value, "-1");
    }
}
