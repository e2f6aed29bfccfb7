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
