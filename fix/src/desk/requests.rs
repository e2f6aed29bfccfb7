//! OrderCancelRequest (35=F) and OrderStatusRequest (35=H) from a desk, and the
//! OrderCancelReject (35=9) and BusinessMessageReject (35=j) the gateway answers with.

use quickfix::{FieldMap, Message, QuickFixError};

use super::{CL_ORD_ID, Field, OrdStatus, SIDE, SYMBOL, Side, field, optional, required};
use crate::FieldError;

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
