//! What the gate is asked: parents, children, room, and what the engine reports back.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A parent order as the time-less [`crate::RiskGate`] sees it.
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

/// A child order as the time-less [`crate::RiskGate`] sees it.
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

/// Which way an order trades its instrument's base asset, for price bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Buys the base asset: a higher price is worse.
    Buy,
    /// Sells the base asset: a lower price is worse.
    Sell,
}

/// A new parent order as the [`crate::PreTradeGate`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct ParentCheck<'a> {
    /// The desk that sent it.
    pub desk: &'a str,
    /// The parent's instrument id, e.g. `USDC/USD`.
    pub instrument: &'a str,
    /// Buy or sell.
    pub side: Side,
    /// Quantity in the instrument's base units.
    pub qty: Decimal,
    /// Notional in `currency` (qty × reference price).
    pub notional: Decimal,
    /// Currency of `notional`; must be the limits' currency.
    pub currency: &'a str,
    /// The parent's own limit price, if it has one (checked against the fat-finger band).
    pub limit_px: Option<Decimal>,
    /// The reference rate of the instrument at entry, in the same terms as `limit_px`.
    pub reference_px: Option<Decimal>,
}

/// A child order the router wants to send, as the [`crate::PreTradeGate`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct ChildCheck<'a> {
    /// The desk whose parent this child belongs to.
    pub desk: &'a str,
    /// The parent's instrument (selects the desk-instrument allow-list).
    pub parent_instrument: &'a str,
    /// The venue the child goes to.
    pub venue: &'a str,
    /// The venue's instrument id (selects venue-instrument and instrument clips and bands).
    pub instrument: &'a str,
    /// Buy or sell, in the venue instrument's terms.
    pub side: Side,
    /// Quantity in the venue instrument's base units.
    pub qty: Decimal,
    /// Notional in the limits' currency; what daily and open-notional limits count.
    pub notional: Decimal,
    /// The child's limit price (or the accepted quote's price), in the venue
    /// instrument's terms.
    pub limit_px: Option<Decimal>,
    /// The reference rate in the venue instrument's terms.
    pub reference_px: Option<Decimal>,
}

/// Where the router wants to know the room: one venue for one desk's parent.
#[derive(Debug, Clone, Copy)]
pub struct RoomRequest<'a> {
    /// The desk whose parent is being routed.
    pub desk: &'a str,
    /// The parent's instrument.
    pub parent_instrument: &'a str,
    /// The venue.
    pub venue: &'a str,
    /// The venue's instrument.
    pub instrument: &'a str,
    /// Notional (in the limits' currency) per unit of the venue instrument's quantity,
    /// to turn the notional room into a quantity; `None` leaves notional limits out of
    /// `max_qty` (they are still reported in `max_notional` and enforced by the check).
    pub notional_per_unit: Option<Decimal>,
}

/// How much a venue may take now: the answer to [`crate::PreTradeGate::room`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Room {
    /// The largest child quantity allowed now, in the venue instrument's units: the
    /// least of every clip (venue, venue-instrument, instrument, ramp stage) and the
    /// notional room divided by `notional_per_unit` (rounded down to 12 decimals).
    /// `Some(0)` when nothing may go there; `None` when nothing bounds it.
    pub max_qty: Option<Decimal>,
    /// The smallest child allowed (the largest min clip), if any.
    pub min_qty: Option<Decimal>,
    /// The notional room left (least of the open and daily rooms), if any is bounded.
    pub max_notional: Option<Decimal>,
    /// When cadence forbids a child now: the first time one is allowed.
    pub next_allowed_at: Option<u64>,
    /// Why `max_qty` is zero, when a rule shuts the venue (kill switch, allow-list,
    /// unknown name, notional used up).
    pub blocked: Option<crate::Rule>,
}

/// How a child ended, for ramp stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChildOutcome {
    /// Filled (fully or partly) with no error: counts toward graduation.
    CleanFill,
    /// Ended without a fill and without an error (cancelled, IOC expiry, quote not
    /// taken): changes no ramp counter.
    NoFill,
    /// A venue reject, a timeout, a revert, an exception: demotes the venue one stage
    /// and resets its clean-fill count.
    Error,
}

/// What the engine tells the gate when a child it approved is done (no longer working).
#[derive(Debug, Clone, Copy)]
pub struct ChildDone<'a> {
    /// The child's desk.
    pub desk: &'a str,
    /// The child's venue.
    pub venue: &'a str,
    /// [`crate::Approved::approved_at`] of the child.
    pub sent_at: u64,
    /// [`crate::Approved::notional`] of the child: released from open notional.
    pub sent_notional: Decimal,
    /// The notional that was filled; the rest is given back to the daily caps when the
    /// child was sent in the current daily period.
    pub filled_notional: Decimal,
    /// How it ended.
    pub outcome: ChildOutcome,
}
