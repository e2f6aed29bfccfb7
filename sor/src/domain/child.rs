//! A child order at one venue, and its state machine.
//!
//! Quantities and prices are in the venue instrument's own terms; the [`Conversion`]
//! turns them into the parent's.

use super::{Conversion, OrderError, ParentId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use venues::{Side, VenueId};

/// A child's client order id: `<parent>.<n>`, deterministic, unique in the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChildId(pub String);

impl fmt::Display for ChildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a child is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChildStatus {
    /// Sent, not yet acknowledged.
    PendingNew,
    /// Acknowledged by the venue.
    New,
    /// Some filled.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Refused by the venue; nothing traded.
    Rejected,
    /// Done with a remainder that will never trade (IOC).
    Expired,
    /// Cancelled at our request.
    Cancelled,
}

impl ChildStatus {
    /// The status's name.
    pub fn name(self) -> &'static str {
        match self {
            ChildStatus::PendingNew => "PendingNew",
            ChildStatus::New => "New",
            ChildStatus::PartiallyFilled => "PartiallyFilled",
            ChildStatus::Filled => "Filled",
            ChildStatus::Rejected => "Rejected",
            ChildStatus::Expired => "Expired",
            ChildStatus::Cancelled => "Cancelled",
        }
    }

    /// Whether nothing can happen to the child any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ChildStatus::Filled
                | ChildStatus::Rejected
                | ChildStatus::Expired
                | ChildStatus::Cancelled
        )
    }
}

/// A child order and what has happened to it.
#[derive(Debug, Clone, Serialize)]
pub struct ChildOrder {
    /// Client order id.
    pub id: ChildId,
    /// The parent it works for.
    pub parent: ParentId,
    /// The venue.
    pub venue: VenueId,
    /// The venue's instrument.
    pub instrument: String,
    /// Side.
    pub side: Side,
    /// Quantity in venue base units.
    pub qty: Decimal,
    /// Worst gross price per venue base unit.
    pub limit_px: Decimal,
    /// How it counts toward the parent.
    #[serde(skip)]
    pub conversion: Conversion,
    /// Value of one unit of the venue's fixed-cost asset in the parent's quote currency.
    pub fixed_cost_value: Decimal,
    status: ChildStatus,
    filled: Decimal,
    gross_amount: Decimal,
    fees: Decimal,
    fixed_cost: Decimal,
    /// The venue execution ids of the fills applied (a repeated one is a duplicate).
    #[serde(skip)]
    exec_ids: Vec<String>,
}

impl ChildOrder {
    /// A child just sent.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: ChildId,
        parent: ParentId,
        venue: VenueId,
        instrument: String,
        side: Side,
        qty: Decimal,
        limit_px: Decimal,
        conversion: Conversion,
    ) -> Self {
        Self {
            id,
            parent,
            venue,
            instrument,
            side,
            qty,
            limit_px,
            conversion,
            fixed_cost_value: Decimal::ONE,
            status: ChildStatus::PendingNew,
            filled: Decimal::ZERO,
            gross_amount: Decimal::ZERO,
            fees: Decimal::ZERO,
            fixed_cost: Decimal::ZERO,
            exec_ids: Vec::new(),
        }
    }

    /// Whether a fill with venue execution id `exec_id` was applied to it.
    pub fn has_exec(&self, exec_id: &str) -> bool {
        self.exec_ids.iter().any(|e| e == exec_id)
    }

    /// Records that the fill with venue execution id `exec_id` was applied.
    pub(crate) fn note_exec(&mut self, exec_id: String) {
        self.exec_ids.push(exec_id);
    }

    /// Current status.
    pub fn status(&self) -> ChildStatus {
        self.status
    }

    /// Filled quantity, venue units.
    pub fn filled(&self) -> Decimal {
        self.filled
    }

    /// Quantity that may still fill.
    pub fn leaves(&self) -> Decimal {
        if self.status.is_terminal() {
            Decimal::ZERO
        } else {
            self.qty - self.filled
        }
    }

    /// Σ qty × gross px of the fills, venue quote units.
    pub fn gross_amount(&self) -> Decimal {
        self.gross_amount
    }

    /// Fees charged, venue quote units.
    pub fn fees(&self) -> Decimal {
        self.fees
    }

    /// Fixed costs charged (gas), in the venue's fixed-cost asset.
    pub fn fixed_cost(&self) -> Decimal {
        self.fixed_cost
    }

    fn illegal(&self, to: ChildStatus) -> OrderError {
        OrderError::IllegalTransition {
            order: self.id.0.clone(),
            from: self.status.name(),
            to: to.name(),
        }
    }

    /// The venue acknowledged the child.
    pub fn ack(&mut self) -> Result<(), OrderError> {
        if self.status != ChildStatus::PendingNew {
            return Err(self.illegal(ChildStatus::New));
        }
        self.status = ChildStatus::New;
        Ok(())
    }

    /// A fill of `qty` at gross `px` with `fee`; refused past the child's quantity.
    pub fn fill(
        &mut self,
        qty: Decimal,
        px: Decimal,
        fee: Decimal,
    ) -> Result<ChildStatus, OrderError> {
        if self.status.is_terminal() {
            return Err(self.illegal(ChildStatus::Filled));
        }
        if qty <= Decimal::ZERO || px <= Decimal::ZERO {
            return Err(OrderError::NonPositive {
                order: self.id.0.clone(),
                what: "fill qty and px",
                value: qty.min(px),
            });
        }
        if self.filled + qty > self.qty {
            return Err(OrderError::Overfill {
                order: self.id.0.clone(),
                what: "fill",
                total: self.filled + qty,
                qty: self.qty,
            });
        }
        self.filled += qty;
        self.gross_amount += qty * px;
        self.fees += fee;
        self.status = if self.filled == self.qty {
            ChildStatus::Filled
        } else {
            ChildStatus::PartiallyFilled
        };
        Ok(self.status)
    }

    /// A fixed cost (gas) was charged; allowed in any status, it changes none.
    pub fn charge(&mut self, amount: Decimal) {
        self.fixed_cost += amount;
    }

    /// The venue refused the child before anything traded.
    pub fn reject(&mut self) -> Result<(), OrderError> {
        match self.status {
            ChildStatus::PendingNew | ChildStatus::New => {
                self.status = ChildStatus::Rejected;
                Ok(())
            }
            _ => Err(self.illegal(ChildStatus::Rejected)),
        }
    }

    /// The venue ended the child with `unfilled` left; it must be exactly what was left.
    pub fn expire(&mut self, unfilled: Decimal) -> Result<Decimal, OrderError> {
        self.end(ChildStatus::Expired, unfilled)
    }

    /// The venue confirmed our cancel with `unfilled` left.
    pub fn cancelled(&mut self, unfilled: Decimal) -> Result<Decimal, OrderError> {
        self.end(ChildStatus::Cancelled, unfilled)
    }

    fn end(&mut self, to: ChildStatus, unfilled: Decimal) -> Result<Decimal, OrderError> {
        if self.status.is_terminal() {
            return Err(self.illegal(to));
        }
        let left = self.qty - self.filled;
        if unfilled != left {
            return Err(OrderError::Overfill {
                order: self.id.0.clone(),
                what: "unfilled remainder",
                total: self.filled + unfilled,
                qty: self.qty,
            });
        }
        self.status = to;
        Ok(left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn child() -> ChildOrder {
        ChildOrder::new(
            ChildId("P1.1".into()),
            ParentId("P1".into()),
            VenueId("book".into()),
            "USDC/USD".into(),
            Side::Sell,
            dec!(100),
            dec!(0.999),
            Conversion::IDENTITY,
        )
    }

    #[test]
    fn ack_fill_fill_is_legal() {
        let mut c = child();
        c.ack().unwrap();
        assert_eq!(
            c.fill(dec!(30), dec!(1), dec!(0)).unwrap(),
            ChildStatus::PartiallyFilled
        );
        assert_eq!(
            c.fill(dec!(70), dec!(1), dec!(0)).unwrap(),
            ChildStatus::Filled
        );
        assert_eq!(c.leaves(), dec!(0));
    }

    #[test]
    fn illegal_transitions_are_errors() {
        let mut c = child();
        c.ack().unwrap();
        assert!(c.ack().is_err(), "double ack");
        c.fill(dec!(10), dec!(1), dec!(0)).unwrap();
        assert!(c.reject().is_err(), "reject after a fill");
        assert!(c.fill(dec!(91), dec!(1), dec!(0)).is_err(), "overfill");
        assert!(c.expire(dec!(80)).is_err(), "wrong remainder");
        assert_eq!(c.expire(dec!(90)).unwrap(), dec!(90));
        assert!(
            c.fill(dec!(1), dec!(1), dec!(0)).is_err(),
            "fill after expiry"
        );
        assert!(c.cancelled(dec!(0)).is_err(), "terminal is final");
    }

    #[test]
    fn reject_before_or_after_ack_and_gas_in_any_state() {
        let mut c = child();
        c.charge(dec!(0.05));
        c.reject().unwrap();
        c.charge(dec!(0.05));
        assert_eq!(c.fixed_cost(), dec!(0.10));
        assert_eq!(c.status(), ChildStatus::Rejected);
        assert!(c.expire(dec!(100)).is_err());
    }
}
