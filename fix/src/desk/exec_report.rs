//! ExecutionReport (35=8) to a desk.

use quickfix::{FieldMap, Message, QuickFixError};
use rust_decimal::Decimal;

use super::Side;

/// ExecType(150) of an execution report: what event it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecType {
    /// 150=0: the order was accepted (ack).
    New,
    /// 150=F: a fill (FIX 4.4 reports partial and full fills as Trade).
    Trade,
    /// 150=4: the order was cancelled.
    Canceled,
    /// 150=8: the order was rejected.
    Rejected,
    /// 150=C: the order expired.
    Expired,
    /// 150=I: answer to an OrderStatusRequest (35=H).
    OrderStatus,
}

impl ExecType {
    /// The FIX value of ExecType(150).
    pub fn fix_value(self) -> &'static str {
        match self {
            Self::New => "0",
            Self::Trade => "F",
            Self::Canceled => "4",
            Self::Rejected => "8",
            Self::Expired => "C",
            Self::OrderStatus => "I",
        }
    }
}

/// OrdStatus(39) of an execution report: the order's state after the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrdStatus {
    /// 39=0: accepted, nothing filled.
    New,
    /// 39=1: partly filled and still working.
    PartiallyFilled,
    /// 39=2: completely filled.
    Filled,
    /// 39=4: cancelled (possibly after partial fills).
    Canceled,
    /// 39=8: rejected.
    Rejected,
    /// 39=C: expired (possibly after partial fills).
    Expired,
}

impl OrdStatus {
    /// The FIX value of OrdStatus(39).
    pub fn fix_value(self) -> &'static str {
        match self {
            Self::New => "0",
            Self::PartiallyFilled => "1",
            Self::Filled => "2",
            Self::Canceled => "4",
            Self::Rejected => "8",
            Self::Expired => "C",
        }
    }
}

/// What the gateway tells a desk about its parent order in an
/// ExecutionReport (35=8); [`to_message`](Self::to_message) renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecReport {
    /// OrderID(37): the gateway's id for the parent order.
    pub order_id: String,
    /// ClOrdID(11): the desk's id for the order (for a cancel's report, the id of
    /// the cancel request).
    pub cl_ord_id: String,
    /// OrigClOrdID(41): on a cancel's report, the parent's own ClOrdID.
    pub orig_cl_ord_id: Option<String>,
    /// ExecID(17): unique per report.
    pub exec_id: String,
    /// ExecType(150).
    pub exec_type: ExecType,
    /// OrdStatus(39).
    pub ord_status: OrdStatus,
    /// Account(1), echoed from the order when it had one.
    pub account: Option<String>,
    /// Symbol(55).
    pub symbol: String,
    /// Side(54).
    pub side: Side,
    /// OrderQty(38).
    pub order_qty: Decimal,
    /// CumQty(14): the sum of all fills so far.
    pub cum_qty: Decimal,
    /// LeavesQty(151): still open; 0 once the order is done.
    pub leaves_qty: Decimal,
    /// AvgPx(6): Σ(LastQty·LastPx)/CumQty, 0 before any fill.
    pub avg_px: Decimal,
    /// TransactTime(60), a UTCTimestamp `YYYYMMDD-HH:MM:SS[.sss]`.
    pub transact_time: String,
    /// LastQty(32) of this fill; required for ExecType Trade.
    pub last_qty: Option<Decimal>,
    /// LastPx(31): net per-unit price of this fill; required for ExecType Trade.
    pub last_px: Option<Decimal>,
    /// LastMkt(30): the venue's id; required for ExecType Trade.
    pub last_mkt: Option<String>,
    /// OrdRejReason(103); required for ExecType Rejected.
    pub ord_rej_reason: Option<u32>,
    /// Text(58): why, for rejects, cancels and expiries.
    pub text: Option<String>,
}

impl ExecReport {
    /// Builds the FIX.4.4 ExecutionReport message (header 8=FIX.4.4, 35=8;
    /// the session fills in CompIDs, sequence number and SendingTime).
    /// Decimals are written with their own scale. Fails with
    /// [`QuickFixError::InvalidArgument`] when the report breaks the desk
    /// contract's shape: a Trade without LastQty/LastPx/LastMkt or with an
    /// OrdStatus other than PartiallyFilled/Filled, or a Rejected report
    /// without OrdRejReason and Text or with OrdStatus other than Rejected.
    pub fn to_message(&self) -> Result<Message, QuickFixError> {
        self.check_shape()
            .map_err(QuickFixError::invalid_argument)?;

        let mut msg = crate::new_message("8")?;
        msg.set_field(37, self.order_id.as_str())?;
        msg.set_field(11, self.cl_ord_id.as_str())?;
        if let Some(orig) = &self.orig_cl_ord_id {
            msg.set_field(41, orig.as_str())?;
        }
        msg.set_field(17, self.exec_id.as_str())?;
        msg.set_field(150, self.exec_type.fix_value())?;
        msg.set_field(39, self.ord_status.fix_value())?;
        if let Some(account) = &self.account {
            msg.set_field(1, account.as_str())?;
        }
        msg.set_field(55, self.symbol.as_str())?;
        msg.set_field(54, self.side.fix_value())?;
        msg.set_field(38, self.order_qty.to_string())?;
        msg.set_field(14, self.cum_qty.to_string())?;
        msg.set_field(151, self.leaves_qty.to_string())?;
        msg.set_field(6, self.avg_px.to_string())?;
        msg.set_field(60, self.transact_time.as_str())?;
        if let Some(last_qty) = self.last_qty {
            msg.set_field(32, last_qty.to_string())?;
        }
        if let Some(last_px) = self.last_px {
            msg.set_field(31, last_px.to_string())?;
        }
        if let Some(last_mkt) = &self.last_mkt {
            msg.set_field(30, last_mkt.as_str())?;
        }
        if let Some(reason) = self.ord_rej_reason {
            msg.set_field(103, reason)?;
        }
        if let Some(text) = &self.text {
            msg.set_field(58, text.as_str())?;
        }
        Ok(msg)
    }

    /// The per-ExecType field requirements of `specs/desk-fix.md`.
    fn check_shape(&self) -> Result<(), &'static str> {
        match self.exec_type {
            ExecType::Trade => {
                if !matches!(
                    self.ord_status,
                    OrdStatus::PartiallyFilled | OrdStatus::Filled
                ) {
                    return Err("a Trade report (150=F) needs OrdStatus 1 or 2");
                }
                if self.last_qty.is_none() || self.last_px.is_none() || self.last_mkt.is_none() {
                    return Err(
                        "a Trade report (150=F) needs LastQty(32), LastPx(31) and LastMkt(30)",
                    );
                }
            }
            ExecType::Rejected => {
                if self.ord_status != OrdStatus::Rejected {
                    return Err("a Rejected report (150=8) needs OrdStatus 8");
                }
                if self.ord_rej_reason.is_none() || self.text.is_none() {
                    return Err("a Rejected report (150=8) needs OrdRejReason(103) and Text(58)");
                }
            }
            ExecType::New | ExecType::Canceled | ExecType::Expired | ExecType::OrderStatus => {}
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn fill() -> ExecReport {
        ExecReport {
            order_id: "P-42".into(),
            cl_ord_id: "ord-1".into(),
            orig_cl_ord_id: None,
            exec_id: "E-7".into(),
            exec_type: ExecType::Trade,
            ord_status: OrdStatus::PartiallyFilled,
            account: Some("ACC-7".into()),
            symbol: "USDC/USD".into(),
            side: Side::Buy,
            order_qty: dec("1000000.00"),
            cum_qty: dec("250000.00"),
            leaves_qty: dec("750000.00"),
            avg_px: dec("1.000125"),
            transact_time: "20250101-12:00:01.250".into(),
            last_qty: Some(dec("250000.00")),
            last_px: Some(dec("1.000125")),
            last_mkt: Some("kraken".into()),
            ord_rej_reason: None,
            text: None,
        }
    }

    #[test]
    fn fill_fields_read_back() -> Result<(), QuickFixError> {
        let msg = fill().to_message()?;
        assert_eq!(
            msg.with_header(|h| h.get_field(8)).as_deref(),
            Some("FIX.4.4")
        );
        assert_eq!(msg.with_header(|h| h.get_field(35)).as_deref(), Some("8"));
        for (tag, expected) in [
            (150, "F"),
            (39, "1"),
            (14, "250000.00"),
            (151, "750000.00"),
            (6, "1.000125"),
            (32, "250000.00"),
            (31, "1.000125"),
            (30, "kraken"),
            (37, "P-42"),
            (11, "ord-1"),
            (17, "E-7"),
            (1, "ACC-7"),
            (55, "USDC/USD"),
            (54, "1"),
            (38, "1000000.00"),
            (60, "20250101-12:00:01.250"),
        ] {
            assert_eq!(msg.get_field(tag).as_deref(), Some(expected), "tag {tag}");
        }
        assert_eq!(msg.get_field(103), None);
        assert_eq!(msg.get_field(58), None);
        // The rendered text is a well-formed FIX 4.4 message.
        let text = msg.to_fix_string()?;
        assert!(text.starts_with("8=FIX.4.4\u{1}9="), "{text}");
        assert!(text.contains("\u{1}35=8\u{1}"), "{text}");
        Ok(())
    }

    #[test]
    fn reject_carries_reason_and_text() -> Result<(), QuickFixError> {
        let report = ExecReport {
            exec_type: ExecType::Rejected,
            ord_status: OrdStatus::Rejected,
            cum_qty: Decimal::ZERO,
            leaves_qty: Decimal::ZERO,
            avg_px: Decimal::ZERO,
            last_qty: None,
            last_px: None,
            last_mkt: None,
            account: None,
            ord_rej_reason: Some(3),
            text: Some("risk: max parent notional 25000000 USD exceeded by 1000000".into()),
            ..fill()
        };
        let msg = report.to_message()?;
        assert_eq!(msg.get_field(150).as_deref(), Some("8"));
        assert_eq!(msg.get_field(39).as_deref(), Some("8"));
        assert_eq!(msg.get_field(103).as_deref(), Some("3"));
        assert_eq!(msg.get_field(14).as_deref(), Some("0"));
        assert_eq!(msg.get_field(1), None);
        assert!(
            msg.get_field(58)
                .unwrap()
                .starts_with("risk: max parent notional")
        );
        Ok(())
    }

    #[test]
    fn malformed_reports_are_refused() {
        let no_venue = ExecReport {
            last_mkt: None,
            ..fill()
        };
        assert!(matches!(
            no_venue.to_message(),
            Err(QuickFixError::InvalidArgument(_))
        ));
        let fill_as_new = ExecReport {
            ord_status: OrdStatus::New,
            ..fill()
        };
        assert!(fill_as_new.to_message().is_err());
        let bare_reject = ExecReport {
            exec_type: ExecType::Rejected,
            ord_status: OrdStatus::Rejected,
            ..fill()
        };
        assert!(bare_reject.to_message().is_err());
        let nul_in_text = ExecReport {
            exec_type: ExecType::New,
            ord_status: OrdStatus::New,
            text: Some("a\0b".into()),
            ..fill()
        };
        assert!(nul_in_text.to_message().is_err());
    }
}
