//! The inputs of a TCA calculation: the benchmark window, market trades, and a parent
//! order with its fills (benchmark.md sections 2.2 and 3).

use super::error::TcaError;
use rust_decimal::Decimal;
use venues::Side;

/// Largest number of partitions accepted, so that an answer stays a bounded size.
pub const MAX_PARTITIONS: u64 = 100_000;

/// The benchmark window `[W0, W1)` in UTC milliseconds, split into `k` equal partitions
/// of `L = (W1 − W0) / k` whole milliseconds each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    start_ms: i64,
    end_ms: i64,
    partitions: u64,
    partition_len_ms: i128,
}

impl Window {
    /// Validates the window parameters: `W1 > W0`, `1 ≤ k ≤` [`MAX_PARTITIONS`], and a
    /// partition length `(W1 − W0) / k` that is a whole number of milliseconds
    /// (`invalid_window` otherwise).
    pub fn new(start_ms: i64, end_ms: i64, partitions: u64) -> Result<Self, TcaError> {
        if end_ms <= start_ms {
            return Err(TcaError::InvalidWindow(format!(
                "window_end_ms: {end_ms} must be after window_start_ms {start_ms}"
            )));
        }
        if partitions == 0 || partitions > MAX_PARTITIONS {
            return Err(TcaError::InvalidWindow(format!(
                "partitions: {partitions} must be from 1 to {MAX_PARTITIONS}"
            )));
        }
        let tau = i128::from(end_ms) - i128::from(start_ms);
        let k = i128::from(partitions);
        if tau % k != 0 {
            return Err(TcaError::InvalidWindow(format!(
                "partitions: a window of {tau} ms in {partitions} partitions gives a partition \
                 length of {tau}/{partitions} ms, not a whole number of ms"
            )));
        }
        Ok(Self {
            start_ms,
            end_ms,
            partitions,
            partition_len_ms: tau / k,
        })
    }

    /// `W0`, the first millisecond in the window.
    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    /// `W1`, the first millisecond after the window (the effective time).
    pub fn end_ms(&self) -> i64 {
        self.end_ms
    }

    /// `k`, the number of partitions.
    pub fn partitions(&self) -> usize {
        // Bounded by MAX_PARTITIONS, so it fits.
        usize::try_from(self.partitions).unwrap_or(usize::MAX)
    }

    /// `L`, the partition length in milliseconds.
    pub fn partition_len_ms(&self) -> i128 {
        self.partition_len_ms
    }

    /// The partition `j = floor((t − W0) / L)` that a print at `t` belongs to, or `None`
    /// when `t` is outside `[W0, W1)`. A print on a boundary belongs to the later
    /// partition.
    pub fn partition_of(&self, t_ms: i64) -> Option<usize> {
        if t_ms < self.start_ms || t_ms >= self.end_ms {
            return None;
        }
        let j = (i128::from(t_ms) - i128::from(self.start_ms)) / self.partition_len_ms;
        usize::try_from(j).ok()
    }
}

/// A market print on some venue: `(t, venue, p, q)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    /// Time of the print, UTC ms.
    pub ts_ms: i64,
    /// The venue it printed on.
    pub venue: String,
    /// Price, quote per base, `> 0`.
    pub px: Decimal,
    /// Size in base units, `> 0`.
    pub qty: Decimal,
}

/// One fill of the parent order: `(p_i, q_i, fee_i, mid_i)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    /// Time of the fill, UTC ms.
    pub ts_ms: i64,
    /// The venue it filled on.
    pub venue: String,
    /// Price, `> 0`, fees not folded in.
    pub px: Decimal,
    /// Quantity in base units, `> 0`.
    pub qty: Decimal,
    /// Every explicit cost in quote currency (a rebate is negative).
    pub fee: Decimal,
    /// Mid when the child order was sent, if known (`> 0`).
    pub mid: Option<Decimal>,
}

/// A parent order and its fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Buy (`s = +1`) or sell (`s = −1`) of the base asset.
    pub side: Side,
    /// Order quantity `S`, `> 0`.
    pub qty: Decimal,
    /// Arrival (decision) price `P_arr`: the mid when the order arrived, `> 0`.
    pub arrival_px: Decimal,
    /// End price `P_end`: the mid when the order ended, `> 0`.
    pub end_px: Decimal,
    /// `t_start`, first millisecond of the order interval.
    pub start_ms: i64,
    /// `t_end`, first millisecond after the order interval.
    pub end_ms: i64,
    /// The fills, in any order.
    pub fills: Vec<Fill>,
}
