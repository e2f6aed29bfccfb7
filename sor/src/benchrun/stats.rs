//! The spread of one figure over seeds: count, mean, p50, p90, min and max, exact in
//! decimals.
//!
//! Percentiles are nearest-rank: the `p`-th percentile of `n` sorted values is the
//! `⌈p·n/100⌉`-th (so the p50 of 20 values is the 10th, the p90 the 18th). Every
//! percentile is a value some seed really had; the mean is the exact mean rounded once,
//! half-to-even, to the figure's published precision.

use crate::report::round;
use rust_decimal::Decimal;
use serde::Serialize;

/// One figure over seeds; `None` where no seed had the figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dist {
    /// Seeds (parents) that had the figure.
    pub n: usize,
    /// Mean, rounded to the figure's precision.
    pub mean: Option<Decimal>,
    /// Median (nearest rank).
    pub p50: Option<Decimal>,
    /// 90th percentile (nearest rank).
    pub p90: Option<Decimal>,
    /// Smallest.
    pub min: Option<Decimal>,
    /// Largest.
    pub max: Option<Decimal>,
}

/// The `pct`-th percentile (nearest rank) of sorted `values`.
pub fn nearest_rank<T: Copy>(sorted: &[T], pct: usize) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (pct.min(100) * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

impl Dist {
    /// The spread of the values present, the mean rounded to `dp` places.
    pub fn of(values: impl IntoIterator<Item = Option<Decimal>>, dp: u32) -> Self {
        let mut v: Vec<Decimal> = values.into_iter().flatten().collect();
        v.sort();
        let mean = v
            .iter()
            .try_fold(Decimal::ZERO, |acc, x| acc.checked_add(*x))
            .and_then(|sum| sum.checked_div(Decimal::from(v.len())))
            .filter(|_| !v.is_empty())
            .map(|m| round(m, dp));
        Self {
            n: v.len(),
            mean,
            p50: nearest_rank(&v, 50),
            p90: nearest_rank(&v, 90),
            min: v.first().copied(),
            max: v.last().copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn percentiles_are_values_a_seed_had_and_the_mean_is_exact() {
        let values = (1..=20).map(|i| Some(Decimal::from(i)));
        let d = Dist::of(values.chain([None]), 6);
        assert_eq!(d.n, 20);
        assert_eq!(d.p50, Some(dec!(10)));
        assert_eq!(d.p90, Some(dec!(18)));
        assert_eq!((d.min, d.max), (Some(dec!(1)), Some(dec!(20))));
        assert_eq!(d.mean, Some(dec!(10.500000)));
        let one = Dist::of([Some(dec!(-0.25))], 6);
        assert_eq!(
            (one.p50, one.p90, one.mean),
            (Some(dec!(-0.25)), Some(dec!(-0.25)), Some(dec!(-0.250000)))
        );
    }

    #[test]
    fn no_values_give_no_figures() {
        let d = Dist::of([None, None], 6);
        assert_eq!((d.n, d.mean, d.p50, d.max), (0, None, None, None));
    }
}
