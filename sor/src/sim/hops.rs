//! Per-hop latency of a simulated run: the wall time of each child's risk approval, and
//! the simulated time of each hop a child makes (engine → venue, venue → ack, ack →
//! fill, fill → desk report), taken from the instants the runner's events happen at.
//!
//! The simulated hops are what the scenario's venues model: a one-way latency each way
//! (`latency_ms / 2`) and a dealer's accept delay. In-process venues execute a child on
//! arrival and send its ack and fills together, and the engine takes no simulated time,
//! so `ack → fill` and `fill → desk report` are zero in every shipped scenario: they are
//! measured, not assumed, and would show a venue or engine model that spreads them out.
//!
//! The risk check is timed by [`TimedGate`], a wrapper the runner puts around the gate
//! ([`crate::gate::AnyGate::Timed`]); the engine's own code is unchanged and the live
//! gateway never uses the wrapper.

use crate::domain::ParentId;
use crate::gate::AnyGate;
use hdrhistogram::Histogram;
use risk::{
    ChildCheck, ChildDone, ParentCheck, PreTradeGate, RiskReject, Room, RoomRequest, StageChange,
};
use std::collections::HashMap;
use std::time::Instant;
use venues::Nanos;

/// Highest value a hop histogram holds: one simulated hour, in nanoseconds.
pub const HOP_MAX_NS: u64 = 3_600_000_000_000;

/// An empty histogram for a hop: 1 ns to [`HOP_MAX_NS`], 3 significant figures.
pub fn hop_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HOP_MAX_NS, 3)
        .expect("1 ns to 1 h at 3 significant figures is a valid histogram")
}

/// Records `v` (clamped to the histogram's range).
fn put(h: &mut Histogram<u64>, v: u64) {
    let _ = h.record(v.min(HOP_MAX_NS));
}

/// The hop histograms of one run.
#[derive(Debug, Clone)]
pub struct SimHops {
    /// Wall ns per child approval (`PreTradeGate::admit`), approved or denied.
    pub risk_check: Histogram<u64>,
    /// Simulated ns from a child's sending to its arrival at the venue.
    pub engine_to_venue: Histogram<u64>,
    /// Simulated ns from a child's arrival at the venue to its first answer (ack or
    /// refusal) reaching the engine: the venue's processing and the wire back.
    pub venue_to_ack: Histogram<u64>,
    /// Simulated ns from a child's ack reaching the engine to each of its fills doing so.
    pub ack_to_fill: Histogram<u64>,
    /// Simulated ns from a fill reaching the engine to the desk report that carries it.
    pub fill_to_desk: Histogram<u64>,
    arrived: HashMap<String, Nanos>,
    acked: HashMap<String, Nanos>,
    fills_waiting: HashMap<ParentId, Vec<Nanos>>,
}

impl Default for SimHops {
    fn default() -> Self {
        Self {
            risk_check: hop_histogram(),
            engine_to_venue: hop_histogram(),
            venue_to_ack: hop_histogram(),
            ack_to_fill: hop_histogram(),
            fill_to_desk: hop_histogram(),
            arrived: HashMap::new(),
            acked: HashMap::new(),
            fills_waiting: HashMap::new(),
        }
    }
}

impl SimHops {
    /// A child sent at `sent` reached its venue at `at`.
    pub fn arrived(&mut self, child: &str, sent: Option<Nanos>, at: Nanos) {
        if let Some(sent) = sent {
            put(&mut self.engine_to_venue, at.saturating_sub(sent));
        }
        self.arrived.insert(child.to_owned(), at);
    }

    /// The venue's ack or refusal of `child` reached the engine at `at` (only the first
    /// answer of a child counts).
    pub fn answered(&mut self, child: &str, at: Nanos) {
        if self.acked.contains_key(child) {
            return;
        }
        if let Some(arrived) = self.arrived.get(child) {
            put(&mut self.venue_to_ack, at.saturating_sub(*arrived));
        }
        self.acked.insert(child.to_owned(), at);
    }

    /// A fill of `child` (of `parent`) reached the engine at `at`.
    pub fn filled(&mut self, child: &str, parent: Option<&ParentId>, at: Nanos) {
        let since = self
            .acked
            .get(child)
            .or_else(|| self.arrived.get(child))
            .copied();
        if let Some(since) = since {
            put(&mut self.ack_to_fill, at.saturating_sub(since));
        }
        if let Some(p) = parent {
            let waiting = self.fills_waiting.entry(p.clone()).or_default();
            // Bounded by the parent's fills; a desk report drains them.
            waiting.push(at);
        }
    }

    /// A desk report for `parent` left the engine at `at`: it carries every fill of that
    /// parent the engine had taken before it.
    pub fn desk_report(&mut self, parent: &ParentId, at: Nanos) {
        if let Some(waiting) = self.fills_waiting.remove(parent) {
            for t in waiting {
                put(&mut self.fill_to_desk, at.saturating_sub(t));
            }
        }
    }

    /// Forgets the per-child trackers (the histograms stay).
    pub fn finish(&mut self) {
        self.arrived = HashMap::new();
        self.acked = HashMap::new();
        self.fills_waiting = HashMap::new();
    }
}

/// A gate that times each child approval on the wall clock: for the simulator's
/// per-hop latency. Every other call goes straight to the gate inside.
#[derive(Debug)]
pub struct TimedGate {
    inner: Box<AnyGate>,
    admit_ns: Histogram<u64>,
}

impl TimedGate {
    /// Wraps `inner`.
    pub fn new(inner: AnyGate) -> Self {
        Self {
            inner: Box::new(inner),
            admit_ns: hop_histogram(),
        }
    }

    /// Wall ns per approval so far.
    pub fn admit_ns(&self) -> &Histogram<u64> {
        &self.admit_ns
    }

    /// The gate inside.
    pub fn inner(&self) -> &AnyGate {
        &self.inner
    }
}

impl PreTradeGate for TimedGate {
    fn check_parent(&self, parent: &ParentCheck<'_>, now: u64) -> Result<(), RiskReject> {
        self.inner.check_parent(parent, now)
    }

    fn check_child(&self, child: &ChildCheck<'_>, now: u64) -> Result<(), RiskReject> {
        self.inner.check_child(child, now)
    }

    fn room(&self, at: &RoomRequest<'_>, now: u64) -> Room {
        self.inner.room(at, now)
    }

    fn on_child_sent(&mut self, child: &ChildCheck<'_>, now: u64) {
        self.inner.on_child_sent(child, now);
    }

    fn on_child_done(&mut self, done: &ChildDone<'_>, now: u64) -> Option<StageChange> {
        self.inner.on_child_done(done, now)
    }

    fn admit(&mut self, child: &ChildCheck<'_>, now: u64) -> Result<(), RiskReject> {
        let started = Instant::now();
        let answer = self.inner.admit(child, now);
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        put(&mut self.admit_ns, ns.max(1));
        answer
    }

    fn kill_generation(&self) -> u64 {
        self.inner.kill_generation()
    }

    fn must_cancel(&self, desk: &str, venue: &str) -> bool {
        self.inner.must_cancel(desk, venue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_hop_is_measured_from_the_instant_before_it() {
        let mut h = SimHops::default();
        let p = ParentId("P1".into());
        h.arrived("P1.1", Some(100), 20_100);
        h.answered("P1.1", 70_100);
        h.answered("P1.1", 90_000); // a second answer does not count
        h.filled("P1.1", Some(&p), 70_100);
        h.desk_report(&p, 70_100);
        // hdrhistogram reports a bucket's highest equivalent value.
        assert!(
            h.engine_to_venue
                .equivalent(h.engine_to_venue.max(), 20_000)
        );
        assert_eq!(h.venue_to_ack.len(), 1);
        assert!(h.venue_to_ack.equivalent(h.venue_to_ack.max(), 50_000));
        assert_eq!((h.ack_to_fill.len(), h.ack_to_fill.max()), (1, 0));
        assert_eq!((h.fill_to_desk.len(), h.fill_to_desk.max()), (1, 0));
    }
}
