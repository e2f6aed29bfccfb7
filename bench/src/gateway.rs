//! What the gateway's load and latency benchmarks share: the market (one deep FIX book),
//! loopback ports and desk clients.

use fix::client::{ClientConfig, DeskClient};
use fix::session::SessionError;
use std::path::Path;

/// The gateway's market in the gateway benchmarks: one book venue `book-x`, deep
/// enough that no parent of theirs walks it, no simulated latency.
pub const ONE_BOOK_MARKET: &str = r#"
name = "gateway-bench"
seed = 1
[valuation]
currency = "USD"
[valuation.references]
USDC = "1"
[[venues]]
id = "book-x"
kind = "book"
instrument = "USDC/USD"
latency_ms = 0
taker_fee_bps = "2"
replenish_per_sec = "1"
depth = { mid = "1.00000", half_spread = "0.00005", tick = "0.00001", levels = 20, first_qty = "100000000", qty_step = "0" }
"#;

/// A loopback port free when asked (`fallback` if the system gives none).
pub fn free_port(fallback: u16) -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(fallback)
}

/// A desk client `desk` → `gateway` on loopback `port`, its store under
/// `dir/client-<desk>`, without a password.
pub fn desk_client(
    port: u16,
    desk: &str,
    gateway: &str,
    dir: &Path,
) -> Result<DeskClient, SessionError> {
    DeskClient::start(ClientConfig {
        host: "127.0.0.1".into(),
        port,
        desk: desk.into(),
        gateway: gateway.into(),
        credentials: None,
        data_dir: dir.join(format!("client-{desk}")),
        heartbeat_secs: 30,
    })
}

/// One side of [`ONE_BOOK_MARKET`]'s book as its venue `book-x` would show it: 20
/// levels a tick apart around a mid `shift` ticks (mod 7) above 1, 100M deep each.
pub fn one_book_snapshot(side: venues::Side, shift: i64) -> venues::Liquidity {
    use rust_decimal::Decimal;
    let tick = Decimal::new(1, 5);
    let half_spread = Decimal::new(5, 5);
    let mid = Decimal::ONE + tick * Decimal::from(shift % 7);
    let levels = (0..20)
        .map(|i| {
            let away = half_spread + tick * Decimal::from(i);
            venues::Level {
                px: if side == venues::Side::Sell {
                    mid - away
                } else {
                    mid + away
                },
                qty: Decimal::from(100_000_000),
            }
        })
        .collect();
    venues::Liquidity {
        venue: venues::VenueId("book-x".into()),
        kind: venues::VenueKind::Book,
        instrument: "USDC/USD".into(),
        side,
        shape: venues::CurveShape::Steps(levels),
        fee_bps: Decimal::TWO,
        fixed_cost: Decimal::ZERO,
        fixed_cost_asset: "USD".into(),
    }
}

/// A sweep parent of [`ONE_BOOK_MARKET`]: DESK1 sells 100 USDC/USD at market, with the
/// desk's ClOrdID `client_id`.
pub fn one_book_parent(client_id: String) -> sor::engine::NewParent {
    sor::engine::NewParent {
        desk: "DESK1".into(),
        account: None,
        client_id,
        instrument: "USDC/USD".into(),
        side: venues::Side::Sell,
        qty: rust_decimal::Decimal::from(100),
        limit: None,
        strategy: sor::domain::Strategy::Sweep,
        max_clip: None,
        venues: None,
    }
}

/// The venue's report that fills the child `order` in full at its limit, no fee, with
/// execution id `x-{ClOrdID}`.
pub fn full_fill(order: &venues::VenueOrder) -> sor::engine::Event {
    sor::engine::Event::Venue {
        child: sor::domain::ChildId(order.client_id.clone()),
        report: venues::VenueReport::Fill {
            qty: order.qty,
            px: order.limit_px,
            fee: rust_decimal::Decimal::ZERO,
            exec_id: format!("x-{}", order.client_id),
        },
    }
}

/// Takes the engine's commands out of `out` and returns the children it sent, in order
/// (the rest of the commands are dropped).
pub fn sent_orders(out: &mut Vec<sor::engine::Command>) -> Vec<venues::VenueOrder> {
    out.drain(..)
        .filter_map(|c| match c {
            sor::engine::Command::Send { order, .. } => Some(order),
            _ => None,
        })
        .collect()
}
