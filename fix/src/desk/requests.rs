//! OrderCancelRequest (35=F) and OrderStatusRequest (35=H) from a desk, and the
//! OrderCancelReject (35=9) and BusinessMessageReject (35=j) the gateway answers with.

use quickfix::{FieldMap, Message, QuickFixError};

use super::{
    CL_ORD_ID, DeskRequest, Field, MSG_TYPE, OrdStatus, Refusal, SIDE, SYMBOL, Side, field,
    optional, parse_new_order, required,
};
use crate::FieldError;
use crate::present::Fields;

const ORIG_CL_ORD_ID: Field = field(41, "OrigClOrdID");
const ORDER_ID: Field = field(37, "OrderID");

/// A desk's OrderCancelRequest (35=F): cancel the parent it named with OrigClOrdID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelRequest {
    /// ClOrdID(11) of the cancel request itself.
    pub cl_ord_id: String,
    /// OrigClOrdID(41): the parent's ClOrdID.
    pub orig_cl_ord_id: String,
    /// OrderID(37), when the desk sent it.
    pub order_id: Option<String>,
}

/// Reads an OrderCancelRequest (35=F).
pub fn parse_cancel(msg: &Message) -> Result<CancelRequest, FieldError> {
    let msg = &Fields::new(msg);
    Ok(CancelRequest {
        cl_ord_id: required(msg, CL_ORD_ID)?,
        orig_cl_ord_id: required(msg, ORIG_CL_ORD_ID)?,
        order_id: optional(msg, ORDER_ID)?,
    })
}

/// A desk's OrderStatusRequest (35=H) for the parent with ClOrdID `cl_ord_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRequest {
    /// ClOrdID(11) of the parent asked about.
    pub cl_ord_id: String,
    /// OrderID(37), when the desk sent it.
    pub order_id: Option<String>,
    /// Side(54) as the desk states it (echoed when the order is unknown).
    pub side: Side,
    /// Symbol(55), when the desk sent it.
    pub symbol: Option<String>,
}

/// Reads an OrderStatusRequest (35=H).
pub fn parse_status(msg: &Message) -> Result<StatusRequest, FieldError> {
    let msg = &Fields::new(msg);
    let raw = required(msg, SIDE)?;
    let side = match raw.as_str() {
        "1" => Side::Buy,
        "2" => Side::Sell,
        _ => {
            return Err(FieldError::invalid(
                SIDE.tag,
                SIDE.name,
                &raw,
                "is not 1 (Buy) or 2 (Sell)",
            ));
        }
    };
    Ok(StatusRequest {
        cl_ord_id: required(msg, CL_ORD_ID)?,
        order_id: optional(msg, ORDER_ID)?,
        side,
        symbol: optional(msg, SYMBOL)?,
    })
}

/// Maps one inbound desk application message to the request it makes, with no
/// session around it: what the desk acceptor decodes from a NewOrderSingle (35=D),
/// OrderCancelRequest (35=F) or OrderStatusRequest (35=H). A message that breaks a
/// field rule, or has any other MsgType, is [`Refusal::Invalid`] with the text the
/// acceptor would send back in Text(58). For tests and fuzzing of the desk mapping.
pub fn map_inbound(msg: &Message) -> Result<DeskRequest, Refusal> {
    let msg_type = msg
        .with_header(|h| h.get_field(MSG_TYPE.tag as i32))
        .unwrap_or_default();
    let refuse = |e: FieldError| Refusal::Invalid(e.to_string());
    match msg_type.as_str() {
        "D" => parse_new_order(msg).map(DeskRequest::New).map_err(refuse),
        "F" => parse_cancel(msg).map(DeskRequest::Cancel).map_err(refuse),
        "H" => parse_status(msg).map(DeskRequest::Status).map_err(refuse),
        other => Err(Refusal::Invalid(format!(
            "MsgType {other} is not supported on a desk session (send D, F or H)"
        ))),
    }
}

/// CxlRejReason(102) of an OrderCancelReject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CxlRejReason {
    /// 102=0: the order is already done (filled, cancelled, rejected).
    TooLate,
    /// 102=1: no such order for this desk.
    UnknownOrder,
    /// 102=3: a cancel is already pending.
    AlreadyPending,
    /// 102=99: anything else (e.g. the gateway is busy).
    Other,
}

impl CxlRejReason {
    /// The FIX value of CxlRejReason(102).
    pub fn fix_value(self) -> &'static str {
        match self {
            Self::TooLate => "0",
            Self::UnknownOrder => "1",
            Self::AlreadyPending => "3",
            Self::Other => "99",
        }
    }
}

/// An OrderCancelReject (35=9) answering a cancel request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelReject {
    /// OrderID(37): the parent's id, `NONE` when the order is unknown.
    pub order_id: String,
    /// ClOrdID(11) of the cancel request.
    pub cl_ord_id: String,
    /// OrigClOrdID(41) of the cancel request.
    pub orig_cl_ord_id: String,
    /// OrdStatus(39) of the parent now (Rejected when unknown).
    pub ord_status: OrdStatus,
    /// CxlRejReason(102).
    pub reason: CxlRejReason,
    /// Text(58): why.
    pub text: String,
    /// TransactTime(60).
    pub transact_time: String,
}

impl CancelReject {
    /// Builds the FIX.4.4 OrderCancelReject message (CxlRejResponseTo 434=1).
    pub fn to_message(&self) -> Result<Message, QuickFixError> {
        let mut m = crate::new_message("9")?;
        m.set_field(37, self.order_id.as_str())?;
        m.set_field(11, self.cl_ord_id.as_str())?;
        m.set_field(41, self.orig_cl_ord_id.as_str())?;
        m.set_field(39, self.ord_status.fix_value())?;
        m.set_field(434, "1")?;
        m.set_field(102, self.reason.fix_value())?;
        m.set_field(58, self.text.as_str())?;
        m.set_field(60, self.transact_time.as_str())?;
        Ok(m)
    }
}

/// A BusinessMessageReject (35=j): an application message the gateway will not act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessReject {
    /// RefSeqNum(45) of the refused message, when known.
    pub ref_seq_num: Option<u64>,
    /// RefMsgType(372).
    pub ref_msg_type: String,
    /// BusinessRejectRefID(379): e.g. the refused message's ClOrdID.
    pub ref_id: Option<String>,
    /// BusinessRejectReason(380): 0 other, 3 unsupported type, 4 application not available.
    pub reason: u32,
    /// Text(58).
    pub text: String,
}

impl BusinessReject {
    /// Builds the FIX.4.4 BusinessMessageReject message.
    pub fn to_message(&self) -> Result<Message, QuickFixError> {
        let mut m = crate::new_message("j")?;
        if let Some(seq) = self.ref_seq_num {
            m.set_field(45, seq.to_string().as_str())?;
        }
        m.set_field(372, self.ref_msg_type.as_str())?;
        if let Some(id) = &self.ref_id {
            m.set_field(379, id.as_str())?;
        }
        m.set_field(380, self.reason.to_string().as_str())?;
        m.set_field(58, self.text.as_str())?;
        Ok(m)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn message(msg_type: &str, fields: &[(i32, &str)]) -> Message {
        let mut m = crate::new_message(msg_type).unwrap();
        for (tag, value) in fields {
            m.set_field(*tag, *value).unwrap();
        }
        m
    }

    #[test]
    fn map_inbound_decodes_what_the_acceptor_hands_on() {
        let new = message(
            "D",
            &[
                (11, "p1"),
                (55, "USDC/USD"),
                (54, "2"),
                (38, "1000"),
                (40, "1"),
                (60, "20240101-12:00:00"),
            ],
        );
        assert!(matches!(map_inbound(&new), Ok(DeskRequest::New(o)) if o.cl_ord_id == "p1"));
        let cancel = message("F", &[(11, "c1"), (41, "p1")]);
        assert!(
            matches!(map_inbound(&cancel), Ok(DeskRequest::Cancel(c)) if c.orig_cl_ord_id == "p1")
        );
        let status = message("H", &[(11, "p1"), (54, "1")]);
        assert!(matches!(map_inbound(&status), Ok(DeskRequest::Status(_))));
    }

    #[test]
    fn map_inbound_refuses_with_the_reject_text() {
        let no_orig = message("F", &[(11, "c1")]);
        assert_eq!(
            map_inbound(&no_orig),
            Err(Refusal::Invalid(
                "tag 41 (OrigClOrdID): required field missing".into()
            ))
        );
        let other = message("G", &[(11, "c1")]);
        assert!(
            matches!(map_inbound(&other), Err(Refusal::Invalid(t)) if t.contains("MsgType G is not supported"))
        );
    }
}
