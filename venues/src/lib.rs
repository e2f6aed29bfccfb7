//! Venues: what the router can see of each one and how a child order is executed there.
//!
//! Every venue, whatever its kind, offers two things to the core:
//!
//! - a [`Liquidity`] snapshot: for the side asked, what executing a quantity there would
//!   pay, as a [`CurveShape`] (book levels, an RFQ ladder, or a sampled smooth pool curve)
//!   with its fee in bps and its fixed cost per child (gas, a ticket fee);
//! - execution of a [`VenueOrder`], answered by [`VenueReport`]s (ack, fills, reject,
//!   expiry).
//!
//! The [`sim`] module holds the venues' logic as in-process simulators behind the
//! [`sim::VenueSim`] trait, so the same logic can later sit behind real protocol servers.

pub mod chain;
mod curve;
pub mod exchange;
pub mod link;
mod order;
pub mod pmm;
pub mod pool_math;
pub mod rfq;
pub mod sim;

pub use curve::{CurveShape, Level, Liquidity, Point, VenueKind};
pub use link::{InlineEvents, InlineSlot, Known, LinkError, LinkEvent, LinkSink, VenueLink};
pub use order::{RejectKind, VenueOrder, VenueReport};

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which way an order trades the instrument's base asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Buy the base asset, pay the quote asset.
    Buy,
    /// Sell the base asset, receive the quote asset.
    Sell,
}

impl Side {
    /// `+1` for a buy, `-1` for a sell: the sign that makes every cost positive.
    ///
    /// ```
    /// use venues::Side;
    /// // A sell below the benchmark costs the desk money: s · (px − b) > 0.
    /// let (px, benchmark) = (0.9990_f64, 1.0_f64);
    /// assert!(f64::from(Side::Sell.sign()) * (px - benchmark) > 0.0);
    /// assert_eq!(Side::Buy.sign(), 1);
    /// ```
    pub fn sign(self) -> i32 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }

    /// Whether price `a` is at least as good as price `b` for a taker on this side.
    ///
    /// ```
    /// use rust_decimal::Decimal;
    /// use venues::Side;
    /// let (hi, lo) = (Decimal::new(10001, 4), Decimal::new(9999, 4));
    /// assert!(Side::Sell.at_least_as_good(hi, lo));
    /// assert!(Side::Buy.at_least_as_good(lo, hi));
    /// assert!(Side::Buy.at_least_as_good(lo, lo));
    /// ```
    pub fn at_least_as_good(self, a: rust_decimal::Decimal, b: rust_decimal::Decimal) -> bool {
        match self {
            Side::Buy => a <= b,
            Side::Sell => a >= b,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        })
    }
}

/// A venue's identifier, as configured (e.g. `dealer-a`, `book-x`, `pool-cwusdc`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VenueId(pub String);

impl VenueId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VenueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Time as nanoseconds since an epoch chosen by the clock (simulated or real).
pub type Nanos = u64;
