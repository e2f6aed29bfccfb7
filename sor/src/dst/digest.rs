//! What the engine's state is, in values that compare: the facts of each parent and
//! child (cheap, checked after every step) and the full digest compared across a crash.

use crate::domain::{ChildId, ChildOrder, ChildStatus, ParentId, ParentStatus};
use crate::engine::{Engine, ParentRecord};
use risk::PreTradeGate;
use rust_decimal::Decimal;
use venues::{Nanos, VenueId};

/// A parent's quantities and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParentFacts {
    /// Status.
    pub status: ParentStatus,
    /// Quantity.
    pub qty: Decimal,
    /// Filled (CumQty).
    pub filled: Decimal,
    /// Out at venues.
    pub working: Decimal,
    /// Σ qty × net px.
    pub net_amount: Decimal,
    /// Fees paid.
    pub fees: Decimal,
    /// Gas paid.
    pub fixed_costs: Decimal,
    /// Children sent.
    pub children: usize,
}

impl ParentFacts {
    /// The facts of `rec`.
    pub fn of(rec: &ParentRecord) -> Self {
        Self {
            status: rec.order.status(),
            qty: rec.order.qty,
            filled: rec.order.filled(),
            working: rec.order.working(),
            net_amount: rec.order.net_amount(),
            fees: rec.fees,
            fixed_costs: rec.fixed_costs,
            children: rec.children.len(),
        }
    }
}

/// A child's quantities and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildFacts {
    /// Status.
    pub status: ChildStatus,
    /// Quantity, venue units.
    pub qty: Decimal,
    /// Filled, venue units.
    pub filled: Decimal,
    /// Σ qty × gross px.
    pub gross_amount: Decimal,
    /// Fees.
    pub fees: Decimal,
    /// Gas.
    pub fixed_cost: Decimal,
}

impl ChildFacts {
    /// The facts of `c`.
    pub fn of(c: &ChildOrder) -> Self {
        Self {
            status: c.status(),
            qty: c.qty,
            filled: c.filled(),
            gross_amount: c.gross_amount(),
            fees: c.fees(),
            fixed_cost: c.fixed_cost(),
        }
    }
}

/// One parent in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentDigest {
    /// Id.
    pub id: ParentId,
    /// The desk's ClOrdID.
    pub client_id: String,
    /// Quantities and status.
    pub facts: ParentFacts,
    /// Its children, in order.
    pub children: Vec<ChildId>,
    /// Average net price.
    pub avg_px: Decimal,
    /// Routing rounds run.
    pub rounds: u32,
    /// Risk denials counted.
    pub risk_denials: usize,
    /// Why it ended.
    pub reason: Option<String>,
    /// When it ended.
    pub finished_at: Option<Nanos>,
}

/// One child in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildDigest {
    /// Id.
    pub id: ChildId,
    /// Its parent.
    pub parent: ParentId,
    /// Venue.
    pub venue: VenueId,
    /// Limit price.
    pub limit_px: Decimal,
    /// Quantities and status.
    pub facts: ChildFacts,
}

/// The engine's whole order state, to compare before a crash and after recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDigest {
    /// Every parent, by id.
    pub parents: Vec<ParentDigest>,
    /// Every child, by id.
    pub children: Vec<ChildDigest>,
    /// Ramp stage moves.
    pub stage_changes: Vec<String>,
    /// Duplicate fills ignored.
    pub duplicate_fills: u64,
}

impl StateDigest {
    /// The digest of `engine`.
    pub fn of<G: PreTradeGate>(engine: &Engine<G>) -> Self {
        Self {
            parents: engine
                .parents()
                .iter()
                .map(|(id, rec)| ParentDigest {
                    id: id.clone(),
                    client_id: rec.client_id.clone(),
                    facts: ParentFacts::of(rec),
                    children: rec.children.clone(),
                    avg_px: rec.order.avg_px(),
                    rounds: rec.rounds,
                    risk_denials: rec.risk_denial_count,
                    reason: rec.reason.clone(),
                    finished_at: rec.finished_at,
                })
                .collect(),
            children: engine
                .children()
                .iter()
                .map(|(id, c)| ChildDigest {
                    id: id.clone(),
                    parent: c.parent.clone(),
                    venue: c.venue.clone(),
                    limit_px: c.limit_px,
                    facts: ChildFacts::of(c),
                })
                .collect(),
            stage_changes: engine.stage_changes().to_vec(),
            duplicate_fills: engine.duplicate_fills(),
        }
    }

    /// The first way `after` differs from `self`, in words; `None` when equal.
    pub fn first_difference(&self, after: &StateDigest) -> Option<String> {
        if self.parents.len() != after.parents.len() {
            return Some(format!(
                "{} parents before, {} after",
                self.parents.len(),
                after.parents.len()
            ));
        }
        for (a, b) in self.parents.iter().zip(&after.parents) {
            if a != b {
                return Some(format!("parent {}: before {a:?}, after {b:?}", a.id));
            }
        }
        if self.children.len() != after.children.len() {
            return Some(format!(
                "{} children before, {} after",
                self.children.len(),
                after.children.len()
            ));
        }
        for (a, b) in self.children.iter().zip(&after.children) {
            if a != b {
                return Some(format!("child {}: before {a:?}, after {b:?}", a.id));
            }
        }
        if self.stage_changes != after.stage_changes {
            return Some(format!(
                "ramp stage moves before {:?}, after {:?}",
                self.stage_changes, after.stage_changes
            ));
        }
        if self.duplicate_fills != after.duplicate_fills {
            return Some(format!(
                "duplicate fills ignored: {} before, {} after",
                self.duplicate_fills, after.duplicate_fills
            ));
        }
        None
    }
}
