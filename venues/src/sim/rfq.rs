//! An OTC dealer: a size ladder per side, firm quotes that expire, last look, and a
//! total it is willing to trade with us.

use super::{VenueSim, unit_draw};
use crate::{
    CurveShape, Level, Liquidity, Nanos, RejectKind, Side, VenueId, VenueKind, VenueOrder,
    VenueReport,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

/// How a dealer is set up.
#[derive(Debug, Clone)]
pub struct RfqConfig {
    /// The venue id.
    pub id: VenueId,
    /// The instrument id.
    pub instrument: String,
    /// Prices at which the dealer buys from us, per size tier (smallest first).
    pub bid_ladder: Vec<Level>,
    /// Prices at which the dealer sells to us, per size tier (smallest first).
    pub ask_ladder: Vec<Level>,
    /// How long a quote stays firm.
    pub quote_validity: Nanos,
    /// Time between receiving the quote and the dealer seeing our acceptance.
    pub accept_delay: Nanos,
    /// Probability that last look declines an acceptance.
    pub last_look_reject: f64,
    /// Total base quantity the dealer will trade with us; `None` is unbounded.
    pub capacity: Option<Decimal>,
    /// Seed of the dealer's draws.
    pub seed: u64,
}

/// A firm quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The dealer's quote id.
    pub id: String,
    /// Price for the whole quantity.
    pub px: Decimal,
    /// Quantity quoted.
    pub qty: Decimal,
    /// Last instant at which an acceptance is honoured.
    pub valid_until: Nanos,
}

/// A simulated dealer.
#[derive(Debug, Clone)]
pub struct RfqDealerSim {
    config: RfqConfig,
    rng: ChaCha8Rng,
    traded: Decimal,
    next_quote: u64,
    /// Trades done (names the next one's trade id).
    trades: u64,
}

impl RfqDealerSim {
    /// A dealer with nothing traded yet.
    pub fn new(config: RfqConfig) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            config,
            traded: Decimal::ZERO,
            next_quote: 1,
            trades: 0,
        }
    }

    fn remaining(&self) -> Option<Decimal> {
        self.config
            .capacity
            .map(|c| (c - self.traded).max(Decimal::ZERO))
    }

    /// The ladder a taker on `side` sees, cut at what the dealer still has room for.
    fn ladder(&self, side: Side) -> Vec<Level> {
        let full = match side {
            Side::Sell => &self.config.bid_ladder,
            Side::Buy => &self.config.ask_ladder,
        };
        let room = self.remaining();
        let mut out = Vec::with_capacity(full.len());
        for tier in full {
            match room {
                Some(r) if tier.qty >= r => {
                    if r > Decimal::ZERO {
                        out.push(Level {
                            px: tier.px,
                            qty: r,
                        });
                    }
                    break;
                }
                _ => out.push(*tier),
            }
        }
        out
    }

    /// A firm quote for exactly `qty`, priced at the smallest tier that holds it.
    pub fn request_quote(&mut self, side: Side, qty: Decimal, now: Nanos) -> Option<Quote> {
        let tier = self.ladder(side).into_iter().find(|t| qty <= t.qty)?;
        let id = format!("{}-q{}", self.config.id, self.next_quote);
        self.next_quote += 1;
        Some(Quote {
            id,
            px: tier.px,
            qty,
            valid_until: now + self.config.quote_validity,
        })
    }

    /// Accepts `quote` at `now`: a fill of the whole quantity, or a reject.
    pub fn accept(&mut self, quote: &Quote, now: Nanos) -> VenueReport {
        if now > quote.valid_until {
            return VenueReport::Rejected {
                kind: RejectKind::QuoteExpired,
                reason: format!("quote {} expired", quote.id),
            };
        }
        if unit_draw(&mut self.rng) < self.config.last_look_reject {
            return VenueReport::Rejected {
                kind: RejectKind::LastLook,
                reason: format!("last look declined quote {}", quote.id),
            };
        }
        self.traded += quote.qty;
        self.trades += 1;
        VenueReport::Fill {
            qty: quote.qty,
            px: quote.px,
            fee: Decimal::ZERO,
            // The trade id, numbered as the dealer server numbers its trades.
            exec_id: format!("{}-t{}", self.config.id, self.trades),
        }
    }
}

impl VenueSim for RfqDealerSim {
    fn id(&self) -> &VenueId {
        &self.config.id
    }

    fn kind(&self) -> VenueKind {
        VenueKind::Rfq
    }

    fn rfq_config(&self) -> Option<&RfqConfig> {
        Some(&self.config)
    }

    fn instrument(&self) -> &str {
        &self.config.instrument
    }

    fn processing_delay(&self) -> Nanos {
        self.config.accept_delay
    }

    fn liquidity(&mut self, side: Side, _now: Nanos) -> Liquidity {
        Liquidity {
            venue: self.config.id.clone(),
            kind: VenueKind::Rfq,
            instrument: self.config.instrument.clone(),
            side,
            shape: CurveShape::Tiers(self.ladder(side)),
            fee_bps: Decimal::ZERO,
            fixed_cost: Decimal::ZERO,
            fixed_cost_asset: "USD".to_owned(),
        }
    }

    /// Request a quote for the child's size, check it against the child's limit, and
    /// accept it after the configured delay.
    fn execute(&mut self, order: &VenueOrder, now: Nanos) -> Vec<VenueReport> {
        if order.instrument != self.config.instrument {
            return vec![VenueReport::Rejected {
                kind: RejectKind::Invalid,
                reason: format!("dealer does not quote {}", order.instrument),
            }];
        }
        let Some(quote) = self.request_quote(order.side, order.qty, now) else {
            return vec![VenueReport::Rejected {
                kind: RejectKind::NoLiquidity,
                reason: format!("no quote for {}", order.qty),
            }];
        };
        if !order.side.at_least_as_good(quote.px, order.limit_px) {
            return vec![VenueReport::Rejected {
                kind: RejectKind::QuoteOffLimit,
                reason: format!(
                    "quote {} at {} beyond limit {}",
                    quote.id, quote.px, order.limit_px
                ),
            }];
        }
        let answer = self.accept(&quote, now + self.config.accept_delay);
        match answer {
            fill @ VenueReport::Fill { .. } => vec![VenueReport::Ack, fill],
            reject => vec![reject],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn dealer(reject: f64, delay: Nanos) -> RfqDealerSim {
        RfqDealerSim::new(RfqConfig {
            id: VenueId("dealer-a".into()),
            instrument: "USDC/USD".into(),
            bid_ladder: vec![
                Level {
                    px: dec!(0.9999),
                    qty: dec!(1000000),
                },
                Level {
                    px: dec!(0.9997),
                    qty: dec!(3000000),
                },
            ],
            ask_ladder: vec![],
            quote_validity: 500_000_000,
            accept_delay: delay,
            last_look_reject: reject,
            capacity: Some(dec!(4000000)),
            seed: 7,
        })
    }

    fn sell(qty: Decimal) -> VenueOrder {
        VenueOrder {
            client_id: "c".into(),
            instrument: "USDC/USD".into(),
            side: Side::Sell,
            qty,
            limit_px: dec!(0.999),
        }
    }

    #[test]
    fn size_picks_the_tier_and_the_whole_size_gets_its_price() {
        let r = dealer(0.0, 1).execute(&sell(dec!(1500000)), 0);
        assert!(
            matches!(r[1], VenueReport::Fill { qty, px, .. } if qty == dec!(1500000) && px == dec!(0.9997))
        );
    }

    #[test]
    fn slow_acceptance_hits_an_expired_quote() {
        let r = dealer(0.0, 600_000_000).execute(&sell(dec!(10)), 0);
        assert!(matches!(
            r[0],
            VenueReport::Rejected {
                kind: RejectKind::QuoteExpired,
                ..
            }
        ));
    }

    #[test]
    fn last_look_always_rejects_at_probability_one() {
        let r = dealer(1.0, 1).execute(&sell(dec!(10)), 0);
        assert!(matches!(
            r[0],
            VenueReport::Rejected {
                kind: RejectKind::LastLook,
                ..
            }
        ));
    }

    #[test]
    fn capacity_shrinks_the_ladder() {
        let mut d = dealer(0.0, 1);
        d.execute(&sell(dec!(3000000)), 0);
        let l = d.liquidity(Side::Sell, 0);
        assert_eq!(
            l.shape,
            CurveShape::Tiers(vec![Level {
                px: dec!(0.9999),
                qty: dec!(1000000)
            }])
        );
        d.execute(&sell(dec!(1000000)), 0);
        assert_eq!(d.liquidity(Side::Sell, 0).shape.depth(), dec!(0));
    }

    #[test]
    fn same_seed_same_last_look_decisions() {
        let run = || {
            let mut d = dealer(0.5, 1);
            (0..20)
                .map(|_| matches!(d.execute(&sell(dec!(1)), 0)[0], VenueReport::Ack))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}
