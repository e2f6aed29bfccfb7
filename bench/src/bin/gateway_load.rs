//! Sustained load on the gateway over loopback: desk sessions push parents at a paced,
//! rising rate; for each step it counts what was acked, what was refused as busy
//! (explicit back-pressure), what was lost (never answered) and what came back out of
//! order, with the ack latency's percentiles.
//!
//! One gateway (`--sim`, one exchange book over FIX, journal on with group commit)
//! serves every step. Each parent is a 100 USDC sell that routes one child and fills.
//!
//! Run: `cargo run --release -p bench --bin gateway-load -- [SECS_PER_STEP] [RATE...]`
//! (defaults: 3 s per step; 500 1000 2000 4000 8000 16000 parents/s in all). The
//! environment variable `MAX_QUEUE_WAIT_MS` sets the gateway's `max_queue_wait_ms`
//! (default 200; 60000 leaves only the queue's bound in count).

use fix::client::{ClientEvent, DeskClient};
use hdrhistogram::Histogram;
use sor::scenario::Scenario;
use sor::serve::{Gateway, GatewayConfig};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SESSIONS: usize = 4;
/// Longest wait for the last answers of a step.
const DRAIN: Duration = Duration::from_secs(15);

const MARKET: &str = bench::gateway::ONE_BOOK_MARKET;

fn free_port() -> u16 {
    bench::gateway::free_port(19_998)
}

/// What one session saw in one step.
#[derive(Default)]
struct Tally {
    sent: u64,
    acked: u64,
    busy: u64,
    other_rejects: u64,
    out_of_order: u64,
    latency: Option<Histogram<u64>>,
}

fn order(c: &DeskClient, id: &str) -> bool {
    c.send_fields(
        "D",
        &[
            (11, id),
            (55, "USDC/USD"),
            (54, "2"),
            (38, "100"),
            (40, "1"),
            (60, "20261123-10:00:00.000"),
        ],
    )
    .is_ok()
}

/// Paces `rate` parents/s on one session for `secs`, reading answers as it goes, then
/// waits for the rest.
fn run_session(c: &DeskClient, tag: &str, rate: f64, secs: f64) -> Tally {
    let mut t = Tally {
        latency: Histogram::new_with_bounds(1, 60_000_000_000, 3).ok(),
        ..Tally::default()
    };
    let mut sent_at: HashMap<String, (u64, Instant)> = HashMap::new();
    let mut last_acked: Option<u64> = None;
    let total = (rate * secs).round() as u64;
    let start = Instant::now();
    let mut read = |t: &mut Tally,
                    sent_at: &mut HashMap<String, (u64, Instant)>,
                    wait: Duration| {
        let deadline = Instant::now() + wait;
        loop {
            let ev = match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => c.events().recv_timeout(left).ok(),
                _ => c.events().try_recv().ok(),
            };
            let Some(ev) = ev else { return };
            let ClientEvent::App(f) = ev else { continue };
            if f.msg_type() != "8" {
                continue;
            }
            let Some(id) = f.get(11) else { continue };
            let exec_type = f.get(150).unwrap_or_default();
            if !matches!(exec_type, "0" | "8") {
                continue;
            }
            let Some((seq, at)) = sent_at.remove(id) else {
                continue;
            };
            if exec_type == "0" {
                t.acked += 1;
                if let Some(h) = t.latency.as_mut() {
                    let _ = h.record(u64::try_from(at.elapsed().as_nanos()).unwrap_or(u64::MAX));
                }
                if last_acked.is_some_and(|l| seq < l) {
                    t.out_of_order += 1;
                }
                last_acked = Some(seq);
            } else if f.get(58).is_some_and(|s| s.starts_with("gateway busy")) {
                t.busy += 1;
            } else {
                t.other_rejects += 1;
            }
        }
    };
    while t.sent < total {
        let due = ((start.elapsed().as_secs_f64() * rate) as u64).min(total);
        while t.sent < due {
            let id = format!("{tag}-{}", t.sent);
            if order(c, &id) {
                sent_at.insert(id, (t.sent, Instant::now()));
            }
            t.sent += 1;
        }
        read(&mut t, &mut sent_at, Duration::ZERO);
        if t.sent < total {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let deadline = Instant::now() + DRAIN;
    while !sent_at.is_empty() && Instant::now() < deadline {
        read(&mut t, &mut sent_at, Duration::from_millis(50));
    }
    t
}

fn main() {
    let mut args = std::env::args().skip(1);
    let secs: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3.0);
    let mut rates: Vec<f64> = args.filter_map(|a| a.parse().ok()).collect();
    if rates.is_empty() {
        rates = vec![500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0];
    }
    let dir: PathBuf = std::env::current_dir()
        .unwrap_or_else(|_| PathBuf::from("."))
        .join("target")
        .join(format!("gateway-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = free_port();
    let desks: String = (1..=SESSIONS).map(|i| format!("[desks.L{i}]\n")).collect();
    let max_wait: u64 = std::env::var("MAX_QUEUE_WAIT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let config = match GatewayConfig::parse(
        &format!(
            "[gateway]\nport = {port}\ndata_dir = \"{}\"\nmarket = \"unused\"\ninbound_queue = 4096\nmax_queue_wait_ms = {max_wait}\n{desks}",
            dir.display()
        ),
        Path::new("."),
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("config: {e}");
            std::process::exit(2);
        }
    };
    let market = match Scenario::parse_market(MARKET) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("market: {e}");
            std::process::exit(2);
        }
    };
    let gateway = match Gateway::start_sim(&config, market) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("gateway: {e}");
            std::process::exit(2);
        }
    };
    let clients: Vec<DeskClient> = (1..=SESSIONS)
        .filter_map(|i| bench::gateway::desk_client(port, &format!("L{i}"), "SOR", &dir).ok())
        .collect();
    if clients.len() != SESSIONS
        || !clients
            .iter()
            .all(|c| c.wait_logon(Duration::from_secs(10)))
    {
        eprintln!("desk sessions did not log on");
        std::process::exit(1);
    }
    std::thread::sleep(Duration::from_millis(500));
    println!(
        "{SESSIONS} desk sessions, {secs} s per step, journal on (group commit); each parent routes one child to a FIX book and fills\n"
    );
    println!(
        "| offered parents/s | sent | acked | busy rejects | other rejects | lost | out of order | acked/s | ack p50 µs | ack p99 µs | ack p99.9 µs |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (step, rate) in rates.iter().enumerate() {
        let per_session = rate / SESSIONS as f64;
        let t0 = Instant::now();
        let tallies: Vec<Tally> = std::thread::scope(|s| {
            let handles: Vec<_> = clients
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    s.spawn(move || run_session(c, &format!("s{step}c{k}"), per_session, secs))
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        let _elapsed = t0.elapsed();
        let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).ok();
        let (mut sent, mut acked, mut busy, mut other, mut ooo) = (0, 0, 0, 0, 0);
        for t in &tallies {
            sent += t.sent;
            acked += t.acked;
            busy += t.busy;
            other += t.other_rejects;
            ooo += t.out_of_order;
            if let (Some(a), Some(h)) = (all.as_mut(), t.latency.as_ref()) {
                let _ = a.add(h);
            }
        }
        let lost = sent - acked - busy - other;
        let q = |p: f64| {
            all.as_ref()
                .map_or(0.0, |h| h.value_at_quantile(p) as f64 / 1e3)
        };
        println!(
            "| {rate:.0} | {sent} | {acked} | {busy} | {other} | {lost} | {ooo} | {:.0} | {:.1} | {:.1} | {:.1} |",
            acked as f64 / secs,
            q(0.5),
            q(0.99),
            q(0.999)
        );
        // Let the gateway settle between steps.
        std::thread::sleep(Duration::from_millis(500));
    }
    for c in clients {
        c.stop();
    }
    match gateway.stop() {
        Ok(summary) => println!(
            "\ngateway hops over the whole run:\n{}\nparents refused after waiting past max_queue_wait_ms: {}",
            summary.core.hops.summary(),
            summary.core.expired_in_queue
        ),
        Err(e) => eprintln!("gateway stop: {e}"),
    }
    restart_on_the_journal(&config, &dir);
    let _ = std::fs::remove_dir_all(&dir);
}

/// How long a gateway takes to start on the journal this run wrote (replay included),
/// beside how much the journal holds.
fn restart_on_the_journal(config: &GatewayConfig, dir: &Path) {
    let journal = dir.join("journal");
    let mut records = 0u64;
    let mut bytes = 0u64;
    if let Err(e) = sor::journal::Journal::replay(&journal, |_, payload| {
        records += 1;
        bytes += payload.len() as u64;
    }) {
        eprintln!("journal scan: {e}");
        return;
    }
    let t0 = Instant::now();
    let market = match Scenario::parse_market(MARKET) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("market: {e}");
            return;
        }
    };
    match Gateway::start_sim(config, market) {
        Ok(gw) => {
            let ready = t0.elapsed();
            let _ = gw.stop();
            println!(
                "restart on this run's journal ({records} records, {:.1} MiB): ready in {:.0} ms (replay included)",
                bytes as f64 / (1024.0 * 1024.0),
                ready.as_secs_f64() * 1e3
            );
        }
        Err(e) => eprintln!("restart: {e}"),
    }
}
