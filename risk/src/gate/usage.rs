//! What has been used: notional counters, daily periods and rings of send times.

use rust_decimal::Decimal;

/// Nanoseconds in a day.
pub(crate) const DAY_NS: u64 = 86_400 * 1_000_000_000;

/// The start of the daily period that contains `now` (may be before the epoch, hence
/// `i128`): the last instant at or before `now` whose UTC time of day is `reset_ns`.
#[inline]
pub(crate) fn period_start(now: u64, reset_ns: u64) -> i128 {
    let elapsed = (now % DAY_NS + DAY_NS - reset_ns % DAY_NS) % DAY_NS;
    i128::from(now) - i128::from(elapsed)
}

/// Open and daily notional of one scope (overall, a desk, a venue).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counter {
    pub(crate) open: Decimal,
    daily: Decimal,
    /// The time of the last addition to `daily`; the amount is stale once a reset
    /// boundary lies after it.
    daily_at: u64,
}

impl Counter {
    /// The notional used in the daily period that contains `now`.
    #[inline]
    pub(crate) fn daily(&self, now: u64, reset_ns: u64) -> Decimal {
        self.daily_since(period_start(now, reset_ns))
    }

    /// The notional used in the daily period that started at `start`.
    #[inline]
    pub(crate) fn daily_since(&self, start: i128) -> Decimal {
        if i128::from(self.daily_at) >= start {
            self.daily
        } else {
            Decimal::ZERO
        }
    }

    pub(crate) fn add(&mut self, notional: Decimal, now: u64, reset_ns: u64) {
        self.daily = self.daily(now, reset_ns).saturating_add(notional);
        self.daily_at = self.daily_at.max(now);
        self.open = self.open.saturating_add(notional);
    }

    /// A child is done: its notional is no longer open, and what was not filled goes
    /// back to the daily amount if the child was sent in the current period.
    pub(crate) fn release(
        &mut self,
        sent_notional: Decimal,
        unfilled: Decimal,
        sent_at: u64,
        now: u64,
        reset_ns: u64,
    ) {
        self.open = self.open.saturating_sub(sent_notional).max(Decimal::ZERO);
        if i128::from(sent_at) >= period_start(now, reset_ns) {
            self.daily = self
                .daily(now, reset_ns)
                .saturating_sub(unfilled)
                .max(Decimal::ZERO);
        }
    }
}

/// The last `cap` send times, oldest first, in a fixed buffer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ring {
    times: Box<[u64]>,
    head: usize,
    len: usize,
}

impl Ring {
    pub(crate) fn with_capacity(cap: usize) -> Self {
        Self {
            times: vec![0; cap].into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }

    pub(crate) fn push(&mut self, t: u64) {
        let cap = self.times.len();
        if cap == 0 {
            return;
        }
        if let Some(slot) = self.times.get_mut(self.head) {
            *slot = t;
        }
        self.head = (self.head + 1) % cap;
        self.len = (self.len + 1).min(cap);
    }

    /// The `k`-th most recent time (1 = the latest), if that many are kept.
    #[inline]
    pub(crate) fn kth_latest(&self, k: usize) -> Option<u64> {
        let cap = self.times.len();
        if k == 0 || k > self.len {
            return None;
        }
        self.times.get((self.head + cap - k) % cap).copied()
    }

    /// How many kept times are after `since`.
    pub(crate) fn count_after(&self, since: u64) -> usize {
        (1..=self.len)
            .take_while(|&k| self.kth_latest(k).is_some_and(|t| t > since))
            .count()
    }

    /// The same history in a buffer of `cap` (the latest `cap` times kept).
    pub(crate) fn resized(&self, cap: usize) -> Ring {
        let mut r = Ring::with_capacity(cap);
        let keep = self.len.min(cap);
        for k in (1..=keep).rev() {
            if let Some(t) = self.kth_latest(k) {
                r.push(t);
            }
        }
        r
    }
}

/// Counters and cadence of one flow (overall, or one venue).
#[derive(Debug, Clone, Default)]
pub(crate) struct Flow {
    pub(crate) counter: Counter,
    pub(crate) ring: Ring,
    pub(crate) last_sent: Option<u64>,
}

impl Flow {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            counter: Counter::default(),
            ring: Ring::with_capacity(cap),
            last_sent: None,
        }
    }

    /// Records a send at `now` (kept in order: a time earlier than the last counts as
    /// the last).
    pub(crate) fn sent(&mut self, notional: Decimal, now: u64, reset_ns: u64) {
        self.counter.add(notional, now, reset_ns);
        let t = self.last_sent.map_or(now, |l| l.max(now));
        self.ring.push(t);
        self.last_sent = Some(t);
    }

    pub(crate) fn resized(&self, cap: usize) -> Flow {
        Flow {
            counter: self.counter,
            ring: self.ring.resized(cap),
            last_sent: self.last_sent,
        }
    }
}

/// One venue's flow and ramp position.
#[derive(Debug, Clone, Default)]
pub(crate) struct VenueState {
    pub(crate) flow: Flow,
    pub(crate) stage: usize,
    pub(crate) clean: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3_600_000_000_000;

    #[test]
    fn periods_start_at_the_reset_time() {
        let day = DAY_NS;
        assert_eq!(period_start(10 * day + 5 * H, 0), i128::from(10 * day));
        assert_eq!(
            period_start(10 * day + 5 * H, 17 * H),
            i128::from(9 * day + 17 * H)
        );
        assert_eq!(
            period_start(10 * day + 17 * H, 17 * H),
            i128::from(10 * day + 17 * H)
        );
        assert_eq!(period_start(H, 17 * H), i128::from(H) - i128::from(8 * H));
    }

    #[test]
    fn ring_keeps_the_latest() {
        let mut r = Ring::with_capacity(3);
        assert_eq!(r.kth_latest(1), None);
        for t in 1..=5 {
            r.push(t);
        }
        assert_eq!(r.kth_latest(1), Some(5));
        assert_eq!(r.kth_latest(3), Some(3));
        assert_eq!(r.kth_latest(4), None);
        assert_eq!(r.count_after(3), 2);
        let big = r.resized(5);
        assert_eq!(
            (big.kth_latest(1), big.kth_latest(3), big.kth_latest(4)),
            (Some(5), Some(3), None)
        );
        let small = r.resized(1);
        assert_eq!((small.kth_latest(1), small.kth_latest(2)), (Some(5), None));
        let mut z = Ring::with_capacity(0);
        z.push(1);
        assert_eq!(z.kth_latest(1), None);
    }
}
