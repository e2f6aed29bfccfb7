//! The simulated dealer's state behind the HTTP server: pricing, quotes issued, orders
//! answered (for idempotency), capacity, and the seeded latency draws.
//!
//! Pure logic with time passed in (unix nanoseconds), so it is deterministic given its
//! seed and the order of calls. Pricing, quote validity and last look are
//! [`RfqDealerSim`]'s: the server shows the same ladder and gives the same answers as the
//! in-process simulator configured the same way.

use super::auth::ApiKey;
use super::wire::{
    ApiError, ErrorCode, OrderRequest, OrderResult, QuoteRequest, QuoteResponse, RejectReason,
    Rejection, Tier, Trade,
};
use crate::sim::{Quote, RfqConfig, RfqDealerSim, VenueSim};
use crate::{CurveShape, Level, Nanos, Side, VenueId, VenueReport};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Why a dealer configuration cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A ladder tier is not positive or the tiers are not increasing.
    #[error("dealer {dealer}: tier sizes must be positive and increasing, got {detail}")]
    Tiers {
        /// The dealer.
        dealer: VenueId,
        /// What is wrong.
        detail: String,
    },
    /// A price is not positive.
    #[error("dealer {dealer}: {what} must be positive, got {value}")]
    NotPositive {
        /// The dealer.
        dealer: VenueId,
        /// Which setting.
        what: &'static str,
        /// Its value.
        value: Decimal,
    },
    /// The last-look probability is not within `[0, 1]`.
    #[error("dealer {dealer}: last_look_reject must be within [0, 1], got {value}")]
    Probability {
        /// The dealer.
        dealer: VenueId,
        /// Its value.
        value: f64,
    },
    /// A duration does not fit in nanoseconds as `u64`.
    #[error("dealer {dealer}: {what} is too long")]
    Duration {
        /// The dealer.
        dealer: VenueId,
        /// Which setting.
        what: &'static str,
    },
}

/// How a simulated dealer prices, for building its bid and ask ladders.
#[derive(Debug, Clone, PartialEq)]
pub enum Pricing {
    /// Around a mid: tier `i` (from 0) is quoted at half-spread
    /// `half_spread_bps + i · widen_bps_per_tier` around `mid · (1 + skew_bps / 10⁴)`,
    /// bids rounded down and asks rounded up to `price_dp` decimals (the dealer's favour).
    Spread {
        /// Mid price.
        mid: Decimal,
        /// Tier sizes, smallest first.
        tiers: Vec<Decimal>,
        /// Half-spread of the smallest tier, bps.
        half_spread_bps: Decimal,
        /// Half-spread added per larger tier, bps.
        widen_bps_per_tier: Decimal,
        /// Shift of the mid, bps; positive raises both sides.
        skew_bps: Decimal,
        /// Price decimals.
        price_dp: u32,
    },
    /// Explicit ladders, as in a scenario's `[[venues]]` of kind `rfq`.
    Ladders {
        /// Where the dealer buys from the taker, smallest tier first.
        bid: Vec<Level>,
        /// Where the dealer sells to the taker, smallest tier first.
        ask: Vec<Level>,
    },
}

impl Pricing {
    /// The bid and ask ladders this pricing gives, checked.
    pub fn ladders(&self, dealer: &VenueId) -> Result<(Vec<Level>, Vec<Level>), ConfigError> {
        let bps = Decimal::from(10_000);
        let (bid, ask) = match self {
            Pricing::Spread {
                mid,
                tiers,
                half_spread_bps,
                widen_bps_per_tier,
                skew_bps,
                price_dp,
            } => {
                if *mid <= Decimal::ZERO {
                    return Err(ConfigError::NotPositive {
                        dealer: dealer.clone(),
                        what: "mid",
                        value: *mid,
                    });
                }
                let center = *mid * (Decimal::ONE + *skew_bps / bps);
                let mut bid = Vec::with_capacity(tiers.len());
                let mut ask = Vec::with_capacity(tiers.len());
                for (i, qty) in tiers.iter().enumerate() {
                    let half = (*half_spread_bps + Decimal::from(i) * *widen_bps_per_tier) / bps;
                    let b = (center * (Decimal::ONE - half))
                        .round_dp_with_strategy(*price_dp, RoundingStrategy::ToNegativeInfinity);
                    let a = (center * (Decimal::ONE + half))
                        .round_dp_with_strategy(*price_dp, RoundingStrategy::ToPositiveInfinity);
                    bid.push(Level { px: b, qty: *qty });
                    ask.push(Level { px: a, qty: *qty });
                }
                (bid, ask)
            }
            Pricing::Ladders { bid, ask } => (bid.clone(), ask.clone()),
        };
        for ladder in [&bid, &ask] {
            let mut last = Decimal::ZERO;
            for l in ladder {
                if l.qty <= last {
                    return Err(ConfigError::Tiers {
                        dealer: dealer.clone(),
                        detail: format!("{} after {}", l.qty, last),
                    });
                }
                if l.px <= Decimal::ZERO {
                    return Err(ConfigError::NotPositive {
                        dealer: dealer.clone(),
                        what: "tier price",
                        value: l.px,
                    });
                }
                last = l.qty;
            }
        }
        Ok((bid, ask))
    }
}

/// The dealer's response time, for simulating a remote dealer: `base` plus a seeded
/// uniform draw in `[0, jitter]`, per request, before the request is processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LatencyModel {
    /// Fixed part.
    pub base: Duration,
    /// Upper bound of the uniform part.
    pub jitter: Duration,
}

/// How one simulated dealer is set up.
#[derive(Debug, Clone)]
pub struct DealerSimConfig {
    /// The dealer's id (prefix of its quote and trade ids).
    pub id: VenueId,
    /// The key a client must present.
    pub api_key: ApiKey,
    /// The one instrument it quotes.
    pub instrument: String,
    /// How it prices.
    pub pricing: Pricing,
    /// How long a quote stays firm.
    pub quote_validity: Duration,
    /// Probability that last look declines an acceptance (0 never, 1 always).
    pub last_look_reject: f64,
    /// Total base quantity it will trade with us; `None` is unbounded.
    pub capacity: Option<Decimal>,
    /// Its response time.
    pub latency: LatencyModel,
    /// Interval between periodic ladders on the WebSocket.
    pub ladder_interval: Duration,
    /// Interval between heartbeats on the WebSocket.
    pub heartbeat_interval: Duration,
    /// Seed of every draw (last look, latency).
    pub seed: u64,
}

impl DealerSimConfig {
    /// A dealer with 500 ms quotes, no last look, no capacity bound, no latency, a
    /// ladder every second and a heartbeat every 250 ms.
    pub fn new(id: &str, api_key: ApiKey, instrument: &str, pricing: Pricing) -> Self {
        Self {
            id: VenueId(id.to_owned()),
            api_key,
            instrument: instrument.to_owned(),
            pricing,
            quote_validity: Duration::from_millis(500),
            last_look_reject: 0.0,
            capacity: None,
            latency: LatencyModel::default(),
            ladder_interval: Duration::from_secs(1),
            heartbeat_interval: Duration::from_millis(250),
            seed: 1,
        }
    }

    /// The same dealer as an in-process [`RfqConfig`] (its ladders, validity, last look,
    /// capacity and seed); the accept delay is zero because the network is real here.
    pub fn from_rfq_config(config: &RfqConfig, api_key: ApiKey) -> Self {
        Self {
            id: config.id.clone(),
            api_key,
            instrument: config.instrument.clone(),
            pricing: Pricing::Ladders {
                bid: config.bid_ladder.clone(),
                ask: config.ask_ladder.clone(),
            },
            quote_validity: Duration::from_nanos(config.quote_validity),
            last_look_reject: config.last_look_reject,
            capacity: config.capacity,
            latency: LatencyModel::default(),
            ladder_interval: Duration::from_secs(1),
            heartbeat_interval: Duration::from_millis(250),
            seed: config.seed,
        }
    }
}

/// A quote the dealer issued and has not yet seen accepted.
#[derive(Debug, Clone)]
struct OpenQuote {
    quote: Quote,
    instrument: String,
    side: Side,
    used: bool,
}

/// How many quotes are kept before expired and used ones are pruned.
const QUOTES_BEFORE_PRUNE: usize = 10_000;
/// How many answered orders are kept for idempotent retries and lookups.
const ORDERS_KEPT: usize = 100_000;

/// The dealer's state.
#[derive(Debug)]
pub(crate) struct DealerBook {
    id: VenueId,
    instrument: String,
    sim: RfqDealerSim,
    capacity: Option<Decimal>,
    traded: Decimal,
    latency: LatencyModel,
    latency_rng: ChaCha8Rng,
    quotes: HashMap<String, OpenQuote>,
    orders: HashMap<String, (OrderRequest, OrderResult)>,
    order_fifo: VecDeque<String>,
    next_trade: u64,
    trades: u64,
    quotes_issued: u64,
}

fn to_ms_floor(ns: Nanos) -> u64 {
    ns / 1_000_000
}

fn to_ms_ceil(ns: Nanos) -> u64 {
    ns.div_ceil(1_000_000)
}

impl DealerBook {
    /// A dealer with nothing quoted or traded.
    pub(crate) fn new(config: &DealerSimConfig) -> Result<Self, ConfigError> {
        let (bid_ladder, ask_ladder) = config.pricing.ladders(&config.id)?;
        if !(0.0..=1.0).contains(&config.last_look_reject) {
            return Err(ConfigError::Probability {
                dealer: config.id.clone(),
                value: config.last_look_reject,
            });
        }
        let quote_validity =
            u64::try_from(config.quote_validity.as_nanos()).map_err(|_| ConfigError::Duration {
                dealer: config.id.clone(),
                what: "quote_validity",
            })?;
        let sim = RfqDealerSim::new(RfqConfig {
            id: config.id.clone(),
            instrument: config.instrument.clone(),
            bid_ladder,
            ask_ladder,
            quote_validity,
            accept_delay: 0,
            last_look_reject: config.last_look_reject,
            capacity: config.capacity,
            seed: config.seed,
        });
        Ok(Self {
            id: config.id.clone(),
            instrument: config.instrument.clone(),
            sim,
            capacity: config.capacity,
            traded: Decimal::ZERO,
            latency: config.latency,
            // A stream of its own, so latency draws never shift last-look draws.
            latency_rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0x6c61_7465_6e63_7921),
            quotes: HashMap::new(),
            orders: HashMap::new(),
            order_fifo: VecDeque::new(),
            next_trade: 1,
            trades: 0,
            quotes_issued: 0,
        })
    }

    /// The next response time: base plus a seeded uniform jitter.
    pub(crate) fn draw_latency(&mut self) -> Duration {
        let jitter = u64::try_from(self.latency.jitter.as_nanos()).unwrap_or(u64::MAX);
        let extra = if jitter == 0 {
            0
        } else {
            self.latency_rng.random_range(0..=jitter)
        };
        self.latency.base + Duration::from_nanos(extra)
    }

    /// Trades done so far.
    pub(crate) fn trade_count(&self) -> u64 {
        self.trades
    }

    /// Quotes issued so far.
    pub(crate) fn quotes_issued(&self) -> u64 {
        self.quotes_issued
    }

    /// A firm quote for exactly the requested size, or why not.
    pub(crate) fn quote(
        &mut self,
        req: &QuoteRequest,
        now: Nanos,
    ) -> Result<QuoteResponse, ApiError> {
        if req.instrument != self.instrument {
            return Err(ApiError {
                error: ErrorCode::UnknownInstrument,
                message: format!("dealer {} does not quote {}", self.id, req.instrument),
            });
        }
        if req.quantity <= Decimal::ZERO {
            return Err(ApiError {
                error: ErrorCode::BadRequest,
                message: format!("quantity: must be positive, got {}", req.quantity),
            });
        }
        let Some(quote) = self.sim.request_quote(req.side, req.quantity, now) else {
            return Err(ApiError {
                error: ErrorCode::NoLiquidity,
                message: format!(
                    "dealer {} will not quote {} {} {}",
                    self.id, req.side, req.quantity, req.instrument
                ),
            });
        };
        if self.quotes.len() >= QUOTES_BEFORE_PRUNE {
            self.quotes
                .retain(|_, q| !q.used && q.quote.valid_until >= now);
        }
        self.quotes_issued += 1;
        let answer = QuoteResponse {
            quote_id: quote.id.clone(),
            client_request_id: req.client_request_id.clone(),
            instrument: req.instrument.clone(),
            side: req.side,
            quantity: quote.qty,
            price: quote.px,
            quoted_at: to_ms_ceil(now),
            valid_until: to_ms_floor(quote.valid_until),
        };
        self.quotes.insert(
            quote.id.clone(),
            OpenQuote {
                quote,
                instrument: req.instrument.clone(),
                side: req.side,
                used: false,
            },
        );
        Ok(answer)
    }

    /// The answer to an acceptance: the stored one for a known `client_order_id`, else
    /// a trade or a rejection, stored. `Err` only when the id was used for a different
    /// order (nothing changes then).
    pub(crate) fn order(
        &mut self,
        req: &OrderRequest,
        now: Nanos,
    ) -> Result<OrderResult, ApiError> {
        if let Some((first, answer)) = self.orders.get(&req.client_order_id) {
            if first == req {
                return Ok(answer.clone());
            }
            return Err(ApiError {
                error: ErrorCode::DuplicateClientOrderId,
                message: format!(
                    "client_order_id {} was used for another order",
                    req.client_order_id
                ),
            });
        }
        let answer = self.decide(req, now);
        if self.order_fifo.len() >= ORDERS_KEPT
            && let Some(old) = self.order_fifo.pop_front()
        {
            self.orders.remove(&old);
        }
        self.order_fifo.push_back(req.client_order_id.clone());
        self.orders
            .insert(req.client_order_id.clone(), (req.clone(), answer.clone()));
        Ok(answer)
    }

    fn reject(req: &OrderRequest, reason: RejectReason, message: String) -> OrderResult {
        OrderResult::Rejected(Rejection {
            client_order_id: req.client_order_id.clone(),
            reason,
            message,
        })
    }

    fn decide(&mut self, req: &OrderRequest, now: Nanos) -> OrderResult {
        let Some(open) = self.quotes.get_mut(&req.quote_id) else {
            return Self::reject(
                req,
                RejectReason::UnknownQuote,
                format!("no quote {}", req.quote_id),
            );
        };
        if open.used {
            return Self::reject(
                req,
                RejectReason::QuoteUsed,
                format!("quote {} was already accepted", req.quote_id),
            );
        }
        if open.instrument != req.instrument
            || open.side != req.side
            || open.quote.qty != req.quantity
            || open.quote.px != req.price
        {
            return Self::reject(
                req,
                RejectReason::QuoteMismatch,
                format!(
                    "quote {} is {} {} {} at {}",
                    req.quote_id, open.side, open.quote.qty, open.instrument, open.quote.px
                ),
            );
        }
        open.used = true;
        let quote = open.quote.clone();
        if now <= quote.valid_until
            && let Some(cap) = self.capacity
            && self.traded + quote.qty > cap
        {
            return Self::reject(
                req,
                RejectReason::Capacity,
                format!("dealer {} has {} left", self.id, cap - self.traded),
            );
        }
        match self.sim.accept(&quote, now) {
            VenueReport::Fill { qty, px, .. } => {
                self.traded += qty;
                self.trades += 1;
                let trade_id = format!("{}-t{}", self.id, self.next_trade);
                self.next_trade += 1;
                OrderResult::Filled(Trade {
                    trade_id,
                    client_order_id: req.client_order_id.clone(),
                    quote_id: quote.id,
                    instrument: req.instrument.clone(),
                    side: req.side,
                    price: px,
                    quantity: qty,
                    executed_at: to_ms_floor(now),
                })
            }
            VenueReport::Rejected { kind, reason } => {
                let code = match kind {
                    crate::RejectKind::QuoteExpired => RejectReason::QuoteExpired,
                    _ => RejectReason::LastLook,
                };
                Self::reject(req, code, reason)
            }
            other => Self::reject(
                req,
                RejectReason::LastLook,
                format!("dealer declined: {other:?}"),
            ),
        }
    }

    /// The stored answer on an order, if the dealer has seen it.
    pub(crate) fn lookup(&self, client_order_id: &str) -> Option<OrderResult> {
        self.orders.get(client_order_id).map(|(_, a)| a.clone())
    }

    /// The indicative ladder now: the simulator's bid and ask tiers (cut at the room
    /// left) on the union of their sizes, each side priced at its smallest tier that
    /// holds the size, `None` past its largest tier.
    pub(crate) fn ladder(&mut self, now: Nanos) -> Vec<Tier> {
        let tiers_of = |shape: CurveShape| match shape {
            CurveShape::Tiers(t) => t,
            _ => Vec::new(),
        };
        let bid = tiers_of(self.sim.liquidity(Side::Sell, now).shape);
        let ask = tiers_of(self.sim.liquidity(Side::Buy, now).shape);
        let mut sizes: Vec<Decimal> = bid.iter().chain(ask.iter()).map(|l| l.qty).collect();
        sizes.sort();
        sizes.dedup();
        let price_at =
            |ladder: &[Level], q: Decimal| ladder.iter().find(|l| q <= l.qty).map(|l| l.px);
        sizes
            .into_iter()
            .map(|q| Tier {
                quantity: q,
                bid: price_at(&bid, q),
                ask: price_at(&ask, q),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const MS: Nanos = 1_000_000;

    fn config(last_look: f64) -> DealerSimConfig {
        let mut c = DealerSimConfig::new(
            "d1",
            ApiKey::new("k").unwrap(),
            "USDC/USD",
            Pricing::Spread {
                mid: dec!(1),
                tiers: vec![dec!(1000000), dec!(5000000)],
                half_spread_bps: dec!(1),
                widen_bps_per_tier: dec!(2),
                skew_bps: dec!(0),
                price_dp: 5,
            },
        );
        c.last_look_reject = last_look;
        c.capacity = Some(dec!(6000000));
        c
    }

    fn qreq(qty: Decimal) -> QuoteRequest {
        QuoteRequest {
            client_request_id: "r".into(),
            instrument: "USDC/USD".into(),
            side: Side::Sell,
            quantity: qty,
        }
    }

    fn accept(q: &QuoteResponse, id: &str) -> OrderRequest {
        OrderRequest {
            client_order_id: id.into(),
            quote_id: q.quote_id.clone(),
            instrument: q.instrument.clone(),
            side: q.side,
            quantity: q.quantity,
            price: q.price,
        }
    }

    #[test]
    fn spread_pricing_widens_with_size_and_skews() {
        let id = VenueId("d".into());
        let p = Pricing::Spread {
            mid: dec!(1),
            tiers: vec![dec!(10), dec!(20)],
            half_spread_bps: dec!(1),
            widen_bps_per_tier: dec!(2),
            skew_bps: dec!(10),
            price_dp: 5,
        };
        let (bid, ask) = p.ladders(&id).unwrap();
        assert_eq!(bid[0].px, dec!(1.00089));
        assert_eq!(bid[1].px, dec!(1.00069));
        assert_eq!(ask[0].px, dec!(1.00111));
        assert_eq!(ask[1].px, dec!(1.00131));
        let bad = Pricing::Ladders {
            bid: vec![
                Level {
                    px: dec!(1),
                    qty: dec!(5),
                },
                Level {
                    px: dec!(1),
                    qty: dec!(5),
                },
            ],
            ask: vec![],
        };
        assert!(matches!(bad.ladders(&id), Err(ConfigError::Tiers { .. })));
    }

    #[test]
    fn quote_then_accept_trades_once_and_retry_returns_the_same_trade() {
        let mut d = DealerBook::new(&config(0.0)).unwrap();
        let q = d.quote(&qreq(dec!(2000000)), 1_000 * MS).unwrap();
        assert_eq!(q.price, dec!(0.9997));
        assert_eq!(q.validity_ms(), 500);
        let first = d.order(&accept(&q, "c1"), 1_100 * MS).unwrap();
        assert!(matches!(first, OrderResult::Filled(_)));
        let again = d.order(&accept(&q, "c1"), 1_200 * MS).unwrap();
        assert_eq!(first, again);
        assert_eq!(d.trade_count(), 1);
        assert_eq!(d.lookup("c1"), Some(first));
        let other = d.order(&accept(&q, "c2"), 1_200 * MS).unwrap();
        assert!(matches!(
            other,
            OrderResult::Rejected(Rejection {
                reason: RejectReason::QuoteUsed,
                ..
            })
        ));
    }

    #[test]
    fn late_acceptance_is_refused_as_expired() {
        let mut d = DealerBook::new(&config(0.0)).unwrap();
        let q = d.quote(&qreq(dec!(10)), 0).unwrap();
        let r = d.order(&accept(&q, "c1"), 501 * MS).unwrap();
        assert!(matches!(
            r,
            OrderResult::Rejected(Rejection {
                reason: RejectReason::QuoteExpired,
                ..
            })
        ));
        assert_eq!(d.trade_count(), 0);
    }

    #[test]
    fn last_look_at_one_always_declines() {
        let mut d = DealerBook::new(&config(1.0)).unwrap();
        let q = d.quote(&qreq(dec!(10)), 0).unwrap();
        let r = d.order(&accept(&q, "c1"), 1).unwrap();
        assert!(matches!(
            r,
            OrderResult::Rejected(Rejection {
                reason: RejectReason::LastLook,
                ..
            })
        ));
    }

    #[test]
    fn capacity_is_enforced_across_open_quotes() {
        let mut d = DealerBook::new(&config(0.0)).unwrap();
        let a = d.quote(&qreq(dec!(4000000)), 0).unwrap();
        let b = d.quote(&qreq(dec!(4000000)), 0).unwrap();
        assert!(matches!(
            d.order(&accept(&a, "a"), 1).unwrap(),
            OrderResult::Filled(_)
        ));
        assert!(matches!(
            d.order(&accept(&b, "b"), 1).unwrap(),
            OrderResult::Rejected(Rejection {
                reason: RejectReason::Capacity,
                ..
            })
        ));
        // The ladder now stops at the 2M left.
        let ladder = d.ladder(2);
        assert_eq!(ladder.last().map(|t| t.quantity), Some(dec!(2000000)));
        assert_eq!(
            d.quote(&qreq(dec!(3000000)), 2).unwrap_err().error,
            ErrorCode::NoLiquidity
        );
    }

    #[test]
    fn mismatched_or_unknown_quotes_are_refused_and_a_reused_id_conflicts() {
        let mut d = DealerBook::new(&config(0.0)).unwrap();
        let q = d.quote(&qreq(dec!(10)), 0).unwrap();
        let mut wrong = accept(&q, "c1");
        wrong.price = dec!(1.5);
        assert!(matches!(
            d.order(&wrong, 1).unwrap(),
            OrderResult::Rejected(Rejection {
                reason: RejectReason::QuoteMismatch,
                ..
            })
        ));
        let mut unknown = accept(&q, "c2");
        unknown.quote_id = "nope".into();
        assert!(matches!(
            d.order(&unknown, 1).unwrap(),
            OrderResult::Rejected(Rejection {
                reason: RejectReason::UnknownQuote,
                ..
            })
        ));
        assert_eq!(
            d.order(&accept(&q, "c1"), 1).unwrap_err().error,
            ErrorCode::DuplicateClientOrderId
        );
    }

    #[test]
    fn latency_draws_are_seeded() {
        let mut c = config(0.0);
        c.latency = LatencyModel {
            base: Duration::from_millis(1),
            jitter: Duration::from_millis(4),
        };
        let draws = |c: &DealerSimConfig| {
            let mut d = DealerBook::new(c).unwrap();
            (0..10).map(|_| d.draw_latency()).collect::<Vec<_>>()
        };
        let a = draws(&c);
        assert_eq!(a, draws(&c));
        assert!(
            a.iter()
                .all(|d| *d >= Duration::from_millis(1) && *d <= Duration::from_millis(5))
        );
    }

    #[test]
    fn ladder_matches_the_in_process_simulator() {
        let c = config(0.0);
        let mut d = DealerBook::new(&c).unwrap();
        let (bid, ask) = c.pricing.ladders(&c.id).unwrap();
        let ladder = d.ladder(0);
        assert_eq!(ladder.len(), 2);
        for (i, t) in ladder.iter().enumerate() {
            assert_eq!(t.quantity, bid[i].qty);
            assert_eq!(t.bid, Some(bid[i].px));
            assert_eq!(t.ask, Some(ask[i].px));
        }
    }
}
