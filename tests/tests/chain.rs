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
    CurveShape, LinkError, LinkEvent, Liquidity, RejectKind, Side, VenueId, VenueLink, VenueOrder,
    VenueReport,
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
