//! Desk-facing FIX 4.4 mapping: NewOrderSingle (35=D) in, ExecutionReport
//! (35=8) out, as `specs/desk-fix.md` defines them.
//!
//! The parent order's strategy parameters travel in StrategyParametersGrp
//! (957 NoStrategyParameters, 958 StrategyParameterName, 959
//! StrategyParameterType, 960 StrategyParameterValue). The stock QuickFIX
//! `FIX44.xml` defines neither these tags nor the 847 values 1000/1001, so the
//! gateway's data dictionary must add them for QuickFIX to parse the group;
//! [`parse_new_order`] refuses a message whose 957 count does not match the
//! group entries it can read instead of silently dropping parameters.

use quickfix::{FieldMap, Message};
use rust_decimal::Decimal;

use crate::present::Fields;
use crate::{FieldError, value};

mod acceptor;
mod exec_report;
mod outbox;
mod requests;

pub use acceptor::{
    DeskApp, DeskDirectory, DeskHandler, DeskLogin, DeskRequest, ExecIds, LogonRefusal, Refusal,
};
pub use exec_report::{ExecReport, ExecType, OrdStatus};
pub use outbox::{DEFAULT_OUTBOX_CAPACITY, DeskMessage, DeskOutbox, OutboxError, WriterStats};
pub use requests::{
    BusinessReject, CancelReject, CancelRequest, CxlRejReason, StatusRequest, map_inbound,
    parse_cancel, parse_status,
};

/// A FIX tag number together with its field name, for reading and for errors.
#[derive(Debug, Clone, Copy)]
struct Field {
    tag: u32,
    name: &'static str,
}

const fn field(tag: u32, name: &'static str) -> Field {
    Field { tag, name }
}

const MSG_TYPE: Field = field(35, "MsgType");
const ACCOUNT: Field = field(1, "Account");
const CL_ORD_ID: Field = field(11, "ClOrdID");
const ORDER_QTY: Field = field(38, "OrderQty");
const ORD_TYPE: Field = field(40, "OrdType");
const PRICE: Field = field(44, "Price");
const SIDE: Field = field(54, "Side");
const SYMBOL: Field = field(55, "Symbol");
const TIME_IN_FORCE: Field = field(59, "TimeInForce");
const TRANSACT_TIME: Field = field(60, "TransactTime");
const TARGET_STRATEGY: Field = field(847, "TargetStrategy");
const NO_STRATEGY_PARAMETERS: Field = field(957, "NoStrategyParameters");
const STRATEGY_PARAMETER_NAME: Field = field(958, "StrategyParameterName");
const STRATEGY_PARAMETER_VALUE: Field = field(960, "StrategyParameterValue");

/// Side(54) of an order: which way the desk trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// 54=1.
    Buy,
    /// 54=2.
    Sell,
}

impl Side {
    /// The FIX value of Side(54): `1` or `2`.
    pub fn fix_value(self) -> &'static str {
        match self {
            Self::Buy => "1",
            Self::Sell => "2",
        }
    }
}

/// OrdType(40) of a parent order: whether it carries a limit price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrdType {
    /// 40=1: no price limit; Price(44) must be absent.
    Market,
    /// 40=2: Price(44) is the worst acceptable price per unit after fees.
    Limit,
}

/// TimeInForce(59) of a parent order: how long it may stay open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimeInForce {
    /// 59=0, the default when 59 is absent: open until done or end of day.
    #[default]
    Day,
    /// 59=3: whatever cannot be filled right away is cancelled.
    Ioc,
}

/// TargetStrategy(847) of a parent order: how the router works it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TargetStrategy {
    /// 847=1000, the default when 847 is absent: route the whole order now.
    #[default]
    Sweep,
    /// 847=1001: slice the order over DurationSecs.
    Twap,
}

/// A desk's parent order as its NewOrderSingle (35=D) states it, checked
/// field by field but not yet against the instrument (precision, symbol) or
/// risk limits, which the `sor` crate applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// ClOrdID(11): the desk's id for the order.
    pub cl_ord_id: String,
    /// Account(1), echoed back on every report when present.
    pub account: Option<String>,
    /// Symbol(55), e.g. `USDC/USD`.
    pub symbol: String,
    /// Side(54).
    pub side: Side,
    /// OrderQty(38), always > 0.
    pub order_qty: Decimal,
    /// OrdType(40).
    pub ord_type: OrdType,
    /// Price(44): `Some` (and > 0) exactly when `ord_type` is Limit.
    pub price: Option<Decimal>,
    /// TimeInForce(59), Day when absent.
    pub time_in_force: TimeInForce,
    /// TransactTime(60) as received, a valid `YYYYMMDD-HH:MM:SS[.sss]`.
    pub transact_time: String,
    /// TargetStrategy(847), Sweep when absent.
    pub target_strategy: TargetStrategy,
    /// Strategy parameter `DurationSecs` (TWAP length), > 0.
    pub duration_secs: Option<u64>,
    /// Strategy parameter `MaxClip`: the largest child the desk wants, > 0.
    pub max_clip: Option<Decimal>,
    /// Strategy parameter `Venues`: the venue allow-list, never empty.
    pub venues: Option<Vec<String>>,
    /// Strategy parameter `MaxSlippageBps` against the arrival reference rate, ≥ 0.
    pub max_slippage_bps: Option<Decimal>,
}

/// Reads a desk's NewOrderSingle (35=D) into a [`NewOrder`], applying the
/// field rules of `specs/desk-fix.md`; the first broken rule is returned as a
/// [`FieldError`] naming the tag. If the header carries MsgType(35) it must be `D`.
pub fn parse_new_order(msg: &Message) -> Result<NewOrder, FieldError> {
    let fields = Fields::new(msg);
    let msg = &fields;
    if let Some(msg_type) = msg
        .message()
        .with_header(|h| h.get_field(MSG_TYPE.tag as i32))
        && msg_type != "D"
    {
        return Err(invalid(MSG_TYPE, &msg_type, "is not D (NewOrderSingle)"));
    }

    let cl_ord_id = required(msg, CL_ORD_ID)?;
    let account = optional(msg, ACCOUNT)?;
    let symbol = required(msg, SYMBOL)?;

    let raw = required(msg, SIDE)?;
    let side = match raw.as_str() {
        "1" => Side::Buy,
        "2" => Side::Sell,
        _ => return Err(invalid(SIDE, &raw, "is not 1 (Buy) or 2 (Sell)")),
    };

    let raw = required(msg, ORDER_QTY)?;
    let order_qty = value::positive_decimal(ORDER_QTY.tag, ORDER_QTY.name, &raw)?;

    let raw = required(msg, ORD_TYPE)?;
    let ord_type = match raw.as_str() {
        "1" => OrdType::Market,
        "2" => OrdType::Limit,
        _ => return Err(invalid(ORD_TYPE, &raw, "is not 1 (Market) or 2 (Limit)")),
    };

    let raw_price = optional(msg, PRICE)?;
    let price = match (ord_type, raw_price) {
        (OrdType::Limit, None) => return Err(missing(PRICE)),
        (OrdType::Limit, Some(raw)) => Some(value::positive_decimal(PRICE.tag, PRICE.name, &raw)?),
        (OrdType::Market, Some(raw)) => {
            return Err(invalid(
                PRICE,
                &raw,
                "must be absent when OrdType(40) is 1 (Market)",
            ));
        }
        (OrdType::Market, None) => None,
    };

    let time_in_force = match optional(msg, TIME_IN_FORCE)?.as_deref() {
        None | Some("0") => TimeInForce::Day,
        Some("3") => TimeInForce::Ioc,
        Some(other) => return Err(invalid(TIME_IN_FORCE, other, "is not 0 (Day) or 3 (IOC)")),
    };

    let transact_time = required(msg, TRANSACT_TIME)?;
    value::utc_timestamp(TRANSACT_TIME.tag, TRANSACT_TIME.name, &transact_time)?;

    let target_strategy = match optional(msg, TARGET_STRATEGY)?.as_deref() {
        None | Some("1000") => TargetStrategy::Sweep,
        Some("1001") => TargetStrategy::Twap,
        Some(other) => {
            return Err(invalid(
                TARGET_STRATEGY,
                other,
                "is not 1000 (Sweep) or 1001 (TWAP)",
            ));
        }
    };

    let mut order = NewOrder {
        cl_ord_id,
        account,
        symbol,
        side,
        order_qty,
        ord_type,
        price,
        time_in_force,
        transact_time,
        target_strategy,
        duration_secs: None,
        max_clip: None,
        venues: None,
        max_slippage_bps: None,
    };
    read_strategy_parameters(msg, &mut order)?;
    Ok(order)
}

/// Fills the strategy parameter fields of `order` from StrategyParametersGrp.
fn read_strategy_parameters(msg: &Fields<'_>, order: &mut NewOrder) -> Result<(), FieldError> {
    let declared = match optional(msg, NO_STRATEGY_PARAMETERS)? {
        None => 0,
        Some(raw) => {
            let count = value::whole_number(
                NO_STRATEGY_PARAMETERS.tag,
                NO_STRATEGY_PARAMETERS.name,
                &raw,
            )?;
            usize::try_from(count)
                .map_err(|_| invalid(NO_STRATEGY_PARAMETERS, &raw, "is too large"))?
        }
    };

    let group_tag = NO_STRATEGY_PARAMETERS.tag as i32;
    // Entries the text shows (each starts with its name), so that no look-up is made
    // for one that is not there.
    let present = msg
        .group_entries(STRATEGY_PARAMETER_NAME.tag as i32)
        .unwrap_or(usize::MAX);
    let mut entries = Vec::new();
    // QuickFIX groups are 1-based; stop at the first index that does not exist.
    while entries.len() < present
        && let Some(entry) = msg
            .message()
            .with_group((entries.len() + 1) as i32, group_tag, |g| {
                (
                    g.get_field(STRATEGY_PARAMETER_NAME.tag as i32),
                    g.get_field(STRATEGY_PARAMETER_VALUE.tag as i32),
                )
            })
    {
        entries.push(entry);
        if entries.len() > declared {
            break;
        }
    }
    if entries.len() != declared {
        return Err(FieldError::GroupCount {
            tag: NO_STRATEGY_PARAMETERS.tag,
            name: NO_STRATEGY_PARAMETERS.name,
            declared,
            found: entries.len(),
        });
    }

    for (name, raw) in entries {
        let name = non_empty(STRATEGY_PARAMETER_NAME, name)?
            .ok_or_else(|| missing(STRATEGY_PARAMETER_NAME))?;
        let raw = non_empty(STRATEGY_PARAMETER_VALUE, raw)?
            .ok_or_else(|| missing(STRATEGY_PARAMETER_VALUE))?;
        let param_err = |e: FieldError| for_parameter(e, &name);
        let (tag, nm) = (STRATEGY_PARAMETER_VALUE.tag, STRATEGY_PARAMETER_VALUE.name);
        let already_set = match name.as_str() {
            "DurationSecs" => {
                let secs = value::whole_number(tag, nm, &raw).map_err(param_err)?;
                if secs == 0 {
                    return Err(param_err(invalid(
                        STRATEGY_PARAMETER_VALUE,
                        &raw,
                        "must be greater than 0",
                    )));
                }
                order.duration_secs.replace(secs).is_some()
            }
            "MaxClip" => {
                let clip = value::positive_decimal(tag, nm, &raw).map_err(param_err)?;
                order.max_clip.replace(clip).is_some()
            }
            "Venues" => {
                let venues: Vec<String> = raw.split(',').map(|v| v.trim().to_owned()).collect();
                if venues.iter().any(String::is_empty) {
                    return Err(param_err(FieldError::format(
                        tag,
                        nm,
                        &raw,
                        "is not a comma-separated list of non-empty venue ids",
                    )));
                }
                order.venues.replace(venues).is_some()
            }
            "MaxSlippageBps" => {
                let bps = value::decimal(tag, nm, &raw).map_err(param_err)?;
                if bps < Decimal::ZERO {
                    return Err(param_err(invalid(
                        STRATEGY_PARAMETER_VALUE,
                        &raw,
                        "must not be negative",
                    )));
                }
                order.max_slippage_bps.replace(bps).is_some()
            }
            _ => {
                return Err(invalid(
                    STRATEGY_PARAMETER_NAME,
                    &name,
                    "is not one of DurationSecs, MaxClip, Venues, MaxSlippageBps",
                ));
            }
        };
        if already_set {
            return Err(invalid(
                STRATEGY_PARAMETER_NAME,
                &name,
                "appears more than once",
            ));
        }
    }
    Ok(())
}

/// Appends which strategy parameter a value error is about to its rule.
fn for_parameter(err: FieldError, param: &str) -> FieldError {
    match err {
        FieldError::Invalid {
            tag,
            name,
            value,
            rule,
        } => FieldError::Invalid {
            tag,
            name,
            value,
            rule: format!("{rule} (parameter {param})"),
        },
        FieldError::Format {
            tag,
            name,
            value,
            rule,
        } => FieldError::Format {
            tag,
            name,
            value,
            rule: format!("{rule} (parameter {param})"),
        },
        other => other,
    }
}

fn missing(f: Field) -> FieldError {
    FieldError::Missing {
        tag: f.tag,
        name: f.name,
    }
}

fn invalid(f: Field, value: &str, rule: &str) -> FieldError {
    FieldError::invalid(f.tag, f.name, value, rule)
}

/// An absent field is `None`; a present but empty one is a format error.
fn non_empty(f: Field, raw: Option<String>) -> Result<Option<String>, FieldError> {
    match raw {
        Some(v) if v.is_empty() => Err(FieldError::format(f.tag, f.name, &v, "is empty")),
        other => Ok(other),
    }
}

fn optional(msg: &Fields<'_>, f: Field) -> Result<Option<String>, FieldError> {
    non_empty(f, msg.get(f.tag as i32))
}

fn required(msg: &Fields<'_>, f: Field) -> Result<String, FieldError> {
    optional(msg, f)?.ok_or_else(|| missing(f))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
