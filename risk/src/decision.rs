//! What the gate is asked and what it answers.

use rust_decimal::Decimal;
use std::fmt;

/// A parent order as the gate sees it.
#[derive(Debug, Clone, Copy)]
pub struct ParentRequest<'a> {
    /// The desk that sent it.
    pub desk: &'a str,
    /// The parent's instrument id, e.g. `USDC/USD`.
    pub instrument: &'a str,
    /// Quantity in the instrument's base units.
    pub qty: Decimal,
    /// Notional in the instrument's quote currency (qty × reference price).
    pub notional: Decimal,
    /// Currency of `notional`, for messages.
    pub currency: &'a str,
}

/// A child order as the gate sees it.
#[derive(Debug, Clone, Copy)]
pub struct ChildRequest<'a> {
    /// The desk whose parent this child belongs to.
    pub desk: &'a str,
    /// The venue the child goes to.
    pub venue: &'a str,
    /// The venue's instrument id.
    pub instrument: &'a str,
    /// Quantity in the venue instrument's base units.
    pub qty: Decimal,
    /// Notional in the parent's quote currency.
    pub notional: Decimal,
}

/// Proof that one child passed the gate: only [`crate::approve`] can make one.
///
/// It records what was approved so the holder cannot reuse it for a larger child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    venue: String,
    qty: Decimal,
}

impl Approved {
    pub(crate) fn new(child: &ChildRequest<'_>) -> Self {
        Self {
            venue: child.venue.to_owned(),
            qty: child.qty,
        }
    }

    /// The venue the approval is for.
    pub fn venue(&self) -> &str {
        &self.venue
    }

    /// The quantity the approval covers; a child may not exceed it.
    pub fn qty(&self) -> Decimal {
        self.qty
    }

    /// Whether this approval covers a child of `qty` at `venue`.
    pub fn covers(&self, venue: &str, qty: Decimal) -> bool {
        self.venue == venue && qty <= self.qty
    }
}

/// The rule a rejected order broke. Stable names: desks and dashboards match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A child larger than the venue's max clip.
    MaxClip,
    /// A parent whose notional is above the desk's maximum.
    MaxParentNotional,
    /// A parent or child with a non-positive quantity.
    NonPositiveQty,
}

impl Rule {
    /// The rule's stable name.
    pub fn name(self) -> &'static str {
        match self {
            Rule::MaxClip => "max clip",
            Rule::MaxParentNotional => "max parent notional",
            Rule::NonPositiveQty => "positive quantity",
        }
    }
}

/// Why the gate said no: the rule, its limit, what was attempted and by how much it
/// broke the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RiskReject {
    /// The rule that was broken.
    pub rule: Rule,
    /// The limit the rule sets.
    pub limit: Decimal,
    /// The value that was attempted.
    pub attempted: Decimal,
    /// The unit of `limit` and `attempted` (a currency or an instrument's base asset).
    pub unit: String,
    /// Where the limit applies (a venue or desk id), if it is scoped.
    pub scope: Option<String>,
}

impl RiskReject {
    /// By how much the attempt exceeded the limit.
    pub fn excess(&self) -> Decimal {
        self.attempted - self.limit
    }
}

impl fmt::Display for RiskReject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "risk: {}", self.rule.name())?;
        if let Some(scope) = &self.scope {
            write!(f, " at {scope}")?;
        }
        match self.rule {
            Rule::NonPositiveQty => write!(f, " required, got {}", self.attempted),
            _ => write!(
                f,
                " {} {} exceeded by {}",
                self.limit.normalize(),
                self.unit,
                self.excess().normalize()
            ),
        }
    }
}
