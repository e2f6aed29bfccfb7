//! A scenario's simulated venue with faults: the venue model executes, and this
//! wrapper decides what goes wrong and keeps the venue's own truth about every child
//! (the ledger the invariants and the reconciliation read).

use super::faults::{Dice, FaultKind};
use super::reconcile::{ExecFill, OrderEnd, StatusAnswer};
use crate::scenario::ScenarioVenue;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;
use venues::sim::VenueSim;
use venues::{Liquidity, Nanos, RejectKind, Side, VenueId, VenueKind, VenueOrder, VenueReport};

/// Shortest time a partly filled book order rests before its remainder executes.
const REST_MIN: Nanos = 50_000_000;
/// Longest time it rests.
const REST_MAX: Nanos = 3_000_000_000;

/// What the venue did with one child, as it would tell anyone who asks.
#[derive(Debug, Clone)]
struct OrderTruth {
    order: VenueOrder,
    acked: bool,
    fills: Vec<ExecFill>,
    fixed_cost: Decimal,
    end: Option<OrderEnd>,
}

impl OrderTruth {
    fn filled(&self) -> Decimal {
        self.fills.iter().map(|f| f.qty).sum()
    }
}

/// What an execution step of the venue produced.
#[derive(Debug, Clone, Default)]
pub(crate) struct Executed {
    /// The reports, in the order the venue sends them.
    pub reports: Vec<VenueReport>,
    /// When the child's resting remainder executes, if it rests.
    pub rest_until: Option<Nanos>,
}

/// One simulated venue, its link state and its truth.
pub(crate) struct SimVenue {
    /// Id.
    pub id: VenueId,
    /// Kind.
    pub kind: VenueKind,
    sim: Box<dyn VenueSim>,
    /// One-way latency of the link.
    pub one_way: Nanos,
    /// Gas of one swap (pools and routes), the venue's fixed-cost asset.
    gas: Decimal,
    orders: BTreeMap<String, OrderTruth>,
    /// Whether the network between the gateway and the venue is up.
    pub up: bool,
    /// Last delivery time on the link toward the venue (a link keeps its order).
    out_at: Nanos,
    /// Last delivery time on the link toward the gateway.
    in_at: Nanos,
}

impl SimVenue {
    /// Wraps a scenario venue.
    pub fn new(v: ScenarioVenue) -> Self {
        let ScenarioVenue { mut sim, one_way } = v;
        let kind = sim.kind();
        let gas = match kind {
            VenueKind::Pool => sim.liquidity(Side::Sell, 0).fixed_cost,
            _ => Decimal::ZERO,
        };
        Self {
            id: sim.id().clone(),
            kind,
            sim,
            one_way,
            gas,
            orders: BTreeMap::new(),
            up: true,
            out_at: 0,
            in_at: 0,
        }
    }

    /// The venue's liquidity on both sides at `now`.
    pub fn snapshot(&mut self, now: Nanos) -> [Liquidity; 2] {
        [
            self.sim.liquidity(Side::Sell, now),
            self.sim.liquidity(Side::Buy, now),
        ]
    }

    /// When a message sent now toward the venue arrives (after `extra` delay), keeping
    /// the link's order.
    pub fn outbound(&mut self, now: Nanos, extra: Nanos) -> Nanos {
        let at = (now + self.one_way + extra).max(self.out_at);
        self.out_at = at;
        at
    }

    /// When a message the venue sends at `sent` reaches the gateway, keeping the
    /// link's order.
    pub fn inbound(&mut self, sent: Nanos, extra: Nanos) -> Nanos {
        let at = (sent + self.one_way + extra).max(self.in_at);
        self.in_at = at;
        at
    }

    /// Time between receiving a child and answering.
    pub fn processing_delay(&self) -> Nanos {
        self.sim.processing_delay()
    }

    /// A child reaches the venue at `now`.
    pub fn arrive(&mut self, order: VenueOrder, now: Nanos, dice: &mut Dice) -> Executed {
        if self.orders.contains_key(&order.client_id) {
            // A real venue refuses a ClOrdID it has seen; the truth keeps the first.
            return Executed {
                reports: vec![VenueReport::Rejected {
                    kind: RejectKind::Invalid,
                    reason: format!("duplicate ClOrdID {}", order.client_id),
                }],
                rest_until: None,
            };
        }
        let p = dice.profile.clone();
        let mut rest_until = None;
        let reports =
            if self.kind == VenueKind::Rfq && dice.roll(p.quote_expiry, FaultKind::QuoteExpiry) {
                vec![VenueReport::Rejected {
                    kind: RejectKind::QuoteExpired,
                    reason: format!("injected: quote for {} expired", order.client_id),
                }]
            } else if self.kind == VenueKind::Pool && dice.roll(p.revert, FaultKind::Revert) {
                vec![
                    VenueReport::FixedCost { amount: self.gas },
                    VenueReport::Rejected {
                        kind: RejectKind::Revert,
                        reason: format!("injected: swap for {} reverted", order.client_id),
                    },
                ]
            } else if dice.roll(p.reject, FaultKind::Reject) {
                let kind = match self.kind {
                    VenueKind::Rfq => RejectKind::LastLook,
                    _ => RejectKind::Invalid,
                };
                vec![VenueReport::Rejected {
                    kind,
                    reason: format!("injected: venue refused {}", order.client_id),
                }]
            } else if self.kind == VenueKind::Book
                && let Some(part) = partial_qty(order.qty, dice.unit_in(0.1, 0.9))
                && dice.roll(p.partial, FaultKind::Partial)
            {
                rest_until = Some(now + dice.between(REST_MIN, REST_MAX));
                let mut piece = order.clone();
                piece.qty = part;
                let mut out = vec![VenueReport::Ack];
                out.extend(fills_only(self.sim.execute(&piece, now)));
                out
            } else {
                self.sim.execute(&order, now)
            };
        let id = order.client_id.clone();
        self.orders.insert(
            id.clone(),
            OrderTruth {
                order,
                acked: false,
                fills: Vec::new(),
                fixed_cost: Decimal::ZERO,
                end: None,
            },
        );
        let mut reports = reports;
        self.record(&id, &reports);
        if rest_until.is_none()
            && let Some(t) = self.orders.get(&id)
            && t.end.is_none()
        {
            // A venue model ends what it executes; if one did not, the remainder
            // expires here rather than work for ever.
            let end = vec![VenueReport::Expired {
                unfilled: t.order.qty - t.filled(),
            }];
            self.record(&id, &end);
            reports.extend(end);
        }
        Executed {
            reports,
            rest_until,
        }
    }

    /// A resting child's remainder executes at `now` (IOC): what fills, then the end.
    pub fn work(&mut self, child: &str, now: Nanos) -> Executed {
        let Some(truth) = self.orders.get(child) else {
            return Executed::default();
        };
        if truth.end.is_some() {
            return Executed::default();
        }
        let left = truth.order.qty - truth.filled();
        let mut piece = truth.order.clone();
        piece.qty = left;
        let mut reports = fills_only(self.sim.execute(&piece, now));
        let filled = VenueReport::filled(&reports);
        if filled < left {
            reports.push(VenueReport::Expired {
                unfilled: left - filled,
            });
        }
        self.record(child, &reports);
        Executed {
            reports,
            rest_until: None,
        }
    }

    /// Our cancel reaches the venue at `now`. A working child may first fill a piece
    /// (the fill crosses the cancel), then its remainder is cancelled. A child already
    /// done, or unknown, gets nothing (the cancel is refused as too late).
    pub fn cancel(&mut self, child: &str, now: Nanos, dice: &mut Dice) -> Executed {
        let Some(truth) = self.orders.get(child) else {
            return Executed::default();
        };
        if truth.end.is_some() {
            return Executed::default();
        }
        let left = truth.order.qty - truth.filled();
        let mut reports = Vec::new();
        let mut filled = Decimal::ZERO;
        let p = dice.profile.fill_after_cancel;
        if let Some(part) = partial_qty(left, dice.unit_in(0.1, 1.0))
            && dice.roll(p, FaultKind::FillAfterCancel)
        {
            let mut piece = truth.order.clone();
            piece.qty = part;
            reports = fills_only(self.sim.execute(&piece, now));
            filled = VenueReport::filled(&reports);
        }
        if filled < left {
            reports.push(VenueReport::Expired {
                unfilled: left - filled,
            });
        }
        self.record(child, &reports);
        Executed {
            reports,
            rest_until: None,
        }
    }

    /// What the venue says about `child` when asked.
    pub fn status(&self, child: &str) -> StatusAnswer {
        match self.orders.get(child) {
            None => StatusAnswer::Unknown,
            Some(t) => StatusAnswer::Known {
                acked: t.acked,
                fills: t.fills.clone(),
                fixed_cost: t.fixed_cost,
                end: t.end.clone(),
            },
        }
    }

    /// The execution `exec_id` of `child`, if the venue made it.
    pub fn fill(&self, child: &str, exec_id: &str) -> Option<&ExecFill> {
        self.orders
            .get(child)?
            .fills
            .iter()
            .find(|f| f.exec_id == exec_id)
    }

    /// Every execution the venue made: (child, fill).
    pub fn fills(&self) -> impl Iterator<Item = (&str, &ExecFill)> {
        self.orders
            .iter()
            .flat_map(|(id, t)| t.fills.iter().map(move |f| (id.as_str(), f)))
    }

    fn record(&mut self, child: &str, reports: &[VenueReport]) {
        let Some(t) = self.orders.get_mut(child) else {
            return;
        };
        for r in reports {
            match r {
                VenueReport::Ack => t.acked = true,
                VenueReport::Fill {
                    qty,
                    px,
                    fee,
                    exec_id,
                } => t.fills.push(ExecFill {
                    exec_id: exec_id.clone(),
                    qty: *qty,
                    px: *px,
                    fee: *fee,
                }),
                VenueReport::FixedCost { amount } => t.fixed_cost += *amount,
                VenueReport::Rejected { kind, reason } => {
                    t.end = Some(OrderEnd::Rejected {
                        kind: *kind,
                        reason: reason.clone(),
                    });
                }
                VenueReport::Expired { unfilled } => {
                    t.end = Some(OrderEnd::Expired {
                        unfilled: *unfilled,
                    });
                }
            }
        }
        if t.end.is_none() && t.fills.iter().map(|f| f.qty).sum::<Decimal>() >= t.order.qty {
            t.end = Some(OrderEnd::Filled);
        }
    }
}

/// `fraction` of `qty`, cut to `qty`'s decimals; `None` unless strictly between 0 and
/// `qty`.
fn partial_qty(qty: Decimal, fraction: f64) -> Option<Decimal> {
    let f = Decimal::try_from(fraction).ok()?;
    let part = (qty * f).round_dp_with_strategy(qty.scale(), RoundingStrategy::ToZero);
    (part > Decimal::ZERO && part < qty).then_some(part)
}

/// The fills (and gas) of a venue model's answer, without its ack and its end (the
/// wrapper decides the child's life).
fn fills_only(reports: Vec<VenueReport>) -> Vec<VenueReport> {
    reports
        .into_iter()
        .filter(|r| matches!(r, VenueReport::Fill { .. } | VenueReport::FixedCost { .. }))
        .collect()
}
