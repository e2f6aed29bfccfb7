//! Pre-trade risk gate: decides whether a child order may be sent, and says why not.
//!
//! The gate is a pure library: limits and the order in, a decision with a reason out.
//! The engine owns the gate and asks it twice:
//!
//! 1. before routing, for each venue's *room* ([`RiskGate::room`]), so the router never
//!    allocates more than a venue may take;
//! 2. for every child, through [`approve`], which is the only way to obtain an
//!    [`Approved`] token. The engine's send command requires that token, so a child
//!    that did not pass the gate cannot be expressed.
//!
//! This crate holds the minimal gate of the core ([`MinimalGate`]: max clip per venue,
//! max parent notional); the full layer (cadence, bands, ramp stages, kill switch)
//! plugs in behind the same trait.

mod decision;
mod minimal;

pub use decision::{Approved, ChildRequest, ParentRequest, RiskReject, Rule};
pub use minimal::{MinimalGate, MinimalLimits};

use rust_decimal::Decimal;

/// A pre-trade risk gate: the rules every parent and child order must pass.
pub trait RiskGate {
    /// Checks a new parent order before it is accepted.
    fn check_parent(&self, parent: &ParentRequest<'_>) -> Result<(), RiskReject>;

    /// Checks one child order the router wants to send.
    fn check_child(&self, child: &ChildRequest<'_>) -> Result<(), RiskReject>;

    /// The largest child quantity (in the venue's own units) this venue may take now,
    /// or `None` when the gate sets no bound.
    fn room(&self, venue: &str) -> Option<Decimal>;
}

/// Runs a child through the gate and, if it passes, hands back the proof that it did.
///
/// This is the only constructor of [`Approved`].
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
