//! Admission to the engine queue by time, not only by count.
//!
//! The desk → engine queue is bounded in requests, but what a desk feels is time: a
//! parent accepted behind 4,000 others waits for all of them (half a second at 8,000/s
//! offered with the journal on). The engine thread publishes two figures
//! ([`ServiceTime`]): a moving average of its time per desk request, and how long the
//! last desk request it took had waited in the queue. The acceptor refuses a new parent
//! as busy when the requests already queued would keep it waiting longer than the
//! configured bound by the average, or when the last one taken did wait longer (the
//! average can be low while venue reports crowd the engine): what is accepted is
//! served in about the bound or less, and the rest is told at once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Weight of the newest sample in the moving average: 1/16.
const SHIFT: u32 = 4;

/// The engine's average time per desk request (the venue reports and journal commit
/// of its batch included), shared between the engine thread (which
/// writes it) and the acceptor's threads (which read it).
#[derive(Debug, Default)]
pub struct ServiceTime {
    /// Exponential moving average, nanoseconds per input.
    ewma_ns: AtomicU64,
    /// How long the last desk request taken off the queue had waited, nanoseconds.
    sojourn_ns: AtomicU64,
}

impl ServiceTime {
    /// A fresh estimate (zero until the first batch).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one batch: `inputs` desk requests handled in `took`. Only the engine thread
    /// calls this, so a load and a store suffice.
    pub fn record(&self, took: Duration, inputs: u64) {
        if inputs == 0 {
            return;
        }
        let sample = u64::try_from(took.as_nanos())
            .unwrap_or(u64::MAX)
            .checked_div(inputs)
            .unwrap_or(0);
        let old = self.ewma_ns.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample
        } else {
            // old + (sample − old) / 16, in integers.
            let delta = (i128::from(sample) - i128::from(old)) >> SHIFT;
            u64::try_from((i128::from(old) + delta).max(0)).unwrap_or(u64::MAX)
        };
        self.ewma_ns.store(new, Ordering::Relaxed);
    }

    /// The current average time per input.
    pub fn per_input(&self) -> Duration {
        Duration::from_nanos(self.ewma_ns.load(Ordering::Relaxed))
    }

    /// How long a request arriving behind `queued` others would wait.
    pub fn expected_wait(&self, queued: usize) -> Duration {
        let queued = u32::try_from(queued).unwrap_or(u32::MAX);
        self.per_input().saturating_mul(queued)
    }

    /// Records how long the desk request just taken off the queue had waited.
    pub fn record_sojourn(&self, waited: Duration) {
        let ns = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
        self.sojourn_ns.store(ns, Ordering::Relaxed);
    }

    /// Whether a new parent arriving behind `queued` requests should be refused for
    /// waiting longer than `max`: `Some(the wait that breaks it)` if so. An empty
    /// queue always admits.
    pub fn over(&self, queued: usize, max: Duration) -> Option<Duration> {
        if queued == 0 {
            return None;
        }
        let expected = self.expected_wait(queued);
        let last = Duration::from_nanos(self.sojourn_ns.load(Ordering::Relaxed));
        let worst = expected.max(last);
        (worst > max).then_some(worst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_batch_sets_the_average_and_later_ones_move_it_by_a_sixteenth() {
        let s = ServiceTime::new();
        assert_eq!(s.per_input(), Duration::ZERO);
        s.record(Duration::from_micros(100), 2);
        assert_eq!(s.per_input(), Duration::from_micros(50));
        s.record(Duration::from_micros(210), 1);
        assert_eq!(s.per_input(), Duration::from_micros(60));
        s.record(Duration::from_micros(44), 1);
        assert_eq!(s.per_input(), Duration::from_micros(59));
    }

    #[test]
    fn an_empty_batch_changes_nothing_and_waits_scale_with_the_queue() {
        let s = ServiceTime::new();
        s.record(Duration::from_micros(30), 0);
        assert_eq!(s.per_input(), Duration::ZERO);
        s.record(Duration::from_micros(30), 1);
        assert_eq!(s.expected_wait(0), Duration::ZERO);
        assert_eq!(s.expected_wait(1000), Duration::from_millis(30));
        // Absurd inputs saturate instead of overflowing.
        s.record(Duration::MAX, 1);
        assert!(s.expected_wait(usize::MAX) >= Duration::from_secs(1));
    }

    #[test]
    fn a_parent_is_refused_when_the_queue_ahead_or_the_last_wait_breaks_the_bound() {
        let max = Duration::from_millis(200);
        let s = ServiceTime::new();
        s.record(Duration::from_micros(100), 1);
        assert_eq!(s.over(1000, max), None, "1,000 × 100 µs = 100 ms");
        assert_eq!(s.over(3000, max), Some(Duration::from_millis(300)));
        s.record_sojourn(Duration::from_millis(250));
        assert_eq!(s.over(10, max), Some(Duration::from_millis(250)));
        assert_eq!(s.over(0, max), None, "an empty queue always admits");
        s.record_sojourn(Duration::from_millis(1));
        assert_eq!(s.over(10, max), None);
    }
}
