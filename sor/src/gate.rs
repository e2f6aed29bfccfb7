//! The risk gate the engine runs with: the core's minimal gate (a scenario's `[risk]`
//! table), the full layer (a scenario's `[risk_limits]` table or a limits file), or the
//! full layer shared with the risk officer's admin server (`sor serve`).

use risk::{
    ChildCheck, ChildDone, Gate, MinimalGate, ParentCheck, PreTradeGate, RiskReject, Room,
    RoomRequest, SharedGate, StageChange,
};

/// One of the gates the engine can run with.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one gate per engine, never moved on the hot path
pub enum AnyGate {
    /// Max clip per venue and max parent notional, nothing else.
    Minimal(MinimalGate),
    /// The full layer, owned by the engine.
    Full(Gate),
    /// The full layer, shared with the admin server (changes apply between checks).
    Shared(SharedGate),
    /// Another gate with each child approval timed on the wall clock (the simulator's
    /// per-hop latency, [`crate::sim::hops`]).
    Timed(crate::sim::hops::TimedGate),
}

macro_rules! each {
    ($self:ident, $g:ident => $e:expr) => {
        match $self {
            AnyGate::Minimal($g) => $e,
            AnyGate::Full($g) => $e,
            AnyGate::Shared($g) => $e,
            AnyGate::Timed($g) => $e,
        }
    };
}

impl PreTradeGate for AnyGate {
    fn check_parent(&self, parent: &ParentCheck<'_>, now: u64) -> Result<(), RiskReject> {
        each!(self, g => PreTradeGate::check_parent(g, parent, now))
    }

    fn check_child(&self, child: &ChildCheck<'_>, now: u64) -> Result<(), RiskReject> {
        each!(self, g => PreTradeGate::check_child(g, child, now))
    }

    fn room(&self, at: &RoomRequest<'_>, now: u64) -> Room {
        each!(self, g => PreTradeGate::room(g, at, now))
    }

    fn on_child_sent(&mut self, child: &ChildCheck<'_>, now: u64) {
        each!(self, g => PreTradeGate::on_child_sent(g, child, now))
    }

    fn on_child_done(&mut self, done: &ChildDone<'_>, now: u64) -> Option<StageChange> {
        each!(self, g => PreTradeGate::on_child_done(g, done, now))
    }

    fn admit(&mut self, child: &ChildCheck<'_>, now: u64) -> Result<(), RiskReject> {
        each!(self, g => PreTradeGate::admit(g, child, now))
    }

    fn kill_generation(&self) -> u64 {
        each!(self, g => PreTradeGate::kill_generation(g))
    }

    fn must_cancel(&self, desk: &str, venue: &str) -> bool {
        each!(self, g => PreTradeGate::must_cancel(g, desk, venue))
    }
}
