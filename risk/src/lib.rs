//! Pre-trade risk gate: decides whether a child order may be sent, and says why not.
//!
//! The gate is a pure library: limits, the order and the time in; a decision with a
//! reason out. It reads no clock and does no I/O on the check path.
//!
//! Two gates sit behind two traits:
//!
//! - [`MinimalGate`] behind the time-less [`RiskGate`] (max clip per venue, max parent
//!   notional), used by the engine today through [`approve`];
//! - [`Gate`], the full layer, behind [`PreTradeGate`] (which [`MinimalGate`] also
//!   implements): limits loaded from TOML ([`Limits`]), clips, parent size and
//!   notional, open and daily notional, cadence, price bands, allow-lists, kill
//!   switches and ramp stages, all against `now` in nanoseconds. [`SharedGate`] shares
//!   one between the engine and an admin server.
//!
//! The engine asks a [`PreTradeGate`]:
//!
//! 1. [`PreTradeGate::check_parent`] when a parent arrives;
//! 2. [`PreTradeGate::room`] per venue before routing, so the router never allocates
//!    more than a venue may take now;
//! 3. [`approve_child`] for every child, which checks it, counts it as sent, and hands
//!    back the [`Approved`] token the send command requires (only [`approve`] and
//!    [`approve_child`] can make one);
//! 4. [`PreTradeGate::on_child_done`] when a child stops working (filled, expired,
//!    cancelled, rejected), with the [`Approved`]'s notional and time;
//! 5. [`PreTradeGate::kill_generation`] / [`PreTradeGate::must_cancel`] to learn which
//!    working children a kill switch asks it to cancel.
//!
//! Every change to a live gate goes through a [`Control`], recorded in the
//! [`AuditLog`] before it takes effect; [`TokenStore`] says who may make one.

mod audit;
mod auth;
mod decision;
mod gate;
mod limits;
mod minimal;
mod request;
mod shared;

pub use audit::{AuditError, AuditLog, AuditRecord, AuditSink, MemoryAudit};
pub use auth::{
    Action, AuthError, Principal, Role, TokenConfigError, TokenStore, authorize, hash_token,
};
pub use decision::{Approved, Retry, RiskReject, Rule};
pub use gate::{
    Actor, Control, ControlError, Gate, GateSnapshot, Kill, KillScope, KillsSnapshot,
    NotionalUsage, RampUsage, StageCause, StageChange, VenueUsage, WindowUsage,
};
pub use limits::{
    ClipLimits, DEFAULT_WINDOW_MS, DeskInstrumentLimits, DeskLimits, InstrumentLimits, Limits,
    LimitsError, MAX_CHILDREN_PER_WINDOW, MAX_DURATION_MS, MAX_STAGES, OverallLimits, Ramp, Stage,
    TimeOfDay, VenueLimits,
};
pub use minimal::{MinimalGate, MinimalLimits};
pub use request::{
    ChildCheck, ChildDone, ChildOutcome, ChildRequest, ParentCheck, ParentRequest, Room,
    RoomRequest, Side,
};
pub use shared::{
    BASELINE, ControlPin, LIMITS_FILE, MAX_UNJOURNALED_CONTROLS, RecordedControl, SharedGate,
};

use rust_decimal::Decimal;

/// A pre-trade risk gate without time or usage: the rules every parent and child order
/// must pass. The engine uses it today; [`PreTradeGate`] supersedes it.
pub trait RiskGate {
    /// Checks a new parent order before it is accepted.
    fn check_parent(&self, parent: &ParentRequest<'_>) -> Result<(), RiskReject>;

    /// Checks one child order the router wants to send.
    fn check_child(&self, child: &ChildRequest<'_>) -> Result<(), RiskReject>;

    /// The largest child quantity (in the venue's own units) this venue may take now,
    /// or `None` when the gate sets no bound.
    fn room(&self, venue: &str) -> Option<Decimal>;
}

/// A pre-trade risk gate with time and usage: what the engine asks before and after
/// every child. `now` is nanoseconds (since the Unix epoch in the live gateway; any
/// monotonic origin in simulation, where daily periods then start at the reset time of
/// day counted from that origin).
pub trait PreTradeGate {
    /// Checks a new parent before it is accepted.
    fn check_parent(&self, parent: &ParentCheck<'_>, now: u64) -> Result<(), RiskReject>;

    /// Checks one child the router wants to send, without counting it.
    fn check_child(&self, child: &ChildCheck<'_>, now: u64) -> Result<(), RiskReject>;

    /// How much a venue may take now, and when cadence next allows a child there.
    fn room(&self, at: &RoomRequest<'_>, now: u64) -> Room;

    /// Counts a child as sent at `now` (open and daily notional, cadence).
    fn on_child_sent(&mut self, child: &ChildCheck<'_>, now: u64);

    /// Releases a child that is no longer working and moves its venue's ramp; returns a
    /// stage change for the engine's log.
    fn on_child_done(&mut self, done: &ChildDone<'_>, now: u64) -> Option<StageChange>;

    /// Checks a child and, if it passes, counts it as sent, in one step.
    fn admit(&mut self, child: &ChildCheck<'_>, now: u64) -> Result<(), RiskReject> {
        self.check_child(child, now)?;
        self.on_child_sent(child, now);
        Ok(())
    }

    /// Counts every kill switch engaged or released; when it moves, the engine asks
    /// [`PreTradeGate::must_cancel`] for each working child.
    fn kill_generation(&self) -> u64 {
        0
    }

    /// Whether a kill switch asks for working children of this desk at this venue to
    /// be cancelled.
    fn must_cancel(&self, desk: &str, venue: &str) -> bool {
        let _ = (desk, venue);
        false
    }
}

/// Runs a child through the time-less gate and, if it passes, hands back the proof that
/// it did.
///
/// ```
/// use risk::{approve, ChildRequest, MinimalGate, MinimalLimits, Rule};
/// use rust_decimal::Decimal;
///
/// let mut limits = MinimalLimits::default();
/// limits.max_clip.insert("dealer-a".into(), Decimal::from(2_000_000));
/// let gate = MinimalGate::new(limits);
/// let child = |qty: i64| ChildRequest {
///     desk: "DESK1",
///     venue: "dealer-a",
///     instrument: "USDC/USD",
///     qty: Decimal::from(qty),
///     notional: Decimal::from(qty),
/// };
/// assert!(approve(&gate, &child(1_000_000)).unwrap().covers("dealer-a", Decimal::from(1_000_000)));
/// let denied = approve(&gate, &child(2_500_000)).unwrap_err();
/// assert_eq!(denied.rule, Rule::MaxClip);
/// assert_eq!(denied.excess(), Decimal::from(500_000));
/// ```
pub fn approve<G: RiskGate + ?Sized>(
    gate: &G,
    child: &ChildRequest<'_>,
) -> Result<Approved, RiskReject> {
    gate.check_child(child)?;
    Ok(Approved::new(child))
}

/// Checks a child, counts it as sent at `now`, and hands back the proof that it passed.
/// The engine calls it for every child and sends only what it approves.
///
/// ```
/// use risk::{approve_child, ChildCheck, Gate, Rule, Side};
/// use rust_decimal::Decimal;
///
/// let mut gate = Gate::from_toml_str(r#"
///     currency = "USD"
///     [desks.DESK1]
///     [venues.dealer-a]
///     max_clip = "2000000"
///     min_spacing_ms = 500
/// "#).unwrap();
/// let child = ChildCheck {
///     desk: "DESK1", parent_instrument: "USDC/USD", venue: "dealer-a",
///     instrument: "USDC/USD", side: Side::Sell, qty: Decimal::from(1_000_000),
///     notional: Decimal::from(1_000_000), limit_px: None, reference_px: None,
/// };
/// let ok = approve_child(&mut gate, &child, 1_000_000_000).unwrap();
/// assert_eq!(ok.approved_at(), 1_000_000_000);
/// let too_soon = approve_child(&mut gate, &child, 1_380_000_000).unwrap_err();
/// assert_eq!(too_soon.rule, Rule::MinSpacing);
/// assert_eq!(too_soon.to_string(), "risk: min spacing at dealer-a 500ms, next child allowed in 120ms");
/// ```
pub fn approve_child<G: PreTradeGate + ?Sized>(
    gate: &mut G,
    child: &ChildCheck<'_>,
    now: u64,
) -> Result<Approved, RiskReject> {
    gate.admit(child, now)?;
    Ok(Approved::checked(child, now))
}
