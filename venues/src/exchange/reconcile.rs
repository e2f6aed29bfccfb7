//! Reconciling children after a gateway restart: what the exchange says a child did,
//! against what the gateway's journal already knows, so every fill counts exactly once.
//!
//! After a restart the gateway asks the exchange for each child that was still working
//! (OrderStatusRequest, 35=H). Two streams then tell it about such a child: QuickFIX's
//! resend of the reports the exchange sent while the gateway was down, and the status
//! answer (ExecutionReport 150=I). They can arrive in either order. Every report carries
//! the child's cumulative quantity (CumQty 14), so the rule is simple: a child's known
//! quantity only grows, and a report adds only what lies beyond it. A fill report whose
//! CumQty is already known is dropped; the status answer adds the rest as one fill at
//! the price that makes the child's average come out at the exchange's AvgPx(6), with
//! the fee estimated at the taker rate (the exchange's status answer carries no fee).

use crate::{RejectKind, VenueReport};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// The fields of an ExecutionReport the reconciler reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFields {
    /// ExecType(150).
    pub exec_type: String,
    /// OrdStatus(39).
    pub ord_status: String,
    /// OrderQty(38).
    pub order_qty: Option<Decimal>,
    /// CumQty(14).
    pub cum_qty: Option<Decimal>,
    /// AvgPx(6).
    pub avg_px: Option<Decimal>,
    /// LastQty(32).
    pub last_qty: Option<Decimal>,
    /// LastPx(31).
    pub last_px: Option<Decimal>,
    /// Commission(12).
    pub fee: Option<Decimal>,
    /// ExecID(17).
    pub exec_id: String,
}

#[derive(Debug, Clone)]
struct Tracked {
    filled: Decimal,
    gross: Decimal,
    asked: bool,
    settled: bool,
}

/// The children being reconciled, by child id.
#[derive(Debug, Clone, Default)]
pub struct Reconciler {
    children: HashMap<String, Tracked>,
    fee_bps: Decimal,
}

/// Most children one link reconciles at once.
pub const MAX_RECONCILING: usize = 100_000;

impl Reconciler {
    /// A reconciler estimating missing fees at `fee_bps`.
    pub fn new(fee_bps: Decimal) -> Self {
        Self {
            children: HashMap::new(),
            fee_bps,
        }
    }

    /// Starts reconciling `child`, of which the gateway knows `filled` base units for
    /// `gross` quote units. Returns false when the bound is reached.
    pub fn track(&mut self, child: &str, filled: Decimal, gross: Decimal) -> bool {
        if self.children.len() >= MAX_RECONCILING && !self.children.contains_key(child) {
            return false;
        }
        self.children.insert(
            child.to_owned(),
            Tracked {
                filled,
                gross,
                asked: false,
                settled: false,
            },
        );
        true
    }

    /// Children whose status has not been asked yet; marks them asked.
    pub fn take_unasked(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for (child, t) in &mut self.children {
            if !t.asked {
                t.asked = true;
                out.push(child.clone());
            }
        }
        out.sort();
        out
    }

    /// Marks `child` as not asked (the request could not be sent).
    pub fn unask(&mut self, child: &str) {
        if let Some(t) = self.children.get_mut(child) {
            t.asked = false;
        }
    }

    /// What a report about `child` means for the engine: `None` when the child is not
    /// being reconciled (map the report as usual), else the reports to pass on (possibly
    /// none: the report says nothing new).
    pub fn on_report(&mut self, child: &str, r: &ReportFields) -> Option<Vec<VenueReport>> {
        let fee_bps = self.fee_bps;
        let t = self.children.get_mut(child)?;
        let mut out = Vec::new();
        match r.exec_type.as_str() {
            "F" => {
                let (Some(cum), Some(last_qty), Some(px)) = (r.cum_qty, r.last_qty, r.last_px)
                else {
                    return Some(out);
                };
                if cum <= t.filled || last_qty <= Decimal::ZERO {
                    return Some(out);
                }
                let qty = (cum - t.filled).min(last_qty);
                let fee = r.fee.unwrap_or(Decimal::ZERO) * qty / last_qty;
                t.filled += qty;
                t.gross += qty * px;
                out.push(VenueReport::Fill {
                    qty,
                    px,
                    fee,
                    exec_id: r.exec_id.clone(),
                });
            }
            "I" => {
                let cum = r.cum_qty.unwrap_or(Decimal::ZERO);
                if r.ord_status == "8" && cum.is_zero() {
                    if !t.settled && t.filled.is_zero() {
                        out.push(VenueReport::Rejected {
                            kind: RejectKind::Unreachable,
                            reason: "the exchange has no record of this child: it never arrived before the restart".into(),
                        });
                    }
                    t.settled = true;
                    return Some(out);
                }
                let missing = cum - t.filled;
                if missing > Decimal::ZERO
                    && let Some(avg) = r.avg_px
                {
                    let px = (avg * cum - t.gross) / missing;
                    let fee = missing * px * fee_bps / Decimal::from(10_000);
                    t.filled = cum;
                    t.gross += missing * px;
                    out.push(VenueReport::Fill {
                        qty: missing,
                        px,
                        fee,
                        exec_id: format!("status:{child}:{cum}"),
                    });
                }
                let done = matches!(r.ord_status.as_str(), "2" | "3" | "4" | "C");
                if done && !t.settled {
                    t.settled = true;
                    if let Some(qty) = r.order_qty
                        && qty > cum
                    {
                        out.push(VenueReport::Expired {
                            unfilled: qty - cum,
                        });
                    }
                }
            }
            "4" | "C" => {
                if !t.settled {
                    t.settled = true;
                    if let (Some(qty), Some(cum)) = (r.order_qty, r.cum_qty)
                        && qty > cum
                    {
                        out.push(VenueReport::Expired {
                            unfilled: qty - cum,
                        });
                    }
                }
            }
            // An ack after fills, or a second one, says nothing new; a reject is final.
            "0" => {}
            "8" => {
                if !t.settled && t.filled.is_zero() {
                    t.settled = true;
                    return None;
                }
            }
            _ => return None,
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn fill(cum: Decimal, last: Decimal, px: Decimal, id: &str) -> ReportFields {
        ReportFields {
            exec_type: "F".into(),
            ord_status: "1".into(),
            order_qty: Some(dec!(1000)),
            cum_qty: Some(cum),
            last_qty: Some(last),
            last_px: Some(px),
            fee: Some(last * px * dec!(0.0002)),
            exec_id: id.into(),
            ..ReportFields::default()
        }
    }

    fn status(ord_status: &str, cum: Decimal, avg: Decimal) -> ReportFields {
        ReportFields {
            exec_type: "I".into(),
            ord_status: ord_status.into(),
            order_qty: Some(dec!(1000)),
            cum_qty: Some(cum),
            avg_px: Some(avg),
            ..ReportFields::default()
        }
    }

    fn filled(reports: &[VenueReport]) -> Decimal {
        VenueReport::filled(reports)
    }

    #[test]
    fn untracked_children_are_left_to_the_usual_mapping() {
        let mut r = Reconciler::new(dec!(2));
        assert_eq!(
            r.on_report("P1.1", &fill(dec!(1), dec!(1), dec!(1), "x")),
            None
        );
    }

    #[test]
    fn resent_fills_the_journal_knows_are_dropped_and_the_rest_pass_once() {
        let mut r = Reconciler::new(dec!(2));
        r.track("P1.1", dec!(400), dec!(400) * dec!(0.9999));
        // Resent: the first fill (already journaled), then one it missed.
        let a = r.on_report("P1.1", &fill(dec!(400), dec!(400), dec!(0.9999), "X1"));
        assert_eq!(a, Some(vec![]));
        let b = r
            .on_report("P1.1", &fill(dec!(1000), dec!(600), dec!(0.9998), "X2"))
            .unwrap();
        assert_eq!(filled(&b), dec!(600));
        // The status answer after them adds nothing; the child is done.
        let c = r
            .on_report("P1.1", &status("2", dec!(1000), dec!(0.99984)))
            .unwrap();
        assert_eq!(filled(&c), dec!(0));
        assert!(c.is_empty(), "{c:?}");
    }

    #[test]
    fn a_status_answer_first_fills_the_gap_and_later_resends_are_dropped() {
        let mut r = Reconciler::new(dec!(2));
        r.track("P1.1", dec!(400), dec!(400) * dec!(0.9999));
        // Exchange: 400 @ 0.9999 then 600 @ 0.9998 → avg 0.99984.
        let s = r
            .on_report("P1.1", &status("2", dec!(1000), dec!(0.99984)))
            .unwrap();
        assert_eq!(filled(&s), dec!(600));
        match &s[0] {
            VenueReport::Fill { px, .. } => assert_eq!(*px, dec!(0.9998)),
            other => panic!("{other:?}"),
        }
        let late = r.on_report("P1.1", &fill(dec!(1000), dec!(600), dec!(0.9998), "X2"));
        assert_eq!(late, Some(vec![]), "already counted from the status");
    }

    #[test]
    fn an_ioc_remainder_expires_once_and_an_unknown_child_is_unreachable() {
        let mut r = Reconciler::new(dec!(2));
        r.track("P1.1", dec!(0), dec!(0));
        let s = r
            .on_report("P1.1", &status("4", dec!(300), dec!(1)))
            .unwrap();
        assert_eq!(filled(&s), dec!(300));
        assert!(s.contains(&VenueReport::Expired {
            unfilled: dec!(700)
        }));
        let cxl = ReportFields {
            exec_type: "4".into(),
            ord_status: "4".into(),
            order_qty: Some(dec!(1000)),
            cum_qty: Some(dec!(300)),
            ..ReportFields::default()
        };
        assert_eq!(r.on_report("P1.1", &cxl), Some(vec![]));

        r.track("P1.2", dec!(0), dec!(0));
        let unknown = r.on_report("P1.2", &status("8", dec!(0), dec!(0))).unwrap();
        assert!(matches!(
            unknown.as_slice(),
            [VenueReport::Rejected {
                kind: RejectKind::Unreachable,
                ..
            }]
        ));
    }

    #[test]
    fn children_are_asked_once_and_the_bound_holds() {
        let mut r = Reconciler::new(dec!(2));
        assert!(r.track("b", dec!(0), dec!(0)));
        assert!(r.track("a", dec!(0), dec!(0)));
        assert_eq!(r.take_unasked(), vec!["a".to_owned(), "b".to_owned()]);
        assert!(r.take_unasked().is_empty());
        r.unask("a");
        assert_eq!(r.take_unasked(), vec!["a".to_owned()]);
    }
}
