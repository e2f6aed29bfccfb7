//! The domain model: instruments and their precision, how venue instruments count
//! toward a parent's, and the parent and child order state machines.

mod child;
mod instrument;
mod parent;
mod valuation;

pub use child::{ChildId, ChildOrder, ChildStatus};
pub use instrument::{Instrument, InstrumentError, Instruments};
pub use parent::{ParentId, ParentOrder, ParentStatus, Strategy};
pub use valuation::{Conversion, Valuation, ValuationError};

use rust_decimal::Decimal;

/// An illegal step of an order's life: the state machine refused it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// The event is not allowed in the order's current status.
    #[error("{order}: illegal transition {from} -> {to}")]
    IllegalTransition {
        /// The order's id.
        order: String,
        /// Status before.
        from: &'static str,
        /// Status the event asked for.
        to: &'static str,
    },
    /// The event would fill or work more than the order's quantity.
    #[error("{order}: {what} would make {total} of {qty}")]
    Overfill {
        /// The order's id.
        order: String,
        /// What was attempted.
        what: &'static str,
        /// The total it would reach.
        total: Decimal,
        /// The order's quantity.
        qty: Decimal,
    },
    /// A fill or reservation with a non-positive quantity or price.
    #[error("{order}: {what} must be positive, got {value}")]
    NonPositive {
        /// The order's id.
        order: String,
        /// The field.
        what: &'static str,
        /// The value.
        value: Decimal,
    },
}
