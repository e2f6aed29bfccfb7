//! Reading one `sor tca compute` input line (../shared/specs/cli-contract.md) into
//! validated inputs, naming the field of the first fault.

use super::error::TcaError;
use super::types::{Fill, Order, Trade, Window};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use venues::Side;

/// Everything one input line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The benchmark window and its partitions.
    pub window: Window,
    /// The constituent venues.
    pub constituents: BTreeSet<String>,
    /// Every market trade handed in (eligible or not).
    pub trades: Vec<Trade>,
    /// The order, when the line has one.
    pub order: Option<Order>,
}

type Wrap = fn(String) -> TcaError;

/// An integer millisecond timestamp (a JSON integer).
fn integer(v: Option<&Value>, field: &str, wrap: Wrap) -> Result<i64, TcaError> {
    let v = v.ok_or_else(|| wrap(format!("{field}: missing")))?;
    v.as_i64()
        .ok_or_else(|| wrap(format!("{field}: {v} is not an integer number of ms")))
}

/// A decimal written as a JSON string: `-?digits(.digits)?`, exactly representable.
fn decimal(v: Option<&Value>, field: &str, wrap: Wrap) -> Result<Decimal, TcaError> {
    let v = v.ok_or_else(|| wrap(format!("{field}: missing")))?;
    let s = v
        .as_str()
        .ok_or_else(|| wrap(format!("{field}: must be a decimal string, got {v}")))?;
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let well_formed = !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    if !well_formed {
        return Err(wrap(format!("{field}: {s:?} is not a decimal")));
    }
    Decimal::from_str_exact(s)
        .map_err(|_| wrap(format!("{field}: {s:?} is out of the exact decimal range")))
}

/// A decimal string that must be `> 0`.
fn positive(v: Option<&Value>, field: &str, wrap: Wrap) -> Result<Decimal, TcaError> {
    let d = decimal(v, field, wrap)?;
    if d <= Decimal::ZERO {
        return Err(wrap(format!("{field}: {d} must be greater than 0")));
    }
    Ok(d)
}

/// A non-empty venue name.
fn venue(v: Option<&Value>, field: &str, wrap: Wrap) -> Result<String, TcaError> {
    let v = v.ok_or_else(|| wrap(format!("{field}: missing")))?;
    match v.as_str() {
        Some(s) if !s.is_empty() => Ok(s.to_owned()),
        _ => Err(wrap(format!("{field}: {v} is not a venue name"))),
    }
}

fn window(obj: &Map<String, Value>) -> Result<Window, TcaError> {
    let w = TcaError::InvalidWindow;
    let start = integer(obj.get("window_start_ms"), "window_start_ms", w)?;
    let end = integer(obj.get("window_end_ms"), "window_end_ms", w)?;
    let k = obj
        .get("partitions")
        .ok_or_else(|| w("partitions: missing".to_owned()))?;
    let k = k
        .as_u64()
        .ok_or_else(|| w(format!("partitions: {k} is not a positive integer")))?;
    Window::new(start, end, k)
}

fn constituents(obj: &Map<String, Value>) -> Result<BTreeSet<String>, TcaError> {
    let bad = |d: String| TcaError::InvalidInput(d);
    let list = obj
        .get("constituents")
        .ok_or_else(|| bad("constituents: missing".to_owned()))?
        .as_array()
        .ok_or_else(|| bad("constituents: must be an array of venue names".to_owned()))?;
    list.iter()
        .enumerate()
        .map(|(i, v)| venue(Some(v), &format!("constituents[{i}]"), bad))
        .collect()
}

fn trade(i: usize, v: &Value) -> Result<Trade, TcaError> {
    let t = TcaError::InvalidTrade;
    let fields = match v.as_array() {
        Some(a) if a.len() == 4 => a,
        _ => {
            return Err(t(format!(
                "trades[{i}]: {v} is not [ts_ms, venue, price, size]"
            )));
        }
    };
    Ok(Trade {
        ts_ms: integer(fields.first(), &format!("trades[{i}][0]"), t)?,
        venue: venue(fields.get(1), &format!("trades[{i}][1]"), t)?,
        px: positive(fields.get(2), &format!("trades[{i}][2]"), t)?,
        qty: positive(fields.get(3), &format!("trades[{i}][3]"), t)?,
    })
}

fn trades(obj: &Map<String, Value>) -> Result<Vec<Trade>, TcaError> {
    let list = obj
        .get("trades")
        .ok_or_else(|| TcaError::InvalidTrade("trades: missing".to_owned()))?
        .as_array()
        .ok_or_else(|| TcaError::InvalidTrade("trades: must be an array of trades".to_owned()))?;
    list.iter().enumerate().map(|(i, v)| trade(i, v)).collect()
}

fn fill(i: usize, v: &Value) -> Result<Fill, TcaError> {
    let f = TcaError::InvalidFill;
    let prefix = format!("order.fills[{i}]");
    let obj = v
        .as_object()
        .ok_or_else(|| f(format!("{prefix}: must be an object")))?;
    let field = |key: &str| format!("{prefix}.{key}");
    let mid = match obj.get("mid") {
        None | Some(Value::Null) => None,
        Some(m) => Some(positive(Some(m), &field("mid"), f)?),
    };
    Ok(Fill {
        ts_ms: integer(obj.get("ts_ms"), &field("ts_ms"), f)?,
        venue: venue(obj.get("venue"), &field("venue"), f)?,
        px: positive(obj.get("px"), &field("px"), f)?,
        qty: positive(obj.get("qty"), &field("qty"), f)?,
        fee: decimal(obj.get("fee"), &field("fee"), f)?,
        mid,
    })
}

fn order(v: &Value) -> Result<Order, TcaError> {
    let o = TcaError::InvalidOrder;
    let obj = v
        .as_object()
        .ok_or_else(|| o("order: must be an object".to_owned()))?;
    let side = match obj.get("side") {
        Some(Value::String(s)) if s == "buy" => Side::Buy,
        Some(Value::String(s)) if s == "sell" => Side::Sell,
        Some(other) => return Err(o(format!("order.side: {other} is not \"buy\" or \"sell\""))),
        None => return Err(o("order.side: missing (\"buy\" or \"sell\")".to_owned())),
    };
    let qty = positive(obj.get("qty"), "order.qty", o)?;
    let arrival_px = positive(obj.get("arrival_px"), "order.arrival_px", o)?;
    let end_px = positive(obj.get("end_px"), "order.end_px", o)?;
    let start_ms = integer(obj.get("start_ms"), "order.start_ms", o)?;
    let end_ms = integer(obj.get("end_ms"), "order.end_ms", o)?;
    if end_ms < start_ms {
        return Err(o(format!(
            "order.end_ms: {end_ms} is before order.start_ms {start_ms}"
        )));
    }
    let fills = obj
        .get("fills")
        .ok_or_else(|| o("order.fills: missing".to_owned()))?
        .as_array()
        .ok_or_else(|| o("order.fills: must be an array of fills".to_owned()))?
        .iter()
        .enumerate()
        .map(|(i, v)| fill(i, v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Order {
        side,
        qty,
        arrival_px,
        end_px,
        start_ms,
        end_ms,
        fills,
    })
}

/// Parses and validates one input line: first the window, then the constituents, the
/// trades in order, the order and its fills. The first fault found is the answer.
pub fn parse_request(line: &str) -> Result<Request, TcaError> {
    let value: Value =
        serde_json::from_str(line).map_err(|e| TcaError::InvalidInput(format!("not JSON: {e}")))?;
    let obj = value
        .as_object()
        .ok_or_else(|| TcaError::InvalidInput("the line must be a JSON object".to_owned()))?;
    let window = window(obj)?;
    let constituents = constituents(obj)?;
    let trades = trades(obj)?;
    let order = match obj.get("order") {
        None | Some(Value::Null) => None,
        Some(v) => Some(order(v)?),
    };
    Ok(Request {
        window,
        constituents,
        trades,
        order,
    })
}
