//! Killing the gateway (SIGKILL) mid-parent: the restarted gateway replays its journal,
//! cuts a torn tail, tells the desk the parent's true state, finishes the parent, and
//! the desk ends with exactly the fills the venue made. The venues (the exchange
//! simulator; a chain simulator that mines only when told, so a swap is in flight at the
//! crash) are started by the test on loopback so they outlive the gateway's process.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;
use common::{deep_usdc_exchange, desk1, free_port, pool_chain, pool_market, temp_dir};
use fix::client::FixFields;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

/// QuickFIX keeps one process-wide registry of sessions: the tests' desk clients (the
/// same session id) must not run at the same time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

const MARKET: &str = r#"
name = "crash-recovery"
[valuation]
currency = "USD"
[valuation.references]
USDC = "1"

[[venues]]
id = "book-x"
kind = "book"
instrument = "USDC/USD"
taker_fee_bps = "2"
bids = [["0.9999", "1000000"]]
asks = [["1.0001", "1000000"]]
"#;

/// The gateway's process, with its log lines collected from stderr.
struct Gateway {
    child: Child,
    log: mpsc::Receiver<String>,
}

impl Gateway {
    fn start(config: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sor"))
            .args(["serve", config.to_str().unwrap()])
            .env("RUST_LOG", "info")
            // The chain venue's signing key (the test chain accepts any).
            .env("TEST_CHAIN_KEY", "11".repeat(32))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let stderr: ChildStderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, log: rx }
    }

    /// Every log line so far (for a failure message).
    fn log_so_far(&self) -> String {
        self.log.try_iter().collect::<Vec<_>>().join("\n")
    }

    /// Waits for a log line containing `text`.
    fn wait_log(&self, text: &str) -> Option<String> {
        let deadline = Instant::now() + WAIT;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(text) => return Some(line),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    }

    fn kill9(&mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-KILL", &pid]).status().unwrap();
        let _ = self.child.wait();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `dir/gateway.toml`: desk DESK1 on `port`, data under `data`, the market file
/// `dir/market.toml`, open parents left working on shutdown, the journal synced per
/// record, and `venue` (a `[venues.X]` table); returns its path.
fn write_config(dir: &Path, port: u16, data: &Path, venue: &str) -> PathBuf {
    let config = format!(
        r#"
[gateway]
port = {port}
data_dir = "{data}"
market = "market.toml"
on_shutdown = "leave"

[desks.DESK1]

{venue}

[journal]
fsync = "each"
"#,
        data = data.display(),
    );
    let path = dir.join("gateway.toml");
    std::fs::write(&path, config).unwrap();
    path
}

fn qty(f: &FixFields, tag: u32) -> Decimal {
    f.get(tag).unwrap().parse().unwrap()
}

#[test]
fn a_gateway_killed_mid_parent_recovers_and_the_desk_gets_exactly_the_venues_fills() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("crash");

    let xport = free_port();
    let exchange = deep_usdc_exchange(xport, &dir, 11);

    let port = free_port();
    std::fs::write(dir.join("market.toml"), MARKET).unwrap();
    let data = dir.join("gateway-data");
    let venue = format!(
        r#"[venues.book-x]
fix = {{ host = "127.0.0.1", port = {xport}, target = "XCH", reconnect_secs = 1 }}"#
    );
    let config_path = write_config(&dir, port, &data, &venue);

    let mut gateway = Gateway::start(&config_path);
    let desk = desk1(port, &dir);
    assert!(desk.wait_logon(WAIT), "desk logon");
    // The book's market data reaches the router.
    std::thread::sleep(Duration::from_millis(1500));

    // A TWAP of 2,000 over 120 s: one slice now, the next a minute later.
    let fields = [
        (11, "twap-1"),
        (55, "USDC/USD"),
        (54, "2"),
        (38, "2000"),
        (40, "1"),
        (60, "20261123-10:00:00.000"),
        (847, "1001"),
    ];
    desk.send_order(&fields, &[("DurationSecs", "120")])
        .unwrap();
    let ack = desk
        .next_app(WAIT, |f| f.msg_type() == "8" && f.get(150) == Some("0"))
        .expect("ack");
    assert_eq!(ack.get(11), Some("twap-1"));
    let first = desk
        .next_app(WAIT, |f| f.msg_type() == "8" && f.get(150) == Some("F"))
        .expect("first slice fills");
    assert_eq!(qty(&first, 14), dec!(1000));
    assert_eq!(qty(&first, 151), dec!(1000));

    // Crash: no shutdown, no logout, nothing flushed by the process.
    gateway.kill9();
    // A write torn by the crash: half a record header at the end of the journal.
    let journal_dir = data.join("journal");
    let mut segments: Vec<PathBuf> = std::fs::read_dir(&journal_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    segments.sort();
    let last = segments.last().expect("a journal segment");
    std::fs::OpenOptions::new()
        .append(true)
        .open(last)
        .unwrap()
        .write_all(&[0x2a, 0, 0, 0, 0xde, 0xad])
        .unwrap();

    let gateway = Gateway::start(&config_path);
    assert!(
        gateway.wait_log("torn tail cut").is_some(),
        "the cut tail is reported"
    );
    assert!(
        gateway.wait_log("journal replayed").is_some(),
        "the journal is replayed"
    );
    // The desk is told where its parent stands, then the second slice fills it.
    let Some(status) = desk.next_app(WAIT, |f| f.msg_type() == "8" && f.get(150) == Some("I"))
    else {
        panic!(
            "no status after recovery; gateway log:\n{}",
            gateway.log_so_far()
        );
    };
    assert_eq!(status.get(11), Some("twap-1"));
    assert_eq!(qty(&status, 14), dec!(1000));
    let mut fills = vec![first];
    let deadline = Instant::now() + Duration::from_secs(90);
    while fills.iter().map(|f| qty(f, 32)).sum::<Decimal>() < dec!(2000) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "second slice never filled: {fills:?}");
        if let Some(f) = desk.next_app(left, |f| f.msg_type() == "8" && f.get(150) == Some("F")) {
            fills.push(f);
        }
    }
    let cum: Decimal = fills.iter().map(|f| qty(f, 32)).sum();
    assert_eq!(cum, dec!(2000), "every fill once: {fills:?}");
    let last = fills.last().unwrap();
    assert_eq!(last.get(39), Some("2"), "filled");
    assert_eq!(qty(last, 14), dec!(2000));
    assert_eq!(qty(last, 151), dec!(0));
    // Exactly what the venue did: two children, 2,000 in all, no ClOrdID used twice.
    let orders = exchange.orders();
    assert_eq!(
        orders.iter().map(|o| o.cum).sum::<Decimal>(),
        dec!(2000),
        "{orders:?}"
    );
    assert_eq!(
        orders.len(),
        2,
        "two children, each ClOrdID once: {orders:?}"
    );

    desk.stop();
    drop(gateway);
    exchange.stop();
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}

#[test]
fn a_gateway_killed_while_its_swap_waits_for_a_block_books_the_swap_once_after_restart() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    use venues::chain::sim::SimPool;

    let dir = temp_dir("crash-swap");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Blocks only when the test mines one: the swap waits in the mempool at the crash.
    let chain = pool_chain(rt.handle(), None);

    let port = free_port();
    std::fs::write(
        dir.join("market.toml"),
        pool_market("crash-recovery-pool", ""),
    )
    .unwrap();
    let data = dir.join("gateway-data");
    let venue = format!(
        r#"[venues.pool-cwusdc]
chain = {{ rpc_url = "{rpc}", pool = "{pool}", router = "{router}", key_env = "TEST_CHAIN_KEY" }}"#,
        rpc = chain.url(),
        pool = SimPool::address_for(1),
        router = chain.router(),
    );
    let config_path = write_config(&dir, port, &data, &venue);

    let mut gateway = Gateway::start(&config_path);
    let desk = desk1(port, &dir);
    assert!(desk.wait_logon(WAIT), "desk logon");
    assert!(
        gateway.wait_log("chain venue up").is_some(),
        "the pool's state reaches the router"
    );
    std::thread::sleep(Duration::from_millis(500));

    let fields = [
        (11, "swap-1"),
        (55, "USDC/USD"),
        (54, "2"),
        (38, "50"),
        (40, "1"),
        (60, "20261123-10:00:00.000"),
    ];
    desk.send_order(&fields, &[("Venues", "pool-cwusdc")])
        .unwrap();
    let ack = desk
        .next_app(WAIT, |f| f.msg_type() == "8" && f.get(11) == Some("swap-1"))
        .expect("an answer");
    assert_eq!(ack.get(150), Some("0"), "acked: {ack:?}");
    // The swap is signed, logged and sent; no block yet.
    let deadline = Instant::now() + WAIT;
    while chain.pending_count() == 0 {
        assert!(
            Instant::now() < deadline,
            "no swap reached the chain; gateway log:\n{}",
            gateway.log_so_far()
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // Crash while the swap waits; then the block that includes it.
    gateway.kill9();
    assert_eq!(chain.pending_count(), 1);
    chain.mine();

    let gateway = Gateway::start(&config_path);
    assert!(
        gateway.wait_log("journal replayed").is_some(),
        "the journal is replayed"
    );
    // The desk hears, in some order, the parent's status as of when its session is back
    // and the swap's fill found by reconciliation; the status never says less than a
    // fill sent before it.
    let (mut status, mut fills) = (None, Vec::new());
    let deadline = Instant::now() + WAIT;
    while status.is_none() || fills.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(r) = desk.next_app(left, |f| f.msg_type() == "8" && f.get(11) == Some("swap-1"))
        else {
            panic!(
                "status {status:?}, fills {fills:?}; log:\n{}",
                gateway.log_so_far()
            );
        };
        match r.get(150) {
            Some("I") => {
                let told: Decimal = fills.iter().map(|f: &FixFields| qty(f, 32)).sum();
                assert_eq!(qty(&r, 14), told, "a status behind the fills: {r:?}");
                status = Some(r);
            }
            Some("F") => fills.push(r),
            other => panic!("unexpected {other:?}: {r:?}"),
        }
    }
    assert_eq!(fills.len(), 1, "one swap, one fill: {fills:?}");
    let fill = &fills[0];
    assert_eq!(qty(fill, 32), dec!(50), "the receipt's amount: {fill:?}");
    assert_eq!(fill.get(39), Some("2"), "filled");
    assert_eq!(fill.get(30), Some("pool-cwusdc"));
    // Once: no second fill, and exactly one swap ever sent from the gateway's account.
    assert!(
        desk.next_app(Duration::from_secs(2), |f| f.msg_type() == "8"
            && f.get(150) == Some("F"))
            .is_none(),
        "a second fill"
    );
    assert_eq!(chain.pending_count(), 0);
    assert_eq!(chain.block_number(), 1, "only the block the test mined");

    desk.stop();
    drop(gateway);
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}
