//! Parallel RFQ: ask several dealers at once, take the best firm quote net of fees, and
//! accept it while it is still safely firm; on a last-look refusal try the next best
//! quote or quote again, within bounds.
//!
//! Rules it keeps:
//! - a quote that misses the deadline, or a dealer that is down, answers 5xx or garbage,
//!   is skipped for that round, with a `warn` line naming the dealer and why;
//! - a quote is accepted only while more than the safety margin of its validity is
//!   left, measured on our monotonic clock from when the request was *sent*;
//! - a quote worse than the limit (gross, before fees) is never accepted;
//! - a fill is only ever a trade the dealer confirmed; when an acceptance's fate is
//!   unknown (every retry failed after reaching the dealer) the auction stops with
//!   [`AuctionResult::Unresolved`] and asks no one else, so it can never trade twice;
//! - rounds (re-quotes) and acceptances are bounded by [`AuctionConfig`].

use super::client::{ClientError, DealerClient, FirmQuote};
use super::wire::{ErrorCode, OrderResult, QuoteRequest, RejectReason, Trade};
use crate::{RejectKind, Side, VenueId};
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::time::Duration;
use tokio::time::Instant;

/// Bounds and margins of an auction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionConfig {
    /// How long to wait for the dealers' quotes in each round.
    pub quote_deadline: Duration,
    /// A quote with no more than this left is not accepted.
    pub safety_margin: Duration,
    /// Quote rounds at most (a new round follows only a last-look refusal or an
    /// expired quote).
    pub max_rounds: u32,
    /// Acceptances sent at most, all rounds together.
    pub max_orders: u32,
}

impl Default for AuctionConfig {
    /// 250 ms to quote, 50 ms safety margin, 2 rounds, 4 acceptances.
    fn default() -> Self {
        Self {
            quote_deadline: Duration::from_millis(250),
            safety_margin: Duration::from_millis(50),
            max_rounds: 2,
            max_orders: 4,
        }
    }
}

/// What to trade in one auction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionRequest {
    /// Our id for it: quote request and order ids derive from it
    /// (`{request_id}.{round}.{dealer}`), so a replay asks with the same ids.
    pub request_id: String,
    /// The instrument.
    pub instrument: String,
    /// The taker's side.
    pub side: Side,
    /// Base quantity, all or nothing.
    pub quantity: Decimal,
    /// Worst acceptable gross price (before fees); `None` takes any price.
    pub limit: Option<Decimal>,
}

/// Why a dealer's quote was not on the table in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// Connection refused or failed: the dealer is down.
    Down,
    /// No quote before the round's deadline.
    Timeout,
    /// The dealer answered 5xx.
    ServerError,
    /// The answer was not what the API says.
    Malformed,
    /// Our key was refused.
    Unauthorized,
    /// The dealer will not quote this size.
    NoLiquidity,
    /// The dealer does not quote the instrument.
    UnknownInstrument,
    /// Another refusal, or a quote for something else.
    Refused,
    /// The quote is worse than the limit.
    OffLimit,
}

/// A dealer's answer to the quote request of a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteOutcome {
    /// A firm quote.
    Quoted {
        /// The dealer's quote id.
        quote_id: String,
        /// Gross price.
        price: Decimal,
        /// Price net of the dealer's fee (lower for a sell, higher for a buy).
        net_price: Decimal,
    },
    /// No usable quote this round.
    Skipped {
        /// Why.
        reason: SkipReason,
        /// Details for the log.
        detail: String,
    },
}

/// What became of an acceptance (or of the decision not to send one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderOutcome {
    /// The dealer confirmed the trade.
    Filled(Trade),
    /// The dealer refused; nothing traded.
    Rejected {
        /// The dealer's code.
        reason: RejectReason,
        /// The dealer's words.
        message: String,
    },
    /// Not sent: the quote had no more than the safety margin left.
    ExpiredBeforeAccept {
        /// Time it had left.
        time_left: Duration,
    },
    /// Not sent, or certainly not processed (connect failure, 4xx): nothing traded.
    NotSent {
        /// Why.
        error: String,
    },
    /// Its fate is unknown; reconcile with a trade lookup before assuming anything.
    Unresolved {
        /// Why.
        error: String,
    },
}

/// One dealer in one round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealerAttempt {
    /// The round, from 1.
    pub round: u32,
    /// The dealer.
    pub dealer: VenueId,
    /// Its quote.
    pub quote: QuoteOutcome,
    /// The acceptance sent on it, by client order id, if any was attempted.
    pub order: Option<(String, OrderOutcome)>,
}

/// How an auction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuctionResult {
    /// A dealer confirmed a trade.
    Filled {
        /// The dealer.
        dealer: VenueId,
        /// Its confirmation.
        trade: Trade,
        /// The dealer's fee on it (`price · quantity · fee_bps / 10⁴`).
        fee: Decimal,
        /// Price net of the fee.
        net_price: Decimal,
    },
    /// Nothing traded and nothing is pending.
    NotFilled,
    /// An acceptance's fate is unknown: reconcile before anything else.
    Unresolved {
        /// The dealer.
        dealer: VenueId,
        /// The order to look up.
        client_order_id: String,
    },
    /// The gate refused to send an acceptance (the child was cancelled while quoting).
    Cancelled,
}

/// The structured result: how it ended and every dealer's part in every round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionOutcome {
    /// How it ended.
    pub result: AuctionResult,
    /// Each dealer's quote and acceptance, per round, in dealer order.
    pub attempts: Vec<DealerAttempt>,
}

impl AuctionOutcome {
    /// The confirmed trade, if any.
    pub fn trade(&self) -> Option<&Trade> {
        match &self.result {
            AuctionResult::Filled { trade, .. } => Some(trade),
            _ => None,
        }
    }

    /// Why nothing traded, as a venue reject kind and words: the last acceptance's
    /// outcome if one was attempted, else the last quote's.
    pub fn reject_kind(&self) -> (RejectKind, String) {
        for a in self.attempts.iter().rev() {
            if let Some((id, outcome)) = &a.order {
                let kind = match outcome {
                    OrderOutcome::Rejected { reason, .. } => reject_kind_of(*reason),
                    OrderOutcome::ExpiredBeforeAccept { .. } => RejectKind::QuoteExpired,
                    OrderOutcome::NotSent { .. } => RejectKind::NoLiquidity,
                    OrderOutcome::Filled(_) | OrderOutcome::Unresolved { .. } => continue,
                };
                return (kind, format!("{}: order {id}: {outcome:?}", a.dealer));
            }
        }
        for a in self.attempts.iter().rev() {
            if let QuoteOutcome::Skipped { reason, detail } = &a.quote {
                let kind = match reason {
                    SkipReason::OffLimit => RejectKind::QuoteOffLimit,
                    SkipReason::UnknownInstrument => RejectKind::Invalid,
                    _ => RejectKind::NoLiquidity,
                };
                return (kind, format!("{}: {reason:?}: {detail}", a.dealer));
            }
        }
        (RejectKind::NoLiquidity, "no dealer quoted".to_owned())
    }
}

/// The venue reject kind for a dealer's refusal code.
pub fn reject_kind_of(reason: RejectReason) -> RejectKind {
    match reason {
        RejectReason::LastLook => RejectKind::LastLook,
        RejectReason::QuoteExpired => RejectKind::QuoteExpired,
        RejectReason::Capacity => RejectKind::NoLiquidity,
        RejectReason::UnknownQuote | RejectReason::QuoteUsed | RejectReason::QuoteMismatch => {
            RejectKind::Invalid
        }
    }
}

/// Price net of a fee in bps, from the taker's point of view.
pub fn net_price(side: Side, price: Decimal, fee_bps: Decimal) -> Decimal {
    let f = fee_bps / Decimal::from(10_000);
    match side {
        Side::Sell => price * (Decimal::ONE - f),
        Side::Buy => price * (Decimal::ONE + f),
    }
}

fn skip_of(e: &ClientError) -> SkipReason {
    match e {
        ClientError::Connect { .. } => SkipReason::Down,
        ClientError::Timeout { .. } => SkipReason::Timeout,
        ClientError::Server { .. } => SkipReason::ServerError,
        ClientError::Malformed { .. } => SkipReason::Malformed,
        ClientError::Unauthorized { .. } => SkipReason::Unauthorized,
        ClientError::Refused {
            error: ErrorCode::NoLiquidity,
            ..
        } => SkipReason::NoLiquidity,
        ClientError::Refused {
            error: ErrorCode::UnknownInstrument,
            ..
        } => SkipReason::UnknownInstrument,
        _ => SkipReason::Refused,
    }
}

/// Several dealers asked together.
#[derive(Debug, Clone)]
pub struct Auction {
    dealers: Vec<DealerClient>,
    config: AuctionConfig,
}

struct Candidate {
    index: usize,
    quote: FirmQuote,
    net: Decimal,
}

impl Auction {
    /// An auction over `dealers` (their order breaks ties).
    pub fn new(dealers: Vec<DealerClient>, config: AuctionConfig) -> Self {
        Self { dealers, config }
    }

    /// The dealers.
    pub fn dealers(&self) -> &[DealerClient] {
        &self.dealers
    }

    /// Runs the auction to a confirmed trade, nothing, or an unresolved acceptance.
    pub async fn run(&self, request: &AuctionRequest) -> AuctionOutcome {
        self.run_gated(request, &|| true).await
    }

    /// As [`Auction::run`], but asks `gate` just before each acceptance goes out; if it
    /// answers false the auction ends as [`AuctionResult::Cancelled`].
    pub async fn run_gated(
        &self,
        request: &AuctionRequest,
        gate: &(dyn Fn() -> bool + Send + Sync),
    ) -> AuctionOutcome {
        let mut attempts = Vec::new();
        let mut orders_sent = 0u32;
        let max_rounds = self.config.max_rounds.max(1);
        for round in 1..=max_rounds {
            let first = attempts.len();
            let mut candidates = self.collect_quotes(request, round, &mut attempts).await;
            candidates
                .sort_by(|a, b| better_net(request.side, a.net, b.net).then(a.index.cmp(&b.index)));
            let mut transient = false;
            for c in candidates {
                let slot = first + c.index;
                let dealer = &self.dealers[c.index];
                if orders_sent >= self.config.max_orders {
                    tracing::info!(request = %request.request_id, "rfq auction out of acceptances");
                    return AuctionOutcome {
                        result: AuctionResult::NotFilled,
                        attempts,
                    };
                }
                let client_order_id =
                    format!("{}.{}.{}", request.request_id, round, dealer.venue());
                let time_left = c.quote.time_left(Instant::now());
                if time_left <= self.config.safety_margin {
                    tracing::info!(
                        dealer = %dealer.venue(), round, quote = %c.quote.quote.quote_id, ?time_left,
                        "rfq quote too close to expiry; not accepted"
                    );
                    attempts[slot].order = Some((
                        client_order_id,
                        OrderOutcome::ExpiredBeforeAccept { time_left },
                    ));
                    transient = true;
                    continue;
                }
                if !gate() {
                    return AuctionOutcome {
                        result: AuctionResult::Cancelled,
                        attempts,
                    };
                }
                orders_sent += 1;
                let acceptance = c.quote.acceptance(client_order_id.clone());
                let answer = dealer.place_order(&acceptance).await;
                let outcome = match answer {
                    Ok(OrderResult::Filled(trade)) => {
                        let fee = trade.price * trade.quantity * dealer.config().fee_bps
                            / Decimal::from(10_000);
                        let net = net_price(request.side, trade.price, dealer.config().fee_bps);
                        if trade.quantity != request.quantity {
                            tracing::error!(
                                dealer = %dealer.venue(), order = %client_order_id,
                                traded = %trade.quantity, asked = %request.quantity,
                                "rfq dealer confirmed a different quantity"
                            );
                        }
                        tracing::info!(
                            dealer = %dealer.venue(), round, order = %client_order_id,
                            trade = %trade.trade_id, price = %trade.price, "rfq filled"
                        );
                        attempts[slot].order =
                            Some((client_order_id, OrderOutcome::Filled(trade.clone())));
                        return AuctionOutcome {
                            result: AuctionResult::Filled {
                                dealer: dealer.venue().clone(),
                                trade,
                                fee,
                                net_price: net,
                            },
                            attempts,
                        };
                    }
                    Ok(OrderResult::Rejected(r)) => {
                        tracing::info!(
                            dealer = %dealer.venue(), round, order = %client_order_id,
                            reason = %r.reason, message = %r.message, "rfq acceptance refused"
                        );
                        if matches!(
                            r.reason,
                            RejectReason::LastLook | RejectReason::QuoteExpired
                        ) {
                            transient = true;
                        }
                        OrderOutcome::Rejected {
                            reason: r.reason,
                            message: r.message,
                        }
                    }
                    Err(e) if !e.may_have_reached_dealer() => {
                        tracing::warn!(
                            dealer = %dealer.venue(), round, order = %client_order_id, error = %e,
                            "rfq acceptance not delivered; nothing traded"
                        );
                        OrderOutcome::NotSent {
                            error: e.to_string(),
                        }
                    }
                    Err(e) => {
                        tracing::error!(
                            dealer = %dealer.venue(), round, order = %client_order_id, error = %e,
                            "rfq acceptance unresolved; reconcile before trading further"
                        );
                        attempts[slot].order = Some((
                            client_order_id.clone(),
                            OrderOutcome::Unresolved {
                                error: e.to_string(),
                            },
                        ));
                        return AuctionOutcome {
                            result: AuctionResult::Unresolved {
                                dealer: dealer.venue().clone(),
                                client_order_id,
                            },
                            attempts,
                        };
                    }
                };
                attempts[slot].order = Some((client_order_id, outcome));
            }
            if !transient {
                break;
            }
            if round < max_rounds {
                tracing::info!(request = %request.request_id, round, "rfq re-quoting");
            }
        }
        AuctionOutcome {
            result: AuctionResult::NotFilled,
            attempts,
        }
    }

    /// Asks every dealer at once; records each answer in `attempts` (in dealer order)
    /// and returns the usable quotes.
    async fn collect_quotes(
        &self,
        request: &AuctionRequest,
        round: u32,
        attempts: &mut Vec<DealerAttempt>,
    ) -> Vec<Candidate> {
        let deadline = Instant::now() + self.config.quote_deadline;
        let asks = self.dealers.iter().map(|dealer| {
            let req = QuoteRequest {
                client_request_id: format!("{}.{}.{}", request.request_id, round, dealer.venue()),
                instrument: request.instrument.clone(),
                side: request.side,
                quantity: request.quantity,
            };
            async move { tokio::time::timeout_at(deadline, dealer.request_quote(&req)).await }
        });
        let answers = futures_util::future::join_all(asks).await;
        let mut candidates = Vec::new();
        for (index, (dealer, answer)) in self.dealers.iter().zip(answers).enumerate() {
            let quote = match answer {
                Err(_) => Err((
                    SkipReason::Timeout,
                    format!("no quote within {:?}", self.config.quote_deadline),
                )),
                Ok(Err(e)) => Err((skip_of(&e), e.to_string())),
                Ok(Ok(q)) => {
                    let off = request
                        .limit
                        .is_some_and(|limit| !request.side.at_least_as_good(q.quote.price, limit));
                    if off {
                        Err((
                            SkipReason::OffLimit,
                            format!(
                                "quote {} at {} is beyond limit {:?}",
                                q.quote.quote_id, q.quote.price, request.limit
                            ),
                        ))
                    } else {
                        Ok(q)
                    }
                }
            };
            let outcome = match quote {
                Ok(q) => {
                    let net = net_price(request.side, q.quote.price, dealer.config().fee_bps);
                    let outcome = QuoteOutcome::Quoted {
                        quote_id: q.quote.quote_id.clone(),
                        price: q.quote.price,
                        net_price: net,
                    };
                    candidates.push(Candidate {
                        index,
                        quote: q,
                        net,
                    });
                    outcome
                }
                Err((reason, detail)) => {
                    if reason == SkipReason::OffLimit {
                        tracing::info!(dealer = %dealer.venue(), round, %detail, "rfq quote beyond the limit");
                    } else {
                        tracing::warn!(
                            dealer = %dealer.venue(), round, ?reason, %detail,
                            "rfq dealer skipped for this round"
                        );
                    }
                    QuoteOutcome::Skipped { reason, detail }
                }
            };
            attempts.push(DealerAttempt {
                round,
                dealer: dealer.venue().clone(),
                quote: outcome,
                order: None,
            });
        }
        candidates
    }
}

/// Orders two net prices best first for a taker on `side` (`Less`: `a` is better).
pub fn better_net(side: Side, a: Decimal, b: Decimal) -> Ordering {
    match side {
        Side::Sell => b.cmp(&a),
        Side::Buy => a.cmp(&b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn net_price_takes_the_fee_off_for_the_taker() {
        assert_eq!(net_price(Side::Sell, dec!(1), dec!(10)), dec!(0.999));
        assert_eq!(net_price(Side::Buy, dec!(1), dec!(10)), dec!(1.001));
        // A higher gross bid with a fee can lose to a lower one without.
        let with_fee = net_price(Side::Sell, dec!(0.9999), dec!(2));
        let without = net_price(Side::Sell, dec!(0.9998), dec!(0));
        assert_eq!(better_net(Side::Sell, without, with_fee), Ordering::Less);
    }
}
