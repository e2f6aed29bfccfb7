//! What a simulated run records beside the engine's own state, for the benchmark and
//! the gap analysis: every venue report with the instant the venue made it, the mid of
//! the parent's books when each child was sent and when each parent ended, and the
//! liquidity every decision (a parent's arrival, a TWAP slice) was routed on.
//!
//! The engine keeps per-child totals; the transaction-cost figures need each fill with
//! its time and the mid at the child's sending, and the ex-post optimum needs the
//! curves the venues really had at each decision. The runner sees all of that as it
//! happens, so it keeps it here.

use crate::domain::{ChildId, ParentId};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use venues::{CurveShape, Liquidity, Nanos, RejectKind, Side, VenueId, VenueKind};

/// One fill as the venue made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillRecord {
    /// The child it filled.
    pub child: ChildId,
    /// The venue.
    pub venue: VenueId,
    /// Simulated instant the venue traded (a dealer's acceptance after its delay).
    pub at: Nanos,
    /// Base quantity, venue units.
    pub qty: Decimal,
    /// Gross price, venue terms.
    pub px: Decimal,
    /// Fee, the venue instrument's quote asset.
    pub fee: Decimal,
}

/// A fixed cost (gas) a venue charged a child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostRecord {
    /// The child charged.
    pub child: ChildId,
    /// Amount, in the venue's fixed-cost asset.
    pub amount: Decimal,
}

/// A venue's refusal of a child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectRecord {
    /// The child refused.
    pub child: ChildId,
    /// The venue.
    pub venue: VenueId,
    /// Simulated instant of the refusal.
    pub at: Nanos,
    /// Why.
    pub kind: RejectKind,
    /// The child's quantity, venue units.
    pub qty: Decimal,
    /// The child's limit, venue terms.
    pub limit_px: Decimal,
}

/// When a child was sent and the mid of its parent's books then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendRecord {
    /// Simulated instant the engine sent it.
    pub at: Nanos,
    /// Consolidated mid of the parent instrument's books, if known.
    pub mid: Option<Decimal>,
}

/// What a decision was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionKind {
    /// A parent arrived (its id is given by the engine after this).
    Arrival {
        /// The desk.
        desk: String,
        /// The desk's ClOrdID.
        client_id: String,
        /// The venues the desk allowed, if it restricted them.
        venues: Option<Vec<String>>,
    },
    /// A TWAP slice fell due.
    Slice {
        /// The parent.
        parent: ParentId,
        /// Slice number (from 1; slice 0 is the arrival).
        slice: u32,
    },
}

/// A routing decision and the liquidity every venue really had at that instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Simulated instant.
    pub at: Nanos,
    /// Arrival or slice.
    pub kind: DecisionKind,
    /// Every venue's liquidity on both sides, as the engine was given it.
    pub liquidity: Vec<Liquidity>,
}

/// Everything a run records for its benchmark and gap analysis.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunRecord {
    /// Every fill, in the order the venues made them.
    pub fills: Vec<FillRecord>,
    /// Every fixed cost charged.
    pub costs: Vec<CostRecord>,
    /// Every refusal.
    pub rejects: Vec<RejectRecord>,
    /// Per child: when it was sent and the mid then.
    pub sends: BTreeMap<ChildId, SendRecord>,
    /// Per parent: the consolidated mid when it ended, if known.
    pub end_mids: BTreeMap<ParentId, Option<Decimal>>,
    /// Every decision, in time order.
    pub decisions: Vec<Decision>,
    /// The venues' liquidity at time 0 (their undisturbed touch, for the prints).
    pub initial: Vec<Liquidity>,
}

/// The best price a taker on `side` gets first at a venue: its best bid (for a seller)
/// or best ask (for a buyer), before fees.
pub fn touch(liq: &Liquidity) -> Option<Decimal> {
    match &liq.shape {
        CurveShape::Steps(levels) | CurveShape::Tiers(levels) => levels.first().map(|l| l.px),
        // A seller receives `amount` for `qty`; a buyer pays `amount` for it.
        CurveShape::Smooth(points) => points
            .first()
            .filter(|p| !p.qty.is_zero())
            .map(|p| p.amount / p.qty),
    }
}

/// The consolidated mid of each instrument's books, kept as the engine is given their
/// liquidity: the highest bid and lowest ask over the books in that instrument.
#[derive(Debug, Default)]
pub struct MidTracker {
    /// Per book venue: (instrument, best bid, best ask).
    books: BTreeMap<VenueId, (String, Option<Decimal>, Option<Decimal>)>,
    /// Per instrument: the last mid that could be computed.
    last: HashMap<String, Decimal>,
}

impl MidTracker {
    /// Takes a snapshot the engine is about to be given.
    pub fn update(&mut self, liq: &Liquidity) {
        if liq.kind != VenueKind::Book {
            return;
        }
        let best = match &liq.shape {
            CurveShape::Steps(levels) => levels.first().map(|l| l.px),
            _ => None,
        };
        let entry = self
            .books
            .entry(liq.venue.clone())
            .or_insert_with(|| (liq.instrument.clone(), None, None));
        match liq.side {
            Side::Sell => entry.1 = best,
            Side::Buy => entry.2 = best,
        }
        let instrument = liq.instrument.clone();
        if let Some(mid) = self.current(&instrument) {
            self.last.insert(instrument, mid);
        }
    }

    fn current(&self, instrument: &str) -> Option<Decimal> {
        let books = self.books.values().filter(|(i, _, _)| i == instrument);
        let bid = books.clone().filter_map(|b| b.1).max()?;
        let ask = books.filter_map(|b| b.2).min()?;
        Some((bid + ask) / Decimal::TWO)
    }

    /// The mid of `instrument` now, or the last one known when a side is empty.
    pub fn mid(&self, instrument: &str) -> Option<Decimal> {
        self.current(instrument)
            .or_else(|| self.last.get(instrument).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use venues::Level;

    fn book(venue: &str, side: Side, px: Option<Decimal>) -> Liquidity {
        Liquidity {
            venue: VenueId(venue.into()),
            kind: VenueKind::Book,
            instrument: "USDC/USD".into(),
            side,
            shape: CurveShape::Steps(
                px.map(|px| Level { px, qty: dec!(1) })
                    .into_iter()
                    .collect(),
            ),
            fee_bps: dec!(0),
            fixed_cost: dec!(0),
            fixed_cost_asset: "USD".into(),
        }
    }

    #[test]
    fn the_mid_is_consolidated_over_books_and_falls_back_to_the_last_known() {
        let mut m = MidTracker::default();
        assert_eq!(m.mid("USDC/USD"), None);
        m.update(&book("x", Side::Sell, Some(dec!(0.9999))));
        m.update(&book("x", Side::Buy, Some(dec!(1.0003))));
        m.update(&book("y", Side::Buy, Some(dec!(1.0001))));
        assert_eq!(m.mid("USDC/USD"), Some(dec!(1.0000)));
        // Every bid taken: the last mid stands.
        m.update(&book("x", Side::Sell, None));
        assert_eq!(m.mid("USDC/USD"), Some(dec!(1.0000)));
        assert_eq!(m.mid("EUR/USD"), None);
    }
}
