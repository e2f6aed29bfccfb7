//! Desk FIX mapping: inbound text parsed against the gateway's data dictionary, or a
//! message built field by field, through [`fix::desk::map_inbound`] (what the desk
//! acceptor decodes), then the answer the gateway would send rendered and read back.

use super::input::Input;
use fix::desk::{
    BusinessReject, CancelReject, CancelRequest, CxlRejReason, DeskRequest, ExecReport, ExecType,
    NewOrder, OrdStatus, OrdType, Refusal, StatusRequest, map_inbound,
};
use quickfix::{DataDictionary, FieldMap, Group, Message};
use rust_decimal::Decimal;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    /// The gateway's data dictionary (`fix/spec/FIX44-sor.xml`); QuickFIX objects are
    /// not `Send`, so one per thread.
    static DICTIONARY: DataDictionary = load_dictionary();
}

/// Loads the gateway's dictionary through a private temporary file (QuickFIX reads
/// dictionaries from paths only). Failing here is a broken machine, not an input.
fn load_dictionary() -> DataDictionary {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sor-fuzz-dict-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let loaded = fix::session::write_dictionary(&dir)
        .map_err(|e| e.to_string())
        .and_then(|path| DataDictionary::try_from_path(&path).map_err(|e| e.to_string()));
    let _ = std::fs::remove_dir_all(&dir);
    match loaded {
        Ok(dd) => dd,
        Err(e) => panic!("cannot load the gateway's FIX data dictionary: {e}"),
    }
}

/// Parses `text` with the gateway's data dictionary, as the desk session does.
fn parse_with_dictionary(text: &str) -> Option<Message> {
    DICTIONARY.with(|dd| dd.try_build_message(text).ok())
}

/// Target `desk_fix`: arbitrary bytes as a FIX message's text, parsed as they are
/// and again with a correct frame (see [`reframed`]).
pub fn desk_fix(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for text in [text.to_string(), reframed(&text)] {
        if let Some(msg) = parse_with_dictionary(&text) {
            check_mapping(&msg);
        }
    }
}

/// `text` with BeginString(8), BodyLength(9) and CheckSum(10) rewritten to be
/// correct. QuickFIX drops a message with a wrong length or checksum before the
/// application sees it, and the fuzzer cannot see inside QuickFIX's C++ parser, so
/// without this almost no mutated message would reach the desk mapping.
pub fn reframed(text: &str) -> String {
    fn after_field<'a>(t: &'a str, prefix: &str) -> &'a str {
        match t.strip_prefix(prefix).and_then(|r| r.split_once('\u{1}')) {
            Some((_, rest)) => rest,
            None => t,
        }
    }
    let body = after_field(after_field(text, "8="), "9=");
    let body = match body.rfind("\u{1}10=") {
        Some(at) => &body[..=at],
        None => body,
    };
    let sep = if body.ends_with('\u{1}') { "" } else { "\u{1}" };
    let head = format!("8=FIX.4.4\u{1}9={}\u{1}", body.len() + sep.len());
    let sum = head
        .bytes()
        .chain(body.bytes())
        .chain(sep.bytes())
        .fold(0u8, u8::wrapping_add);
    format!("{head}{body}{sep}10={sum:03}\u{1}")
}

/// Target `desk_fix_fields`: a NewOrderSingle, OrderCancelRequest or
/// OrderStatusRequest (or another MsgType) built from arbitrary (tag, value) pairs
/// and StrategyParametersGrp entries, mapped as built and again after a trip through
/// its FIX text and the dictionary.
pub fn desk_fix_fields(data: &[u8]) {
    let mut input = Input::new(data);
    let msg_type = match input.byte() % 8 {
        0..=1 => "D",
        2..=3 => "F",
        4..=5 => "H",
        6 => "G",
        _ => "8",
    };
    let Ok(mut msg) = fix::new_message(msg_type) else {
        panic!("cannot build an empty {msg_type} message");
    };
    // Bounded: at most 48 fields or group entries.
    for _ in 0..48 {
        if input.is_empty() {
            break;
        }
        let selector = input.byte();
        if selector >= 0xF0 {
            let mut group = match Group::try_with_orders(957, 958, &[958, 959, 960]) {
                Ok(g) => g,
                Err(e) => panic!("cannot build a StrategyParametersGrp entry: {e}"),
            };
            for tag in [958, 959, 960] {
                if let Some(value) = value(&mut input) {
                    let _ = group.set_field(tag, value.as_str());
                }
            }
            let _ = msg.add_group(&group);
            continue;
        }
        let tag = if selector >= 0xE0 {
            i32::from(input.u16())
        } else {
            TAGS[usize::from(selector) % TAGS.len()]
        };
        match value(&mut input) {
            Some(v) => {
                let _ = msg.set_field(tag, v.as_str());
            }
            None => {
                let _ = msg.remove_field(tag);
            }
        }
    }
    check_mapping(&msg);
    if let Some(again) = msg
        .to_fix_string()
        .ok()
        .and_then(|t| parse_with_dictionary(&t))
    {
        check_mapping(&again);
    }
}

/// The tags a desk message may carry, and a few it may not.
const TAGS: &[i32] = &[
    1, 11, 37, 38, 40, 41, 44, 54, 55, 59, 60, 847, 957, 958, 959, 960, 58, 14, 34, 49, 56, 553,
    554, 100, 8, 9, 10, 35, 0, -1,
];

/// Values a desk might send (valid, on an edge, or just wrong).
const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "2",
    "3",
    "1000",
    "1001",
    "-1",
    "-0",
    "0.0",
    "0.0001",
    "1.5",
    "1e5",
    "+1",
    ".5",
    "5.",
    "1,000",
    " 1",
    "18446744073709551615",
    "18446744073709551616",
    "79228162514264337593543950335",
    "79228162514264337593543950336",
    "7.9228162514264337593543950335",
    "0.0000000000000000000000000001",
    "0.00000000000000000000000000001",
    "20240101-12:00:00",
    "20240101-12:00:00.123",
    "20240229-23:59:60.999",
    "20230229-00:00:00",
    "20241301-00:00:00",
    "2024-01-01T12:00:00Z",
    "DurationSecs",
    "MaxClip",
    "Venues",
    "MaxSlippageBps",
    "dealer-a,book-x",
    "a,,b",
    ",",
    " x ",
    "USDC/USD",
    "DESK1",
    "p1",
    "D",
    "F",
    "H",
];

/// A value: from [`VALUES`], or raw text (no SOH or NUL, which no parsed field can
/// hold), or `None` to remove the field.
fn value(input: &mut Input) -> Option<String> {
    let selector = input.byte();
    if selector == 0xFF {
        return None;
    }
    if selector >= 0xC0 {
        let text = input.text(40).replace(['\u{1}', '\0'], "");
        return Some(text);
    }
    Some(VALUES[usize::from(selector) % VALUES.len()].to_owned())
}

/// Maps `msg`, checks the request against the desk contract's field rules, and
/// renders the answer the gateway would send.
fn check_mapping(msg: &Message) {
    match map_inbound(msg) {
        Ok(DeskRequest::New(order)) => check_new_order(&order),
        Ok(DeskRequest::Cancel(cancel)) => check_cancel(&cancel),
        Ok(DeskRequest::Status(status)) => check_status(&status),
        Err(Refusal::Invalid(text)) => {
            assert!(!text.is_empty(), "a refusal without a reason");
            let reject = BusinessReject {
                ref_seq_num: None,
                ref_msg_type: "D".into(),
                ref_id: msg.get_field(11),
                reason: 0,
                text,
            };
            if let Err(e) = reject.to_message() {
                panic!("BusinessMessageReject for {msg:?} cannot be built: {e}");
            }
        }
        Err(Refusal::Busy(text)) => panic!("map_inbound said busy ({text}) for {msg:?}"),
    }
}

fn check_new_order(o: &NewOrder) {
    assert!(!o.cl_ord_id.is_empty() && !o.symbol.is_empty(), "{o:?}");
    assert!(o.order_qty > Decimal::ZERO, "OrderQty {o:?}");
    assert_eq!(o.price.is_some(), o.ord_type == OrdType::Limit, "{o:?}");
    assert!(o.price.is_none_or(|p| p > Decimal::ZERO), "Price {o:?}");
    assert!(matches!(o.transact_time.len(), 17 | 21), "{o:?}");
    assert_ne!(o.duration_secs, Some(0), "{o:?}");
    assert!(o.max_clip.is_none_or(|c| c > Decimal::ZERO), "{o:?}");
    assert!(
        o.max_slippage_bps.is_none_or(|b| b >= Decimal::ZERO),
        "{o:?}"
    );
    assert!(
        o.venues
            .as_ref()
            .is_none_or(|v| !v.is_empty() && v.iter().all(|id| !id.is_empty())),
        "{o:?}"
    );
    // The acknowledgement echoes the desk's ids and quantity; read back through the
    // dictionary it must say the same.
    let ack = ExecReport {
        order_id: "SOR-1".into(),
        cl_ord_id: o.cl_ord_id.clone(),
        orig_cl_ord_id: None,
        exec_id: "E-1".into(),
        exec_type: ExecType::New,
        ord_status: OrdStatus::New,
        account: o.account.clone(),
        symbol: o.symbol.clone(),
        side: o.side,
        order_qty: o.order_qty,
        cum_qty: Decimal::ZERO,
        leaves_qty: o.order_qty,
        avg_px: Decimal::ZERO,
        transact_time: fix::utc_now(),
        last_qty: None,
        last_px: None,
        last_mkt: None,
        ord_rej_reason: None,
        text: None,
    };
    let text = match ack.to_message().and_then(|m| m.to_fix_string()) {
        Ok(t) => t,
        Err(e) => panic!("the ack of {o:?} cannot be built: {e}"),
    };
    let Some(back) = parse_with_dictionary(&text) else {
        panic!("the ack of {o:?} does not parse: {text:?}");
    };
    assert_eq!(back.get_field(11).as_deref(), Some(o.cl_ord_id.as_str()));
    assert_eq!(back.get_field(55).as_deref(), Some(o.symbol.as_str()));
    assert_eq!(
        back.get_field(38).and_then(|q| q.parse::<Decimal>().ok()),
        Some(o.order_qty)
    );
}

fn check_cancel(c: &CancelRequest) {
    assert!(
        !c.cl_ord_id.is_empty() && !c.orig_cl_ord_id.is_empty(),
        "{c:?}"
    );
    assert!(c.order_id.as_ref().is_none_or(|id| !id.is_empty()));
    let reject = CancelReject {
        order_id: c.order_id.clone().unwrap_or_else(|| "NONE".into()),
        cl_ord_id: c.cl_ord_id.clone(),
        orig_cl_ord_id: c.orig_cl_ord_id.clone(),
        ord_status: OrdStatus::Rejected,
        reason: CxlRejReason::UnknownOrder,
        text: "unknown order".into(),
        transact_time: fix::utc_now(),
    };
    if let Err(e) = reject.to_message() {
        panic!("the cancel reject of {c:?} cannot be built: {e}");
    }
}

fn check_status(s: &StatusRequest) {
    assert!(!s.cl_ord_id.is_empty(), "{s:?}");
    assert!(s.symbol.as_ref().is_none_or(|v| !v.is_empty()));
    assert!(s.order_id.as_ref().is_none_or(|v| !v.is_empty()));
}
