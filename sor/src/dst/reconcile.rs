//! Reconciliation: turns a venue's answer about one child (what it really did) into
//! the [`VenueReport`]s the engine missed while the link or the process was down.
//!
//! The engine needs nothing new for this: a missed report is fed as an ordinary
//! [`crate::engine::Event::Venue`], and a fill it already applied is recognised by its
//! execution id ([`crate::engine::Engine::has_exec`]), so an answer that overlaps what
//! arrived normally is applied once. A live adapter gets the same answer from FIX
//! (OrderStatusRequest for the order's state, a ResendRequest for the missed
//! ExecutionReports and their ExecIDs), from an RFQ dealer's trade lookup (the trade
//! id) and from a chain receipt (the transaction hash and its gas).

use crate::domain::{ChildOrder, ChildStatus};
use rust_decimal::Decimal;
use venues::{RejectKind, VenueReport};

/// One execution as the venue booked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecFill {
    /// The venue's execution id.
    pub exec_id: String,
    /// Base quantity, venue units.
    pub qty: Decimal,
    /// Gross price, venue terms.
    pub px: Decimal,
    /// Fee, the venue instrument's quote asset.
    pub fee: Decimal,
}

/// How a child ended at the venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderEnd {
    /// Completely filled.
    Filled,
    /// Ended with a remainder that will never trade (IOC rest, cancel).
    Expired {
        /// The remainder.
        unfilled: Decimal,
    },
    /// Refused; nothing traded.
    Rejected {
        /// Why.
        kind: RejectKind,
        /// The venue's words.
        reason: String,
    },
}

/// A venue's answer to "what became of this child?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusAnswer {
    /// The venue never received the order.
    Unknown,
    /// The venue holds the order.
    Known {
        /// It acknowledged it.
        acked: bool,
        /// Every execution, in order.
        fills: Vec<ExecFill>,
        /// Fixed costs charged so far (gas), the venue's fixed-cost asset.
        fixed_cost: Decimal,
        /// How it ended; `None` while it still works.
        end: Option<OrderEnd>,
    },
}

/// The reports that bring the engine's `child` up to the venue's `answer`, in order:
/// the ack, the fills the engine has not applied (`applied(exec_id)` says which it
/// has), the gas it has not been charged, and the end. Nothing when the engine is
/// already there (a reconcile is idempotent).
pub fn missing_reports(
    child: &ChildOrder,
    answer: &StatusAnswer,
    applied: impl Fn(&str) -> bool,
) -> Vec<VenueReport> {
    let mut out = Vec::new();
    let terminal = child.status().is_terminal();
    match answer {
        StatusAnswer::Unknown => {
            if !terminal {
                out.push(VenueReport::Rejected {
                    kind: RejectKind::Unreachable,
                    reason: format!("{}: the venue never received the order", child.id),
                });
            }
        }
        StatusAnswer::Known {
            acked,
            fills,
            fixed_cost,
            end,
        } => {
            if *acked && child.status() == ChildStatus::PendingNew {
                out.push(VenueReport::Ack);
            }
            let mut filled = child.filled();
            for f in fills {
                if !applied(&f.exec_id) {
                    filled += f.qty;
                    out.push(VenueReport::Fill {
                        qty: f.qty,
                        px: f.px,
                        fee: f.fee,
                        exec_id: f.exec_id.clone(),
                    });
                }
            }
            let gas = *fixed_cost - child.fixed_cost();
            if gas > Decimal::ZERO {
                out.push(VenueReport::FixedCost { amount: gas });
            }
            if !terminal {
                match end {
                    Some(OrderEnd::Expired { .. }) if filled < child.qty => {
                        out.push(VenueReport::Expired {
                            unfilled: child.qty - filled,
                        });
                    }
                    Some(OrderEnd::Rejected { kind, reason }) => {
                        out.push(VenueReport::Rejected {
                            kind: *kind,
                            reason: reason.clone(),
                        });
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ChildId, Conversion, ParentId};
    use rust_decimal_macros::dec;
    use venues::{Side, VenueId};

    fn child() -> ChildOrder {
        ChildOrder::new(
            ChildId("P1.1".into()),
            ParentId("P1".into()),
            VenueId("book-x".into()),
            "USDC/USD".into(),
            Side::Sell,
            dec!(100),
            dec!(0.999),
            Conversion::IDENTITY,
        )
    }

    fn fill(id: &str, qty: Decimal) -> ExecFill {
        ExecFill {
            exec_id: id.into(),
            qty,
            px: dec!(1),
            fee: dec!(0),
        }
    }

    #[test]
    fn only_what_the_engine_missed_is_fed_then_the_end() {
        let mut c = child();
        c.ack().unwrap();
        c.fill(dec!(30), dec!(1), dec!(0)).unwrap();
        let answer = StatusAnswer::Known {
            acked: true,
            fills: vec![fill("x1", dec!(30)), fill("x2", dec!(20))],
            fixed_cost: dec!(0),
            end: Some(OrderEnd::Expired { unfilled: dec!(50) }),
        };
        let r = missing_reports(&c, &answer, |e| e == "x1");
        assert_eq!(
            r,
            vec![
                VenueReport::Fill {
                    qty: dec!(20),
                    px: dec!(1),
                    fee: dec!(0),
                    exec_id: "x2".into()
                },
                VenueReport::Expired { unfilled: dec!(50) },
            ]
        );
    }

    #[test]
    fn an_order_the_venue_never_got_is_unreachable_and_a_done_child_needs_nothing() {
        let c = child();
        assert!(matches!(
            missing_reports(&c, &StatusAnswer::Unknown, |_| false)[..],
            [VenueReport::Rejected {
                kind: RejectKind::Unreachable,
                ..
            }]
        ));
        let mut done = child();
        done.reject().unwrap();
        assert!(missing_reports(&done, &StatusAnswer::Unknown, |_| false).is_empty());
    }

    #[test]
    fn a_reverted_swap_brings_its_gas_and_the_reject_and_a_working_order_no_end() {
        let c = child();
        let reverted = StatusAnswer::Known {
            acked: false,
            fills: vec![],
            fixed_cost: dec!(0.01),
            end: Some(OrderEnd::Rejected {
                kind: RejectKind::Revert,
                reason: "reverted".into(),
            }),
        };
        assert_eq!(
            missing_reports(&c, &reverted, |_| false),
            vec![
                VenueReport::FixedCost { amount: dec!(0.01) },
                VenueReport::Rejected {
                    kind: RejectKind::Revert,
                    reason: "reverted".into()
                }
            ]
        );
        let working = StatusAnswer::Known {
            acked: true,
            fills: vec![fill("x1", dec!(10))],
            fixed_cost: dec!(0),
            end: None,
        };
        let r = missing_reports(&c, &working, |_| false);
        assert_eq!(r.len(), 2, "ack and fill, no end: {r:?}");
    }

    #[test]
    fn a_fully_filled_order_ends_with_its_last_fill() {
        let c = child();
        let answer = StatusAnswer::Known {
            acked: true,
            fills: vec![fill("x1", dec!(100))],
            fixed_cost: dec!(0),
            end: Some(OrderEnd::Filled),
        };
        let r = missing_reports(&c, &answer, |_| false);
        assert!(matches!(r.last(), Some(VenueReport::Fill { .. })), "{r:?}");
    }
}
