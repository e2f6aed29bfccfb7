//! Liquidity snapshots: what executing a quantity at a venue would pay.

use crate::{Side, VenueId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The kind of venue, which decides how its liquidity is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VenueKind {
    /// An exchange limit order book (taker fee, IOC children).
    Book,
    /// An OTC dealer answering requests for quote (firm quote, last look).
    Rfq,
    /// An on-chain PMM pool (exact pool math, gas per swap).
    Pool,
}

/// A price and the quantity available at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// Price in the venue instrument's quote per base unit, before fees.
    pub px: Decimal,
    /// Quantity in base units.
    pub qty: Decimal,
}

/// One sample of a smooth curve: selling or buying `qty` in total yields `amount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    /// Cumulative base quantity.
    pub qty: Decimal,
    /// Cumulative quote amount received (sell) or paid (buy), after the pool's own fees.
    pub amount: Decimal,
}

/// The shape of a venue's liquidity for one side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "shape", content = "points")]
pub enum CurveShape {
    /// Book levels, best first: each level's price applies to its own quantity.
    Steps(Vec<Level>),
    /// An RFQ ladder, smallest tier first: a child of size `q` up to a tier's quantity
    /// trades *all* of `q` at the price of the smallest tier that holds it.
    Tiers(Vec<Level>),
    /// A smooth concave curve sampled from the venue's exact math, smallest first,
    /// starting after zero; between samples the router interpolates linearly, which
    /// never overstates what the venue pays.
    Smooth(Vec<Point>),
}

impl CurveShape {
    /// Total base quantity the shape offers.
    pub fn depth(&self) -> Decimal {
        match self {
            CurveShape::Steps(levels) => levels.iter().map(|l| l.qty).sum(),
            CurveShape::Tiers(tiers) => tiers.last().map_or(Decimal::ZERO, |t| t.qty),
            CurveShape::Smooth(points) => points.last().map_or(Decimal::ZERO, |p| p.qty),
        }
    }
}

/// What a venue offers a taker on one side, now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Liquidity {
    /// The venue.
    pub venue: VenueId,
    /// The venue's kind.
    pub kind: VenueKind,
    /// The venue's instrument id.
    pub instrument: String,
    /// The taker's side.
    pub side: Side,
    /// What executing there pays.
    pub shape: CurveShape,
    /// Fee on the traded quote amount, in bps (a taker fee); pools carry theirs in the curve.
    pub fee_bps: Decimal,
    /// Cost per child, paid whatever the fill (gas, a ticket fee), in `fixed_cost_asset`.
    pub fixed_cost: Decimal,
    /// The asset `fixed_cost` is paid in (e.g. `USD`).
    pub fixed_cost_asset: String,
}
