//! Fixtures shared by the criterion benchmarks: the venue sets the issues name, a
//! recorded engine event stream ([`engine_trace`]) and desk FIX messages
//! ([`fix_messages`]); and what the gateway benchmark binaries share ([`gateway`]).

pub mod engine_trace;
pub mod fix_messages;
pub mod gateway;

use rust_decimal::Decimal;
use sor::domain::Conversion;
use sor::router::{RouteBook, RouteVenue};
use venues::pool_math::ApproxPmm;
use venues::sim::{BookConfig, BookSim, PoolConfig, PoolSim, VenueSim};
use venues::{CurveShape, Level, Liquidity, Side, VenueId, VenueKind};

fn d(units: i64, scale: u32) -> Decimal {
    Decimal::new(units, scale)
}

/// A book with 20 bid levels from `top` down by one tick, growing in size.
fn book(id: &str, top_units: i64, first_qty: i64, fee_bps: i64) -> Liquidity {
    let bids = (0..20)
        .map(|j| Level {
            px: d(top_units - 2 * j, 5),
            qty: Decimal::from(first_qty + 25_000 * j),
        })
        .collect();
    let mut sim = BookSim::new(BookConfig {
        id: VenueId(id.into()),
        instrument: "USDC/USD".into(),
        bids,
        asks: Vec::new(),
        taker_fee_bps: Decimal::from(fee_bps),
        replenish_per_sec: Decimal::ZERO,
    });
    sim.liquidity(Side::Sell, 0)
}

/// An RFQ ladder of 5 tiers.
fn ladder(id: &str, top_units: i64, first: i64) -> Liquidity {
    let tiers = (0..5)
        .map(|j| Level {
            px: d(top_units - 3 * j, 5),
            qty: Decimal::from(first * (j + 1)),
        })
        .collect();
    Liquidity {
        venue: VenueId(id.into()),
        kind: VenueKind::Rfq,
        instrument: "USDC/USD".into(),
        side: Side::Sell,
        shape: CurveShape::Tiers(tiers),
        fee_bps: Decimal::ZERO,
        fixed_cost: Decimal::ZERO,
        fixed_cost_asset: "USD".into(),
    }
}

/// A PMM pool at target, sampled the way the pool venue shows itself.
fn pool(id: &str, target: i64) -> Liquidity {
    let math = ApproxPmm {
        i: d(10010, 4),
        k: d(5, 1),
        base_reserve: Decimal::from(target),
        quote_reserve: Decimal::from(target),
        base_target: Decimal::from(target),
        quote_target: Decimal::from(target),
        lp_fee_rate: d(3, 4),
        base_decimals: 6,
        quote_decimals: 6,
    };
    let mut sim = PoolSim::new(
        PoolConfig {
            id: VenueId(id.into()),
            instrument: "USDC/USD".into(),
            gas_cost: d(1, 2),
            gas_asset: "USD".into(),
            samples: 40,
        },
        math,
    );
    sim.liquidity(Side::Sell, 0)
}

/// The routing case: 3 books × 20 levels, 3 RFQ ladders × 5 tiers, 2 pools,
/// all quoting USDC/USD for a seller.
pub fn eight_venues() -> RouteBook {
    let liqs = [
        book("book-x", 99_995, 150_000, 2),
        book("book-y", 99_996, 100_000, 3),
        book("book-z", 99_994, 120_000, 2),
        ladder("dealer-a", 99_997, 500_000),
        ladder("dealer-b", 99_996, 400_000),
        ladder("dealer-c", 99_998, 250_000),
        pool("pool-a", 42_278),
        pool("pool-b", 433),
    ];
    RouteBook::new(
        liqs.iter()
            .map(|l| RouteVenue::from_liquidity(l, Conversion::IDENTITY, Decimal::ONE, 6))
            .collect(),
    )
}
