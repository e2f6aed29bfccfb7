//! The gateway's configuration file (`config/gateway.toml`): the FIX acceptor, the
//! desks allowed on it, and the market file (instruments, valuation, risk, venues)
//! it routes over.
//!
//! Relative paths: `market` is relative to the configuration file's own directory
//! (so the gateway starts the same from any working directory); `data_dir` is
//! relative to the working directory (each run keeps its FIX stores where it runs).

use super::durable::JournalSettings;
use crate::journal::FsyncPolicy;
use fix::auth::PasswordHash;
use fix::desk::{DeskDirectory, DeskLogin};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration the gateway cannot start with, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// What to do with working children when the gateway is asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnShutdown {
    /// Cancel every open parent (its working children are cancelled at their venues)
    /// and tell the desks, then log out.
    Cancel,
    /// Leave parents and children as they are and log out; the desks are told nothing.
    Leave,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    gateway: GatewayFile,
    #[serde(default)]
    desks: BTreeMap<String, DeskFile>,
    #[serde(default)]
    venues: BTreeMap<String, VenueConnect>,
    #[serde(default)]
    journal: JournalFile,
}

/// `[journal]`: where and how the gateway journals its inputs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalFile {
    #[serde(default = "default_true")]
    enabled: bool,
    dir: Option<PathBuf>,
    #[serde(default = "default_fsync")]
    fsync: String,
    #[serde(default = "default_group_max_delay_us")]
    group_max_delay_us: u64,
    #[serde(default = "default_group_max_records")]
    group_max_records: usize,
    #[serde(default = "default_segment_mb")]
    segment_mb: u64,
}

impl Default for JournalFile {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: None,
            fsync: default_fsync(),
            group_max_delay_us: default_group_max_delay_us(),
            group_max_records: default_group_max_records(),
            segment_mb: default_segment_mb(),
        }
    }
}

fn default_true() -> bool {
    true
}
fn default_fsync() -> String {
    "group".into()
}
fn default_group_max_delay_us() -> u64 {
    1000
}
fn default_group_max_records() -> usize {
    256
}
fn default_segment_mb() -> u64 {
    64
}

impl JournalFile {
    fn settings(self, data_dir: &Path) -> Result<Option<JournalSettings>, ConfigError> {
        if !self.enabled {
            return Ok(None);
        }
        let fsync = match self.fsync.as_str() {
            "each" => FsyncPolicy::EachRecord,
            "group" => {
                if !(1..=1_000_000).contains(&self.group_max_delay_us) {
                    return Err(ConfigError(
                        "journal.group_max_delay_us: must be between 1 and 1000000".into(),
                    ));
                }
                if !(1..=1_000_000).contains(&self.group_max_records) {
                    return Err(ConfigError(
                        "journal.group_max_records: must be between 1 and 1000000".into(),
                    ));
                }
                FsyncPolicy::Group {
                    max_delay: Duration::from_micros(self.group_max_delay_us),
                    max_records: self.group_max_records,
                }
            }
            "none" => FsyncPolicy::Never,
            other => {
                return Err(ConfigError(format!(
                    "journal.fsync: must be \"each\", \"group\" or \"none\", got {other:?}"
                )));
            }
        };
        if !(1..=4096).contains(&self.segment_mb) {
            return Err(ConfigError(
                "journal.segment_mb: must be between 1 and 4096".into(),
            ));
        }
        Ok(Some(JournalSettings {
            dir: self.dir.unwrap_or_else(|| data_dir.join("journal")),
            fsync,
            segment_bytes: self.segment_mb * 1024 * 1024,
        }))
    }
}

/// How the gateway reaches one real venue of the market file (one of the three).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VenueConnect {
    /// An exchange book over FIX 4.4.
    pub fix: Option<FixConnect>,
    /// An OTC dealer over HTTP and WebSocket.
    pub rfq: Option<RfqConnect>,
    /// A DODO V2 pool over Ethereum JSON-RPC.
    pub chain: Option<ChainConnect>,
}

/// A FIX exchange session (the gateway is the initiator).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FixConnect {
    /// Exchange host.
    pub host: String,
    /// Exchange port.
    pub port: u16,
    /// The exchange's CompID.
    pub target: String,
    /// Our CompID towards it (the gateway's when absent).
    pub sender: Option<String>,
    /// Seconds between reconnection attempts.
    #[serde(default = "default_reconnect")]
    pub reconnect_secs: u16,
}

fn default_reconnect() -> u16 {
    5
}

/// A dealer's API.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RfqConnect {
    /// Base URL, e.g. `https://rfq.dealer.example`.
    pub url: String,
    /// The environment variable holding the API key (never the key itself).
    pub api_key_env: String,
}

/// A pool on a chain.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ChainConnect {
    /// The node's JSON-RPC URL.
    pub rpc_url: String,
    /// The pool contract's address (0x…).
    pub pool: String,
    /// The router contract the swap goes through (0x…).
    pub router: String,
    /// The environment variable holding the signing key (`SOR_CHAIN_KEY` by default).
    #[serde(default = "default_key_env")]
    pub key_env: String,
    /// The chain id the node must report.
    pub chain_id: Option<u64>,
}

fn default_key_env() -> String {
    "SOR_CHAIN_KEY".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewayFile {
    #[serde(default = "default_comp_id")]
    comp_id: String,
    #[serde(default = "default_port")]
    port: u16,
    #[serde(default = "default_data_dir")]
    data_dir: PathBuf,
    market: PathBuf,
    #[serde(default = "default_on_shutdown")]
    on_shutdown: OnShutdown,
    #[serde(default = "default_inbound_queue")]
    inbound_queue: usize,
    #[serde(default)]
    engine_spin_us: u64,
    #[serde(default)]
    desk_writer_spin_us: u64,
    #[serde(default = "default_inline")]
    inline_desk_requests: bool,
    #[serde(default = "default_inline")]
    inline_venue_events: bool,
    #[serde(default)]
    hop_cpu_time: bool,
    #[serde(default = "default_max_queue_wait_ms")]
    max_queue_wait_ms: u64,
    #[serde(default = "default_shutdown_grace_ms")]
    shutdown_grace_ms: u64,
    risk_limits: Option<PathBuf>,
    admin_tokens: Option<PathBuf>,
    #[serde(default = "default_admin_port")]
    admin_port: u16,
    #[serde(default = "default_audit_log")]
    audit_log: PathBuf,
    #[serde(default = "default_reload_ms")]
    reload_ms: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeskFile {
    username: Option<String>,
    password_hash: Option<String>,
}

fn default_comp_id() -> String {
    "SOR".into()
}
fn default_port() -> u16 {
    9878
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("sor-data")
}
fn default_on_shutdown() -> OnShutdown {
    OnShutdown::Cancel
}
fn default_inbound_queue() -> usize {
    4096
}
fn default_inline() -> bool {
    true
}
fn default_max_queue_wait_ms() -> u64 {
    200
}
fn default_shutdown_grace_ms() -> u64 {
    2000
}
fn default_admin_port() -> u16 {
    9879
}
fn default_audit_log() -> PathBuf {
    PathBuf::from("risk-audit.jsonl")
}
fn default_reload_ms() -> u64 {
    1000
}

/// The live risk layer: a limits file (hot-reloaded), its audit log, and the risk
/// officer's admin API.
#[derive(Debug, Clone)]
pub struct RiskSetup {
    /// The limits file, resolved.
    pub limits: PathBuf,
    /// The admin API's token file, resolved; without one the admin API is off.
    pub admin_tokens: Option<PathBuf>,
    /// The admin API's loopback port.
    pub admin_port: u16,
    /// The audit log (JSON lines), under the data directory.
    pub audit_log: PathBuf,
    /// How often the limits file is checked for changes.
    pub reload_ms: u64,
}

/// A validated gateway configuration.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The gateway's CompID (SenderCompID of everything it sends to desks).
    pub comp_id: String,
    /// The desk acceptor's TCP port.
    pub port: u16,
    /// Where FIX message stores and the data dictionary live.
    pub data_dir: PathBuf,
    /// The market file (a scenario without parents), resolved.
    pub market: PathBuf,
    /// Working children at shutdown.
    pub on_shutdown: OnShutdown,
    /// Bound of the desk → engine queue; beyond it new requests are refused as busy.
    pub inbound_queue: usize,
    /// How long the engine thread polls for input after each batch before it parks
    /// (0: park at once). Spinning trades a core's time for the wake-up latency.
    pub engine_spin_us: u64,
    /// How long each desk's writer thread polls for the next report before it parks
    /// (0: park at once). Spinning trades a core's time for the writer's wake-up on
    /// the desk's next report.
    pub desk_writer_spin_us: u64,
    /// A desk session's thread handles its own request when the engine is free and
    /// nothing is queued (no hand-off to the engine thread); otherwise it is queued.
    /// Never under group commit (the engine thread's batches share a sync).
    pub inline_desk_requests: bool,
    /// A FIX venue session's thread handles the venue's report (a fill, a reject, new
    /// market data) when the engine is free and nothing is queued, the same way.
    pub inline_venue_events: bool,
    /// Read the desk thread's CPU time over each parent's hop (decoded → first child
    /// handed), to split the hop into time on and off the CPU in the stop summary.
    /// Two `clock_gettime` system calls per parent (about 1.5 µs on a VM): off by
    /// default.
    pub hop_cpu_time: bool,
    /// Longest the requests already queued may keep a new parent waiting (by the
    /// engine's average time per input); past it new parents are refused as busy.
    pub max_queue_wait_ms: u64,
    /// How long shutdown waits for cancels to be confirmed.
    pub shutdown_grace_ms: u64,
    /// Desks allowed to log on.
    pub desks: DeskDirectory,
    /// The live risk layer; `None` runs the market file's own `[risk]`/`[risk_limits]`.
    pub risk: Option<RiskSetup>,
    /// How to reach each real venue, by venue id (`--sim` starts simulators for the rest).
    pub venues: BTreeMap<String, VenueConnect>,
    /// The input journal; `None` when `[journal] enabled = false` (nothing survives a crash).
    pub journal: Option<JournalSettings>,
}

impl GatewayConfig {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, base)
            .map_err(|ConfigError(msg)| ConfigError(format!("{}: {msg}", path.display())))
    }

    /// Parses and validates `text`; `base` is the directory relative paths to the
    /// market file start from.
    pub fn parse(text: &str, base: &Path) -> Result<Self, ConfigError> {
        let de = toml::Deserializer::new(text);
        let file: File = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let line = inner
                .span()
                .map(|s| format!(" (line {})", line_of(text, s.start)))
                .unwrap_or_default();
            let msg = inner
                .message()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if path == "." || path.is_empty() {
                ConfigError(format!("{msg}{line}"))
            } else {
                ConfigError(format!("{path}: {msg}{line}"))
            }
        })?;
        let g = file.gateway;
        if g.comp_id.is_empty() || g.comp_id.contains(char::is_whitespace) {
            return Err(ConfigError(
                "gateway.comp_id: must be non-empty without spaces".into(),
            ));
        }
        if g.inbound_queue == 0 || g.inbound_queue > 1_000_000 {
            return Err(ConfigError(
                "gateway.inbound_queue: must be between 1 and 1000000".into(),
            ));
        }
        if g.max_queue_wait_ms == 0 || g.max_queue_wait_ms > 60_000 {
            return Err(ConfigError(
                "gateway.max_queue_wait_ms: must be between 1 and 60000".into(),
            ));
        }
        if g.engine_spin_us > 10_000 {
            return Err(ConfigError(
                "gateway.engine_spin_us: must be at most 10000 (10 ms)".into(),
            ));
        }
        if g.desk_writer_spin_us > 10_000 {
            return Err(ConfigError(
                "gateway.desk_writer_spin_us: must be at most 10000 (10 ms)".into(),
            ));
        }
        if g.shutdown_grace_ms > 60_000 {
            return Err(ConfigError(
                "gateway.shutdown_grace_ms: must be at most 60000".into(),
            ));
        }
        if file.desks.is_empty() {
            return Err(ConfigError(
                "desks: at least one desk must be configured".into(),
            ));
        }
        let mut desks = DeskDirectory::default();
        for (id, d) in file.desks {
            if id.is_empty() || id.contains(char::is_whitespace) || id == g.comp_id {
                return Err(ConfigError(format!(
                    "desks.{id}: a desk CompID must be non-empty, without spaces, and not the gateway's"
                )));
            }
            let password = match d.password_hash {
                None => None,
                Some(h) => Some(
                    PasswordHash::parse(&h)
                        .map_err(|e| ConfigError(format!("desks.{id}.password_hash: {e}")))?,
                ),
            };
            if d.username.is_some() && password.is_none() {
                return Err(ConfigError(format!(
                    "desks.{id}.username: only meaningful with password_hash"
                )));
            }
            desks.insert(
                id,
                DeskLogin {
                    username: d.username,
                    password,
                },
            );
        }
        if g.admin_tokens.is_some() && g.risk_limits.is_none() {
            return Err(ConfigError(
                "gateway.admin_tokens: the admin API needs gateway.risk_limits".into(),
            ));
        }
        if !(100..=60_000).contains(&g.reload_ms) {
            return Err(ConfigError(
                "gateway.reload_ms: must be between 100 and 60000".into(),
            ));
        }
        for (id, v) in &file.venues {
            let n = [v.fix.is_some(), v.rfq.is_some(), v.chain.is_some()]
                .iter()
                .filter(|x| **x)
                .count();
            if n != 1 {
                return Err(ConfigError(format!(
                    "venues.{id}: give exactly one of fix, rfq or chain"
                )));
            }
        }
        let risk = g.risk_limits.map(|limits| RiskSetup {
            limits: base.join(limits),
            admin_tokens: g.admin_tokens.map(|t| base.join(t)),
            admin_port: g.admin_port,
            audit_log: g.data_dir.join(&g.audit_log),
            reload_ms: g.reload_ms,
        });
        let journal = file.journal.settings(&g.data_dir)?;
        Ok(Self {
            comp_id: g.comp_id,
            port: g.port,
            journal,
            data_dir: g.data_dir,
            market: base.join(g.market),
            on_shutdown: g.on_shutdown,
            inbound_queue: g.inbound_queue,
            engine_spin_us: g.engine_spin_us,
            desk_writer_spin_us: g.desk_writer_spin_us,
            inline_desk_requests: g.inline_desk_requests,
            inline_venue_events: g.inline_venue_events,
            hop_cpu_time: g.hop_cpu_time,
            max_queue_wait_ms: g.max_queue_wait_ms,
            shutdown_grace_ms: g.shutdown_grace_ms,
            desks,
            risk,
            venues: file.venues,
        })
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
[gateway]
market = "market.toml"

[desks.DESK1]

[desks.DESK2]
password_hash = "sha256$s$8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92"
"#;

    #[test]
    fn defaults_follow_the_desk_contract() {
        let c = GatewayConfig::parse(OK, Path::new("/etc/sor")).unwrap();
        assert_eq!(c.comp_id, "SOR");
        assert_eq!(c.port, 9878);
        assert_eq!(c.market, Path::new("/etc/sor/market.toml"));
        assert_eq!(c.data_dir, Path::new("sor-data"));
        assert_eq!(c.on_shutdown, OnShutdown::Cancel);
        assert!(c.inline_desk_requests && c.inline_venue_events);
        assert_eq!((c.engine_spin_us, c.desk_writer_spin_us), (0, 0));
        assert!(
            !c.hop_cpu_time,
            "a diagnostic that costs two system calls per parent"
        );
        assert_eq!(c.desks.comp_ids(), vec!["DESK1", "DESK2"]);
        assert!(c.desks.check("DESK1", None, None).is_ok());
        assert!(c.desks.check("DESK2", None, None).is_err());
    }

    #[test]
    fn the_journal_is_on_by_default_under_the_data_dir_and_its_fields_are_checked() {
        let c = GatewayConfig::parse(OK, Path::new("/etc/sor")).unwrap();
        let j = c.journal.unwrap();
        assert_eq!(j.dir, Path::new("sor-data/journal"));
        assert!(matches!(j.fsync, FsyncPolicy::Group { .. }));
        let off = format!("{OK}\n[journal]\nenabled = false\n");
        assert!(
            GatewayConfig::parse(&off, Path::new("."))
                .unwrap()
                .journal
                .is_none()
        );
        for (extra, want) in [
            ("fsync = \"sometimes\"", "journal.fsync: must be"),
            ("group_max_delay_us = 0", "journal.group_max_delay_us"),
            ("group_max_records = 0", "journal.group_max_records"),
            ("segment_mb = 0", "journal.segment_mb"),
            ("fsyncs = \"each\"", "unknown field `fsyncs`"),
        ] {
            let text = format!("{OK}\n[journal]\n{extra}\n");
            let err = GatewayConfig::parse(&text, Path::new(".")).unwrap_err();
            assert!(err.0.contains(want), "{extra}: {err}");
        }
    }

    #[test]
    fn bad_fields_are_named() {
        for (text, want) in [
            ("[gateway]\n", "gateway: missing field `market`"),
            (
                "[gateway]\nmarket = \"m\"\nport = 70000\n[desks.D]\n",
                "gateway.port",
            ),
            (
                "[gateway]\nmarket = \"m\"\non_shutdown = \"maybe\"\n[desks.D]\n",
                "gateway.on_shutdown",
            ),
            ("[gateway]\nmarket = \"m\"\n", "desks: at least one"),
            (
                "[gateway]\nmarket = \"m\"\n[desks.D]\npassword_hash = \"x\"\n",
                "desks.D.password_hash",
            ),
            (
                "[gateway]\nmarket = \"m\"\n[desks.D]\nusername = \"u\"\n",
                "desks.D.username",
            ),
            (
                "[gateway]\nmarket = \"m\"\ninbound_queue = 0\n[desks.D]\n",
                "gateway.inbound_queue",
            ),
            (
                "[gateway]\nmarket = \"m\"\nengine_spin_us = 20000\n[desks.D]\n",
                "gateway.engine_spin_us",
            ),
            (
                "[gateway]\nmarket = \"m\"\ndesk_writer_spin_us = 10001\n[desks.D]\n",
                "gateway.desk_writer_spin_us",
            ),
            (
                "[gateway]\nmarket = \"m\"\nmax_queue_wait_ms = 0\n[desks.D]\n",
                "gateway.max_queue_wait_ms",
            ),
            (
                "[gateway]\nmarket = \"m\"\ninline_venue_events = \"yes\"\n[desks.D]\n",
                "gateway.inline_venue_events",
            ),
            (
                "[gateway]\nmarket = \"m\"\nhop_cpu_time = 1\n[desks.D]\n",
                "gateway.hop_cpu_time",
            ),
            (
                "[gateway]\nmarket = \"m\"\ncolour = 1\n[desks.D]\n",
                "unknown field `colour`",
            ),
            (
                "[gateway]\nmarket = \"m\"\n[desks.D]\n[venues.v]\n",
                "venues.v: give exactly one of fix, rfq or chain",
            ),
            (
                "[gateway]\nmarket = \"m\"\n[desks.D]\n[venues.v]\nfix = { host = \"h\" }\n",
                "venues.v.fix: missing field `port`",
            ),
            (
                "[gateway]\nmarket = \"m\"\n[desks.D]\n[venues.v]\nrfq = { url = \"u\", api_key = \"secret\" }\n",
                "unknown field `api_key`",
            ),
        ] {
            let err = GatewayConfig::parse(text, Path::new(".")).unwrap_err().0;
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
