//! End to end over 127.0.0.1: the chain adapter (`ChainLink`) against the chain
//! simulator (`ChainSim`), both speaking Ethereum JSON-RPC.
//!
//! Most tests mine by hand (`block_interval: None`): the test decides what lands in
//! which block, so the races (a pool moved between quote and send, a front-run between
//! send and inclusion) happen on purpose, never by timing. Waits are bounded by `WAIT`
//! and never asserted on.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use crossbeam_channel::{Receiver, bounded};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use venues::chain::sim::{ChainSim, ChainSimConfig, SimPool, TradeTiming};
use venues::chain::{
    Address, ChainError, ChainLink, ChainLinkConfig, KeySource, RpcClient, SecretKeyHex, TokenInfo,
    abi,
};
use venues::pmm::{FeeRates, MathVersion, PmmState, RState, U256};
use venues::pool_math::{ExactPmm, PoolMath};
use venues::sim::{PoolConfig, PoolSim, VenueSim};
use venues::{
    CurveShape, Known, LinkError, LinkEvent, Liquidity, RejectKind, Side, VenueId, VenueLink,
    VenueOrder, VenueReport,
};

/// Bound on every wait (a failing test stops here instead of hanging).
const WAIT: Duration = Duration::from_secs(20);
const INSTRUMENT: &str = "cWUSDC/USDC";

/// A throwaway private key made here (never a real one): bytes 7, 14, 21, …
fn test_key() -> KeySource {
    let hex: String = (1..=32u32)
        .map(|i| format!("{:02x}", (i * 7) % 256))
        .collect();
    KeySource::Hex(SecretKeyHex::new(format!("0x{hex}")))
}

/// `n` whole tokens of 6 decimals, raw.
fn usd(n: u64) -> U256 {
    U256::from(n) * U256::from(1_000_000u64)
}

/// A 6/6-decimal stable pool like the corridor's, 10 000 of each side, K = 0.5, 3 bps LP
/// fee, 1 bp maintainer fee.
fn pool_state() -> (PmmState, FeeRates) {
    let e18 = U256::from(10u64).pow(U256::from(18u64));
    (
        PmmState {
            i: e18,
            k: e18 / U256::from(2u64),
            b: usd(10_000),
            q: usd(10_000),
            b0: usd(10_000),
            q0: usd(10_000),
            r: RState::One,
        },
        FeeRates {
            lp_fee_rate: U256::from(300_000_000_000_000u64),
            mt_fee_rate: U256::from(100_000_000_000_000u64),
        },
    )
}

fn exact(state: PmmState, fees: FeeRates) -> ExactPmm {
    ExactPmm {
        state,
        fees,
        version: MathVersion::default(),
        base_decimals: 6,
        quote_decimals: 6,
    }
}

// Fields drop in order: the link and the simulator before the runtime they run on.
struct Env {
    link: ChainLink,
    sim: ChainSim,
    events: Receiver<LinkEvent>,
    rpc: RpcClient,
    rt: tokio::runtime::Runtime,
}

fn pool() -> Address {
    SimPool::address_for(1)
}

fn start(block_interval: Option<Duration>, tweak: impl FnOnce(&mut ChainLinkConfig)) -> Env {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (state, fees) = pool_state();
    let sim = ChainSim::start(
        ChainSimConfig {
            block_interval,
            pools: vec![SimPool::new(1, state, fees), SimPool::new(2, state, fees)],
            ..ChainSimConfig::default()
        },
        rt.handle(),
    )
    .unwrap();
    let mut cfg = link_config(&sim);
    tweak(&mut cfg);
    let (tx, events) = bounded(1024);
    let link = ChainLink::start(cfg, rt.handle(), tx).unwrap();
    let rpc = RpcClient::new(&sim.url(), Duration::from_secs(5)).unwrap();
    let env = Env {
        link,
        sim,
        events,
        rpc,
        rt,
    };
    wait_until("the link is up", || env.link.is_up());
    env
}

/// The link's configuration for `pool()` of `sim`: 6/6 decimals, the test key, fast
/// polls, a 10 s receipt bound.
fn link_config(sim: &ChainSim) -> ChainLinkConfig {
    let mut cfg = ChainLinkConfig::new(
        VenueId("pool-cwusdc".into()),
        INSTRUMENT,
        sim.url(),
        pool(),
        sim.router(),
    );
    cfg.chain_id = Some(sim.chain_id());
    cfg.base = TokenInfo {
        symbol: "cWUSDC".into(),
        decimals: 6,
    };
    cfg.quote = TokenInfo {
        symbol: "USDC".into(),
        decimals: 6,
    };
    cfg.key = test_key();
    cfg.poll_interval = Duration::from_millis(20);
    cfg.receipt_poll = Duration::from_millis(10);
    cfg.receipt_timeout = Duration::from_secs(10);
    cfg
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The next liquidity snapshot for `side`.
fn next_liquidity(events: &Receiver<LinkEvent>, side: Side) -> Liquidity {
    loop {
        match events.recv_timeout(WAIT) {
            Ok(LinkEvent::Liquidity(l)) if l.side == side => return l,
            Ok(_) => {}
            Err(e) => panic!("no liquidity for {side}: {e}"),
        }
    }
}

/// Every report on `client_id` until the child is done; liquidity seen on the way is
/// returned too (the last sell snapshot before the first report).
fn reports(events: &Receiver<LinkEvent>, client_id: &str) -> (Vec<VenueReport>, Option<Liquidity>) {
    let mut out = Vec::new();
    let mut last_sell = None;
    loop {
        match events.recv_timeout(WAIT) {
            Ok(LinkEvent::Report {
                client_id: id,
                report,
                ..
            }) if id == client_id => {
                let done = match &report {
                    VenueReport::Rejected { .. } => true,
                    VenueReport::FixedCost { .. } => {
                        out.iter().any(|r| matches!(r, VenueReport::Fill { .. }))
                    }
                    _ => false,
                };
                out.push(report);
                if done {
                    return (out, last_sell);
                }
            }
            Ok(LinkEvent::Liquidity(l)) if l.side == Side::Sell && out.is_empty() => {
                last_sell = Some(l)
            }
            Ok(_) => {}
            Err(e) => panic!("{client_id}: no end after {out:?}: {e}"),
        }
    }
}

fn order(id: &str, side: Side, qty: Decimal, limit_px: Decimal) -> VenueOrder {
    VenueOrder {
        client_id: id.into(),
        instrument: INSTRUMENT.into(),
        side,
        qty,
        limit_px,
    }
}

/// Mines a block once `n` transactions or trades are waiting.
fn mine_when_pending(sim: &ChainSim, n: usize) {
    wait_until("pending transactions", || sim.pending_count() >= n);
    sim.mine();
}

fn raw(amount: Decimal) -> U256 {
    venues::chain::to_raw(amount, 6, venues::chain::Rounding::Exact).unwrap()
}

/// `querySellBase` / `querySellQuote` of `pool()` answered by the simulator over RPC.
fn chain_quote(env: &Env, sell_base: bool, amount: U256) -> U256 {
    let data = abi::query_sell_call(sell_base, env.link.account(), amount);
    let ret: venues::chain::Bytes = env
        .rt
        .block_on(env.rpc.call(
            "eth_call",
            json!([{"to": pool(), "input": venues::chain::Bytes::from(data)}, "latest"]),
        ))
        .unwrap();
    abi::decode_sell_quote(sell_base, &ret).unwrap().receive
}

/// 120 000 gas (a swap) or 45 000 (a revert) at 1 gwei base fee + 0.1 gwei tip, in ETH.
const SWAP_GAS_ETH: Decimal = dec!(0.000132);
const REVERT_GAS_ETH: Decimal = dec!(0.0000495);

#[test]
fn the_adapter_shows_the_curve_the_chain_quotes() {
    let env = start(None, |_| {});
    let sell = next_liquidity(&env.events, Side::Sell);
    let buy = next_liquidity(&env.events, Side::Buy);
    assert_eq!(sell.venue, VenueId("pool-cwusdc".into()));
    // 150 000 gas shown at 1.1 gwei, in the native asset.
    assert_eq!(sell.fixed_cost, dec!(0.000165));
    assert_eq!(sell.fixed_cost_asset, "ETH");

    // Every sampled point is what the simulator's eth_call answers, to the raw unit.
    let CurveShape::Smooth(points) = &sell.shape else {
        panic!("{sell:?}")
    };
    assert!(points.len() >= 10, "{points:?}");
    for p in points {
        assert_eq!(raw(p.amount), chain_quote(&env, true, raw(p.qty)), "{p:?}");
    }
    let CurveShape::Smooth(points) = &buy.shape else {
        panic!("{buy:?}")
    };
    for p in points {
        assert_eq!(raw(p.qty), chain_quote(&env, false, raw(p.amount)), "{p:?}");
    }

    // And it is the curve the in-process PoolSim shows for the same state.
    let (state, fees) = env.sim.pool_state(&pool()).unwrap();
    let mut local = PoolSim::new(
        PoolConfig {
            id: VenueId("pool-cwusdc".into()),
            instrument: INSTRUMENT.into(),
            gas_cost: dec!(0.000165),
            gas_asset: "ETH".into(),
            samples: 24,
        },
        exact(state, fees),
    );
    assert_eq!(local.liquidity(Side::Sell, 0), sell);
    assert_eq!(local.liquidity(Side::Buy, 0), buy);
}

#[test]
fn a_swap_fills_what_the_receipt_event_says_not_what_was_quoted() {
    let env = start(None, |_| {});
    next_liquidity(&env.events, Side::Sell);
    let (state, fees) = env.sim.pool_state(&pool()).unwrap();
    let quoted = exact(state, fees).query_sell_base(dec!(100)).unwrap();

    // Another trader buys base first in the same block: our sale then gets more.
    env.sim
        .trade(&pool(), false, usd(2_000), TradeTiming::NextBlock)
        .unwrap();
    env.link
        .send(order("P1.1", Side::Sell, dec!(100), dec!(0.99)))
        .unwrap();
    mine_when_pending(&env.sim, 2);
    let (r, _) = reports(&env.events, "P1.1");

    let mut after_trade = exact(state, fees);
    after_trade.sell_quote(dec!(2000)).unwrap();
    let got = after_trade.query_sell_base(dec!(100)).unwrap();
    assert!(got > quoted, "{got} vs {quoted}");
    let VenueReport::Fill { exec_id, .. } = &r[1] else {
        panic!("{r:?}")
    };
    assert!(
        exec_id.starts_with("0x"),
        "the tx hash names the fill: {exec_id}"
    );
    assert_eq!(
        r,
        vec![
            VenueReport::Ack,
            VenueReport::Fill {
                qty: dec!(100),
                px: got / dec!(100),
                fee: Decimal::ZERO,
                exec_id: exec_id.clone(),
            },
            VenueReport::FixedCost {
                amount: SWAP_GAS_ETH
            },
        ]
    );
    assert_eq!(env.sim.nonce(&env.link.account(), false), 1);
}

#[test]
fn sells_and_buys_fill_with_blocks_on_a_timer() {
    let env = start(Some(Duration::from_millis(25)), |_| {});
    next_liquidity(&env.events, Side::Sell);
    let (state, fees) = env.sim.pool_state(&pool()).unwrap();
    let mut model = exact(state, fees);

    env.link
        .send(order("P1.1", Side::Sell, dec!(250), dec!(0.98)))
        .unwrap();
    let (r, _) = reports(&env.events, "P1.1");
    let got = model.sell_base(dec!(250)).unwrap();
    let VenueReport::Fill { exec_id, .. } = &r[1] else {
        panic!("{r:?}")
    };
    assert_eq!(
        r[1],
        VenueReport::Fill {
            qty: dec!(250),
            px: got / dec!(250),
            fee: Decimal::ZERO,
            exec_id: exec_id.clone(),
        },
        "{r:?}"
    );

    // A buy pays the least quote that buys the size, as PoolSim does.
    env.link
        .send(order("P1.2", Side::Buy, dec!(40), dec!(1.02)))
        .unwrap();
    let (r, _) = reports(&env.events, "P1.2");
    let VenueReport::Fill { qty, px, .. } = r[1] else {
        panic!("{r:?}")
    };
    assert_eq!(qty, dec!(40));
    let paid = px * qty;
    assert!(model.query_sell_quote(paid).unwrap() >= dec!(40));
    assert!(model.query_sell_quote(paid - dec!(0.000001)).unwrap() < dec!(40));
    assert_eq!(
        r[2],
        VenueReport::FixedCost {
            amount: SWAP_GAS_ETH
        }
    );
    assert_eq!(env.sim.nonce(&env.link.account(), false), 2);
}

#[test]
fn a_breached_guard_reverts_on_chain_and_still_pays_gas() {
    let env = start(None, |_| {});
    next_liquidity(&env.events, Side::Sell);
    let before = env.sim.pool_state(&pool());

    // Sell at a limit no pool can meet: min receive 150 for 100.
    env.link
        .send(order("P1.1", Side::Sell, dec!(100), dec!(1.5)))
        .unwrap();
    mine_when_pending(&env.sim, 1);
    let (r, _) = reports(&env.events, "P1.1");
    assert_eq!(
        r[0],
        VenueReport::FixedCost {
            amount: REVERT_GAS_ETH
        }
    );
    assert!(
        matches!(&r[1], VenueReport::Rejected { kind: RejectKind::Revert, reason } if reason.contains(abi::MIN_RECEIVE_REASON)),
        "{r:?}"
    );
    assert_eq!(r.len(), 2);

    // A buy whose price is past its limit pays at most qty × limit, buys too little and
    // reverts the same way.
    env.link
        .send(order("P1.2", Side::Buy, dec!(100), dec!(0.9)))
        .unwrap();
    mine_when_pending(&env.sim, 1);
    let (r, _) = reports(&env.events, "P1.2");
    assert!(
        matches!(
            &r[1],
            VenueReport::Rejected {
                kind: RejectKind::Revert,
                ..
            }
        ),
        "{r:?}"
    );

    // A revert forced by the chain is a reject with gas too.
    env.sim.revert_next(1);
    env.link
        .send(order("P1.3", Side::Sell, dec!(10), dec!(0.9)))
        .unwrap();
    mine_when_pending(&env.sim, 1);
    let (r, _) = reports(&env.events, "P1.3");
    assert_eq!(
        r[0],
        VenueReport::FixedCost {
            amount: REVERT_GAS_ETH
        }
    );
    assert!(
        matches!(&r[1], VenueReport::Rejected { kind: RejectKind::Revert, reason } if reason.contains("SIM: forced revert")),
        "{r:?}"
    );
    // Nothing traded, every transaction mined.
    assert_eq!(env.sim.pool_state(&pool()), before);
    assert_eq!(env.sim.nonce(&env.link.account(), false), 3);
}

#[test]
fn a_dropped_transaction_is_rejected_after_the_bound_and_never_filled() {
    let env = start(None, |c| c.receipt_timeout = Duration::from_millis(300));
    next_liquidity(&env.events, Side::Sell);
    env.sim.drop_next(1);
    env.link
        .send(order("P1.1", Side::Sell, dec!(100), dec!(0.99)))
        .unwrap();
    let (r, _) = reports(&env.events, "P1.1");
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(
        matches!(&r[0], VenueReport::Rejected { kind: RejectKind::NoLiquidity, reason } if reason.starts_with("dropped")),
        "{r:?}"
    );
    env.sim.mine();
    assert_eq!(env.sim.nonce(&env.link.account(), false), 0);

    // The nonce is re-read, so the next swap goes through.
    env.link
        .send(order("P1.2", Side::Sell, dec!(100), dec!(0.99)))
        .unwrap();
    mine_when_pending(&env.sim, 1);
    let (r, _) = reports(&env.events, "P1.2");
    assert!(matches!(r[1], VenueReport::Fill { .. }), "{r:?}");
}

#[test]
fn a_pool_moved_after_the_quote_is_a_stale_quote_and_nothing_is_sent() {
    let env = start(None, |_| {});
    next_liquidity(&env.events, Side::Sell);

    // Another trader sells 500 base; no new block, so the adapter's last read is stale.
    let got = env
        .rt
        .block_on(env.rpc.call_raw(
            "sim_trade",
            json!([pool(), "sell_base", "500000000", "now"]),
        ))
        .unwrap();
    assert!(got.as_str().is_some(), "{got}");

    env.link
        .send(order("P1.1", Side::Sell, dec!(100), dec!(0.9)))
        .unwrap();
    let (r, fresh) = reports(&env.events, "P1.1");
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(
        matches!(&r[0], VenueReport::Rejected { kind: RejectKind::QuoteExpired, reason } if reason.starts_with("stale quote")),
        "{r:?}"
    );
    assert_eq!(env.sim.pending_count(), 0);
    assert_eq!(env.sim.nonce(&env.link.account(), true), 0);

    // Before the reject, the router was shown the state the chain has now.
    let CurveShape::Smooth(points) = fresh.expect("fresh liquidity before the reject").shape else {
        panic!()
    };
    assert_eq!(
        raw(points[0].amount),
        chain_quote(&env, true, raw(points[0].qty))
    );

    // On that fresh state the same child goes through.
    env.link
        .send(order("P1.2", Side::Sell, dec!(100), dec!(0.9)))
        .unwrap();
    mine_when_pending(&env.sim, 1);
    let (r, _) = reports(&env.events, "P1.2");
    assert!(matches!(r[1], VenueReport::Fill { .. }), "{r:?}");
}

#[test]
fn a_front_run_between_send_and_inclusion_reverts_on_the_guard() {
    let env = start(None, |_| {});
    next_liquidity(&env.events, Side::Sell);
    let (state, fees) = env.sim.pool_state(&pool()).unwrap();
    // The limit is the quote itself (to 8 places, rounded down): no room to move.
    let quoted = exact(state, fees).query_sell_base(dec!(100)).unwrap();
    let limit =
        (quoted / dec!(100)).round_dp_with_strategy(8, rust_decimal::RoundingStrategy::ToZero);

    env.sim
        .trade(&pool(), true, usd(1_000), TradeTiming::NextBlock)
        .unwrap();
    env.link
        .send(order("P1.1", Side::Sell, dec!(100), limit))
        .unwrap();
    mine_when_pending(&env.sim, 2);
    let (r, _) = reports(&env.events, "P1.1");
    assert_eq!(
        r[0],
        VenueReport::FixedCost {
            amount: REVERT_GAS_ETH
        }
    );
    assert!(
        matches!(&r[1], VenueReport::Rejected { kind: RejectKind::Revert, reason } if reason.contains(abi::MIN_RECEIVE_REASON)),
        "{r:?}"
    );
    assert!(!r.iter().any(|x| matches!(x, VenueReport::Fill { .. })));
}

#[test]
fn bad_json_rpc_requests_get_spec_errors_naming_the_field() {
    let env = start(None, |_| {});
    let call = |method: &str, params: Value| env.rt.block_on(env.rpc.call_raw(method, params));
    let expect = |r: Result<Value, ChainError>, code: i64, needle: &str| match r {
        Err(ChainError::Rpc {
            code: c, message, ..
        }) => {
            assert_eq!(c, code, "{message}");
            assert!(message.contains(needle), "{message} lacks {needle}");
        }
        other => panic!("expected error {code}, got {other:?}"),
    };
    expect(
        call("eth_call", json!([{"input": "0x"}])),
        -32602,
        "params[0].to",
    );
    expect(
        call("eth_call", json!([{"to": "0x1234", "input": "0x"}])),
        -32602,
        "params[0].to",
    );
    expect(
        call("eth_call", json!([{"to": pool(), "input": "0xzz"}])),
        -32602,
        "params[0].input",
    );
    expect(
        call(
            "eth_call",
            json!([{"to": pool(), "input": "0x"}, "yesterday"]),
        ),
        -32602,
        "params[1] (block)",
    );
    expect(
        call("eth_getTransactionReceipt", json!([])),
        -32602,
        "params[0]",
    );
    expect(
        call("eth_sendRawTransaction", json!(["0xdeadbeef"])),
        -32602,
        "params[0]",
    );
    expect(
        call("sim_trade", json!([pool(), "sideways", "1"])),
        -32602,
        "params[1] (side)",
    );
    expect(
        call("eth_signTransaction", json!([])),
        -32601,
        "eth_signTransaction",
    );
    // A view call the pool does not have reverts without data, like a contract.
    expect(
        call("eth_call", json!([{"to": pool(), "input": "0x12345678"}])),
        3,
        "execution reverted",
    );

    // Not JSON at all: a parse error (-32700) with a null id.
    let body: Value = env
        .rt
        .block_on(async {
            reqwest::Client::new()
                .post(env.sim.url())
                .body("{not json")
                .send()
                .await?
                .json()
                .await
        })
        .unwrap();
    assert_eq!(body["error"]["code"], -32700);
    assert_eq!(body["id"], Value::Null);
}

#[test]
fn an_unreachable_node_leaves_the_link_disconnected() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // A port nothing listens on: bind one, learn it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = ChainLinkConfig::new(
        VenueId("pool-x".into()),
        INSTRUMENT,
        format!("http://127.0.0.1:{port}/"),
        pool(),
        ChainSimConfig::default_router(),
    );
    cfg.key = test_key();
    cfg.poll_interval = Duration::from_millis(20);
    let (tx, events) = bounded(64);
    let link = ChainLink::start(cfg, rt.handle(), tx).unwrap();
    match events.recv_timeout(WAIT) {
        Ok(LinkEvent::Connection { up, reason, .. }) => {
            assert!(!up);
            assert!(reason.contains("eth_chainId"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        link.send(order("P1.1", Side::Sell, dec!(1), dec!(0.9))),
        Err(LinkError::Disconnected { .. })
    ));
    assert!(matches!(
        link.cancel("P1.1"),
        Err(LinkError::Unsupported { .. })
    ));

    // A key that is not one is refused at start, without being quoted.
    let mut bad = ChainLinkConfig::new(
        VenueId("pool-y".into()),
        INSTRUMENT,
        "http://127.0.0.1:1/",
        pool(),
        pool(),
    );
    bad.key = KeySource::Hex(SecretKeyHex::new("0xnot-a-key-12345"));
    let (tx, _rx) = bounded(1);
    let e = ChainLink::start(bad, rt.handle(), tx)
        .unwrap_err()
        .to_string();
    assert!(e.contains("signing key") && !e.contains("12345"), "{e}");
}

// ---- After a crash: the swap log and reconciliation -------------------------------

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    tests::fixtures::temp_dir(&format!("chain-{name}"))
}

/// Where the gateway puts the venue's swap log under `dir`.
fn swap_log(dir: &Path) -> PathBuf {
    dir.join("chain").join("pool-cwusdc.swaps.jsonl")
}

/// The tx hash the swap log recorded for `client_id`.
fn logged_tx(log: &Path, client_id: &str) -> String {
    let text = std::fs::read_to_string(log).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["client_id"] == client_id)
        .map(|v| v["tx"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no record for {client_id} in {text}"))
}

/// The gateway dies: the link and its event queue are gone (a swap it sent stays on the
/// chain, unmined under manual mining). A new link starts on the same swap log and
/// `tweak`ed configuration, as the restarted gateway's would.
fn crash_and_restart(env: Env, log: &Path, tweak: impl FnOnce(&mut ChainLinkConfig)) -> Env {
    let Env {
        link,
        sim,
        events,
        rpc,
        rt,
    } = env;
    drop(link);
    drop(events);
    let mut cfg = link_config(&sim);
    cfg.intent_log = Some(log.to_owned());
    tweak(&mut cfg);
    let (tx, events) = bounded(1024);
    let link = ChainLink::start(cfg, rt.handle(), tx).unwrap();
    let env = Env {
        link,
        sim,
        events,
        rpc,
        rt,
    };
    wait_until("the restarted link is up", || env.link.is_up());
    env
}

/// The next report on `client_id`.
fn next_report(events: &Receiver<LinkEvent>, client_id: &str) -> VenueReport {
    loop {
        match events.recv_timeout(WAIT) {
            Ok(LinkEvent::Report {
                client_id: id,
                report,
                ..
            }) if id == client_id => return report,
            Ok(_) => {}
            Err(e) => panic!("{client_id}: no report: {e}"),
        }
    }
}

/// Stops the link and its runtime, then returns every report on `client_id` still
/// queued: what the link said beyond what the test already read.
fn reports_left(env: Env, client_id: &str) -> Vec<VenueReport> {
    let Env {
        link,
        sim,
        events,
        rpc,
        rt,
    } = env;
    drop(link);
    drop(sim);
    drop(rpc);
    rt.shutdown_timeout(WAIT);
    events
        .try_iter()
        .filter_map(|ev| match ev {
            LinkEvent::Report {
                client_id: id,
                report,
                ..
            } if id == client_id => Some(report),
            _ => None,
        })
        .collect()
}

/// The gateway crashes after `child`'s swap is sent and before it is mined; returns the
/// restarted link, the swap's hash and what the pool pays for it.
fn swap_in_flight_at_a_crash(
    name: &str,
    child: &str,
    revert: bool,
) -> (Env, PathBuf, String, Decimal) {
    let dir = scratch(name);
    let log = swap_log(&dir);
    let env = start(None, |c| c.intent_log = Some(log.clone()));
    next_liquidity(&env.events, Side::Sell);
    let (state, fees) = env.sim.pool_state(&pool()).unwrap();
    let got = exact(state, fees).query_sell_base(dec!(100)).unwrap();
    if revert {
        env.sim.revert_next(1);
    }
    env.link
        .send(order(child, Side::Sell, dec!(100), dec!(0.99)))
        .unwrap();
    wait_until("the swap is sent", || env.sim.pending_count() >= 1);
    let tx = logged_tx(&log, child);
    let env = crash_and_restart(env, &log, |_| {});
    assert_eq!(env.sim.pending_count(), 1, "the swap is still unmined");
    (env, dir, tx, got)
}

#[test]
fn a_swap_in_flight_at_a_crash_is_reconciled_from_its_receipt_once() {
    let (env, dir, tx, got) = swap_in_flight_at_a_crash("inflight", "P1.1", false);
    // Asked before the block: the reconciliation waits for the receipt.
    env.link.reconcile("P1.1", Known::NOTHING).unwrap();
    env.sim.mine();
    let (r, _) = reports(&env.events, "P1.1");
    assert_eq!(
        r,
        vec![
            VenueReport::Ack,
            VenueReport::Fill {
                qty: dec!(100),
                px: got / dec!(100),
                fee: Decimal::ZERO,
                exec_id: tx,
            },
            VenueReport::FixedCost {
                amount: SWAP_GAS_ETH
            },
        ]
    );
    assert_eq!(env.sim.nonce(&env.link.account(), false), 1);
    assert_eq!(reports_left(env, "P1.1"), vec![]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_fill_the_engine_already_holds_is_not_charged_gas_again() {
    let (env, dir, tx, got) = swap_in_flight_at_a_crash("known", "P1.1", false);
    env.sim.mine();
    env.link
        .reconcile(
            "P1.1",
            Known {
                filled: dec!(100),
                gross: got,
                fixed_cost: dec!(0.0001),
            },
        )
        .unwrap();
    // Only the fill, under its tx hash (the engine drops it as a duplicate): no second
    // Ack, no second gas.
    assert_eq!(
        next_report(&env.events, "P1.1"),
        VenueReport::Fill {
            qty: dec!(100),
            px: got / dec!(100),
            fee: Decimal::ZERO,
            exec_id: tx,
        }
    );
    assert_eq!(reports_left(env, "P1.1"), vec![]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_swap_that_reverted_while_the_gateway_was_down_is_a_revert_with_its_gas() {
    let (env, dir, tx, _) = swap_in_flight_at_a_crash("revert", "P1.1", true);
    env.sim.mine();
    env.link.reconcile("P1.1", Known::NOTHING).unwrap();
    let (r, _) = reports(&env.events, "P1.1");
    assert_eq!(
        r[0],
        VenueReport::FixedCost {
            amount: REVERT_GAS_ETH
        }
    );
    assert!(
        matches!(&r[1], VenueReport::Rejected { kind: RejectKind::Revert, reason }
            if reason.contains("SIM: forced revert") && reason.contains(&tx)),
        "{r:?}"
    );
    assert_eq!(r.len(), 2);
    assert_eq!(reports_left(env, "P1.1"), vec![]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_child_without_a_swap_record_was_never_sent() {
    let dir = scratch("unsent");
    let log = swap_log(&dir);
    let env = start(None, |c| c.intent_log = Some(log.clone()));
    env.link.reconcile("P7.1", Known::NOTHING).unwrap();
    let r = next_report(&env.events, "P7.1");
    assert!(
        matches!(&r, VenueReport::Rejected { kind: RejectKind::NoLiquidity, reason }
            if reason.starts_with("not sent before the restart")),
        "{r:?}"
    );
    drop(env);

    // Without a swap log the link cannot tell, and says so.
    let env = start(None, |_| {});
    assert!(matches!(
        env.link.reconcile("P7.1", Known::NOTHING),
        Err(LinkError::Unsupported { .. })
    ));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_swap_the_log_cannot_take_is_not_sent() {
    let dir = scratch("unlogged");
    let log = swap_log(&dir);
    let env = start(None, |c| c.intent_log = Some(log.clone()));
    next_liquidity(&env.events, Side::Sell);
    // A client id no log line may hold (over 4096 bytes).
    let id = "P".repeat(5000);
    env.link
        .send(order(&id, Side::Sell, dec!(100), dec!(0.99)))
        .unwrap();
    let r = next_report(&env.events, &id);
    assert!(
        matches!(&r, VenueReport::Rejected { kind: RejectKind::NoLiquidity, reason }
            if reason.starts_with("not sent: swap log:")),
        "{r:?}"
    );
    assert_eq!(env.sim.pending_count(), 0);
    assert_eq!(env.sim.nonce(&env.link.account(), true), 0);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_malformed_swap_log_stops_the_start_and_a_torn_last_line_is_cut() {
    let (env, dir, tx, got) = swap_in_flight_at_a_crash("torn", "P1.1", false);
    let log = swap_log(&dir);
    let good = std::fs::read_to_string(&log).unwrap();
    assert_eq!(good.lines().count(), 1);

    // A line in the middle that is not a record: the link does not start.
    std::fs::write(&log, format!("{good}not json\n{good}")).unwrap();
    let mut cfg = link_config(&env.sim);
    cfg.intent_log = Some(log.clone());
    let (sink, _rx) = bounded(16);
    let e = ChainLink::start(cfg.clone(), env.rt.handle(), sink.clone())
        .unwrap_err()
        .to_string();
    assert!(e.contains(&log.display().to_string()), "{e}");
    assert!(e.contains("line 2"), "{e}");
    assert!(e.contains("not a swap record"), "{e}");

    // A last line cut short by the crash: cut off, the records before it are used.
    std::fs::write(
        &log,
        format!("{good}{{\"client_id\":\"P1.2\",\"tx\":\"0x12"),
    )
    .unwrap();
    let env = crash_and_restart(env, &log, |_| {});
    assert_eq!(std::fs::read_to_string(&log).unwrap(), good);
    env.sim.mine();
    env.link.reconcile("P1.1", Known::NOTHING).unwrap();
    let (r, _) = reports(&env.events, "P1.1");
    assert_eq!(
        r[1],
        VenueReport::Fill {
            qty: dec!(100),
            px: got / dec!(100),
            fee: Decimal::ZERO,
            exec_id: tx,
        }
    );
    env.link.reconcile("P1.2", Known::NOTHING).unwrap();
    assert!(
        matches!(next_report(&env.events, "P1.2"), VenueReport::Rejected { kind: RejectKind::NoLiquidity, reason }
            if reason.starts_with("not sent before the restart"))
    );
    drop(env);
    let _ = std::fs::remove_dir_all(dir);
}

/// A swap the node took and never mined (the live link gave up on it), then a crash:
/// returns the restarted link (300 ms receipt bound), the log and the swap's hash.
fn dropped_swap_then_a_crash(name: &str) -> (Env, PathBuf, String) {
    let dir = scratch(name);
    let log = swap_log(&dir);
    let env = start(None, |c| {
        c.intent_log = Some(log.clone());
        c.receipt_timeout = Duration::from_millis(300);
    });
    next_liquidity(&env.events, Side::Sell);
    env.sim.drop_next(1);
    env.link
        .send(order("P1.1", Side::Sell, dec!(100), dec!(0.99)))
        .unwrap();
    let (r, _) = reports(&env.events, "P1.1");
    assert!(matches!(&r[0], VenueReport::Rejected { .. }), "{r:?}");
    let tx = logged_tx(&log, "P1.1");
    let env = crash_and_restart(env, &log, |c| {
        c.receipt_timeout = Duration::from_millis(300)
    });
    (env, dir, tx)
}

#[test]
fn a_swap_without_a_receipt_is_dropped_and_one_whose_nonce_was_reused_is_replaced() {
    let (env, dir, tx) = dropped_swap_then_a_crash("dropped");
    let log = swap_log(&dir);

    // Nothing took its nonce yet: the live path's "no receipt" reject.
    env.link.reconcile("P1.1", Known::NOTHING).unwrap();
    assert_eq!(
        next_report(&env.events, "P1.1"),
        VenueReport::Rejected {
            kind: RejectKind::NoLiquidity,
            reason: format!("dropped: no receipt for {tx} within 300ms"),
        }
    );

    // Another swap is mined with that nonce: the first can never be.
    env.link
        .send(order("P1.2", Side::Sell, dec!(50), dec!(0.99)))
        .unwrap();
    mine_when_pending(&env.sim, 1);
    let (r, _) = reports(&env.events, "P1.2");
    assert!(matches!(r[1], VenueReport::Fill { .. }), "{r:?}");
    assert_ne!(logged_tx(&log, "P1.2"), tx);
    env.link.reconcile("P1.1", Known::NOTHING).unwrap();
    let r = next_report(&env.events, "P1.1");
    assert!(
        matches!(&r, VenueReport::Rejected { kind: RejectKind::NoLiquidity, reason }
            if reason.starts_with(&format!("dropped: tx {tx} (nonce 0)")) && reason.contains("replaced")),
        "{r:?}"
    );
    drop(env);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_dropped_swap_signed_again_for_a_later_child_is_reported_once() {
    let (env, dir, tx) = dropped_swap_then_a_crash("resigned");
    let log = swap_log(&dir);
    // The same swap for a new child: same nonce, same amounts, so the same transaction.
    env.link
        .send(order("P1.2", Side::Sell, dec!(100), dec!(0.99)))
        .unwrap();
    mine_when_pending(&env.sim, 1);
    let (r, _) = reports(&env.events, "P1.2");
    let VenueReport::Fill { exec_id, .. } = &r[1] else {
        panic!("{r:?}")
    };
    assert_eq!(*exec_id, tx);
    assert_eq!(logged_tx(&log, "P1.2"), tx);

    // Its receipt is P1.2's: P1.1 does not get the fill a second time.
    env.link.reconcile("P1.1", Known::NOTHING).unwrap();
    let r = next_report(&env.events, "P1.1");
    assert_eq!(
        r,
        VenueReport::Rejected {
            kind: RejectKind::NoLiquidity,
            reason: format!("dropped: tx {tx} was signed again for child P1.2, which reports it"),
        }
    );
    assert_eq!(reports_left(env, "P1.1"), vec![]);
    let _ = std::fs::remove_dir_all(dir);
}
