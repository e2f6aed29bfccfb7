//! A limit order book venue: levels per side, IOC taker orders, a taker fee, and
//! resting depth that the makers replenish at a configured rate.

use super::VenueSim;
use crate::{
    CurveShape, Level, Liquidity, Nanos, RejectKind, Side, VenueId, VenueKind, VenueOrder,
    VenueReport,
};
use rust_decimal::Decimal;

/// How a book venue is set up.
#[derive(Debug, Clone)]
pub struct BookConfig {
    /// The venue id.
    pub id: VenueId,
    /// The instrument id.
    pub instrument: String,
    /// Bid levels, best (highest) first.
    pub bids: Vec<Level>,
    /// Ask levels, best (lowest) first.
    pub asks: Vec<Level>,
    /// Taker fee in bps of the traded notional.
    pub taker_fee_bps: Decimal,
    /// Fraction of each level's original size the makers restore per second.
    pub replenish_per_sec: Decimal,
}

/// A simulated order book.
#[derive(Debug, Clone)]
pub struct BookSim {
    config: BookConfig,
    bids: Vec<Level>,
    asks: Vec<Level>,
    last_refill: Option<Nanos>,
    /// Executions so far (names the next one's ExecID).
    execs: u64,
}

impl BookSim {
    /// A book with the configured resting depth.
    pub fn new(config: BookConfig) -> Self {
        Self {
            bids: config.bids.clone(),
            asks: config.asks.clone(),
            config,
            last_refill: None,
            execs: 0,
        }
    }

    /// Restores depth consumed by takers, in proportion to the time since the last call
    /// (a call at an earlier time than the last changes nothing).
    fn refill(&mut self, now: Nanos) {
        let Some(last) = self.last_refill else {
            self.last_refill = Some(now);
            return;
        };
        if now <= last {
            return;
        }
        self.last_refill = Some(now);
        if self.config.replenish_per_sec.is_zero() {
            return;
        }
        let secs = Decimal::from(now - last) / Decimal::from(1_000_000_000u64);
        let rate = (self.config.replenish_per_sec * secs).min(Decimal::ONE);
        for (live, orig) in self
            .bids
            .iter_mut()
            .zip(&self.config.bids)
            .chain(self.asks.iter_mut().zip(&self.config.asks))
        {
            let restored = (live.qty + orig.qty * rate).min(orig.qty);
            live.qty = restored.round_dp(orig.qty.scale());
        }
    }

    fn levels(&self, taker: Side) -> &[Level] {
        match taker {
            Side::Sell => &self.bids,
            Side::Buy => &self.asks,
        }
    }
}

impl VenueSim for BookSim {
    fn id(&self) -> &VenueId {
        &self.config.id
    }

    fn kind(&self) -> VenueKind {
        VenueKind::Book
    }

    fn book_config(&self) -> Option<&BookConfig> {
        Some(&self.config)
    }

    fn instrument(&self) -> &str {
        &self.config.instrument
    }

    fn liquidity(&mut self, side: Side, now: Nanos) -> Liquidity {
        self.refill(now);
        let levels = self
            .levels(side)
            .iter()
            .copied()
            .filter(|l| l.qty > Decimal::ZERO)
            .collect();
        Liquidity {
            venue: self.config.id.clone(),
            kind: VenueKind::Book,
            instrument: self.config.instrument.clone(),
            side,
            shape: CurveShape::Steps(levels),
            fee_bps: self.config.taker_fee_bps,
            fixed_cost: Decimal::ZERO,
            fixed_cost_asset: "USD".to_owned(),
        }
    }

    fn execute(&mut self, order: &VenueOrder, now: Nanos) -> Vec<VenueReport> {
        if order.instrument != self.config.instrument || order.qty <= Decimal::ZERO {
            return vec![VenueReport::Rejected {
                kind: RejectKind::Invalid,
                reason: format!("unknown instrument or bad qty {}", order.qty),
            }];
        }
        self.refill(now);
        let fee_rate = self.config.taker_fee_bps / Decimal::from(10_000);
        let levels = match order.side {
            Side::Sell => &mut self.bids,
            Side::Buy => &mut self.asks,
        };
        let mut reports = vec![VenueReport::Ack];
        let mut left = order.qty;
        for level in levels.iter_mut() {
            if left.is_zero() || !order.side.at_least_as_good(level.px, order.limit_px) {
                break;
            }
            let take = left.min(level.qty);
            if take.is_zero() {
                continue;
            }
            level.qty -= take;
            left -= take;
            self.execs += 1;
            reports.push(VenueReport::Fill {
                qty: take,
                px: level.px,
                fee: take * level.px * fee_rate,
                exec_id: format!("{}-x{}", self.config.id, self.execs),
            });
        }
        if !left.is_zero() {
            reports.push(VenueReport::Expired { unfilled: left });
        }
        reports
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn book() -> BookSim {
        BookSim::new(BookConfig {
            id: VenueId("book-x".into()),
            instrument: "USDC/USD".into(),
            bids: vec![
                Level {
                    px: dec!(0.9999),
                    qty: dec!(100),
                },
                Level {
                    px: dec!(0.9998),
                    qty: dec!(200),
                },
            ],
            asks: vec![Level {
                px: dec!(1.0001),
                qty: dec!(100),
            }],
            taker_fee_bps: dec!(2),
            replenish_per_sec: dec!(0.5),
        })
    }

    fn sell(qty: Decimal, limit: Decimal) -> VenueOrder {
        VenueOrder {
            client_id: "c1".into(),
            instrument: "USDC/USD".into(),
            side: Side::Sell,
            qty,
            limit_px: limit,
        }
    }

    #[test]
    fn ioc_sell_walks_bids_down_to_its_limit_and_expires_the_rest() {
        let mut b = book();
        let r = b.execute(&sell(dec!(250), dec!(0.9998)), 0);
        assert_eq!(r[0], VenueReport::Ack);
        assert!(
            matches!(r[1], VenueReport::Fill { qty, px, .. } if qty == dec!(100) && px == dec!(0.9999))
        );
        assert!(matches!(r[2], VenueReport::Fill { qty, .. } if qty == dec!(150)));
        assert_eq!(r.len(), 3);
        let r = b.execute(&sell(dec!(100), dec!(0.9999)), 0);
        assert_eq!(
            r.last(),
            Some(&VenueReport::Expired {
                unfilled: dec!(100)
            })
        );
    }

    #[test]
    fn taker_fee_is_charged_on_notional() {
        let r = book().execute(&sell(dec!(100), dec!(0.9)), 0);
        assert!(
            matches!(r[1], VenueReport::Fill { fee, .. } if fee == dec!(100) * dec!(0.9999) * dec!(0.0002))
        );
    }

    #[test]
    fn depth_comes_back_over_time() {
        let mut b = book();
        let _ = b.liquidity(Side::Sell, 0);
        b.execute(&sell(dec!(100), dec!(0.9999)), 0);
        let l = b.liquidity(Side::Sell, 1_000_000_000);
        assert_eq!(l.shape.depth(), dec!(250));
        let l = b.liquidity(Side::Sell, 3_000_000_000);
        assert_eq!(l.shape.depth(), dec!(300));
    }
}
