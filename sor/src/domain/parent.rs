//! The parent order a desk sends, and its state machine.
//!
//! Invariants, checked on every step: `working + filled <= qty`; `filled` is the sum of
//! the fills applied; the average price is `Σ(qty·px) / filled`.

use super::OrderError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use venues::{Nanos, Side};

/// A parent order's id, deterministic within a run (`P1`, `P2`, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ParentId(pub String);

impl fmt::Display for ParentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a parent is worked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Strategy {
    /// Route everything now; re-route what a venue rejects or leaves unfilled.
    Sweep,
    /// Equal slices over `duration`, at least `min_spacing` apart; what a slice leaves
    /// rolls into the next.
    Twap {
        /// Total length.
        duration: Nanos,
        /// Number of slices wanted (fewer if `min_spacing` does not allow them).
        slices: u32,
        /// Least time between two slices.
        min_spacing: Nanos,
    },
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Sweep => f.write_str("SWEEP"),
            Strategy::Twap {
                duration,
                slices,
                min_spacing,
            } => write!(
                f,
                "TWAP {}s in {} slices (>= {}s apart)",
                duration / 1_000_000_000,
                slices,
                min_spacing / 1_000_000_000
            ),
        }
    }
}

/// Where a parent is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParentStatus {
    /// Accepted, nothing filled yet.
    New,
    /// Some filled, more to do.
    PartiallyFilled,
    /// A cancel was asked for; waiting for working children to finish.
    PendingCancel,
    /// Completely filled.
    Filled,
    /// Cancelled by the desk; the remainder will never fill.
    Cancelled,
    /// Refused at entry.
    Rejected,
    /// Done without filling completely (no liquidity within the limit, time is up).
    Expired,
}

impl ParentStatus {
    /// The status's name.
    pub fn name(self) -> &'static str {
        match self {
            ParentStatus::New => "New",
            ParentStatus::PartiallyFilled => "PartiallyFilled",
            ParentStatus::PendingCancel => "PendingCancel",
            ParentStatus::Filled => "Filled",
            ParentStatus::Cancelled => "Cancelled",
            ParentStatus::Rejected => "Rejected",
            ParentStatus::Expired => "Expired",
        }
    }

    /// Whether nothing can happen to the order any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ParentStatus::Filled
                | ParentStatus::Cancelled
                | ParentStatus::Rejected
                | ParentStatus::Expired
        )
    }
}

/// A desk's parent order and its progress.
#[derive(Debug, Clone, Serialize)]
pub struct ParentOrder {
    /// Id.
    pub id: ParentId,
    /// The desk that sent it.
    pub desk: String,
    /// The desk's account, echoed back.
    pub account: Option<String>,
    /// The instrument (e.g. `USDC/USD`).
    pub instrument: String,
    /// Side.
    pub side: Side,
    /// Quantity in the instrument's base units.
    pub qty: Decimal,
    /// Worst acceptable net price per unit after fees; `None` for a market order.
    pub limit: Option<Decimal>,
    /// How it is worked.
    pub strategy: Strategy,
    /// When it arrived.
    pub arrived: Nanos,
    status: ParentStatus,
    filled: Decimal,
    working: Decimal,
    /// Σ qty × net px of the fills, in the quote currency.
    net_amount: Decimal,
}

impl ParentOrder {
    /// A new parent with nothing worked.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: ParentId,
        desk: String,
        account: Option<String>,
        instrument: String,
        side: Side,
        qty: Decimal,
        limit: Option<Decimal>,
        strategy: Strategy,
        arrived: Nanos,
    ) -> Self {
        Self {
            id,
            desk,
            account,
            instrument,
            side,
            qty,
            limit,
            strategy,
            arrived,
            status: ParentStatus::New,
            filled: Decimal::ZERO,
            working: Decimal::ZERO,
            net_amount: Decimal::ZERO,
        }
    }

    /// Current status.
    pub fn status(&self) -> ParentStatus {
        self.status
    }

    /// Cumulative filled quantity (CumQty).
    pub fn filled(&self) -> Decimal {
        self.filled
    }

    /// Quantity out at venues in working children.
    pub fn working(&self) -> Decimal {
        self.working
    }

    /// Quantity neither filled nor working.
    pub fn unworked(&self) -> Decimal {
        self.qty - self.filled - self.working
    }

    /// Quantity still to fill while open (LeavesQty); zero once done.
    pub fn leaves(&self) -> Decimal {
        if self.status.is_terminal() {
            Decimal::ZERO
        } else {
            self.qty - self.filled
        }
    }

    /// Average net price of the fills (AvgPx), zero before the first fill.
    pub fn avg_px(&self) -> Decimal {
        if self.filled.is_zero() {
            Decimal::ZERO
        } else {
            self.net_amount / self.filled
        }
    }

    /// Σ qty × net px of the fills.
    pub fn net_amount(&self) -> Decimal {
        self.net_amount
    }

    fn illegal(&self, to: ParentStatus) -> OrderError {
        OrderError::IllegalTransition {
            order: self.id.0.clone(),
            from: self.status.name(),
            to: to.name(),
        }
    }

    fn check_invariants(&self) {
        assert!(
            self.filled >= Decimal::ZERO && self.working >= Decimal::ZERO,
            "{}: negative filled {} or working {}",
            self.id,
            self.filled,
            self.working
        );
        assert!(
            self.filled + self.working <= self.qty,
            "{}: filled {} + working {} > qty {}",
            self.id,
            self.filled,
            self.working,
            self.qty
        );
    }

    /// Puts `qty` to work in a child; refused if it would work more than is left.
    pub fn reserve(&mut self, qty: Decimal) -> Result<(), OrderError> {
        if self.status.is_terminal() || self.status == ParentStatus::PendingCancel {
            return Err(self.illegal(self.status));
        }
        if qty <= Decimal::ZERO {
            return Err(OrderError::NonPositive {
                order: self.id.0.clone(),
                what: "reserved qty",
                value: qty,
            });
        }
        let total = self.filled + self.working + qty;
        if total > self.qty {
            return Err(OrderError::Overfill {
                order: self.id.0.clone(),
                what: "reserve",
                total,
                qty: self.qty,
            });
        }
        self.working += qty;
        self.check_invariants();
        Ok(())
    }

    /// Returns `qty` of working quantity that will not fill (a child ended short).
    pub fn release(&mut self, qty: Decimal) -> Result<(), OrderError> {
        if qty < Decimal::ZERO || qty > self.working {
            return Err(OrderError::Overfill {
                order: self.id.0.clone(),
                what: "release",
                total: qty,
                qty: self.working,
            });
        }
        self.working -= qty;
        self.check_invariants();
        Ok(())
    }

    /// Applies a fill of `qty` at net price `px` out of working quantity.
    pub fn fill(&mut self, qty: Decimal, px: Decimal) -> Result<(), OrderError> {
        if self.status.is_terminal() {
            return Err(self.illegal(ParentStatus::Filled));
        }
        if qty <= Decimal::ZERO || px <= Decimal::ZERO {
            return Err(OrderError::NonPositive {
                order: self.id.0.clone(),
                what: "fill qty and px",
                value: qty.min(px),
            });
        }
        if qty > self.working {
            return Err(OrderError::Overfill {
                order: self.id.0.clone(),
                what: "fill",
                total: self.filled + qty,
                qty: self.filled + self.working,
            });
        }
        self.working -= qty;
        self.filled += qty;
        self.net_amount += qty * px;
        if self.filled == self.qty {
            self.status = ParentStatus::Filled;
        } else if self.status == ParentStatus::New {
            self.status = ParentStatus::PartiallyFilled;
        }
        self.check_invariants();
        Ok(())
    }

    /// The desk asked to cancel: no new children from now on.
    pub fn request_cancel(&mut self) -> Result<(), OrderError> {
        match self.status {
            ParentStatus::New | ParentStatus::PartiallyFilled => {
                self.status = ParentStatus::PendingCancel;
                Ok(())
            }
            _ => Err(self.illegal(ParentStatus::PendingCancel)),
        }
    }

    /// Ends the order: `Cancelled` after a cancel request, `Expired` otherwise.
    /// Refused while children are still working.
    pub fn finish(&mut self) -> Result<ParentStatus, OrderError> {
        let to = match self.status {
            ParentStatus::PendingCancel => ParentStatus::Cancelled,
            ParentStatus::New | ParentStatus::PartiallyFilled => ParentStatus::Expired,
            _ => return Err(self.illegal(ParentStatus::Expired)),
        };
        if !self.working.is_zero() {
            return Err(self.illegal(to));
        }
        self.status = to;
        Ok(to)
    }

    /// Marks a parent refused at entry (before anything was worked).
    pub fn reject(&mut self) -> Result<(), OrderError> {
        if self.status != ParentStatus::New || !self.working.is_zero() {
            return Err(self.illegal(ParentStatus::Rejected));
        }
        self.status = ParentStatus::Rejected;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn parent(qty: Decimal) -> ParentOrder {
        ParentOrder::new(
            ParentId("P1".into()),
            "DESK1".into(),
            None,
            "USDC/USD".into(),
            Side::Sell,
            qty,
            Some(dec!(0.999)),
            Strategy::Sweep,
            0,
        )
    }

    #[test]
    fn fills_move_new_to_partial_to_filled_with_avg_px() {
        let mut p = parent(dec!(100));
        p.reserve(dec!(100)).unwrap();
        p.fill(dec!(40), dec!(1.0)).unwrap();
        assert_eq!(p.status(), ParentStatus::PartiallyFilled);
        p.fill(dec!(60), dec!(0.9995)).unwrap();
        assert_eq!(p.status(), ParentStatus::Filled);
        assert_eq!(p.avg_px(), (dec!(40) + dec!(60) * dec!(0.9995)) / dec!(100));
        assert_eq!(p.leaves(), dec!(0));
    }

    #[test]
    fn cannot_reserve_or_fill_past_the_quantity() {
        let mut p = parent(dec!(100));
        p.reserve(dec!(70)).unwrap();
        assert!(matches!(
            p.reserve(dec!(31)),
            Err(OrderError::Overfill { .. })
        ));
        assert!(matches!(
            p.fill(dec!(71), dec!(1)),
            Err(OrderError::Overfill { .. })
        ));
        assert_eq!(p.working(), dec!(70));
    }

    #[test]
    fn terminal_states_are_final() {
        let mut p = parent(dec!(10));
        p.reserve(dec!(10)).unwrap();
        p.fill(dec!(10), dec!(1)).unwrap();
        assert!(p.request_cancel().is_err());
        assert!(p.finish().is_err());
        assert!(p.reserve(dec!(1)).is_err());
        let mut p = parent(dec!(10));
        p.finish().unwrap();
        assert_eq!(p.status(), ParentStatus::Expired);
        assert!(p.fill(dec!(1), dec!(1)).is_err());
        assert!(p.request_cancel().is_err());
    }

    #[test]
    fn cancel_waits_for_working_children() {
        let mut p = parent(dec!(10));
        p.reserve(dec!(4)).unwrap();
        p.request_cancel().unwrap();
        assert!(
            p.reserve(dec!(1)).is_err(),
            "no new children after a cancel"
        );
        assert!(p.finish().is_err(), "children still working");
        p.fill(dec!(1), dec!(1)).unwrap();
        p.release(dec!(3)).unwrap();
        assert_eq!(p.finish().unwrap(), ParentStatus::Cancelled);
        assert_eq!(p.filled(), dec!(1));
    }

    #[test]
    fn reject_only_before_work() {
        let mut p = parent(dec!(10));
        p.reserve(dec!(1)).unwrap();
        assert!(p.reject().is_err());
        let mut p = parent(dec!(10));
        p.reject().unwrap();
        assert_eq!(p.status(), ParentStatus::Rejected);
    }
}
