//! Desk FIX messages for the codec benchmark: a NewOrderSingle with its strategy
//! parameters, a fill ExecutionReport, the gateway's data dictionary, and what a desk
//! reads back from an ExecutionReport.

use fix::FieldError;
use fix::desk::{ExecReport, ExecType, OrdStatus, Side};
use quickfix::{DataDictionary, FieldMap, Group, Message, QuickFixError};
use rust_decimal::Decimal;
use std::str::FromStr;

/// The gateway's FIX 4.4 data dictionary in the source tree (`fix/spec/FIX44-sor.xml`).
pub const DICTIONARY_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fix/spec/FIX44-sor.xml");

/// The header a session stamps on a message it sends (CompIDs, MsgSeqNum,
/// SendingTime), so the text has the size it has on the wire.
fn stamp(msg: &mut Message, sender: &str, target: &str, seq: u64) -> Result<(), QuickFixError> {
    msg.with_header_mut(|h| {
        h.set_field(49, sender)?;
        h.set_field(56, target)?;
        h.set_field(34, seq.to_string())?;
        h.set_field(52, "20250101-12:00:00.125")
    })
}

/// A desk's TWAP NewOrderSingle (35=D) as a desk client builds it: sell 2,500,000
/// USDC/USD, limit 0.9995, with StrategyParametersGrp (957) DurationSecs = 600 and
/// MaxClip = 500000, header stamped as sequence number `seq`.
pub fn desk_new_order(seq: u64) -> Result<Message, QuickFixError> {
    let mut m = fix::new_message("D")?;
    stamp(&mut m, "DESK1", "SOR", seq)?;
    m.set_field(11, format!("ord-{seq}"))?;
    m.set_field(1, "ACC-7")?;
    m.set_field(55, "USDC/USD")?;
    m.set_field(54, "2")?;
    m.set_field(38, "2500000.00")?;
    m.set_field(40, "2")?;
    m.set_field(44, "0.9995")?;
    m.set_field(59, "0")?;
    m.set_field(60, "20250101-12:00:00.120")?;
    m.set_field(847, "1001")?;
    for (name, value) in [("DurationSecs", "600"), ("MaxClip", "500000")] {
        let mut g = Group::try_new(957, 958)?;
        g.set_field(958, name)?;
        g.set_field(960, value)?;
        m.add_group(&g)?;
    }
    Ok(m)
}

/// A partial fill report to a desk, as the gateway renders it.
pub fn fill_report() -> ExecReport {
    let dec = |units: i64, scale: u32| Decimal::new(units, scale);
    ExecReport {
        order_id: "P-42".into(),
        cl_ord_id: "ord-1".into(),
        orig_cl_ord_id: None,
        exec_id: "P-42-E7".into(),
        exec_type: ExecType::Trade,
        ord_status: OrdStatus::PartiallyFilled,
        account: Some("ACC-7".into()),
        symbol: "USDC/USD".into(),
        side: Side::Sell,
        order_qty: dec(250_000_000, 2),
        cum_qty: dec(100_000_000, 2),
        leaves_qty: dec(150_000_000, 2),
        avg_px: dec(9_998_125, 7),
        transact_time: "20250101-12:00:01.250".into(),
        last_qty: Some(dec(50_000_000, 2)),
        last_px: Some(dec(99_978, 5)),
        last_mkt: Some("dealer-a".into()),
        ord_rej_reason: None,
        text: None,
    }
}

/// `report` as the gateway's session sends it: rendered and stamped as sequence
/// number `seq`.
pub fn report_message(report: &ExecReport, seq: u64) -> Result<Message, QuickFixError> {
    let mut m = report.to_message()?;
    stamp(&mut m, "SOR", "DESK1", seq)?;
    Ok(m)
}

/// Loads the gateway's data dictionary from the source tree.
pub fn dictionary() -> Result<DataDictionary, QuickFixError> {
    DataDictionary::try_from_path(DICTIONARY_PATH)
}

/// What a desk reads back from an ExecutionReport (35=8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReport {
    /// OrderID(37).
    pub order_id: String,
    /// ClOrdID(11).
    pub cl_ord_id: String,
    /// ExecID(17).
    pub exec_id: String,
    /// ExecType(150), raw.
    pub exec_type: String,
    /// OrdStatus(39), raw.
    pub ord_status: String,
    /// CumQty(14).
    pub cum_qty: Decimal,
    /// LeavesQty(151).
    pub leaves_qty: Decimal,
    /// AvgPx(6).
    pub avg_px: Decimal,
    /// LastQty(32), on a fill.
    pub last_qty: Option<Decimal>,
    /// LastPx(31), on a fill.
    pub last_px: Option<Decimal>,
    /// LastMkt(30), on a fill.
    pub last_mkt: Option<String>,
}

fn required(msg: &Message, tag: u32, name: &'static str) -> Result<String, FieldError> {
    msg.get_field(tag as i32)
        .ok_or(FieldError::Missing { tag, name })
}

fn decimal(tag: u32, name: &'static str, raw: &str) -> Result<Decimal, FieldError> {
    Decimal::from_str(raw).map_err(|_| FieldError::Format {
        tag,
        name,
        value: raw.to_owned(),
        rule: "is not a decimal number".into(),
    })
}

fn optional_decimal(
    msg: &Message,
    tag: u32,
    name: &'static str,
) -> Result<Option<Decimal>, FieldError> {
    msg.get_field(tag as i32)
        .map(|raw| decimal(tag, name, &raw))
        .transpose()
}

/// Reads the fields a desk acts on from an ExecutionReport; an absent required
/// field or a malformed quantity or price is an error naming the tag.
pub fn read_exec_report(msg: &Message) -> Result<ReadReport, FieldError> {
    Ok(ReadReport {
        order_id: required(msg, 37, "OrderID")?,
        cl_ord_id: required(msg, 11, "ClOrdID")?,
        exec_id: required(msg, 17, "ExecID")?,
        exec_type: required(msg, 150, "ExecType")?,
        ord_status: required(msg, 39, "OrdStatus")?,
        cum_qty: decimal(14, "CumQty", &required(msg, 14, "CumQty")?)?,
        leaves_qty: decimal(151, "LeavesQty", &required(msg, 151, "LeavesQty")?)?,
        avg_px: decimal(6, "AvgPx", &required(msg, 6, "AvgPx")?)?,
        last_qty: optional_decimal(msg, 32, "LastQty")?,
        last_px: optional_decimal(msg, 31, "LastPx")?,
        last_mkt: msg.get_field(30),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use fix::desk::{DeskRequest, TargetStrategy, map_inbound};

    /// The benchmark's NewOrderSingle survives its text and the dictionary with both
    /// strategy parameters, as the desk acceptor would read it.
    #[test]
    fn new_order_round_trips_through_the_dictionary() {
        let text = desk_new_order(7).unwrap().to_fix_string().unwrap();
        let msg = dictionary().unwrap().try_build_message(&text).unwrap();
        let Ok(DeskRequest::New(order)) = map_inbound(&msg) else {
            panic!("not a new order: {text}");
        };
        assert_eq!(order.cl_ord_id, "ord-7");
        assert_eq!(order.target_strategy, TargetStrategy::Twap);
        assert_eq!(order.duration_secs, Some(600));
        assert_eq!(order.max_clip, Some(Decimal::from(500_000)));
        assert_eq!(order.price, Some(Decimal::new(9995, 4)));
    }

    /// The fill report reads back with the figures it was rendered from.
    #[test]
    fn fill_report_reads_back() {
        let text = report_message(&fill_report(), 9)
            .unwrap()
            .to_fix_string()
            .unwrap();
        let msg = dictionary().unwrap().try_build_message(&text).unwrap();
        let read = read_exec_report(&msg).unwrap();
        let sent = fill_report();
        assert_eq!(read.exec_type, "F");
        assert_eq!(read.cum_qty, sent.cum_qty);
        assert_eq!(read.avg_px, sent.avg_px);
        assert_eq!(read.last_px, sent.last_px);
        assert_eq!(read.last_mkt.as_deref(), Some("dealer-a"));
    }

    /// A report without CumQty is refused naming the tag.
    #[test]
    fn report_without_cum_qty_names_the_tag() {
        let mut m = report_message(&fill_report(), 9).unwrap();
        m.remove_field(14).unwrap();
        assert_eq!(
            read_exec_report(&m),
            Err(FieldError::Missing {
                tag: 14,
                name: "CumQty"
            })
        );
    }
}
