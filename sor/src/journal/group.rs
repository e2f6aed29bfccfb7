//! Group commit bookkeeping: how many records wait for an `fdatasync` and since when,
//! and whether a commit is due. Pure: time is passed in.

use std::time::{Duration, Instant};

/// The records appended since the last commit under [`super::FsyncPolicy::Group`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingGroup {
    count: usize,
    oldest: Option<Instant>,
}

impl PendingGroup {
    /// Counts one more appended record; `now` is remembered if it is the first pending.
    pub fn add(&mut self, now: Instant) {
        self.count = self.count.saturating_add(1);
        self.oldest.get_or_insert(now);
    }

    /// Forgets the pending records (they were just made durable).
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Number of records waiting for a commit.
    pub fn count(&self) -> usize {
        self.count
    }

    /// When a commit becomes due by age: the oldest pending record's time plus
    /// `max_delay`; `None` when nothing is pending.
    pub fn deadline(&self, max_delay: Duration) -> Option<Instant> {
        self.oldest.map(|t| t + max_delay)
    }

    /// True when something is pending and either `max_records` records are pending or the
    /// oldest has waited at least `max_delay` at `now`.
    pub fn due(&self, now: Instant, max_delay: Duration, max_records: usize) -> bool {
        match self.oldest {
            None => false,
            Some(oldest) => {
                self.count >= max_records || now.saturating_duration_since(oldest) >= max_delay
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELAY: Duration = Duration::from_micros(500);

    #[test]
    fn nothing_pending_is_never_due() {
        let g = PendingGroup::default();
        let t = Instant::now();
        assert!(!g.due(t + Duration::from_secs(3600), DELAY, 1));
        assert_eq!(g.deadline(DELAY), None);
    }

    #[test]
    fn due_once_the_oldest_record_has_waited_max_delay() {
        let t0 = Instant::now();
        let mut g = PendingGroup::default();
        g.add(t0);
        g.add(t0 + Duration::from_micros(400)); // a later record does not move the clock
        assert!(!g.due(t0 + Duration::from_micros(499), DELAY, 100));
        assert!(g.due(t0 + DELAY, DELAY, 100), "exactly max_delay is due");
        assert_eq!(g.deadline(DELAY), Some(t0 + DELAY));
        // A `now` earlier than the oldest record (clock read before append) is not due.
        assert!(!g.due(
            t0.checked_sub(Duration::from_millis(1)).unwrap_or(t0),
            DELAY,
            100
        ));
    }

    #[test]
    fn due_at_once_when_max_records_are_pending() {
        let t0 = Instant::now();
        let mut g = PendingGroup::default();
        g.add(t0);
        g.add(t0);
        assert!(!g.due(t0, DELAY, 3));
        g.add(t0);
        assert!(
            g.due(t0, DELAY, 3),
            "the third record makes it due without waiting"
        );
        assert_eq!(g.count(), 3);
        g.clear();
        assert!(
            !g.due(t0 + DELAY, DELAY, 3),
            "a commit resets both triggers"
        );
        assert_eq!(g.deadline(DELAY), None);
    }
}
