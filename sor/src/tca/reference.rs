//! The reference rate (benchmark.md section 2.2): constituent trades in `[W0, W1)`,
//! split into `k` partitions, a volume-weighted median per non-empty partition, and the
//! equally weighted average of those medians, published to 10 dp half-even.

use super::arith;
use super::error::Overflow;
use super::types::{Trade, Window};
use crate::report::px;
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use thiserror::Error;

/// One partition's part in the rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// The partition's volume-weighted median (a traded price, unrounded); `None` when
    /// the partition has no eligible trade.
    pub vwm: Option<Decimal>,
    /// Eligible trades in the partition.
    pub trades: usize,
}

/// A computed reference rate and how it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceRate {
    /// The rate as published: the mean of the non-empty partitions' medians, 10 dp.
    pub rate: Decimal,
    /// Trades from constituent venues inside `[W0, W1)`.
    pub eligible_trades: usize,
    /// All `k` partitions, in time order.
    pub partitions: Vec<Partition>,
}

impl ReferenceRate {
    /// How many partitions had at least one eligible trade (`|P|`).
    pub fn nonempty_partitions(&self) -> usize {
        self.partitions.iter().filter(|p| p.vwm.is_some()).count()
    }
}

/// Why there is no rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RateError {
    /// Every partition is empty: no constituent trade in the window.
    #[error("no_eligible_trades")]
    NoEligibleTrades,
    /// The trades' sizes or prices are too large to sum exactly.
    #[error("trades: {0}")]
    Overflow(#[from] Overflow),
}

/// Whether a trade counts for the rate: its venue is a constituent and `W0 ≤ t < W1`.
pub fn is_eligible(window: &Window, constituents: &BTreeSet<String>, trade: &Trade) -> bool {
    constituents.contains(&trade.venue) && window.partition_of(trade.ts_ms).is_some()
}

/// The volume-weighted median of `(price, size)` prints: sorted by price ascending,
/// the price of the first print `m` whose cumulative size `C_m` satisfies
/// `2·C_m ≥ V` (so an exact half picks the lower price). `None` for no prints.
/// Sizes must be positive. Sorts `prints` in place.
pub fn weighted_median(prints: &mut [(Decimal, Decimal)]) -> Result<Option<Decimal>, Overflow> {
    prints.sort_unstable_by_key(|p| p.0);
    let total = arith::sum(prints.iter().map(|p| p.1))?;
    let mut cumulative = Decimal::ZERO;
    for &(price, size) in prints.iter() {
        cumulative = arith::add(cumulative, size)?;
        // 2·C ≥ V, written as C ≥ V − C so that it cannot overflow.
        if cumulative >= total - cumulative {
            return Ok(Some(price));
        }
    }
    Ok(None)
}

/// The reference rate of `trades` over `window` with constituent venues
/// `constituents`. Trades must already be valid (price and size `> 0`).
pub fn reference_rate(
    window: &Window,
    constituents: &BTreeSet<String>,
    trades: &[Trade],
) -> Result<ReferenceRate, RateError> {
    let mut prints: Vec<Vec<(Decimal, Decimal)>> = vec![Vec::new(); window.partitions()];
    let mut eligible_trades = 0;
    for trade in trades {
        if !constituents.contains(&trade.venue) {
            continue;
        }
        let Some(j) = window.partition_of(trade.ts_ms) else {
            continue;
        };
        if let Some(partition) = prints.get_mut(j) {
            partition.push((trade.px, trade.qty));
            eligible_trades += 1;
        }
    }
    let mut partitions = Vec::with_capacity(prints.len());
    let mut medians = Vec::new();
    for mut partition in prints {
        let vwm = weighted_median(&mut partition)?;
        medians.extend(vwm);
        partitions.push(Partition {
            vwm,
            trades: partition.len(),
        });
    }
    if medians.is_empty() {
        return Err(RateError::NoEligibleTrades);
    }
    let count = Decimal::from(medians.len());
    let mean = arith::div(arith::sum(medians)?, count)?;
    Ok(ReferenceRate {
        rate: px(mean),
        eligible_trades,
        partitions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const W0: i64 = 1_556_719_200_000;

    fn window() -> Window {
        Window::new(W0, W0 + 3_600_000, 12).unwrap()
    }

    fn ab() -> BTreeSet<String> {
        ["a", "b"].iter().map(|s| (*s).to_owned()).collect()
    }

    fn t(offset: i64, venue: &str, px: Decimal, qty: Decimal) -> Trade {
        Trade {
            ts_ms: W0 + offset,
            venue: venue.to_owned(),
            px,
            qty,
        }
    }

    #[test]
    fn the_specs_worked_example() {
        let trades = [
            t(0, "a", dec!(1.0000), dec!(10)),
            t(299_999, "b", dec!(1.0002), dec!(30)),
            t(300_000, "a", dec!(0.9990), dec!(5)),
            t(300_001, "a", dec!(0.9996), dec!(5)),
            t(3_600_000, "a", dec!(2), dec!(100)),
            t(-1, "a", dec!(2), dec!(100)),
            t(10, "x", dec!(3), dec!(1000)),
        ];
        let r = reference_rate(&window(), &ab(), &trades).unwrap();
        assert_eq!(r.rate.to_string(), "0.9996000000");
        assert_eq!(r.eligible_trades, 4);
        assert_eq!(r.nonempty_partitions(), 2);
        assert_eq!(r.partitions.len(), 12);
        assert_eq!(r.partitions[0].vwm, Some(dec!(1.0002)));
        assert_eq!(r.partitions[0].trades, 2);
        // The boundary print is in partition 1 and the tie picks the lower price.
        assert_eq!(r.partitions[1].vwm, Some(dec!(0.9990)));
        assert_eq!(r.partitions[1].trades, 2);
        assert!(
            r.partitions[2..]
                .iter()
                .all(|p| p.vwm.is_none() && p.trades == 0)
        );
    }

    #[test]
    fn three_single_trade_partitions_round_half_even_once() {
        let trades = [
            t(0, "a", dec!(1), dec!(1)),
            t(300_000, "a", dec!(1), dec!(7)),
            t(3_599_999, "b", dec!(1.0001), dec!(2)),
        ];
        let r = reference_rate(&window(), &ab(), &trades).unwrap();
        assert_eq!(r.rate.to_string(), "1.0000333333");
        assert_eq!(r.nonempty_partitions(), 3);
        assert_eq!(r.partitions[11].vwm, Some(dec!(1.0001)));
    }

    #[test]
    fn a_single_print_is_the_rate() {
        let r = reference_rate(&window(), &ab(), &[t(42, "b", dec!(0.99987), dec!(3))]).unwrap();
        assert_eq!(r.rate.to_string(), "0.9998700000");
        assert_eq!(r.eligible_trades, 1);
    }

    #[test]
    fn prints_at_w0_are_in_and_at_w1_are_out() {
        let w = window();
        assert_eq!(w.partition_of(W0), Some(0));
        assert_eq!(w.partition_of(W0 - 1), None);
        assert_eq!(w.partition_of(W0 + 3_599_999), Some(11));
        assert_eq!(w.partition_of(W0 + 3_600_000), None);
        assert_eq!(w.partition_of(W0 + 299_999), Some(0));
        assert_eq!(w.partition_of(W0 + 300_000), Some(1));
        let only_w1 = [t(3_600_000, "a", dec!(1), dec!(1))];
        assert_eq!(
            reference_rate(&w, &ab(), &only_w1),
            Err(RateError::NoEligibleTrades)
        );
    }

    #[test]
    fn a_print_on_every_partition_boundary_opens_the_later_partition() {
        // One print exactly at each W0 + j·L: partition j holds it, none spills back.
        let trades: Vec<Trade> = (0..=12)
            .map(|j| t(j * 300_000, "a", Decimal::from(j + 1), dec!(1)))
            .collect();
        let r = reference_rate(&window(), &ab(), &trades).unwrap();
        assert_eq!(r.eligible_trades, 12, "the print at W1 = W0 + 12·L is out");
        for (j, p) in r.partitions.iter().enumerate() {
            assert_eq!((p.trades, p.vwm), (1, Some(Decimal::from(j + 1))), "{j}");
        }
        // (1 + 2 + … + 12) / 12 = 6.5.
        assert_eq!(r.rate.to_string(), "6.5000000000");
    }

    #[test]
    fn a_tie_inside_one_partition_with_empty_ones_around_it() {
        // Partition 5 only: 3 at 1.0004, 1 at 0.9998 and 2 at 1.0001 (sorted: 0.9998,
        // 1.0001, 1.0004 with C = 1, 3, 6 of V = 6): 2·3 = 6 = V lands exactly on half
        // at 1.0001, the lower candidate; the 11 empty partitions are left out.
        let trades = [
            t(1_500_000, "a", dec!(1.0004), dec!(3)),
            t(1_500_001, "b", dec!(0.9998), dec!(1)),
            t(1_799_999, "a", dec!(1.0001), dec!(2)),
        ];
        let r = reference_rate(&window(), &ab(), &trades).unwrap();
        assert_eq!(r.nonempty_partitions(), 1);
        assert_eq!(r.partitions[5].vwm, Some(dec!(1.0001)));
        assert_eq!(r.rate.to_string(), "1.0001000000");
    }

    #[test]
    fn non_constituents_are_ignored_whatever_their_price() {
        let trades = [
            t(5, "x", dec!(100), dec!(1_000_000)),
            t(6, "a", dec!(1.0001), dec!(1)),
        ];
        let r = reference_rate(&window(), &ab(), &trades).unwrap();
        assert_eq!(r.rate.to_string(), "1.0001000000");
        assert_eq!(r.eligible_trades, 1);
        let none = reference_rate(&window(), &BTreeSet::new(), &trades);
        assert_eq!(none, Err(RateError::NoEligibleTrades));
    }

    #[test]
    fn empty_partitions_are_left_out_not_divided_by_k() {
        let trades = [
            t(0, "a", dec!(1.0002), dec!(1)),
            t(3_300_000, "a", dec!(0.9998), dec!(1)),
        ];
        let r = reference_rate(&window(), &ab(), &trades).unwrap();
        assert_eq!(r.rate.to_string(), "1.0000000000");
        assert_eq!(r.nonempty_partitions(), 2);
        assert_eq!(
            reference_rate(&window(), &ab(), &[]),
            Err(RateError::NoEligibleTrades)
        );
    }

    #[test]
    fn weighted_median_ties_take_the_lower_price() {
        let mut exact_half = [(dec!(1.0003), dec!(2)), (dec!(0.9999), dec!(2))];
        assert_eq!(weighted_median(&mut exact_half), Ok(Some(dec!(0.9999))));
        // Equal sizes across four prices: half is reached at the second.
        let mut four = [
            (dec!(4), dec!(1)),
            (dec!(1), dec!(1)),
            (dec!(3), dec!(1)),
            (dec!(2), dec!(1)),
        ];
        assert_eq!(weighted_median(&mut four), Ok(Some(dec!(2))));
        // Just past half moves to the next price.
        let mut past = [(dec!(1), dec!(4.99999999)), (dec!(2), dec!(5))];
        assert_eq!(weighted_median(&mut past), Ok(Some(dec!(2))));
        // A print holding more than half the volume is the median; an outlier is not.
        let mut big = [
            (dec!(0.5), dec!(1)),
            (dec!(1), dec!(10)),
            (dec!(9), dec!(1)),
        ];
        assert_eq!(weighted_median(&mut big), Ok(Some(dec!(1))));
        assert_eq!(weighted_median(&mut []), Ok(None));
    }

    #[test]
    fn equal_prices_pool_their_size() {
        let mut same = [
            (dec!(1.0001), dec!(1)),
            (dec!(0.9999), dec!(3)),
            (dec!(1.0001), dec!(1)),
            (dec!(1.0000), dec!(1)),
        ];
        // V = 6: C = 3 at 0.9999 already reaches half.
        assert_eq!(weighted_median(&mut same), Ok(Some(dec!(0.9999))));
    }
}
