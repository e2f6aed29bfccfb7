//! Time as an input: the engine never reads a clock itself; whoever feeds it does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use venues::Nanos;

/// A source of the current time, in nanoseconds since the clock's own epoch.
pub trait Clock {
    /// The time now.
    fn now(&self) -> Nanos;
}

/// A clock that only moves when told to: simulations and replays.
#[derive(Debug, Clone, Default)]
pub struct SimClock(Arc<AtomicU64>);

impl SimClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock to `t`; time never goes backwards.
    pub fn set(&self, t: Nanos) {
        self.0.fetch_max(t, Ordering::SeqCst);
    }
}

impl Clock for SimClock {
    fn now(&self) -> Nanos {
        self.0.load(Ordering::SeqCst)
    }
}

/// Wall-clock time, monotonic: since the clock was made, or since the Unix epoch as
/// read once when it was made ([`SystemClock::unix`]).
#[derive(Debug, Clone)]
pub struct SystemClock {
    start: Instant,
    offset: Nanos,
}

impl SystemClock {
    /// A clock whose epoch is now.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            offset: 0,
        }
    }

    /// A clock counting from the Unix epoch (so daily risk periods start at their UTC
    /// time), advancing monotonically from the system time read now.
    pub fn unix() -> Self {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Self {
            start: Instant::now(),
            offset: u64::try_from(since.as_nanos()).unwrap_or(0),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Nanos {
        let elapsed = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.offset.saturating_add(elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_clock_never_goes_back() {
        let c = SimClock::new();
        c.set(10);
        c.set(5);
        assert_eq!(c.now(), 10);
    }
}
