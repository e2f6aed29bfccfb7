//! What the `sor` binary's end-to-end tests share: loopback ports, a scratch directory,
//! and a deep `USDC/USD` book on the FIX exchange simulator.
#![allow(clippy::unwrap_used, dead_code)] // fixtures; not every test file uses each one

use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::time::Duration;
use venues::Level;
use venues::exchange::{ExchangeConfig, ExchangeSim, SymbolConfig};

/// A loopback port free when asked.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A new empty directory under the system's temp dir, unique to this process and call.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sor-{name}-{}-{}", std::process::id(), free_port()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The FIX exchange simulator (CompID `XCH`, client `SOR`, stores under
/// `dir/exchange`) on `port` with 1,000,000 `USDC/USD` a side at 0.9999 / 1.0001,
/// 2 bps taker fee, replenished 1 per second, no latency, no rejects.
pub fn deep_usdc_exchange(port: u16, dir: &Path, seed: u64) -> ExchangeSim {
    let level = |px: Decimal| Level {
        px,
        qty: Decimal::from(1_000_000),
    };
    ExchangeSim::start(ExchangeConfig {
        comp_id: "XCH".into(),
        port,
        clients: vec!["SOR".into()],
        data_dir: dir.join("exchange"),
        symbols: vec![SymbolConfig {
            symbol: "USDC/USD".into(),
            bids: vec![level(Decimal::new(9999, 4))],
            asks: vec![level(Decimal::new(10001, 4))],
            taker_fee_bps: Decimal::from(2),
            replenish_per_sec: Decimal::ONE,
        }],
        latency: Duration::ZERO,
        reject_rate: 0.0,
        seed,
        refresh: Duration::from_millis(100),
    })
    .unwrap()
}

/// A market file's valuation with gas in ETH and cWUSDC valued as USDC, then the
/// `pool-cwusdc` DODO pool venue (the state [`pool_chain`] holds), then `venues` (more
/// `[[venues]]` tables, or nothing).
pub fn pool_market(name: &str, venues: &str) -> String {
    format!(
        r#"
name = "{name}"
[valuation]
currency = "USD"
[valuation.references]
USDC = "1"
ETH = "2800"
[valuation.assets]
cWUSDC = {{ as = "USDC", rate = "1" }}

[[venues]]
id = "pool-cwusdc"
kind = "pool"
instrument = "cWUSDC/USDC"
gas = {{ units = 150000, price_gwei = "0.024", native = "ETH" }}
pmm = {{ i = "1001000000000000000", k = "500000000000000000", b = "42278000000", q = "42278000000", b0 = "42278000000", q0 = "42278000000", r = "ONE", lp_fee_rate = "300000000000000", mt_fee_rate = "0", base_decimals = 6, quote_decimals = 6 }}
{venues}"#
    )
}

/// A chain simulator holding pool 1 in the state [`pool_market`]'s `pool-cwusdc` says,
/// mining every `block_interval` (or only when told, with `None`).
pub fn pool_chain(
    handle: &tokio::runtime::Handle,
    block_interval: Option<Duration>,
) -> venues::chain::sim::ChainSim {
    use venues::chain::sim::{ChainSim, ChainSimConfig, SimPool};
    use venues::pmm::{FeeRates, PmmState, RState};
    let raw = |s: &str| s.parse().unwrap();
    let state = PmmState {
        i: raw("1001000000000000000"),
        k: raw("500000000000000000"),
        b: raw("42278000000"),
        q: raw("42278000000"),
        b0: raw("42278000000"),
        q0: raw("42278000000"),
        r: RState::One,
    };
    let fees = FeeRates {
        lp_fee_rate: raw("300000000000000"),
        mt_fee_rate: raw("0"),
    };
    ChainSim::start(
        ChainSimConfig {
            block_interval,
            pools: vec![SimPool::new(1, state, fees)],
            ..ChainSimConfig::default()
        },
        handle,
    )
    .unwrap()
}

/// Desk `DESK1` connecting to the gateway `SOR` on loopback `port`, its store under
/// `dir/desk` (not waited for: call `wait_logon`).
pub fn desk1(port: u16, dir: &Path) -> fix::client::DeskClient {
    fix::client::DeskClient::start(fix::client::ClientConfig {
        host: "127.0.0.1".into(),
        port,
        desk: "DESK1".into(),
        gateway: "SOR".into(),
        credentials: None,
        data_dir: dir.join("desk"),
        heartbeat_secs: 30,
    })
    .unwrap()
}
