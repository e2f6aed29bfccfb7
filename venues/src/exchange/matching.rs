//! A price-time-priority limit order book for one symbol: what the exchange
//! simulator matches takers against.
//!
//! Orders rest in FIFO queues per price level; a taker walks the opposite side from
//! the best price while its limit allows, filling the oldest order at each level
//! first. Market and IOC orders never rest; a Day limit order rests what it could not
//! fill. Every quantity is an exact `Decimal`.

use crate::{Level, Side};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Who owns a resting order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    /// The simulator's own market maker.
    Maker,
    /// A client order: its session key and ClOrdID.
    Client {
        /// The client's session key (its CompID).
        session: String,
        /// The client's ClOrdID.
        cl_ord_id: String,
    },
}

/// How long an incoming order may live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tif {
    /// Fill what can be filled now, cancel the rest.
    Ioc,
    /// Rest what cannot be filled now (limit orders only).
    Day,
}

/// One match between an incoming order and a resting one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    /// The resting order's id.
    pub maker_id: u64,
    /// Who owned the resting order.
    pub maker: Owner,
    /// What is left of the resting order after this trade.
    pub maker_left: Decimal,
    /// The price (the resting order's).
    pub px: Decimal,
    /// The quantity.
    pub qty: Decimal,
}

/// What happened to an incoming order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Its id in the book (meaningful when some of it rests).
    pub id: u64,
    /// Its matches, in order.
    pub trades: Vec<Trade>,
    /// What rests in the book.
    pub rested: Decimal,
    /// What was cancelled (IOC or market remainder).
    pub cancelled: Decimal,
}

#[derive(Debug, Clone)]
struct Resting {
    id: u64,
    owner: Owner,
    qty: Decimal,
}

/// The book of one symbol.
#[derive(Debug, Clone, Default)]
pub struct MatchingBook {
    /// Bids by price (best = highest = last).
    bids: BTreeMap<Decimal, VecDeque<Resting>>,
    /// Asks by price (best = lowest = first).
    asks: BTreeMap<Decimal, VecDeque<Resting>>,
    /// Where each resting order is: (side it rests on, price).
    index: HashMap<u64, (Side, Decimal)>,
    next_id: u64,
}

impl MatchingBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    fn side_mut(&mut self, resting_side: Side) -> &mut BTreeMap<Decimal, VecDeque<Resting>> {
        match resting_side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// Best resting price a taker on `taker` side would meet.
    fn best_for(&self, taker: Side) -> Option<Decimal> {
        match taker {
            Side::Sell => self.bids.keys().next_back().copied(),
            Side::Buy => self.asks.keys().next().copied(),
        }
    }

    /// Matches an order of `qty` on `side` no worse than `limit` (`None` = market),
    /// resting the remainder of a Day limit order under `owner`.
    pub fn submit(
        &mut self,
        side: Side,
        qty: Decimal,
        limit: Option<Decimal>,
        tif: Tif,
        owner: Owner,
    ) -> Outcome {
        self.next_id += 1;
        let id = self.next_id;
        let mut left = qty.max(Decimal::ZERO);
        let mut trades = Vec::new();
        // Bounded: each pass removes a level or fills the order.
        while left > Decimal::ZERO {
            let Some(px) = self.best_for(side) else { break };
            if let Some(limit) = limit
                && !side.at_least_as_good(px, limit)
            {
                break;
            }
            let resting_side = match side {
                Side::Sell => Side::Buy,
                Side::Buy => Side::Sell,
            };
            let book = self.side_mut(resting_side);
            let Some(queue) = book.get_mut(&px) else {
                break;
            };
            let mut done_ids = Vec::new();
            while left > Decimal::ZERO {
                let Some(front) = queue.front_mut() else {
                    break;
                };
                let take = left.min(front.qty);
                front.qty -= take;
                left -= take;
                trades.push(Trade {
                    maker_id: front.id,
                    maker: front.owner.clone(),
                    maker_left: front.qty,
                    px,
                    qty: take,
                });
                if front.qty.is_zero() {
                    done_ids.push(front.id);
                    queue.pop_front();
                }
            }
            if queue.is_empty() {
                book.remove(&px);
            }
            for done in done_ids {
                self.index.remove(&done);
            }
        }
        let (rested, cancelled) = match (tif, limit) {
            (Tif::Day, Some(px)) if left > Decimal::ZERO => {
                self.rest(id, side, px, left, owner);
                (left, Decimal::ZERO)
            }
            _ => (Decimal::ZERO, left),
        };
        Outcome {
            id,
            trades,
            rested,
            cancelled,
        }
    }

    fn rest(&mut self, id: u64, side: Side, px: Decimal, qty: Decimal, owner: Owner) {
        self.side_mut(side)
            .entry(px)
            .or_default()
            .push_back(Resting { id, owner, qty });
        self.index.insert(id, (side, px));
    }

    /// Adds a resting order (a maker's quote) without matching; returns its id.
    /// The caller keeps the book uncrossed (a maker never quotes through the spread).
    pub fn post(&mut self, side: Side, px: Decimal, qty: Decimal, owner: Owner) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        if qty > Decimal::ZERO {
            self.rest(id, side, px, qty, owner);
        }
        id
    }

    /// Cancels a resting order; returns what was left of it.
    pub fn cancel(&mut self, id: u64) -> Option<Decimal> {
        let (side, px) = self.index.remove(&id)?;
        let book = self.side_mut(side);
        let queue = book.get_mut(&px)?;
        let pos = queue.iter().position(|r| r.id == id)?;
        let left = queue.remove(pos).map(|r| r.qty);
        if queue.is_empty() {
            book.remove(&px);
        }
        left
    }

    /// Resting quantity owned by the maker at `px` on the resting `side`.
    pub fn maker_qty(&self, side: Side, px: Decimal) -> Decimal {
        let book = match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        };
        book.get(&px).map_or(Decimal::ZERO, |q| {
            q.iter()
                .filter(|r| r.owner == Owner::Maker)
                .map(|r| r.qty)
                .sum()
        })
    }

    /// Aggregated depth of the resting `side`, best first, at most `max` levels.
    pub fn depth(&self, side: Side, max: usize) -> Vec<Level> {
        let level = |(px, q): (&Decimal, &VecDeque<Resting>)| Level {
            px: *px,
            qty: q.iter().map(|r| r.qty).sum(),
        };
        match side {
            Side::Buy => self.bids.iter().rev().take(max).map(level).collect(),
            Side::Sell => self.asks.iter().take(max).map(level).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn client(id: &str) -> Owner {
        Owner::Client {
            session: "S".into(),
            cl_ord_id: id.into(),
        }
    }

    #[test]
    fn price_then_time_priority() {
        let mut b = MatchingBook::new();
        let first = b.post(Side::Buy, dec!(0.9999), dec!(100), Owner::Maker);
        let second = b.post(Side::Buy, dec!(0.9999), dec!(100), client("r"));
        let better = b.post(Side::Buy, dec!(1.0000), dec!(50), Owner::Maker);
        let out = b.submit(
            Side::Sell,
            dec!(180),
            Some(dec!(0.9999)),
            Tif::Ioc,
            client("t"),
        );
        let order: Vec<(u64, Decimal, Decimal)> = out
            .trades
            .iter()
            .map(|t| (t.maker_id, t.px, t.qty))
            .collect();
        assert_eq!(
            order,
            vec![
                (better, dec!(1.0000), dec!(50)),
                (first, dec!(0.9999), dec!(100)),
                (second, dec!(0.9999), dec!(30)),
            ]
        );
        assert_eq!(out.cancelled, dec!(0));
        assert_eq!(
            b.depth(Side::Buy, 5),
            vec![Level {
                px: dec!(0.9999),
                qty: dec!(70)
            }]
        );
    }

    #[test]
    fn ioc_cancels_the_rest_and_day_limit_rests_it() {
        let mut b = MatchingBook::new();
        b.post(Side::Sell, dec!(1.0001), dec!(10), Owner::Maker);
        let ioc = b.submit(
            Side::Buy,
            dec!(25),
            Some(dec!(1.0001)),
            Tif::Ioc,
            client("a"),
        );
        assert_eq!((ioc.cancelled, ioc.rested), (dec!(15), dec!(0)));
        let day = b.submit(
            Side::Buy,
            dec!(25),
            Some(dec!(1.0000)),
            Tif::Day,
            client("b"),
        );
        assert_eq!((day.cancelled, day.rested), (dec!(0), dec!(25)));
        assert_eq!(b.depth(Side::Buy, 1)[0].qty, dec!(25));
        assert_eq!(b.cancel(day.id), Some(dec!(25)));
        assert!(b.depth(Side::Buy, 1).is_empty());
        assert_eq!(b.cancel(day.id), None);
        // A market order takes whatever there is.
        b.post(Side::Sell, dec!(1.5), dec!(3), Owner::Maker);
        let mkt = b.submit(Side::Buy, dec!(5), None, Tif::Ioc, client("m"));
        assert_eq!(mkt.trades.len(), 1);
        assert_eq!(mkt.cancelled, dec!(2));
    }

    proptest! {
        /// Fills never exceed the order, never cross its limit, and the book keeps
        /// exactly what was not taken.
        #[test]
        fn matching_conserves_quantity(
            levels in proptest::collection::vec((1u32..50, 1u32..1000), 1..20),
            qty in 1u32..20_000,
            limit in 1u32..60,
        ) {
            let mut b = MatchingBook::new();
            let mut total = Decimal::ZERO;
            for (px, q) in &levels {
                b.post(Side::Buy, Decimal::from(*px), Decimal::from(*q), Owner::Maker);
                total += Decimal::from(*q);
            }
            let out = b.submit(Side::Sell, Decimal::from(qty), Some(Decimal::from(limit)), Tif::Ioc, client("t"));
            let filled: Decimal = out.trades.iter().map(|t| t.qty).sum();
            prop_assert_eq!(filled + out.cancelled, Decimal::from(qty));
            prop_assert!(out.trades.iter().all(|t| t.px >= Decimal::from(limit)));
            prop_assert!(out.trades.windows(2).all(|w| w[0].px >= w[1].px));
            let left: Decimal = b.depth(Side::Buy, 100).iter().map(|l| l.qty).sum();
            prop_assert_eq!(left + filled, total);
        }
    }
}
