//! The gateway's end-to-end latency over loopback, beside a bare QuickFIX round trip
//! measured in the same run on the same machine.
//!
//! 1. Bare: a desk client sends NewOrderSingle to an acceptor that answers each with
//!    an ExecutionReport, no routing: one QuickFIX round trip.
//! 2. Gateway: the desk client sends a parent to `sor serve`'s gateway, which routes a
//!    child over FIX to the exchange simulator (no simulated latency), which fills it;
//!    the time is until the desk holds the first fill's ExecutionReport: two QuickFIX
//!    round trips plus the gateway's own work.
//!
//! The gateway's own hops (parent received → first child handed to the venue
//! session, engine decision, report send) come from its histograms.
//!
//! Run: `cargo run --release -p bench --bin gateway-latency -- [ITERATIONS] [JOURNAL] [SPIN_US] [INLINE] [WRITER_SPIN_US] [HOP_CPU]`
//! where JOURNAL is the gateway's `[journal] fsync` (`group`, the default, `each` or
//! `none`) or `off` (no journal at all), SPIN_US the gateway's `engine_spin_us`
//! (default 0), and INLINE which session threads may run the engine themselves
//! (`[gateway] inline_desk_requests` / `inline_venue_events`): `both` (the default),
//! `desk`, `venue` or `none`, WRITER_SPIN_US the gateway's `desk_writer_spin_us`
//! (default 0), and HOP_CPU `cpu` to turn on the gateway's `hop_cpu_time` (the hop
//! split into time on and off the CPU; two more system calls per parent) or `nocpu`
//! (the default).

use fix::client::DeskClient;
use fix::session::{EndpointConfig, Role, SessionHost};
use hdrhistogram::Histogram;
use quickfix::{
    ApplicationCallback, FieldMap, Message, MsgFromAppError, SessionId, send_to_target,
};
use sor::scenario::Scenario;
use sor::serve::{Gateway, GatewayConfig};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

const MARKET: &str = bench::gateway::ONE_BOOK_MARKET;

struct Echo;

impl ApplicationCallback for Echo {
    fn on_msg_from_app(&self, msg: &Message, session: &SessionId) -> Result<(), MsgFromAppError> {
        let built = (|| {
            let mut er = fix::new_message("8")?;
            let cl = msg.get_field(11).unwrap_or_default();
            er.set_field(37, cl.as_str())?;
            er.set_field(11, cl.as_str())?;
            er.set_field(17, cl.as_str())?;
            er.set_field(150, "F")?;
            er.set_field(39, "2")?;
            er.set_field(54, msg.get_field(54).unwrap_or_else(|| "2".into()).as_str())?;
            er.set_field(55, msg.get_field(55).unwrap_or_default().as_str())?;
            er.set_field(38, msg.get_field(38).unwrap_or_default().as_str())?;
            er.set_field(32, msg.get_field(38).unwrap_or_default().as_str())?;
            er.set_field(31, "1")?;
            er.set_field(14, msg.get_field(38).unwrap_or_default().as_str())?;
            er.set_field(151, "0")?;
            er.set_field(6, "1")?;
            Ok::<_, quickfix::QuickFixError>(er)
        })();
        if let Ok(er) = built {
            let _ = send_to_target(er, session);
        }
        Ok(())
    }
}

fn free_port() -> u16 {
    bench::gateway::free_port(19_999)
}

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds")
}

fn line(name: &str, h: &Histogram<u64>) -> String {
    format!(
        "| {name} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
        h.len(),
        h.value_at_quantile(0.5) as f64 / 1e3,
        h.value_at_quantile(0.9) as f64 / 1e3,
        h.value_at_quantile(0.99) as f64 / 1e3,
        h.value_at_quantile(0.999) as f64 / 1e3,
        h.max() as f64 / 1e3
    )
}

fn client(port: u16, desk: &str, gateway: &str, dir: &Path) -> DeskClient {
    bench::gateway::desk_client(port, desk, gateway, dir).expect("client starts")
}

fn order(c: &DeskClient, id: &str) {
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
    .expect("send");
}

/// Sends `n` orders one at a time and times each until `done` says its answer came.
fn measure(c: &DeskClient, prefix: &str, n: usize, warmup: usize, want: &str) -> Histogram<u64> {
    let mut h = hist();
    for i in 0..(n + warmup) {
        let id = format!("{prefix}-{i}");
        let t = Instant::now();
        order(c, &id);
        let got = c.next_app(WAIT, |f| {
            f.msg_type() == "8" && f.get(11) == Some(id.as_str()) && f.get(150) == Some(want)
        });
        let ns = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
        assert!(got.is_some(), "no answer to {id}");
        if i >= warmup {
            let _ = h.record(ns);
        }
    }
    h
}

const SESSIONS: usize = 4;

struct Burst {
    sessions: usize,
    sent: usize,
    queue: usize,
    acked: usize,
    busy: usize,
    secs: f64,
}

/// Starts a gateway with `queue` as its inbound bound and SESSIONS desks, each
/// sending `per_session` parents back to back, then collects every answer.
fn burst(dir: &Path, per_session: usize, queue: usize) -> Burst {
    let port = free_port();
    let desks: String = (1..=SESSIONS).map(|i| format!("[desks.D{i}]\n")).collect();
    let config = GatewayConfig::parse(
        &format!(
            "[gateway]\nport = {port}\ndata_dir = \"{}\"\nmarket = \"unused\"\ninbound_queue = {queue}\n{desks}",
            dir.join(format!("burst-{queue}")).display()
        ),
        Path::new("."),
    )
    .expect("config");
    let market = Scenario::parse_market(MARKET).expect("market");
    let gateway = Gateway::start_sim(&config, market).expect("gateway");
    let clients: Vec<DeskClient> = (1..=SESSIONS)
        .map(|i| {
            client(
                port,
                &format!("D{i}"),
                "SOR",
                &dir.join(format!("burst-{queue}")),
            )
        })
        .collect();
    for c in &clients {
        assert!(c.wait_logon(WAIT), "burst logon");
    }
    std::thread::sleep(Duration::from_millis(500));
    let t = Instant::now();
    let (acked, busy) = std::thread::scope(|s| {
        let handles: Vec<_> = clients
            .iter()
            .enumerate()
            .map(|(k, c)| {
                s.spawn(move || {
                    for i in 0..per_session {
                        order(c, &format!("b{k}-{i}"));
                    }
                    let (mut acked, mut busy, mut seen) = (0, 0, 0);
                    while seen < per_session {
                        let Some(r) = c.next_app(WAIT, |f| {
                            f.msg_type() == "8" && matches!(f.get(150), Some("0") | Some("8"))
                        }) else {
                            break;
                        };
                        seen += 1;
                        if r.get(150) == Some("0") {
                            acked += 1;
                        } else {
                            busy += 1;
                        }
                    }
                    (acked, busy)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or((0, 0)))
            .fold((0, 0), |(a, b), (x, y)| (a + x, b + y))
    });
    let secs = t.elapsed().as_secs_f64();
    for c in clients {
        c.stop();
    }
    let _ = gateway.stop();
    Burst {
        sessions: SESSIONS,
        sent: SESSIONS * per_session,
        queue,
        acked,
        busy,
        secs,
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5000);
    let journal = std::env::args().nth(2).unwrap_or_else(|| "group".into());
    let journal_toml = match journal.as_str() {
        "off" => "[journal]\nenabled = false\n".to_owned(),
        mode => format!("[journal]\nfsync = \"{mode}\"\n"),
    };
    let spin_us: u64 = std::env::args()
        .nth(3)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let inline = std::env::args().nth(4).unwrap_or_else(|| "both".into());
    let (inline_desk, inline_venue) = match inline.as_str() {
        "both" => (true, true),
        "desk" => (true, false),
        "venue" => (false, true),
        "none" => (false, false),
        other => {
            eprintln!("INLINE must be both, desk, venue or none, not {other:?}");
            std::process::exit(2);
        }
    };
    let writer_spin_us: u64 = std::env::args()
        .nth(5)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let hop_cpu_time = match std::env::args().nth(6).as_deref() {
        None | Some("nocpu") => false,
        Some("cpu") => true,
        Some(other) => {
            eprintln!("HOP_CPU must be cpu or nocpu, not {other:?}");
            std::process::exit(2);
        }
    };
    let warmup = (n / 10).max(100);
    let dir: PathBuf = std::env::temp_dir().join(format!("sor-bench-gw-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    // 1. Bare QuickFIX round trip.
    let port = free_port();
    let echo = SessionHost::start(
        EndpointConfig {
            name: "echo".into(),
            role: Role::Acceptor { port },
            sender: "ECHO".into(),
            targets: vec!["BENCH".into()],
            data_dir: dir.join("echo"),
            heartbeat_secs: 30,
            threaded: true,
            persist_messages: true,
        },
        || Echo,
    )
    .expect("echo acceptor");
    let c = client(port, "BENCH", "ECHO", &dir);
    assert!(c.wait_logon(WAIT), "bench client logon");
    let bare = measure(&c, "bare", n, warmup, "F");
    c.stop();
    echo.stop();

    // 2. Through the gateway to the FIX exchange simulator and back.
    let port = free_port();
    let config = GatewayConfig::parse(
        &format!(
            "[gateway]\nport = {port}\ndata_dir = \"{}\"\nmarket = \"unused\"\nengine_spin_us = {spin_us}\ndesk_writer_spin_us = {writer_spin_us}\n\
             inline_desk_requests = {inline_desk}\ninline_venue_events = {inline_venue}\nhop_cpu_time = {hop_cpu_time}\n[desks.DESK1]\n{journal_toml}",
            dir.join("gateway").display()
        ),
        Path::new("."),
    )
    .expect("config");
    let market = Scenario::parse_market(MARKET).expect("market");
    let gateway = Gateway::start_sim(&config, market).expect("gateway");
    let c = client(port, "DESK1", "SOR", &dir);
    assert!(c.wait_logon(WAIT), "desk logon");
    // Let the first market data snapshot reach the router.
    std::thread::sleep(Duration::from_millis(500));
    let full = measure(&c, "gw", n, warmup, "F");
    c.stop();
    let summary = gateway.stop().expect("gateway stops");

    // 3. Throughput: SESSIONS desks each pipelining `n` parents at once; every parent
    // must be answered (ack or an explicit busy reject), none lost.
    let mut throughput = Vec::new();
    for queue in [4096usize, 64] {
        throughput.push(burst(&dir, n, queue));
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!("| path (µs) | n | p50 | p90 | p99 | p99.9 | max |");
    println!("|---|---|---|---|---|---|---|");
    println!("{}", line("bare QuickFIX NOS → ER round trip", &bare));
    println!(
        "{}",
        line("desk NOS → first fill ER via gateway + FIX venue", &full)
    );
    let hops = &summary.core.hops;
    println!(
        "{}",
        line(
            "gateway: parent received → child handed to venue session",
            &hops.parent_to_first_child
        )
    );
    println!(
        "{}",
        line(
            "gateway: parent decoded → child handed to venue session",
            &hops.decoded_to_first_child
        )
    );
    if hop_cpu_time {
        println!(
            "{}",
            line(
                "gateway: parent decoded → child handed, on CPU (inline hops)",
                &hops.decoded_to_first_child_cpu
            )
        );
        println!(
            "{}",
            line(
                "gateway: parent decoded → child handed, off CPU (inline hops)",
                &hops.decoded_to_first_child_off_cpu
            )
        );
    }
    println!(
        "{}",
        line(
            "gateway: parent received → child sent by QuickFIX",
            &hops.parent_to_first_child_sent
        )
    );
    println!(
        "{}",
        line("gateway: desk request queue wait", &hops.queue_wait)
    );
    println!(
        "{}",
        line("gateway: engine step (route + risk)", &hops.decision)
    );
    println!(
        "{}",
        line(
            "gateway: engine step of a new parent",
            &hops.new_parent_decision
        )
    );
    println!(
        "{}",
        line("gateway: venue send (NOS to QuickFIX)", &hops.venue_send)
    );
    println!("{}", line("gateway: desk report send", &hops.desk_send));
    println!(
        "{}",
        line(
            "gateway: desk report queued → written by QuickFIX",
            &summary.desk_report_out
        )
    );
    println!(
        "{}",
        line(
            &format!("gateway: journal commit (fsync = {journal})"),
            &hops.journal_commit
        )
    );
    println!();
    println!(
        "| sessions | parents sent | inbound queue | acked | refused busy | lost | parents/s answered | acked/s |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for t in &throughput {
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.0} | {:.0} |",
            t.sessions,
            t.sent,
            t.queue,
            t.acked,
            t.busy,
            t.sent - t.acked - t.busy,
            t.sent as f64 / t.secs,
            t.acked as f64 / t.secs
        );
    }
    let ratio = full.value_at_quantile(0.5) as f64 / (2.0 * bare.value_at_quantile(0.5) as f64);
    let ratio99 = full.value_at_quantile(0.99) as f64 / (2.0 * bare.value_at_quantile(0.99) as f64);
    println!();
    println!("full path / two bare round trips: p50 {ratio:.2}×, p99 {ratio99:.2}× (goal ≤ 1.25×)");
}
