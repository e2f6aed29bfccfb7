//! A child order as a venue sees it, and what the venue answers.

use crate::Side;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A child order sent to a venue: take up to `qty` no worse than `limit_px`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueOrder {
    /// The child's client order id: deterministic, unique for the gateway.
    pub client_id: String,
    /// The venue's instrument id.
    pub instrument: String,
    /// The taker's side.
    pub side: Side,
    /// Quantity in base units.
    pub qty: Decimal,
    /// Worst acceptable gross price per base unit (before fees), in venue terms.
    pub limit_px: Decimal,
}

/// Why a venue refused or could not complete a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectKind {
    /// The dealer's last look declined the trade.
    LastLook,
    /// The quote expired before it was accepted.
    QuoteExpired,
    /// The firm quote was worse than the child's limit.
    QuoteOffLimit,
    /// Nothing could be filled within the limit.
    NoLiquidity,
    /// The order itself was invalid (size, instrument).
    Invalid,
    /// An on-chain swap reverted.
    Revert,
    /// The order never reached the venue (disconnected, outbound queue full).
    Unreachable,
}

/// One report from a venue about a child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum VenueReport {
    /// The venue took the order.
    Ack,
    /// Part or all of the order traded.
    Fill {
        /// Base quantity traded.
        qty: Decimal,
        /// Gross price per base unit, in venue terms.
        px: Decimal,
        /// Fee charged, in the venue instrument's quote asset.
        fee: Decimal,
        /// The venue's id for this execution (FIX ExecID, an RFQ trade id, a chain
        /// transaction hash): the same execution reported twice carries the same id,
        /// so the engine applies it once. Empty when the venue gave none (then it
        /// cannot be told from a second fill and is never deduplicated).
        exec_id: String,
    },
    /// A fixed cost was charged for the child (gas for a swap, filled or reverted), in
    /// the venue's fixed-cost asset.
    FixedCost {
        /// The amount charged.
        amount: Decimal,
    },
    /// The venue refused the order; nothing traded.
    Rejected {
        /// The kind of refusal.
        kind: RejectKind,
        /// The venue's words.
        reason: String,
    },
    /// The order is done and `unfilled` of it will never trade (an IOC remainder).
    Expired {
        /// Quantity that did not trade.
        unfilled: Decimal,
    },
}

impl VenueReport {
    /// The base quantity `reports` filled in all.
    pub fn filled(reports: &[VenueReport]) -> Decimal {
        reports
            .iter()
            .map(|r| match r {
                VenueReport::Fill { qty, .. } => *qty,
                _ => Decimal::ZERO,
            })
            .sum()
    }
}
