//! The desk-facing gateway end to end: real QuickFIX sessions over 127.0.0.1, a desk
//! client logging on, sending parents, cancelling, asking status, sending garbage,
//! and clients that must be refused.

#![allow(clippy::unwrap_used)]

use fix::client::{ClientConfig, ClientEvent, DeskClient, FixFields};
use rust_decimal::Decimal;
use sor::scenario::Scenario;
use sor::serve::{Gateway, GatewayConfig};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use tests::fixtures::{free_port, temp_dir};

const WAIT: Duration = Duration::from_secs(10);

/// Books deep enough for a few million, one dealer without last look, a slow pool.
const MARKET: &str = r#"
name = "gateway-test"
seed = 11

[valuation]
currency = "USD"
[valuation.references]
USDC = "1"
ETH = "2800"

[valuation.assets]
cWUSDC = { as = "USDC", rate = "1" }

[risk]
max_parent_notional = "25000000"

[[venues]]
id = "book-x"
kind = "book"
instrument = "USDC/USD"
latency_ms = 1
taker_fee_bps = "2"
replenish_per_sec = "0.5"
depth = { mid = "1.00000", half_spread = "0.00005", tick = "0.00001", levels = 20, first_qty = "150000", qty_step = "25000" }

[[venues]]
id = "book-y"
kind = "book"
instrument = "USDC/USD"
latency_ms = 1
taker_fee_bps = "2.5"
replenish_per_sec = "0.5"
depth = { mid = "1.00000", half_spread = "0.00004", tick = "0.00002", levels = 20, first_qty = "100000", qty_step = "20000" }

[[venues]]
id = "dealer-a"
kind = "rfq"
instrument = "USDC/USD"
latency_ms = 2
quote_validity_ms = 500
accept_delay_ms = 1
last_look_reject = 0.0
bids = [["0.99995", "1000000"], ["0.99990", "2500000"]]
asks = [["1.00005", "1000000"], ["1.00010", "2500000"]]

# The corridor's cWUSDC/USDC DODO V2 pool (about $213 within 50 bps), on the chain
# simulator: wrapped tokens 10 bps rich, a cent of gas a swap.
[[venues]]
id = "pool-cwusdc"
kind = "pool"
instrument = "cWUSDC/USDC"
latency_ms = 1
gas = { units = 150000, price_gwei = "0.024", native = "ETH" }
pmm = { i = "1001000000000000000", k = "500000000000000000", b = "42278000000", q = "42278000000", b0 = "42278000000", q0 = "42278000000", r = "ONE", lp_fee_rate = "300000000000000", mt_fee_rate = "0", base_decimals = 6, quote_decimals = 6 }
"#;

/// QuickFIX keeps one process-wide registry of sessions: gateways in one test process
/// must not run at the same time with the same session ids.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct Setup {
    _serial: std::sync::MutexGuard<'static, ()>,
    gateway: Gateway,
    port: u16,
    dir: PathBuf,
}

fn start(name: &str, on_shutdown: &str) -> Setup {
    start_with(name, on_shutdown, 4096)
}

fn start_with(name: &str, on_shutdown: &str, queue: usize) -> Setup {
    let serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    start_in(serial, temp_dir(name), free_port(), on_shutdown, queue)
}

fn start_in(
    serial: std::sync::MutexGuard<'static, ()>,
    dir: PathBuf,
    port: u16,
    on_shutdown: &str,
    queue: usize,
) -> Setup {
    start_in_with(serial, dir, port, on_shutdown, queue, "")
}

fn start_in_with(
    serial: std::sync::MutexGuard<'static, ()>,
    dir: PathBuf,
    port: u16,
    on_shutdown: &str,
    queue: usize,
    extra: &str,
) -> Setup {
    // DESK2's password is "desk2-pw".
    let hash = fix::auth::PasswordHash::create("desk2-pw", "test-salt").unwrap();
    let text = format!(
        r#"
[gateway]
port = {port}
data_dir = "{data}"
market = "unused.toml"
on_shutdown = "{on_shutdown}"
inbound_queue = {queue}
shutdown_grace_ms = 3000
{extra}

[desks.DESK1]

[desks.DESK2]
password_hash = "{hash}"
"#,
        data = dir.join("gateway").display()
    );
    let config = GatewayConfig::parse(&text, Path::new(".")).unwrap();
    let market = Scenario::parse_market(MARKET).unwrap();
    let gateway = Gateway::start_sim(&config, market).unwrap();
    Setup {
        _serial: serial,
        gateway,
        port,
        dir,
    }
}

fn client(setup: &Setup, desk: &str, credentials: Option<(&str, &str)>) -> DeskClient {
    client_in(
        setup,
        desk,
        credentials,
        setup.dir.join(format!("client-{desk}-{}", free_port())),
    )
}

fn client_in(
    setup: &Setup,
    desk: &str,
    credentials: Option<(&str, &str)>,
    data_dir: PathBuf,
) -> DeskClient {
    DeskClient::start(ClientConfig {
        host: "127.0.0.1".into(),
        port: setup.port,
        desk: desk.into(),
        gateway: "SOR".into(),
        credentials: credentials.map(|(u, p)| (u.into(), p.into())),
        data_dir,
        heartbeat_secs: 30,
    })
    .unwrap()
}

fn dec(f: &FixFields, tag: u32) -> Decimal {
    Decimal::from_str(
        f.get(tag)
            .unwrap_or_else(|| panic!("tag {tag} missing in {f:?}")),
    )
    .unwrap()
}

fn new_order(c: &DeskClient, id: &str, qty: &str, extra: &[(i32, &str)]) {
    let mut fields = vec![
        (11, id),
        (1, "acct-7"),
        (55, "USDC/USD"),
        (54, "2"),
        (38, qty),
        (40, "1"),
        (60, "20261123-10:00:00.000"),
    ];
    fields.extend_from_slice(extra);
    c.send_fields("D", &fields).unwrap();
}

fn send_twap(c: &DeskClient, id: &str, qty: &str, secs: &str) {
    send_with_params(c, id, qty, &[(847, "1001")], &[("DurationSecs", secs)]);
}

fn send_with_params(
    c: &DeskClient,
    id: &str,
    qty: &str,
    extra: &[(i32, &str)],
    params: &[(&str, &str)],
) {
    let mut fields = vec![
        (11, id),
        (55, "USDC/USD"),
        (54, "2"),
        (38, qty),
        (40, "1"),
        (60, "20261123-10:00:00.000"),
    ];
    fields.extend_from_slice(extra);
    c.send_order(&fields, params).unwrap();
}

fn report_for<'a>(id: &'a str) -> impl FnMut(&FixFields) -> bool + 'a {
    move |f| f.msg_type() == "8" && f.get(11) == Some(id)
}

#[test]
fn a_desk_parent_is_acked_and_filled_and_the_figures_add_up() {
    let setup = start("fill", "cancel");
    let desk = client(&setup, "DESK1", None);
    assert!(desk.wait_logon(WAIT), "DESK1 could not log on");
    acked_and_filled(&desk);
    desk.stop();
    let summary = setup.gateway.stop().unwrap();
    // The shipped journal groups commits: every input went through the engine thread.
    assert_eq!(summary.core.inline, sor::serve::InlineCounts::default());
    // The hop's CPU time is read only when asked for.
    let hops = &summary.core.hops;
    assert!(!hops.decoded_to_first_child.is_empty());
    assert!(hops.decoded_to_first_child_cpu.is_empty());
}

/// The same parent with the engine run on the session threads: the desk's parent on
/// its session's thread, the venues' fills (and the re-routes and desk reports they
/// cause) on the FIX venue sessions' threads, each while holding its session's lock.
#[test]
fn a_parent_filled_by_venue_events_handled_on_their_session_threads_adds_up() {
    let serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let setup = start_in_with(
        serial,
        temp_dir("fill-inline"),
        free_port(),
        "cancel",
        4096,
        "hop_cpu_time = true\n[journal]\nfsync = \"none\"",
    );
    let desk = client(&setup, "DESK1", None);
    assert!(desk.wait_logon(WAIT), "DESK1 could not log on");
    acked_and_filled(&desk);

    // Clipped: each next round of children goes out as the last round's reports come
    // in, so from a venue session's thread, onto that session and the other book's.
    // A book that fills a clip only in part leaves it to a later round; what is still
    // unfilled after the rounds a slice may use is expired, and told.
    send_with_params(
        &desk,
        "p-2",
        "1000000",
        &[],
        &[("MaxClip", "250000"), ("Venues", "book-x,book-y")],
    );
    let (mut cum, mut fills) = (Decimal::ZERO, 0u64);
    loop {
        let r = desk.next_app(WAIT, report_for("p-2")).expect("a report");
        if r.get(39) != Some("C") {
            let open = dec(&r, 14) + dec(&r, 151);
            assert_eq!(open, Decimal::from(1_000_000), "{r:?}");
        }
        if r.get(150) == Some("F") {
            fills += 1;
            cum += dec(&r, 32);
            assert_eq!(dec(&r, 14), cum, "CumQty = sum of LastQty: {r:?}");
        }
        match r.get(39) {
            Some("2") => break,
            Some("C") => {
                assert_eq!((dec(&r, 14), dec(&r, 151)), (cum, Decimal::ZERO), "{r:?}");
                break;
            }
            Some("0" | "1") => {}
            other => panic!("unexpected OrdStatus {other:?}: {r:?}"),
        }
    }
    assert!(
        fills > 4,
        "more than one round of clips filled: {fills} fills"
    );
    desk.stop();
    let summary = setup.gateway.stop().unwrap();
    assert!(summary.core.fatal.is_none(), "{:?}", summary.core.fatal);
    assert!(
        summary.core.inline.desk_requests > 0,
        "{:?}",
        summary.core.inline
    );
    assert!(
        summary.core.inline.venue_events > 0,
        "{:?}",
        summary.core.inline
    );
    // With `hop_cpu_time` on, each parent run on its desk's thread has its hop split
    // into time on and off the CPU; one handed to the engine thread has not (its
    // decoding thread's CPU clock says nothing of it).
    let hops = &summary.core.hops;
    let split = hops.decoded_to_first_child_cpu.len();
    assert!(
        split > 0 && split <= hops.decoded_to_first_child.len(),
        "{split}"
    );
    assert_eq!(hops.decoded_to_first_child_off_cpu.len(), split);
    // Every report the desk read (its ack and each fill at least) was timed from
    // queued to written.
    assert!(
        summary.desk_report_out.len() > fills,
        "{} reports timed for {fills} fills",
        summary.desk_report_out.len()
    );
}

/// A 1,000,000 USDC sell from `desk`: acked, filled in reports whose CumQty,
/// LeavesQty and AvgPx add up, its status asked, a late cancel refused.
fn acked_and_filled(desk: &DeskClient) {
    new_order(desk, "p-1", "1000000", &[]);
    let ack = desk.next_app(WAIT, report_for("p-1")).expect("ack");
    assert_eq!(ack.get(150), Some("0"), "{ack:?}");
    assert_eq!(ack.get(39), Some("0"));
    assert_eq!(ack.get(1), Some("acct-7"));
    let order_id = ack.get(37).unwrap().to_owned();

    let (mut cum, mut notional) = (Decimal::ZERO, Decimal::ZERO);
    let mut exec_ids = std::collections::BTreeSet::new();
    exec_ids.insert(ack.get(17).unwrap().to_owned());
    loop {
        let r = desk.next_app(WAIT, report_for("p-1")).expect("a fill");
        assert!(
            exec_ids.insert(r.get(17).unwrap().to_owned()),
            "ExecID repeated"
        );
        assert_eq!(r.get(37), Some(order_id.as_str()));
        assert_eq!(r.get(150), Some("F"), "{r:?}");
        let (last_qty, last_px) = (dec(&r, 32), dec(&r, 31));
        assert!(r.get(30).is_some(), "LastMkt missing");
        cum += last_qty;
        notional += last_qty * last_px;
        assert_eq!(dec(&r, 14), cum, "CumQty = sum of LastQty");
        assert_eq!(dec(&r, 14) + dec(&r, 151), Decimal::from(1_000_000));
        let avg = dec(&r, 6);
        let exact = notional / cum;
        assert!(
            (avg - exact).abs() < Decimal::new(1, 8),
            "AvgPx {avg} vs {exact}"
        );
        if r.get(39) == Some("2") {
            assert_eq!(dec(&r, 151), Decimal::ZERO);
            break;
        }
        assert_eq!(r.get(39), Some("1"));
    }
    assert_eq!(cum, Decimal::from(1_000_000));

    // Status of the filled order.
    desk.send_fields("H", &[(11, "p-1"), (54, "2"), (55, "USDC/USD")])
        .unwrap();
    let st = desk.next_app(WAIT, report_for("p-1")).expect("status");
    assert_eq!(st.get(150), Some("I"));
    assert_eq!(st.get(39), Some("2"));
    assert_eq!(dec(&st, 14), Decimal::from(1_000_000));

    // Too late to cancel it.
    desk.send_fields(
        "F",
        &[
            (11, "c-1"),
            (41, "p-1"),
            (54, "2"),
            (55, "USDC/USD"),
            (60, "20261123-10:00:01.000"),
        ],
    )
    .unwrap();
    let rej = desk
        .next_app(WAIT, |f| f.msg_type() == "9")
        .expect("cancel reject");
    assert_eq!(rej.get(41), Some("p-1"));
    assert_eq!(rej.get(11), Some("c-1"));
    assert_eq!(rej.get(102), Some("0"), "{rej:?}");
}

#[test]
fn a_parent_allowed_only_on_a_book_fills_over_fix_at_the_exchange() {
    let setup = start("book", "cancel");
    let desk = client(&setup, "DESK1", None);
    assert!(desk.wait_logon(WAIT));
    // 300k on book-x alone: more than its first levels, so it walks the book.
    send_with_params(&desk, "b-1", "300000", &[], &[("Venues", "book-x")]);
    let ack = desk.next_app(WAIT, report_for("b-1")).expect("ack");
    assert_eq!(ack.get(150), Some("0"), "{ack:?}");
    let mut cum = Decimal::ZERO;
    let mut prices = Vec::new();
    loop {
        let r = desk.next_app(WAIT, report_for("b-1")).expect("fill");
        assert_eq!(r.get(150), Some("F"), "{r:?}");
        assert_eq!(r.get(30), Some("book-x"));
        cum += dec(&r, 32);
        prices.push(dec(&r, 31));
        if r.get(39) == Some("2") {
            break;
        }
    }
    assert_eq!(cum, Decimal::from(300_000));
    // A sell walks the bids down; LastPx is net of the 2 bps taker fee.
    assert!(prices.windows(2).all(|w| w[0] >= w[1]), "{prices:?}");
    assert!(prices[0] < Decimal::from_str("0.99995").unwrap());
    desk.stop();
    setup.gateway.stop().unwrap();
}

#[test]
fn a_parent_allowed_only_on_a_dealer_fills_over_http_at_the_dealer() {
    let setup = start("dealer", "cancel");
    let desk = client(&setup, "DESK1", None);
    assert!(desk.wait_logon(WAIT));
    // Wait for the dealer's first streamed ladder to reach the router.
    std::thread::sleep(Duration::from_millis(500));
    send_with_params(&desk, "d-1", "2000000", &[], &[("Venues", "dealer-a")]);
    let ack = desk.next_app(WAIT, report_for("d-1")).expect("ack");
    assert_eq!(ack.get(150), Some("0"), "{ack:?}");
    let r = desk.next_app(WAIT, report_for("d-1")).expect("fill");
    assert_eq!(r.get(150), Some("F"), "{r:?}");
    assert_eq!(r.get(30), Some("dealer-a"));
    // One firm quote for the whole size, at the ladder's 2.5M tier.
    assert_eq!(dec(&r, 32), Decimal::from(2_000_000));
    assert_eq!(dec(&r, 31), Decimal::from_str("0.9999").unwrap());
    assert_eq!(r.get(39), Some("2"));
    desk.stop();
    setup.gateway.stop().unwrap();
}

#[test]
fn a_parent_allowed_only_on_the_pool_fills_on_chain_net_of_gas() {
    let setup = start("pool", "cancel");
    let desk = client(&setup, "DESK1", None);
    assert!(desk.wait_logon(WAIT));
    // Wait for the adapter's first block of pool state.
    std::thread::sleep(Duration::from_millis(800));
    send_with_params(&desk, "c-1", "50", &[], &[("Venues", "pool-cwusdc")]);
    let ack = desk.next_app(WAIT, report_for("c-1")).expect("ack");
    assert_eq!(ack.get(150), Some("0"), "{ack:?}");
    let r = desk.next_app(WAIT, report_for("c-1")).expect("fill");
    assert_eq!(r.get(150), Some("F"), "{r:?}");
    assert_eq!(r.get(30), Some("pool-cwusdc"));
    assert_eq!(dec(&r, 32), Decimal::from(50));
    // The pool pays about 1.0010 less 3 bps fee and curve; a cent of gas over 50 units
    // is 2 bps: LastPx is net of both, still above par.
    let px = dec(&r, 31);
    assert!(
        px > Decimal::from_str("1.0000").unwrap() && px < Decimal::from_str("1.0010").unwrap(),
        "{px}"
    );
    desk.stop();
    setup.gateway.stop().unwrap();
}

#[test]
fn a_twap_parent_can_be_cancelled_and_its_status_asked() {
    let setup = start("cancel", "cancel");
    let desk = client(&setup, "DESK1", None);
    assert!(desk.wait_logon(WAIT));

    // A TWAP over an hour: one slice a minute, so nearly all of it is still open.
    send_twap(&desk, "t-1", "600000", "3600");

    let ack = desk.next_app(WAIT, report_for("t-1")).expect("ack");
    assert_eq!(ack.get(150), Some("0"), "{ack:?}");

    desk.send_fields(
        "F",
        &[
            (11, "c-9"),
            (41, "t-1"),
            (54, "2"),
            (55, "USDC/USD"),
            (60, "20261123-10:00:01.000"),
        ],
    )
    .unwrap();
    let mut cum_fills = Decimal::ZERO;
    let done = loop {
        let r = desk
            .next_app(WAIT, |f| {
                f.msg_type() == "8" && (f.get(11) == Some("t-1") || f.get(11) == Some("c-9"))
            })
            .expect("fills then the cancel");
        match r.get(150) {
            Some("F") => cum_fills += dec(&r, 32),
            Some("4") => break r,
            other => panic!("unexpected ExecType {other:?}: {r:?}"),
        }
    };
    assert_eq!(done.get(39), Some("4"));
    assert_eq!(
        done.get(11),
        Some("c-9"),
        "a cancel's report carries the cancel's ClOrdID"
    );
    assert_eq!(done.get(41), Some("t-1"));
    assert_eq!(dec(&done, 14), cum_fills);
    assert_eq!(dec(&done, 151), Decimal::ZERO);
    assert!(cum_fills < Decimal::from(600_000));

    desk.send_fields("H", &[(11, "t-1"), (54, "2")]).unwrap();
    let st = desk.next_app(WAIT, report_for("t-1")).expect("status");
    assert_eq!(st.get(150), Some("I"));
    assert_eq!(st.get(39), Some("4"));
    assert_eq!(dec(&st, 14), cum_fills);

    // A cancel of an order that never existed.
    desk.send_fields(
        "F",
        &[
            (11, "c-10"),
            (41, "ghost"),
            (54, "2"),
            (60, "20261123-10:00:02.000"),
        ],
    )
    .unwrap();
    let rej = desk
        .next_app(WAIT, |f| f.msg_type() == "9")
        .expect("cancel reject");
    assert_eq!(rej.get(102), Some("1"), "{rej:?}");
    desk.stop();
    setup.gateway.stop().unwrap();
}

#[test]
fn shutdown_cancels_open_parents_and_tells_the_desk() {
    let setup = start("shutdown", "cancel");
    let desk = client(&setup, "DESK1", None);
    assert!(desk.wait_logon(WAIT));
    // A TWAP stays open for an hour.
    send_twap(&desk, "open-1", "60000", "3600");
    let ack = desk.next_app(WAIT, report_for("open-1")).expect("ack");
    assert_eq!(ack.get(150), Some("0"));
    let summary = setup.gateway.stop().unwrap();
    assert!(summary.core.fatal.is_none());
    assert_eq!(summary.core.cancelled_on_shutdown, 1);
    assert!(
        summary.core.open_parents.is_empty(),
        "{:?}",
        summary.core.open_parents
    );
    // The desk heard the cancel before the session closed.
    let done = desk
        .next_app(WAIT, |f| report_for("open-1")(f) && f.get(150) == Some("4"))
        .expect("cancelled on shutdown");
    assert_eq!(done.get(39), Some("4"));
    desk.stop();
}

#[test]
fn malformed_and_unsupported_messages_are_rejected_and_the_session_stays_up() {
    let setup = start("malformed", "cancel");
    let desk = client(&setup, "DESK1", None);
    assert!(desk.wait_logon(WAIT));

    // OrderQty that is not a number: QuickFIX's session Reject (35=3).
    new_order(&desk, "bad-1", "lots", &[]);
    let rej = desk
        .wait_for(
            WAIT,
            |e| matches!(e, ClientEvent::Admin(f) if f.msg_type() == "3"),
        )
        .expect("session reject");
    let ClientEvent::Admin(rej) = rej else {
        unreachable!()
    };
    assert!(rej.get(58).is_some(), "{rej:?}");

    // A missing OrderQty: an ExecutionReport reject naming the tag.
    desk.send_fields(
        "D",
        &[
            (11, "bad-2"),
            (55, "USDC/USD"),
            (54, "2"),
            (40, "1"),
            (60, "20261123-10:00:00.000"),
        ],
    )
    .unwrap();
    let r = desk.next_app(WAIT, report_for("bad-2")).expect("reject");
    assert_eq!(r.get(150), Some("8"));
    assert_eq!(r.get(39), Some("8"));
    assert_eq!(r.get(58), Some("tag 38 (OrderQty): required field missing"));

    // An unknown symbol: the engine's reject.
    desk.send_fields(
        "D",
        &[
            (11, "bad-3"),
            (55, "DOGE/USD"),
            (54, "2"),
            (38, "10"),
            (40, "1"),
            (60, "20261123-10:00:00.000"),
        ],
    )
    .unwrap();
    let r = desk.next_app(WAIT, report_for("bad-3")).expect("reject");
    assert_eq!(r.get(150), Some("8"), "{r:?}");
    assert!(r.get(58).unwrap().contains("DOGE/USD"), "{r:?}");

    // Over the risk limit: the rule and the limit in Text.
    new_order(&desk, "big-1", "26000000", &[]);
    let r = desk.next_app(WAIT, report_for("big-1")).expect("reject");
    assert_eq!(r.get(150), Some("8"));
    assert_eq!(
        r.get(58),
        Some("risk: max parent notional 25000000 USD exceeded by 1000000")
    );

    // A valid message the desk side does not take: BusinessMessageReject.
    desk.send_fields(
        "8",
        &[
            (37, "x"),
            (17, "x"),
            (150, "0"),
            (39, "0"),
            (54, "1"),
            (151, "0"),
            (14, "0"),
            (6, "0"),
        ],
    )
    .unwrap();
    let r = desk
        .next_app(WAIT, |f| f.msg_type() == "j")
        .expect("business reject");
    assert_eq!(r.get(372), Some("8"));
    assert_eq!(r.get(380), Some("3"));

    // A message type FIX 4.4 does not define here: session Reject.
    desk.send_fields("ZZ", &[(58, "hello")]).unwrap();
    let rej = desk
        .wait_for(
            WAIT,
            |e| matches!(e, ClientEvent::Admin(f) if f.msg_type() == "3"),
        )
        .expect("session reject of an unknown MsgType");
    let ClientEvent::Admin(rej) = rej else {
        unreachable!()
    };
    assert_eq!(rej.get(372), Some("ZZ"), "{rej:?}");

    // A duplicate ClOrdID is refused.
    new_order(&desk, "dup-1", "1000", &[]);
    let first = desk.next_app(WAIT, report_for("dup-1")).unwrap();
    assert_eq!(first.get(150), Some("0"));
    new_order(&desk, "dup-1", "1000", &[]);
    let second = desk
        .next_app(WAIT, |f| report_for("dup-1")(f) && f.get(150) == Some("8"))
        .expect("duplicate reject");
    assert!(second.get(58).unwrap().contains("duplicate"), "{second:?}");

    // Status of an order that does not exist.
    desk.send_fields("H", &[(11, "nope"), (54, "1")]).unwrap();
    let st = desk.next_app(WAIT, report_for("nope")).expect("status");
    assert_eq!(st.get(150), Some("I"));
    assert_eq!(st.get(39), Some("8"));

    // Still logged on: a good order goes through.
    new_order(&desk, "good-1", "1000", &[]);
    let ack = desk
        .next_app(WAIT, report_for("good-1"))
        .expect("ack after rejects");
    assert_eq!(ack.get(150), Some("0"));
    assert!(
        desk.events()
            .try_iter()
            .all(|e| e != ClientEvent::LoggedOut),
        "the session dropped"
    );
    desk.stop();
    setup.gateway.stop().unwrap();
}

#[test]
fn unknown_comp_ids_and_wrong_passwords_are_refused() {
    let setup = start("auth", "cancel");
    let stranger = client(&setup, "DESK9", None);
    assert!(
        !stranger.wait_logon(Duration::from_secs(3)),
        "unknown desk logged on"
    );
    stranger.stop();

    let wrong = client(&setup, "DESK2", Some(("DESK2", "guess")));
    assert!(
        !wrong.wait_logon(Duration::from_secs(3)),
        "wrong password logged on"
    );
    wrong.stop();

    let none = client(&setup, "DESK2", None);
    assert!(
        !none.wait_logon(Duration::from_secs(3)),
        "no password logged on"
    );
    none.stop();

    let right = client(&setup, "DESK2", Some(("DESK2", "desk2-pw")));
    assert!(right.wait_logon(WAIT), "right password refused");
    right.stop();
    setup.gateway.stop().unwrap();
}

#[test]
fn a_burst_beyond_the_queue_is_answered_in_full_never_dropped() {
    // A queue of one request: a burst must meet back-pressure somewhere, and every
    // order must still get exactly one answer (an ack or a "gateway busy" reject).
    let setup = start_with("burst", "cancel", 1);
    let desk = client(&setup, "DESK1", None);
    assert!(desk.wait_logon(WAIT));
    let n = 300;
    for i in 0..n {
        new_order(&desk, &format!("burst-{i}"), "10", &[]);
    }
    let mut answered = std::collections::BTreeMap::new();
    while answered.len() < n {
        let r = desk
            .next_app(WAIT, |f| {
                f.msg_type() == "8" && matches!(f.get(150), Some("0") | Some("8"))
            })
            .expect("every order is answered");
        let id = r.get(11).unwrap().to_owned();
        let verdict = if r.get(150) == Some("0") {
            "ack".to_owned()
        } else {
            r.get(58).unwrap().to_owned()
        };
        assert!(
            verdict == "ack" || verdict.starts_with("gateway busy"),
            "{id}: {verdict}"
        );
        assert!(answered.insert(id, verdict).is_none(), "answered twice");
    }
    let busy = answered.values().filter(|v| *v != "ack").count();
    eprintln!("burst of {n}: {} acked, {busy} refused as busy", n - busy);
    desk.stop();
    setup.gateway.stop().unwrap();
}

/// A desk's requests are handled in the order it sent them, whether its session's
/// thread handles one itself (the engine free: run to completion) or queues it for
/// the engine thread (the engine busy). Two desks pipelining parents, each followed at
/// once by its cancel, mix both paths: no cancel may overtake its parent.
#[test]
fn pipelined_parents_and_their_cancels_stay_in_order_inline_or_queued() {
    for (name, inline) in [("order-inline", true), ("order-queued", false)] {
        let serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let setup = start_in_with(
            serial,
            temp_dir(name),
            free_port(),
            "cancel",
            4096,
            // Run to completion needs a journal that does not group commits.
            &format!(
                "inline_desk_requests = {inline}\nmax_queue_wait_ms = 60000\n[journal]\nfsync = \"none\""
            ),
        );
        let desks = [
            client(&setup, "DESK1", None),
            client(&setup, "DESK2", Some(("DESK2", "desk2-pw"))),
        ];
        for desk in &desks {
            assert!(desk.wait_logon(WAIT));
        }
        let n = 100;
        for i in 0..n {
            for desk in &desks {
                // A TWAP over an hour stays open until its cancel.
                send_twap(desk, &format!("o-{i}"), "60000", "3600");
                desk.send_fields(
                    "F",
                    &[
                        (11, format!("x-{i}").as_str()),
                        (41, format!("o-{i}").as_str()),
                        (54, "2"),
                        (55, "USDC/USD"),
                        (60, "20261123-10:00:01.000"),
                    ],
                )
                .unwrap();
            }
        }
        for (d, desk) in desks.iter().enumerate() {
            let mut cancelled = std::collections::BTreeSet::new();
            while cancelled.len() < n {
                let r = desk
                    .next_app(WAIT, |f| {
                        f.msg_type() == "9" || (f.msg_type() == "8" && f.get(150) == Some("4"))
                    })
                    .unwrap_or_else(|| {
                        panic!("{name}, desk {d}: {} of {n} cancelled", cancelled.len())
                    });
                assert_eq!(r.msg_type(), "8", "{name}: a cancel was rejected: {r:?}");
                let parent = r.get(41).unwrap().to_owned();
                assert_eq!(
                    r.get(11).map(|c| c.replace('x', "o")).as_deref(),
                    Some(parent.as_str()),
                    "{name}: {r:?}"
                );
                assert!(cancelled.insert(parent), "{name}: cancelled twice: {r:?}");
            }
        }
        for desk in desks {
            desk.stop();
        }
        let summary = setup.gateway.stop().unwrap();
        assert!(summary.core.open_parents.is_empty(), "{name}");
    }
}

#[test]
fn parents_that_would_wait_past_the_time_bound_are_refused_as_busy_never_routed_late() {
    // A queue long in count but short in time (20 ms), and an engine slowed by one
    // fdatasync per input: a pipelined burst must meet the time bound, and every order
    // still gets exactly one answer.
    let serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let setup = start_in_with(
        serial,
        temp_dir("time-bound"),
        free_port(),
        "cancel",
        4096,
        "max_queue_wait_ms = 20\n[journal]\nfsync = \"each\"",
    );
    let desk = client(&setup, "DESK1", None);
    assert!(desk.wait_logon(WAIT));
    let n = 300;
    for i in 0..n {
        new_order(&desk, &format!("tb-{i}"), "10", &[]);
    }
    let mut answered = std::collections::BTreeMap::new();
    let mut filled = std::collections::BTreeSet::new();
    while answered.len() < n {
        let r = desk
            .next_app(WAIT, |f| f.msg_type() == "8")
            .expect("every order is answered");
        let id = r.get(11).unwrap().to_owned();
        if r.get(150) == Some("F") {
            filled.insert(id);
            continue;
        }
        if !matches!(r.get(150), Some("0") | Some("8")) {
            continue;
        }
        let verdict = if r.get(150) == Some("0") {
            "ack".to_owned()
        } else {
            assert_eq!(r.get(37), Some("NONE"), "a refused parent has no order id");
            assert_eq!(r.get(103), Some("0"), "OrdRejReason: broker option");
            r.get(58).unwrap().to_owned()
        };
        assert!(
            verdict == "ack"
                || (verdict.starts_with("gateway busy")
                    && verdict.contains("max_queue_wait_ms = 20")),
            "{id}: {verdict}"
        );
        assert!(answered.insert(id, verdict).is_none(), "answered twice");
    }
    let busy: Vec<_> = answered.iter().filter(|(_, v)| *v != "ack").collect();
    assert!(!busy.is_empty(), "the time bound never refused anything");
    assert_eq!(answered["tb-0"], "ack", "an empty queue always admits");
    // A refused parent was never routed: no fill ever names it.
    while let Some(f) = desk.next_app(Duration::from_millis(500), |f| f.msg_type() == "8") {
        if f.get(150) == Some("F") {
            filled.insert(f.get(11).unwrap().to_owned());
        }
    }
    let late: Vec<_> = filled
        .iter()
        .filter(|id| answered.get(*id).is_some_and(|v| v != "ack"))
        .collect();
    assert!(late.is_empty(), "refused parents filled: {late:?}");
    eprintln!("burst of {n}: {} refused by the time bound", busy.len());
    desk.stop();
    setup.gateway.stop().unwrap();
}

/// (next sequence number we send, next we expect) from a QuickFIX file store.
fn seqnums(store: &Path, session: &str) -> (u64, u64) {
    let text = std::fs::read_to_string(store.join(format!("{session}.seqnums"))).unwrap();
    let (out, inn) = text.split_once(':').unwrap();
    (out.trim().parse().unwrap(), inn.trim().parse().unwrap())
}

#[test]
fn a_restarted_gateway_resumes_its_sequence_numbers() {
    let serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (dir, port) = (temp_dir("restart"), free_port());
    let client_dir = dir.join("client-restart");
    let store = dir.join("gateway").join("desks").join("store");

    let setup = start_in(serial, dir.clone(), port, "cancel", 64);
    let desk = client_in(&setup, "DESK1", None, client_dir.clone());
    assert!(desk.wait_logon(WAIT));
    new_order(&desk, "r-1", "10", &[]);
    desk.next_app(WAIT, report_for("r-1")).expect("ack");
    desk.stop();
    let Setup {
        _serial, gateway, ..
    } = setup;
    gateway.stop().unwrap();
    let before = seqnums(&store, "FIX.4.4-SOR-DESK1");
    assert!(
        before.0 > 2,
        "the gateway sent logon, reports and logout: {before:?}"
    );

    // Same data directories: the session picks up where it stopped, no reset.
    let setup = start_in(_serial, dir.clone(), port, "cancel", 64);
    let desk = client_in(&setup, "DESK1", None, client_dir);
    assert!(desk.wait_logon(WAIT), "logon after restart");
    new_order(&desk, "r-2", "10", &[]);
    desk.next_app(WAIT, report_for("r-2"))
        .expect("ack after restart");
    let after = seqnums(&store, "FIX.4.4-SOR-DESK1");
    assert!(
        after.0 > before.0 && after.1 > before.1,
        "{before:?} -> {after:?}"
    );
    desk.stop();
    setup.gateway.stop().unwrap();
}

const LIMITS: &str = r#"
currency = "USD"

[desks.DESK1]
max_parent_notional = "25000000"

[desks.DESK2]
max_parent_notional = "25000000"

[venues.book-x]
max_clip = "5000000"

[venues.book-y]
max_clip = "5000000"

[venues.dealer-a]
max_clip = "5000000"

[venues.pool-cwusdc]
max_clip = "250"
"#;

/// Writes the limits file (`LIMITS`) and an admin token file for "officer" with the
/// token `officer-secret` into `dir`; returns the limits file and the `[gateway]` lines
/// that turn the live risk layer on.
fn live_risk(dir: &Path, admin_port: u16) -> (PathBuf, String) {
    let limits = dir.join("limits.toml");
    std::fs::write(&limits, LIMITS).unwrap();
    let tokens = dir.join("tokens.toml");
    std::fs::write(
        &tokens,
        format!(
            "[[tokens]]\nname = \"officer\"\nrole = \"risk_officer\"\nsha256 = \"{}\"\n",
            risk::hash_token("officer-secret")
        ),
    )
    .unwrap();
    let extra = format!(
        "risk_limits = \"{}\"\nadmin_tokens = \"{}\"\nadmin_port = {admin_port}\nreload_ms = 100\n",
        limits.display(),
        tokens.display()
    );
    (limits, extra)
}

#[test]
fn the_live_risk_layer_kills_reloads_and_audits() {
    use sor::admin::client::AdminClient;
    use sor::admin::wire::Scope;
    let serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (dir, port, admin_port) = (temp_dir("risk"), free_port(), free_port());
    let (limits, extra) = live_risk(&dir, admin_port);
    let setup = start_in_with(serial, dir.clone(), port, "cancel", 64, &extra);
    let desk = client(&setup, "DESK1", None);
    assert!(desk.wait_logon(WAIT));

    // The file's limits are in force: the desk contract's example text.
    new_order(&desk, "r-big", "26000000", &[]);
    let r = desk.next_app(WAIT, report_for("r-big")).expect("reject");
    assert_eq!(
        r.get(58),
        Some("risk: max parent notional 25000000 USD exceeded by 1000000")
    );

    // A risk officer engages the global kill switch over the admin API: the next
    // parent is refused, naming the switch.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let admin =
        AdminClient::new(&format!("http://127.0.0.1:{admin_port}"), "officer-secret").unwrap();
    rt.block_on(admin.kill(Scope::Global, true, "test: stop everything"))
        .unwrap();
    new_order(&desk, "r-killed", "1000", &[]);
    let r = desk.next_app(WAIT, report_for("r-killed")).expect("reject");
    assert_eq!(r.get(150), Some("8"), "{r:?}");
    assert_eq!(r.get(58), Some("risk: kill switch engaged (global)"));
    rt.block_on(admin.release(Scope::Global, "test: resume"))
        .unwrap();

    // A broken limits file changes nothing; a good one applies.
    std::fs::write(&limits, LIMITS.replace("\"25000000\"", "\"-1\"")).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    new_order(&desk, "r-after-bad", "26000000", &[]);
    let r = desk
        .next_app(WAIT, report_for("r-after-bad"))
        .expect("reject");
    assert!(r.get(58).unwrap().contains("25000000"), "{r:?}");
    std::fs::write(&limits, LIMITS.replace("\"25000000\"", "\"30000000\"")).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    new_order(&desk, "r-after-good", "26000000", &[]);
    let ack = desk
        .next_app(WAIT, report_for("r-after-good"))
        .expect("answer");
    assert_eq!(
        ack.get(150),
        Some("0"),
        "the reloaded limit applies: {ack:?}"
    );

    desk.stop();
    setup.gateway.stop().unwrap();
    // Every change is in the audit log, with who and why.
    let audit = std::fs::read_to_string(dir.join("gateway").join("risk-audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["who"] == "officer" && l["reason"] == "test: stop everything")
    );
    assert!(lines.iter().any(|l| l["who"] == "limits-file"));
    assert_eq!(
        lines.iter().filter(|l| l["who"] == "limits-file").count(),
        1,
        "the bad file was never applied"
    );
}

#[test]
fn kill_switches_and_limit_changes_survive_a_restart_and_a_changed_file_still_applies() {
    use sor::admin::client::AdminClient;
    use sor::admin::wire::Scope;
    let serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (dir, port, admin_port) = (temp_dir("risk-restart"), free_port(), free_port());
    let (limits, extra) = live_risk(&dir, admin_port);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let admin =
        AdminClient::new(&format!("http://127.0.0.1:{admin_port}"), "officer-secret").unwrap();
    let client_dir = dir.join("client-risk-restart");

    // Before: the officer tightens DESK1 over the admin API and kills DESK2.
    let setup = start_in_with(serial, dir.clone(), port, "cancel", 64, &extra);
    rt.block_on(admin.set_limit(
        "desks.DESK1.max_parent_notional",
        "20000000",
        "test: tighten",
    ))
    .unwrap();
    rt.block_on(admin.kill(Scope::Desk("DESK2".into()), false, "test: stop DESK2"))
        .unwrap();
    let desk = client_in(&setup, "DESK1", None, client_dir.clone());
    assert!(desk.wait_logon(WAIT));
    new_order(&desk, "k-1", "21000000", &[]);
    let r = desk.next_app(WAIT, report_for("k-1")).expect("reject");
    assert!(r.get(58).unwrap().contains("20000000"), "{r:?}");
    desk.stop();
    let Setup {
        _serial, gateway, ..
    } = setup;
    gateway.stop().unwrap();

    // After a restart on the same journal, with the same file: both still hold.
    let setup = start_in_with(_serial, dir.clone(), port, "cancel", 64, &extra);
    let desk = client_in(&setup, "DESK1", None, client_dir.clone());
    assert!(desk.wait_logon(WAIT), "logon after restart");
    new_order(&desk, "k-2", "21000000", &[]);
    let r = desk.next_app(WAIT, report_for("k-2")).expect("reject");
    assert_eq!(r.get(150), Some("8"), "{r:?}");
    assert!(
        r.get(58).unwrap().contains("20000000"),
        "the admin's limit came back, not the file's: {r:?}"
    );
    let desk2 = client(&setup, "DESK2", Some(("DESK2", "desk2-pw")));
    assert!(desk2.wait_logon(WAIT));
    new_order(&desk2, "k-3", "1000", &[]);
    let r = desk2.next_app(WAIT, report_for("k-3")).expect("reject");
    assert_eq!(r.get(150), Some("8"), "{r:?}");
    assert!(
        r.get(58).unwrap().contains("kill switch engaged"),
        "DESK2's kill switch came back: {r:?}"
    );
    desk.stop();
    desk2.stop();
    let Setup {
        _serial, gateway, ..
    } = setup;
    gateway.stop().unwrap();

    // The file edited while the gateway was down: its limits apply at the restart.
    std::fs::write(&limits, LIMITS.replace("\"25000000\"", "\"30000000\"")).unwrap();
    let setup = start_in_with(_serial, dir.clone(), port, "cancel", 64, &extra);
    let desk = client_in(&setup, "DESK1", None, client_dir);
    assert!(desk.wait_logon(WAIT), "logon after second restart");
    new_order(&desk, "k-4", "26000000", &[]);
    let r = desk.next_app(WAIT, report_for("k-4")).expect("answer");
    assert_eq!(r.get(150), Some("0"), "the edited file applies: {r:?}");
    desk.stop();
    setup.gateway.stop().unwrap();
    let audit = std::fs::read_to_string(dir.join("gateway").join("risk-audit.jsonl")).unwrap();
    assert!(
        audit.contains("limits file changed while the gateway was down"),
        "{audit}"
    );
}
