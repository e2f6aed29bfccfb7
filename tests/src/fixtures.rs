//! What the end-to-end tests share: loopback ports, scratch directories, and the FIX
//! exchange simulator's `USDC/USD` books.

use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::time::Duration;
use venues::Level;
use venues::exchange::{ExchangeConfig, ExchangeSim, SymbolConfig};

/// A loopback port free when asked (another process may take it before it is used).
///
/// # Panics
/// When the operating system has no port to give (a test fixture).
#[allow(clippy::unwrap_used)]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A new empty directory under the system's temp dir, named after the test and unique
/// to this process and call.
///
/// # Panics
/// When it cannot be created (a test fixture).
#[allow(clippy::unwrap_used)]
pub fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sor-{name}-{}-{}", std::process::id(), free_port()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Which `USDC/USD` book the exchange simulator starts with.
#[derive(Debug, Clone, Copy)]
pub enum Book {
    /// Bids 100 @ 0.9999 and 200 @ 0.9998, asks 100 @ 1.0001, never replenished: every
    /// fill's size and price is known in advance.
    Shallow,
    /// 1,000,000 a side at 0.9999 / 1.0001, replenished 1 per second.
    Deep,
}

fn level(px: Decimal, qty: u32) -> Level {
    Level {
        px,
        qty: Decimal::from(qty),
    }
}

/// Starts the FIX exchange simulator (CompID `XCH`, one client `SOR`, stores under
/// `data/exchange`, 2 bps taker fee, no latency) on `port` with `book`, rejecting
/// orders at `reject_rate`, its maker seeded with `seed`.
///
/// # Panics
/// When it cannot start (a test fixture).
#[allow(clippy::unwrap_used)]
pub fn usdc_exchange(
    port: u16,
    data: &Path,
    book: Book,
    reject_rate: f64,
    seed: u64,
) -> ExchangeSim {
    let (bid, bid2, ask) = (
        Decimal::new(9999, 4),
        Decimal::new(9998, 4),
        Decimal::new(10001, 4),
    );
    let (bids, asks, replenish, refresh) = match book {
        Book::Shallow => (
            vec![level(bid, 100), level(bid2, 200)],
            vec![level(ask, 100)],
            Decimal::ZERO,
            Duration::from_millis(50),
        ),
        Book::Deep => (
            vec![level(bid, 1_000_000)],
            vec![level(ask, 1_000_000)],
            Decimal::ONE,
            Duration::from_millis(100),
        ),
    };
    ExchangeSim::start(ExchangeConfig {
        comp_id: "XCH".into(),
        port,
        clients: vec!["SOR".into()],
        data_dir: data.join("exchange"),
        symbols: vec![SymbolConfig {
            symbol: "USDC/USD".into(),
            bids,
            asks,
            taker_fee_bps: Decimal::from(2),
            replenish_per_sec: replenish,
        }],
        latency: Duration::ZERO,
        reject_rate,
        seed,
        refresh,
    })
    .unwrap()
}

/// The gateway's FIX adapter for venue `book-x` (`SOR` → `XCH` on `port`, stores under
/// `data/link`, child ClOrdIDs prefixed `prefix`), and the queue its events arrive on.
///
/// # Panics
/// When it cannot start (a test fixture).
#[allow(clippy::unwrap_used)]
pub fn fix_book_link(
    port: u16,
    data: &Path,
    prefix: &str,
) -> (
    venues::exchange::FixBookLink,
    crossbeam_channel::Receiver<venues::LinkEvent>,
) {
    let (tx, rx) = crossbeam_channel::bounded(10_000);
    let link = venues::exchange::FixBookLink::start(
        venues::exchange::FixBookConfig {
            venue: venues::VenueId("book-x".into()),
            instrument: "USDC/USD".into(),
            host: "127.0.0.1".into(),
            port,
            sender: "SOR".into(),
            target: "XCH".into(),
            data_dir: data.join("link"),
            taker_fee_bps: Decimal::from(2),
            cl_ord_prefix: prefix.into(),
            reconnect_secs: 1,
        },
        tx,
        venues::InlineSlot::default(),
    )
    .unwrap();
    (link, rx)
}
