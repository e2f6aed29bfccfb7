//! What the engine is fed and what it asks the world to do.

use crate::domain::{ChildId, ParentId, ParentStatus, Strategy};
use risk::Approved;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use venues::{Liquidity, Nanos, Side, VenueId, VenueOrder, VenueReport};

/// A desk's new parent order, as ingress decoded it (not yet validated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewParent {
    /// The desk.
    pub desk: String,
    /// The desk's account.
    pub account: Option<String>,
    /// The desk's own order id (ClOrdID).
    pub client_id: String,
    /// Instrument id.
    pub instrument: String,
    /// Side.
    pub side: Side,
    /// Quantity, base units.
    pub qty: Decimal,
    /// Worst net price after fees; `None` for a market order.
    pub limit: Option<Decimal>,
    /// How to work it.
    pub strategy: Strategy,
    /// Largest child the desk wants, parent units.
    pub max_clip: Option<Decimal>,
    /// Venues the desk allows; `None` for all.
    pub venues: Option<Vec<String>>,
}

/// An input to the engine. Every variant serializes, so the journal can record it
/// before the engine acts on it and replay it after a crash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Event {
    /// A desk sent a parent.
    NewParent(NewParent),
    /// A desk asked to cancel a parent.
    CancelParent {
        /// The parent.
        parent: ParentId,
    },
    /// A venue's liquidity changed.
    Liquidity(Liquidity),
    /// A venue reported on a child.
    Venue {
        /// The child.
        child: ChildId,
        /// What the venue said.
        report: VenueReport,
    },
    /// Risk cadence allows a venue again: route what the parent still wants.
    RetryRound {
        /// The parent.
        parent: ParentId,
    },
    /// The risk officer changed something (a kill switch, a limit): the engine acts on
    /// it at once (kill switches cancel their working children) without other input.
    RiskChanged,
    /// A TWAP slice is due.
    SliceDue {
        /// The parent.
        parent: ParentId,
        /// The slice number, from 0.
        slice: u32,
    },
}

/// What a desk is told about its parent (an execution report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum DeskEvent {
    /// The parent was accepted.
    Ack,
    /// A child filled; `qty` and `px` are in parent terms, `px` net of fees.
    Fill {
        /// The venue (LastMkt).
        venue: VenueId,
        /// LastQty.
        qty: Decimal,
        /// LastPx, net per unit.
        px: Decimal,
    },
    /// The parent was refused.
    Rejected {
        /// The rule and the limit, for the desk's Text.
        reason: String,
    },
    /// A cancel request was refused (too late: the parent is done or already
    /// cancelling); the parent itself is unchanged.
    CancelRejected {
        /// Why, for the desk's Text.
        reason: String,
    },
    /// The parent is done.
    Done {
        /// Filled, Cancelled or Expired.
        status: ParentStatus,
        /// Why, when not simply filled.
        reason: String,
    },
}

/// One report to a desk, with the parent's totals after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeskReport {
    /// The parent (OrderID).
    pub parent: ParentId,
    /// The desk's ClOrdID.
    pub client_id: String,
    /// When.
    pub at: Nanos,
    /// What happened.
    pub event: DeskEvent,
    /// Status after it.
    pub status: ParentStatus,
    /// CumQty.
    pub cum_qty: Decimal,
    /// LeavesQty.
    pub leaves_qty: Decimal,
    /// AvgPx (net).
    pub avg_px: Decimal,
}

/// Something the engine asks the world to do.
#[derive(Debug, Clone)]
pub enum Command {
    /// Send a child to a venue; the approval proves it passed the risk gate.
    Send {
        /// The venue.
        venue: VenueId,
        /// The order.
        order: VenueOrder,
        /// The gate's approval for exactly this child.
        approval: Approved,
    },
    /// Cancel a working child.
    Cancel {
        /// The venue.
        venue: VenueId,
        /// The child.
        child: ChildId,
    },
    /// Feed `event` back at time `at`.
    Schedule {
        /// When.
        at: Nanos,
        /// What.
        event: Event,
    },
    /// Tell a desk.
    Desk(DeskReport),
}

#[cfg(test)]
mod tests {
    use super::*;
    use venues::{CurveShape, Level, RejectKind, VenueKind};

    /// The journal relies on every event surviving a JSON round trip unchanged.
    #[test]
    fn every_event_kind_survives_a_json_round_trip() {
        let events = vec![
            Event::NewParent(NewParent {
                desk: "DESK1".into(),
                account: Some("A1".into()),
                client_id: "c-1".into(),
                instrument: "USDC/USD".into(),
                side: Side::Sell,
                qty: Decimal::new(1_000_000, 0),
                limit: Some(Decimal::new(9990, 4)),
                strategy: Strategy::Sweep,
                max_clip: None,
                venues: Some(vec!["lmax".into()]),
            }),
            Event::CancelParent {
                parent: ParentId("P1".into()),
            },
            Event::Liquidity(Liquidity {
                venue: VenueId("lmax".into()),
                kind: VenueKind::Book,
                instrument: "USDC/USD".into(),
                side: Side::Sell,
                shape: CurveShape::Steps(vec![Level {
                    px: Decimal::new(99995, 5),
                    qty: Decimal::new(250_000, 0),
                }]),
                fee_bps: Decimal::new(15, 1),
                fixed_cost: Decimal::ZERO,
                fixed_cost_asset: "USD".into(),
            }),
            Event::Venue {
                child: ChildId("P1.1".into()),
                report: VenueReport::Fill {
                    qty: Decimal::new(12345678, 2),
                    px: Decimal::new(99991, 5),
                    fee: Decimal::new(185, 2),
                    exec_id: "book-x-x42".into(),
                },
            },
            Event::Venue {
                child: ChildId("P1.2".into()),
                report: VenueReport::Rejected {
                    kind: RejectKind::LastLook,
                    reason: "declined".into(),
                },
            },
            Event::RetryRound {
                parent: ParentId("P1".into()),
            },
            Event::RiskChanged,
            Event::SliceDue {
                parent: ParentId("P2".into()),
                slice: 3,
            },
        ];
        for event in events {
            let text = serde_json::to_string(&event).unwrap();
            let back: Event = serde_json::from_str(&text).unwrap();
            assert_eq!(back, event, "{text}");
        }
    }
}
