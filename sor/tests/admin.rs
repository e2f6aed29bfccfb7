//! The risk officer's admin API end to end over 127.0.0.1: the server on a tokio
//! runtime over a shared gate with an in-memory audit log, reached with HTTP and with
//! the `sor risk` command line.

#![allow(clippy::unwrap_used)]

use risk::{AuditLog, Gate, Limits, MemoryAudit, PreTradeGate, Role, SharedGate, TokenStore};
use rust_decimal::Decimal;
use serde_json::{Value as Json, json};
use sor::admin::{AdminError, AdminServer, AdminState};
use std::net::SocketAddr;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::runtime::Runtime;

const OFFICER: &str = "officer-s3cret";
const TRADER: &str = "trader-s3cret";
const NOW: u64 = 1_700_000_000_000_000_000;

fn example_limits() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../risk/examples/limits.toml"
    ))
    .unwrap()
}

/// One admin server at a time in this test binary: a test that frees its port and
/// checks nothing answers there must not see another test's server take that port.
static ONE_SERVER_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct Harness {
    rt: Runtime,
    server: Option<AdminServer>,
    gate: SharedGate,
    audit: MemoryAudit,
    changes: Arc<AtomicUsize>,
    base: String,
    http: reqwest::Client,
    /// Held until the harness (its server and runtime first) is dropped.
    _serial: std::sync::MutexGuard<'static, ()>,
}

struct Answer {
    status: u16,
    www_authenticate: Option<String>,
    body: Json,
}

impl Harness {
    fn new() -> Self {
        let serial = ONE_SERVER_AT_A_TIME
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (log, audit) = AuditLog::memory();
        let gate = SharedGate::new(Gate::from_toml_str(&example_limits()).unwrap(), log);
        let mut tokens = TokenStore::new();
        tokens
            .add("alice", &risk::hash_token(OFFICER), Role::RiskOfficer)
            .unwrap();
        tokens
            .add("bob", &risk::hash_token(TRADER), Role::Trader)
            .unwrap();
        let changes = Arc::new(AtomicUsize::new(0));
        let seen = changes.clone();
        let state = AdminState::new(gate.clone(), tokens)
            .with_now(|| NOW)
            .with_on_change(move || {
                seen.fetch_add(1, Ordering::SeqCst);
            });
        let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server = AdminServer::start(bind, state, rt.handle()).unwrap();
        let base = format!("http://{}", server.addr());
        Self {
            rt,
            server: Some(server),
            gate,
            audit,
            changes,
            base,
            http: reqwest::Client::new(),
            _serial: serial,
        }
    }

    fn call(&self, method: &str, path: &str, auth: Option<&str>, body: Option<&str>) -> Answer {
        self.rt.block_on(async {
            let url = format!("{}{path}", self.base);
            let mut req = match method {
                "GET" => self.http.get(url),
                _ => self.http.post(url),
            };
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            if let Some(b) = body {
                req = req
                    .header("Content-Type", "application/json")
                    .body(b.to_owned());
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let www_authenticate = resp
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned());
            let body = resp.json().await.unwrap();
            Answer {
                status,
                www_authenticate,
                body,
            }
        })
    }

    fn get(&self, path: &str, token: &str) -> Answer {
        self.call("GET", path, Some(&format!("Bearer {token}")), None)
    }

    fn post(&self, path: &str, token: &str, body: Json) -> Answer {
        self.call(
            "POST",
            path,
            Some(&format!("Bearer {token}")),
            Some(&body.to_string()),
        )
    }

    fn limits(&self) -> Limits {
        self.gate.limits()
    }

    fn sor_risk(&self, token: Option<&str>, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sor"));
        cmd.arg("risk")
            .args(["--url", &self.base])
            .args(args)
            .env_remove("SOR_ADMIN_TOKEN")
            .env_remove("RUST_LOG");
        if let Some(t) = token {
            cmd.env("SOR_ADMIN_TOKEN", t);
        }
        cmd.output().unwrap()
    }
}

fn max_clip(l: &Limits, venue: &str) -> Option<Decimal> {
    l.venues[venue].max_clip
}

fn assert_error(a: &Answer, status: u16, code: &str, detail_has: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.body["error"], code, "{}", a.body);
    let detail = a.body["detail"].as_str().unwrap();
    assert!(
        detail.contains(detail_has),
        "{detail:?} lacks {detail_has:?}"
    );
}

#[test]
fn no_or_garbled_token_is_401_with_a_bearer_challenge() {
    let h = Harness::new();
    for auth in [
        None,
        Some("Bearer"),
        Some("Basic b2ZmaWNlcjpzM2NyZXQ="),
        Some("Bearer not-a-token"),
    ] {
        let a = h.call("GET", "/v1/usage", auth, None);
        assert_error(&a, 401, "unauthorized", "Bearer");
        assert!(
            a.www_authenticate.as_deref().unwrap().starts_with("Bearer"),
            "{auth:?}"
        );
    }
    let a = h.call(
        "POST",
        "/v1/kill",
        None,
        Some(r#"{"scope":"global","cancel_working":true,"reason":"r"}"#),
    );
    assert_eq!(a.status, 401);
    assert!(h.gate.snapshot(NOW).kills.global.is_none());
    assert_eq!(h.audit.records().len(), 0);
}

#[test]
fn a_trader_reads_but_may_not_change() {
    let h = Harness::new();
    let usage = h.get("/v1/usage", TRADER);
    assert_eq!(usage.status, 200, "{}", usage.body);
    assert_eq!(usage.body["at"], NOW);
    assert_eq!(usage.body["venues"]["dealer-a"]["open_notional"], "0");
    assert_eq!(usage.body["venues"]["dealer-c"]["ramp"]["stage"], "canary");
    let limits = h.get("/v1/limits", TRADER);
    assert_eq!(limits.status, 200);
    assert_eq!(limits.body["venues"]["dealer-a"]["max_clip"], "5000000");
    assert_eq!(
        limits.body["desks"]["DESK1"]["max_parent_notional"],
        "25000000"
    );

    let a = h.post(
        "/v1/limits",
        TRADER,
        json!({"key": "venues.dealer-a.max_clip", "value": "1", "reason": "r"}),
    );
    assert_error(&a, 403, "forbidden", "role trader may not change limits");
    let a = h.post(
        "/v1/kill",
        TRADER,
        json!({"scope": "global", "cancel_working": false, "reason": "r"}),
    );
    assert_error(&a, 403, "forbidden", "kill switches");
    assert_eq!(
        max_clip(&h.limits(), "dealer-a"),
        Some(Decimal::from(5_000_000))
    );
    assert_eq!(h.audit.records().len(), 0);
    assert_eq!(h.changes.load(Ordering::SeqCst), 0);
}

#[test]
fn an_officer_sets_and_clears_a_limit_with_an_audit_record() {
    let h = Harness::new();
    let a = h.post(
        "/v1/limits",
        OFFICER,
        json!({"key": "venues.dealer-a.max_clip", "value": "1500000", "reason": "dealer asked"}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body,
        json!({"who": "alice", "at": NOW, "what": "set_limit",
               "key": "venues.dealer-a.max_clip", "old": "5000000", "new": "1500000",
               "reason": "dealer asked"})
    );
    assert_eq!(
        max_clip(&h.limits(), "dealer-a"),
        Some(Decimal::from(1_500_000))
    );
    let recs = h.audit.records();
    assert_eq!(recs.len(), 1);
    assert_eq!(
        (recs[0].old.clone(), recs[0].new.clone()),
        (json!("5000000"), json!("1500000"))
    );
    assert_eq!(h.changes.load(Ordering::SeqCst), 1);

    // A quoted key, and an integer value given as a JSON integer.
    let a = h.post(
        "/v1/limits",
        OFFICER,
        json!({"key": "instruments.\"USDC/USD\".max_clip", "value": 4000000, "reason": "r"}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        h.limits().instruments["USDC/USD"].max_clip,
        Some(Decimal::from(4_000_000))
    );

    let a = h.post(
        "/v1/limits/clear",
        OFFICER,
        json!({"key": "venues.book-y.band_bps", "reason": "no band"}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["what"], "clear_limit");
    assert_eq!(a.body["new"], Json::Null);
    assert_eq!(h.limits().venues["book-y"].band_bps, None);
    assert_eq!(h.audit.records().len(), 3);
    assert_eq!(h.changes.load(Ordering::SeqCst), 3);
}

#[test]
fn bad_requests_are_400_naming_the_field_and_change_nothing() {
    let h = Harness::new();
    let before = h.limits();
    let cases = [
        (
            json!({"key": "venues.dealer-a.max_clip", "value": "-5", "reason": "r"}),
            "invalid_limit",
            "venues.dealer-a.max_clip",
        ),
        (
            json!({"key": "venues.dealer-a.max_clipp", "value": "5", "reason": "r"}),
            "invalid_limit",
            "max_clipp",
        ),
        (
            json!({"key": "nonsense.x", "value": "5", "reason": "r"}),
            "invalid_limit",
            "nonsense",
        ),
        (
            json!({"key": "venues.dealer-a.max_clip", "value": "5"}),
            "bad_request",
            "reason",
        ),
        (
            json!({"key": "venues.dealer-a.max_clip", "value": "5", "reason": "  "}),
            "bad_request",
            "reason",
        ),
        (json!({"value": "5", "reason": "r"}), "bad_request", "key"),
        (
            json!({"key": "venues.dealer-a.max_clip", "value": 0.5, "reason": "r"}),
            "bad_request",
            "value",
        ),
        (
            json!({"key": 7, "value": "5", "reason": "r"}),
            "bad_request",
            "key",
        ),
        (
            json!({"key": "venues.dealer-a.max_clip", "value": "5", "reason": "r", "extra": 1}),
            "bad_request",
            "extra",
        ),
    ];
    for (body, code, names) in cases {
        let a = h.post("/v1/limits", OFFICER, body.clone());
        assert_eq!(a.status, 400, "{body}: {}", a.body);
        assert_error(&a, 400, code, names);
    }
    let a = h.call(
        "POST",
        "/v1/limits",
        Some(&format!("Bearer {OFFICER}")),
        Some("{\"key\": "),
    );
    assert_error(&a, 400, "bad_request", "malformed JSON");
    let a = h.post(
        "/v1/kill",
        OFFICER,
        json!({"scope": {"desk": "NODESK"}, "cancel_working": true, "reason": "r"}),
    );
    assert_error(&a, 400, "unknown_name", "NODESK");
    let a = h.post(
        "/v1/kill",
        OFFICER,
        json!({"scope": "everything", "cancel_working": true, "reason": "r"}),
    );
    assert_error(&a, 400, "bad_request", "scope");
    let a = h.post(
        "/v1/kill",
        OFFICER,
        json!({"scope": "global", "reason": "r"}),
    );
    assert_error(&a, 400, "bad_request", "cancel_working");
    assert_eq!(h.limits(), before);
    assert_eq!(h.audit.records().len(), 0);
    assert_eq!(h.changes.load(Ordering::SeqCst), 0);
    assert!(h.gate.snapshot(NOW).kills.global.is_none());

    let a = h.call(
        "GET",
        "/v1/nothing",
        Some(&format!("Bearer {OFFICER}")),
        None,
    );
    assert_error(&a, 404, "not_found", "/v1/usage");
    let a = h.call("GET", "/v1/kill", Some(&format!("Bearer {OFFICER}")), None);
    assert_error(&a, 405, "method_not_allowed", "POST");
}

#[test]
fn a_kill_switch_shows_in_the_snapshot_and_wakes_the_engine() {
    let h = Harness::new();
    let a = h.post(
        "/v1/kill",
        OFFICER,
        json!({"scope": {"venue": "dealer-a"}, "cancel_working": true, "reason": "dealer down"}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["what"], "engage_kill");
    assert_eq!(a.body["key"], "kill.venues.dealer-a");
    assert_eq!(h.changes.load(Ordering::SeqCst), 1);
    let usage = h.get("/v1/usage", TRADER);
    let k = &usage.body["kills"]["venues"]["dealer-a"];
    assert_eq!(
        *k,
        json!({"cancel_working": true, "at": NOW, "by": "alice", "reason": "dealer down"})
    );
    assert_eq!(usage.body["kills"]["generation"], 1);
    assert!(h.gate.must_cancel("DESK1", "dealer-a"));
    assert!(!h.gate.must_cancel("DESK1", "dealer-b"));

    let a = h.post(
        "/v1/kill",
        OFFICER,
        json!({"scope": "global", "cancel_working": false, "reason": "halt"}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["key"], "kill.global");
    let a = h.post(
        "/v1/release",
        OFFICER,
        json!({"scope": "global", "reason": "resume"}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["new"], Json::Null);
    let a = h.post(
        "/v1/release",
        OFFICER,
        json!({"scope": "global", "reason": "again"}),
    );
    assert_error(&a, 400, "not_engaged", "global");
    let a = h.post(
        "/v1/release",
        OFFICER,
        json!({"scope": {"venue": "dealer-a"}, "reason": "dealer back"}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(h.gate.kill_generation(), 4);
    assert_eq!(h.changes.load(Ordering::SeqCst), 4);
    assert_eq!(h.audit.records().len(), 4);
}

#[test]
fn stages_move_only_within_the_ceiling() {
    let h = Harness::new();
    let a = h.post(
        "/v1/stage",
        OFFICER,
        json!({"venue": "dealer-c", "stage": "cadence", "reason": "r"}),
    );
    assert_error(&a, 400, "above_ceiling", "larger");
    let a = h.post(
        "/v1/stage",
        OFFICER,
        json!({"venue": "dealer-c", "stage": "nope", "reason": "r"}),
    );
    assert_error(&a, 400, "unknown_stage", "canary");
    let a = h.post(
        "/v1/stage",
        OFFICER,
        json!({"venue": "dealer-a", "stage": "full", "reason": "r"}),
    );
    assert_error(&a, 400, "no_ramp", "dealer-a");
    let a = h.post(
        "/v1/stage/cap",
        OFFICER,
        json!({"venue": "dealer-c", "ceiling": "full", "reason": "trusted now"}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["key"], "venues.dealer-c.stage_ceiling");
    assert_eq!(
        (a.body["old"].clone(), a.body["new"].clone()),
        (json!("larger"), json!("full"))
    );
    let a = h.post(
        "/v1/stage",
        OFFICER,
        json!({"venue": "dealer-c", "stage": "cadence", "reason": "fast track"}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["old"], "canary");
    let usage = h.get("/v1/usage", OFFICER);
    assert_eq!(usage.body["venues"]["dealer-c"]["ramp"]["stage"], "cadence");
    assert_eq!(h.changes.load(Ordering::SeqCst), 2);
}

#[test]
fn a_failed_audit_write_is_500_and_changes_nothing() {
    let h = Harness::new();
    h.audit.set_failing(true);
    let a = h.post(
        "/v1/limits",
        OFFICER,
        json!({"key": "venues.dealer-a.max_clip", "value": "1000000", "reason": "r"}),
    );
    assert_error(&a, 500, "audit_failed", "not made");
    let a = h.post(
        "/v1/kill",
        OFFICER,
        json!({"scope": "global", "cancel_working": true, "reason": "r"}),
    );
    assert_eq!(a.status, 500);
    assert_eq!(
        max_clip(&h.limits(), "dealer-a"),
        Some(Decimal::from(5_000_000))
    );
    assert!(h.gate.snapshot(NOW).kills.global.is_none());
    assert_eq!(h.changes.load(Ordering::SeqCst), 0);
}

#[test]
fn only_loopback_binds_and_shutdown_frees_the_port() {
    let mut h = Harness::new();
    let state = AdminState::new(h.gate.clone(), TokenStore::new());
    let e = AdminServer::start("0.0.0.0:0".parse().unwrap(), state, h.rt.handle()).unwrap_err();
    assert!(matches!(e, AdminError::NotLoopback { .. }), "{e}");
    assert!(e.to_string().contains("loopback"), "{e}");

    let addr = h.server.as_ref().unwrap().addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    let server = h.server.take().unwrap();
    h.rt.block_on(server.shutdown_and_wait(Duration::from_secs(5)));
    assert!(std::net::TcpStream::connect(addr).is_err());
    // The port is free again.
    let state = AdminState::new(h.gate.clone(), TokenStore::new());
    let again = AdminServer::start(addr, state, h.rt.handle()).unwrap();
    assert_eq!(again.addr(), addr);
    again.shutdown();
}

#[test]
fn sor_risk_show_set_kill_and_its_exit_codes() {
    let h = Harness::new();
    let out = h.sor_risk(Some(TRADER), &["show"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["venues"]["dealer-a"]["max_clip"], "5000000");
    let out = h.sor_risk(Some(TRADER), &["usage"]);
    assert_eq!(out.status.code(), Some(0));
    let usage: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(usage["at"], NOW);

    let out = h.sor_risk(None, &["show"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("SOR_ADMIN_TOKEN"), "{err}");

    let out = h.sor_risk(Some("wrong-token"), &["show"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("401"), "{err}");
    assert!(!err.contains("wrong-token"), "{err}");

    let set = [
        "set",
        "venues.dealer-a.max_clip",
        "1500000",
        "--reason",
        "dealer asked",
    ];
    let out = h.sor_risk(Some(TRADER), &set);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: 403 forbidden: role trader may not change limits"
    );
    let out = h.sor_risk(Some(OFFICER), &set);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rec: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (rec["who"].clone(), rec["new"].clone()),
        (json!("alice"), json!("1500000"))
    );

    let out = h.sor_risk(
        Some(OFFICER),
        &["set", "venues.dealer-a.max_clip", "-5", "--reason", "r"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: 400 invalid_limit: venues.dealer-a.max_clip"),
        "{err}"
    );

    let out = h.sor_risk(
        Some(OFFICER),
        &[
            "kill",
            "--desk",
            "DESK2",
            "--cancel",
            "--reason",
            "desk test",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(h.gate.must_cancel("DESK2", "book-x"));
    let out = h.sor_risk(
        Some(OFFICER),
        &["release", "--desk", "DESK2", "--reason", "done"],
    );
    assert_eq!(out.status.code(), Some(0));
    let out = h.sor_risk(
        Some(OFFICER),
        &["cap", "dealer-c", "full", "--reason", "ok"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = h.sor_risk(
        Some(OFFICER),
        &["stage", "dealer-c", "full", "--reason", "ok"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(h.audit.records().len(), 5);
    assert_eq!(h.changes.load(Ordering::SeqCst), 5);

    // Bad arguments: exit 2 with one line.
    let out = h.sor_risk(Some(OFFICER), &["kill"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    let out = h.sor_risk(Some(OFFICER), &["set", "k", "v", "--reason", ""]);
    assert_eq!(out.status.code(), Some(2));
    let out = h.sor_risk(Some(OFFICER), &["show", "--url", "127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(h.audit.records().len(), 5);
}

#[test]
fn sor_risk_unreachable_api_is_exit_1() {
    let _serial = ONE_SERVER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(env!("CARGO_BIN_EXE_sor"))
        .args(["risk", "--url", &format!("http://127.0.0.1:{port}"), "show"])
        .env("SOR_ADMIN_TOKEN", OFFICER)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot reach the admin API"), "{err}");
    assert!(!err.contains(OFFICER));
}

#[test]
fn the_demo_gateway_samples_load() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../config");
    let limits = Limits::load(format!("{dir}/limits.toml")).unwrap();
    assert_eq!(
        limits.desks["DESK1"].max_parent_notional,
        Some(Decimal::from(25_000_000))
    );
    assert_eq!(
        limits.desks["DESK2"].max_parent_notional,
        Some(Decimal::from(25_000_000))
    );
    for v in [
        "dealer-a",
        "dealer-b",
        "dealer-c",
        "book-x",
        "book-y",
        "pool-cwusdc",
        "pool-cwusdt",
        "pool-cwusdt-cwusdc",
        "route-cwusdt-usdc",
    ] {
        assert!(limits.venues.contains_key(v), "{v}");
    }
    assert!(limits.instruments.contains_key("USDC/USD"));
    let gate = Gate::new(limits).unwrap();
    assert_eq!(gate.stage("pool-cwusdc"), Some("canary"));
    let text = std::fs::read_to_string(format!("{dir}/admin-tokens.toml")).unwrap();
    let tokens = TokenStore::from_toml_str(&text).unwrap();
    let officer = tokens
        .check(Some("Bearer officer-demo"), risk::Action::Change)
        .unwrap();
    assert_eq!(officer.role, Role::RiskOfficer);
    assert!(
        tokens
            .check(Some("Bearer trader-demo"), risk::Action::Change)
            .is_err()
    );
    // The shipped gateway config: what the README and the desk contract promise.
    let gw = sor::serve::GatewayConfig::load(std::path::Path::new(&format!("{dir}/gateway.toml")))
        .unwrap();
    assert_eq!((gw.comp_id.as_str(), gw.port), ("SOR", 9878));
    assert_eq!(gw.max_queue_wait_ms, 200);
    assert_eq!(gw.engine_spin_us, 0);
    assert!(gw.journal.is_some(), "the journal is on");
}
