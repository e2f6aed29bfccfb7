//! The desk-facing seam: a decoded FIX NewOrderSingle becomes a [`NewParent`], and a
//! [`DeskReport`] becomes an ExecutionReport.
//!
//! The FIX session itself (acceptor, logon, store) is the gateway issue's; this module
//! is the mapping both sides of it share, so the engine never sees FIX types.

use crate::domain::{ParentStatus, Strategy};
use crate::engine::{DeskEvent, DeskReport, NewParent, ParentRecord};
use fix::desk::{ExecReport, ExecType, NewOrder, OrdStatus, OrdType, TargetStrategy, TimeInForce};
use rust_decimal::Decimal;
use venues::Side;

/// Default spacing of TWAP slices when the desk does not say: one a minute.
pub const TWAP_SLICE_SECS: u64 = 60;

/// A desk order the core cannot take as it is, naming the FIX field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngressError {
    /// A field combination the gateway does not support (yet).
    #[error("tag {tag} ({name}): {rule}")]
    Unsupported {
        /// The FIX tag.
        tag: u32,
        /// The field's name.
        name: &'static str,
        /// What is not supported.
        rule: String,
    },
}

/// Maps a desk's decoded NewOrderSingle to the engine's new-parent event.
pub fn parent_from_fix(desk: &str, order: NewOrder) -> Result<NewParent, IngressError> {
    if order.time_in_force == TimeInForce::Ioc {
        return Err(IngressError::Unsupported {
            tag: 59,
            name: "TimeInForce",
            rule: "IOC parents are not supported yet; send Day (0)".into(),
        });
    }
    if order.max_slippage_bps.is_some() {
        return Err(IngressError::Unsupported {
            tag: 960,
            name: "StrategyParameterValue",
            rule: "MaxSlippageBps needs the reference rate, which is not wired yet".into(),
        });
    }
    let strategy = match order.target_strategy {
        TargetStrategy::Sweep => {
            if order.duration_secs.is_some() {
                return Err(IngressError::Unsupported {
                    tag: 960,
                    name: "StrategyParameterValue",
                    rule: "DurationSecs only applies to TWAP (847=1001)".into(),
                });
            }
            Strategy::Sweep
        }
        TargetStrategy::Twap => {
            let Some(secs) = order.duration_secs else {
                return Err(IngressError::Unsupported {
                    tag: 958,
                    name: "StrategyParameterName",
                    rule: "a TWAP (847=1001) needs DurationSecs".into(),
                });
            };
            Strategy::Twap {
                duration: secs.saturating_mul(1_000_000_000),
                slices: u32::try_from((secs / TWAP_SLICE_SECS).max(1)).unwrap_or(u32::MAX),
                min_spacing: 1_000_000_000,
            }
        }
    };
    let limit = match order.ord_type {
        OrdType::Limit => order.price,
        OrdType::Market => None,
    };
    Ok(NewParent {
        desk: desk.to_owned(),
        account: order.account,
        client_id: order.cl_ord_id,
        instrument: order.symbol,
        side: match order.side {
            fix::desk::Side::Buy => Side::Buy,
            fix::desk::Side::Sell => Side::Sell,
        },
        qty: order.order_qty,
        limit,
        strategy,
        max_clip: order.max_clip,
        venues: order.venues,
    })
}

fn ord_status(s: ParentStatus, cum_qty: Decimal) -> OrdStatus {
    match s {
        // FIX's PendingCancel (39=6) is not in the desk contract's list: say how far
        // the order got until the cancel completes.
        ParentStatus::PendingCancel if cum_qty > Decimal::ZERO => OrdStatus::PartiallyFilled,
        ParentStatus::New | ParentStatus::PendingCancel => OrdStatus::New,
        ParentStatus::PartiallyFilled => OrdStatus::PartiallyFilled,
        ParentStatus::Filled => OrdStatus::Filled,
        ParentStatus::Cancelled => OrdStatus::Canceled,
        ParentStatus::Rejected => OrdStatus::Rejected,
        ParentStatus::Expired => OrdStatus::Expired,
    }
}

/// Maps one desk report of `parent` to the ExecutionReport the desk gets, if it gets
/// one: a refused cancel is an OrderCancelReject (35=9) instead, and the end of a
/// filled parent was already said by its last fill (39=2). `exec_id` must be unique
/// (e.g. the parent id and the report's sequence number).
pub fn exec_report(
    parent: &ParentRecord,
    report: &DeskReport,
    exec_id: String,
    transact_time: String,
) -> Option<ExecReport> {
    let o = &parent.order;
    let mut r = ExecReport {
        order_id: o.id.0.clone(),
        cl_ord_id: report.client_id.clone(),
        orig_cl_ord_id: None,
        exec_id,
        exec_type: ExecType::New,
        ord_status: ord_status(report.status, report.cum_qty),
        account: o.account.clone(),
        symbol: o.instrument.clone(),
        side: match o.side {
            Side::Buy => fix::desk::Side::Buy,
            Side::Sell => fix::desk::Side::Sell,
        },
        order_qty: o.qty,
        cum_qty: report.cum_qty,
        leaves_qty: report.leaves_qty,
        avg_px: report.avg_px,
        transact_time,
        last_qty: None,
        last_px: None,
        last_mkt: None,
        ord_rej_reason: None,
        text: None,
    };
    match &report.event {
        DeskEvent::Ack => {}
        DeskEvent::Fill { venue, qty, px } => {
            r.exec_type = ExecType::Trade;
            r.last_qty = Some(*qty);
            r.last_px = Some(*px);
            r.last_mkt = Some(venue.0.clone());
        }
        DeskEvent::Rejected { reason } => {
            r.exec_type = ExecType::Rejected;
            r.ord_status = OrdStatus::Rejected;
            // 3 = order exceeds limit; 99 = other.
            r.ord_rej_reason = Some(if reason.starts_with("risk:") { 3 } else { 99 });
            r.text = Some(reason.clone());
            r.leaves_qty = Decimal::ZERO;
        }
        DeskEvent::CancelRejected { .. } => return None,
        DeskEvent::Done { status, reason } => {
            r.exec_type = match status {
                ParentStatus::Cancelled => ExecType::Canceled,
                ParentStatus::Filled => return None,
                _ => ExecType::Expired,
            };
            if !reason.is_empty() {
                r.text = Some(reason.clone());
            }
        }
    }
    Some(r)
}

/// The ExecutionReport refusing a parent the gateway never took on (back-pressure):
/// 150=8 39=8, OrdRejReason 0 (broker option), `text` saying why, OrderID `NONE`.
pub fn busy_reject(
    parent: &NewParent,
    text: String,
    exec_id: String,
    transact_time: String,
) -> ExecReport {
    ExecReport {
        order_id: "NONE".into(),
        cl_ord_id: parent.client_id.clone(),
        orig_cl_ord_id: None,
        exec_id,
        exec_type: ExecType::Rejected,
        ord_status: OrdStatus::Rejected,
        account: parent.account.clone(),
        symbol: parent.instrument.clone(),
        side: match parent.side {
            Side::Buy => fix::desk::Side::Buy,
            Side::Sell => fix::desk::Side::Sell,
        },
        order_qty: parent.qty,
        cum_qty: Decimal::ZERO,
        leaves_qty: Decimal::ZERO,
        avg_px: Decimal::ZERO,
        transact_time,
        last_qty: None,
        last_px: None,
        last_mkt: None,
        ord_rej_reason: Some(0),
        text: Some(text),
    }
}

/// The ExecutionReport answering an OrderStatusRequest (150=I) for `parent`: its
/// state now, with its last words (reject or end reason) in Text.
pub fn status_report(parent: &ParentRecord, exec_id: String, transact_time: String) -> ExecReport {
    let o = &parent.order;
    let status = o.status();
    ExecReport {
        order_id: o.id.0.clone(),
        cl_ord_id: parent.client_id.clone(),
        orig_cl_ord_id: None,
        exec_id,
        exec_type: ExecType::OrderStatus,
        ord_status: ord_status(status, o.filled()),
        account: o.account.clone(),
        symbol: o.instrument.clone(),
        side: match o.side {
            Side::Buy => fix::desk::Side::Buy,
            Side::Sell => fix::desk::Side::Sell,
        },
        order_qty: o.qty,
        cum_qty: o.filled(),
        leaves_qty: o.leaves(),
        avg_px: o.avg_px(),
        transact_time,
        last_qty: None,
        last_px: None,
        last_mkt: None,
        ord_rej_reason: None,
        text: parent.reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn order() -> NewOrder {
        NewOrder {
            cl_ord_id: "c-1".into(),
            account: Some("acct".into()),
            symbol: "USDC/USD".into(),
            side: fix::desk::Side::Sell,
            order_qty: dec!(1000000),
            ord_type: OrdType::Limit,
            price: Some(dec!(0.999)),
            time_in_force: TimeInForce::Day,
            transact_time: "20261122-10:00:00.000".into(),
            target_strategy: TargetStrategy::Twap,
            duration_secs: Some(3600),
            max_clip: Some(dec!(250000)),
            venues: Some(vec!["book-x".into()]),
            max_slippage_bps: None,
        }
    }

    #[test]
    fn a_twap_nos_becomes_a_twap_parent() {
        let p = parent_from_fix("DESK1", order()).unwrap();
        assert_eq!(p.side, Side::Sell);
        assert_eq!(p.limit, Some(dec!(0.999)));
        assert_eq!(p.max_clip, Some(dec!(250000)));
        assert_eq!(
            p.strategy,
            Strategy::Twap {
                duration: 3600 * 1_000_000_000,
                slices: 60,
                min_spacing: 1_000_000_000
            }
        );
    }

    #[test]
    fn what_the_core_cannot_do_yet_is_refused_naming_the_tag() {
        let mut o = order();
        o.duration_secs = None;
        assert_eq!(
            parent_from_fix("D", o).unwrap_err().to_string(),
            "tag 958 (StrategyParameterName): a TWAP (847=1001) needs DurationSecs"
        );
        let mut o = order();
        o.max_slippage_bps = Some(dec!(5));
        assert!(
            parent_from_fix("D", o)
                .unwrap_err()
                .to_string()
                .starts_with("tag 960")
        );
        let mut o = order();
        o.time_in_force = TimeInForce::Ioc;
        assert!(
            parent_from_fix("D", o)
                .unwrap_err()
                .to_string()
                .starts_with("tag 59 (TimeInForce)")
        );
    }
}
