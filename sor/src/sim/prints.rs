//! Other participants' trade prints at the simulated venues: the market the reference
//! rate is computed from (benchmark.md section 2).
//!
//! Each venue prints as a Poisson process at its configured rate. A print is a buy or a
//! sell with even odds, at the venue's undisturbed touch (the ask a buyer lifts, the bid
//! a seller hits, as the venue showed them at time 0), of a size drawn uniformly from
//! the venue's range at its quantity precision. Prints take nothing from the venues'
//! liquidity, so they never change what the router sees.
//!
//! The draws of each venue-minute come from their own seed (the run's seed, the venue's
//! position, the minute), so the tape of a minute is the same whatever span is asked
//! for, and a run with the same scenario and seed prints the same tape.

use super::record::touch;
use crate::scenario::MarketConfig;
use crate::tca::Trade;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};
use venues::{Liquidity, Side, VenueId};

const MINUTE_MS: i64 = 60_000;
/// Most prints one venue may publish in one minute, whatever the rate says.
const MAX_PER_BLOCK: usize = 10_000;
/// Most prints a tape may hold.
pub const MAX_TAPE: usize = 5_000_000;

/// The tape could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrintError {
    /// The span asked for would print more than [`MAX_TAPE`] trades.
    #[error("the market tape would exceed {MAX_TAPE} prints; lower prints.per_min")]
    TooLong,
}

/// A 64-bit mix of the run's seed, a venue and a minute (SplitMix64's finaliser).
fn mix(seed: u64, venue: u64, minute: i64) -> u64 {
    let mut z = seed
        ^ venue.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (minute as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The venue's undisturbed touch for a taker on `side`, from the time-0 liquidity.
fn initial_touch(initial: &[Liquidity], venue: &VenueId, side: Side) -> Option<Decimal> {
    initial
        .iter()
        .find(|l| &l.venue == venue && l.side == side)
        .and_then(touch)
        .filter(|px| *px > Decimal::ZERO)
}

/// Every print of every venue in `[from_ms, to_ms)` (UTC ms), in time order.
pub fn tape(
    market: &MarketConfig,
    venues: &[VenueId],
    initial: &[Liquidity],
    seed: u64,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<Trade>, PrintError> {
    let mut out = Vec::new();
    if to_ms <= from_ms {
        return Ok(out);
    }
    let first = (from_ms - market.start_ms).div_euclid(MINUTE_MS);
    let last = (to_ms - 1 - market.start_ms).div_euclid(MINUTE_MS);
    for (i, venue) in venues.iter().enumerate() {
        let (Some(process), Some(&qty_scale), Some(&price_scale)) = (
            market.prints.get(i),
            market.qty_scales.get(i),
            market.price_scales.get(i),
        ) else {
            continue;
        };
        let per_min = process.per_min.to_f64().unwrap_or(0.0);
        if per_min <= 0.0 {
            continue;
        }
        let round = |px: Decimal| {
            px.round_dp_with_strategy(price_scale, RoundingStrategy::MidpointNearestEven)
        };
        let bid = initial_touch(initial, venue, Side::Sell).map(round);
        let ask = initial_touch(initial, venue, Side::Buy).map(round);
        let span = process.max_qty - process.min_qty;
        for minute in first..=last {
            let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, i as u64, minute));
            let block = market.start_ms + minute * MINUTE_MS;
            let mut t = 0.0f64;
            for _ in 0..MAX_PER_BLOCK {
                let u: f64 = rng.random();
                t += -(1.0 - u).ln() * MINUTE_MS as f64 / per_min;
                if t >= MINUTE_MS as f64 {
                    break;
                }
                let buyer = rng.random::<f64>() < 0.5;
                let frac = Decimal::from_f64(rng.random::<f64>()).unwrap_or(Decimal::ZERO);
                let ts_ms = block + t as i64;
                if ts_ms < from_ms || ts_ms >= to_ms {
                    continue;
                }
                let Some(px) = (if buyer { ask } else { bid }) else {
                    continue;
                };
                let qty = (process.min_qty + span * frac)
                    .round_dp_with_strategy(qty_scale, RoundingStrategy::ToZero)
                    .max(process.min_qty);
                if out.len() >= MAX_TAPE {
                    return Err(PrintError::TooLong);
                }
                out.push(Trade {
                    ts_ms,
                    venue: venue.0.clone(),
                    px,
                    qty,
                });
            }
        }
    }
    out.sort_by_key(|t| t.ts_ms);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::PrintProcess;
    use rust_decimal_macros::dec;
    use venues::{CurveShape, Level, VenueKind};

    fn side(side: Side, px: Decimal) -> Liquidity {
        Liquidity {
            venue: VenueId("b".into()),
            kind: VenueKind::Book,
            instrument: "USDC/USD".into(),
            side,
            shape: CurveShape::Steps(vec![Level { px, qty: dec!(5) }]),
            fee_bps: dec!(0),
            fixed_cost: dec!(0),
            fixed_cost_asset: "USD".into(),
        }
    }

    fn market(per_min: Decimal) -> MarketConfig {
        MarketConfig {
            start_ms: 1_000_000,
            prints: vec![PrintProcess {
                per_min,
                min_qty: dec!(10),
                max_qty: dec!(20),
            }],
            qty_scales: vec![6],
            price_scales: vec![8],
        }
    }

    #[test]
    fn prints_are_at_the_touch_within_the_span_and_the_same_for_the_same_seed() {
        let initial = [
            side(Side::Sell, dec!(0.9999)),
            side(Side::Buy, dec!(1.0001)),
        ];
        let venues = [VenueId("b".into())];
        let m = market(dec!(30));
        let a = tape(&m, &venues, &initial, 7, 1_000_000, 1_000_000 + 600_000).unwrap();
        // About 30 a minute over 10 minutes.
        assert!((200..400).contains(&a.len()), "{}", a.len());
        assert!(
            a.iter()
                .all(|t| t.px == dec!(0.9999) || t.px == dec!(1.0001))
        );
        assert!(a.iter().any(|t| t.px == dec!(0.9999)) && a.iter().any(|t| t.px == dec!(1.0001)));
        assert!(a.iter().all(|t| t.qty >= dec!(10) && t.qty <= dec!(20)));
        assert!(a.windows(2).all(|w| w[0].ts_ms <= w[1].ts_ms));
        let b = tape(&m, &venues, &initial, 7, 1_000_000, 1_000_000 + 600_000).unwrap();
        assert_eq!(a, b);
        // A minute's prints do not depend on the span asked for.
        let part = tape(&m, &venues, &initial, 7, 1_120_000, 1_180_000).unwrap();
        let within: Vec<_> = a
            .iter()
            .filter(|t| (1_120_000..1_180_000).contains(&t.ts_ms))
            .cloned()
            .collect();
        assert_eq!(part, within);
        // Before time 0 prints too (a window may start before the run).
        assert!(
            !tape(&m, &venues, &initial, 7, 0, 1_000_000)
                .unwrap()
                .is_empty()
        );
        assert!(
            tape(&market(dec!(0)), &venues, &initial, 7, 0, 9_000_000)
                .unwrap()
                .is_empty()
        );
    }
}
