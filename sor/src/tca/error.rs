//! The errors of a TCA calculation: one per whole-run error code of
//! ../shared/specs/cli-contract.md, each carrying the field it names and why.

use thiserror::Error;

/// Why a calculation was rejected as a whole (benchmark.md section 4, item 7: bad input
/// rejects the whole calculation; there is no partial result).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TcaError {
    /// The line itself cannot be used: not UTF-8, too long, not JSON, not an object, or
    /// a field that belongs to no other group (`constituents`).
    #[error("invalid_input: {0}")]
    InvalidInput(String),
    /// A trade is malformed: its timestamp, venue, price or size.
    #[error("invalid_trade: {0}")]
    InvalidTrade(String),
    /// The window parameters are unusable, e.g. the partition length is not a whole
    /// number of milliseconds.
    #[error("invalid_window: {0}")]
    InvalidWindow(String),
    /// The order is malformed, or its fills exceed its quantity.
    #[error("invalid_order: {0}")]
    InvalidOrder(String),
    /// A fill of the order is malformed.
    #[error("invalid_fill: {0}")]
    InvalidFill(String),
}

impl TcaError {
    /// The error code written in the answer's `error` key.
    pub fn code(&self) -> &'static str {
        match self {
            TcaError::InvalidInput(_) => "invalid_input",
            TcaError::InvalidTrade(_) => "invalid_trade",
            TcaError::InvalidWindow(_) => "invalid_window",
            TcaError::InvalidOrder(_) => "invalid_order",
            TcaError::InvalidFill(_) => "invalid_fill",
        }
    }

    /// The answer's `detail`: which line, trade or field, and why.
    pub fn detail(&self) -> &str {
        match self {
            TcaError::InvalidInput(d)
            | TcaError::InvalidTrade(d)
            | TcaError::InvalidWindow(d)
            | TcaError::InvalidOrder(d)
            | TcaError::InvalidFill(d) => d,
        }
    }
}

/// A sum, product or quotient left the range of `rust_decimal::Decimal` (or divided by
/// a number too small to represent): the inputs are too large or too small to compute
/// exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a figure leaves the exact decimal range")]
pub struct Overflow;
