//! Execution algorithms: when to work how much of a parent.
//!
//! - `SWEEP` routes everything at once and re-routes what venues reject or leave.
//! - `TWAP` cuts the parent into equal slices over its duration, at least a minimum
//!   spacing apart; each slice's target is what is left divided by the slices left,
//!   so what a slice leaves rolls into the next, and the last slice takes the rest.

use rust_decimal::{Decimal, RoundingStrategy};
use venues::Nanos;

/// When the slices of a TWAP fall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwapSchedule {
    /// Number of slices.
    pub slices: u32,
    /// Time between two slices.
    pub interval: Nanos,
}

impl TwapSchedule {
    /// `slices` equal slices over `duration`, fewer if they would fall closer than
    /// `min_spacing`; at least one.
    pub fn new(duration: Nanos, slices: u32, min_spacing: Nanos) -> Self {
        let mut n = u64::from(slices.max(1));
        if min_spacing > 0 && duration / n < min_spacing {
            n = (duration / min_spacing).max(1);
        }
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        Self {
            slices: n,
            interval: duration / u64::from(n),
        }
    }

    /// When slice `j` (from 0) is due, for a parent that started at `start`.
    pub fn due(&self, start: Nanos, j: u32) -> Nanos {
        start.saturating_add(self.interval.saturating_mul(u64::from(j)))
    }
}

/// The quantity slice `j` of `slices` should work, out of `remaining` (neither filled
/// nor working), at `qty_scale` decimal places: an equal share, and the whole rest on
/// the last slice.
pub fn twap_slice_target(remaining: Decimal, j: u32, slices: u32, qty_scale: u32) -> Decimal {
    let left = slices.saturating_sub(j);
    if left <= 1 || remaining <= Decimal::ZERO {
        return remaining.max(Decimal::ZERO);
    }
    (remaining / Decimal::from(left)).round_dp_with_strategy(qty_scale, RoundingStrategy::ToZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const SEC: Nanos = 1_000_000_000;

    #[test]
    fn slices_are_equally_spaced_over_the_duration() {
        let s = TwapSchedule::new(4 * 3600 * SEC, 16, 60 * SEC);
        assert_eq!(s.slices, 16);
        assert_eq!(s.interval, 900 * SEC);
        assert_eq!(s.due(100, 0), 100);
        assert_eq!(s.due(100, 15), 100 + 15 * 900 * SEC);
    }

    #[test]
    fn minimum_spacing_reduces_the_slice_count() {
        let s = TwapSchedule::new(10 * 60 * SEC, 100, 60 * SEC);
        assert_eq!(s.slices, 10);
        assert!(s.interval >= 60 * SEC);
        assert_eq!(TwapSchedule::new(30 * SEC, 5, 60 * SEC).slices, 1);
    }

    #[test]
    fn leftovers_roll_into_later_slices_and_the_last_takes_the_rest() {
        assert_eq!(twap_slice_target(dec!(100), 0, 4, 6), dec!(25));
        // Slice 0 filled only 10 of its 25: 90 left over 3 slices.
        assert_eq!(twap_slice_target(dec!(90), 1, 4, 6), dec!(30));
        assert_eq!(twap_slice_target(dec!(10), 2, 3, 0), dec!(10));
        assert_eq!(twap_slice_target(dec!(10), 0, 3, 0), dec!(3));
    }
}
