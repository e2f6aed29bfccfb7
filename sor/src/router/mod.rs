//! The router: splits a slice across venues so that it pays the most (or costs the
//! least) net of fees and fixed costs, never past the limit.
//!
//! Each venue is turned once, when its liquidity changes, into a [`RouteVenue`] in the
//! parent's own terms (see [`RouteVenue::from_liquidity`]); [`Router::solve`] then splits
//! a quantity over them:
//!
//! - books and pools are *continuous*: their segments are poured in order of marginal
//!   net price (water-filling), each venue up to its cap;
//! - an RFQ ladder is a *choice* per dealer: which tier (or none) to ask for, since the
//!   whole child gets the tier's price; every useful combination is tried;
//! - a venue with a fixed cost per child (gas) is tried on and off.
//!
//! The best combination places the most quantity within the limit and, among those,
//! costs the least. The inner search runs in `f64`; the winning plan is rebuilt in
//! `Decimal`, so child quantities and expected amounts are exact.

mod curve;
mod solver;

pub use curve::{RouteShape, RouteVenue, Segment};
pub use solver::{
    Allocation, MAX_DEALERS, MAX_FIXED, MAX_TIERS, RouteBook, RoutePlan, RouteRequest, Router,
};
