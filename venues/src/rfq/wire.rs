//! The dealer API's messages as they travel: JSON bodies of the REST endpoints and the
//! frames of the ladder WebSocket. Shared by the simulator ([`super::server`]) and the
//! client ([`super::client`]), so both sides always agree on the shape.
//!
//! Every price and quantity is a [`Decimal`] written as a JSON string (`"0.9999"`); a
//! JSON number in its place is refused. Times are unix epoch milliseconds (`u64`).

use crate::Side;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The header that carries the API key (`Authorization: Bearer <key>` works too).
pub const API_KEY_HEADER: &str = "x-api-key";

/// Path of the quote endpoint (`POST`).
pub const QUOTES_PATH: &str = "/v1/quotes";
/// Path of the order (quote acceptance) endpoint (`POST`).
pub const ORDERS_PATH: &str = "/v1/orders";
/// Path prefix of the trade lookup endpoint (`GET /v1/trades/{client_order_id}`).
pub const TRADES_PATH: &str = "/v1/trades";
/// Path of the ladder WebSocket (`GET`, upgraded).
pub const LADDER_PATH: &str = "/v1/ladder";

/// A request for a firm quote for exactly `quantity` (`POST /v1/quotes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    /// The taker's id for this request, echoed back.
    pub client_request_id: String,
    /// The instrument, e.g. `USDC/USD`.
    pub instrument: String,
    /// The taker's side.
    pub side: Side,
    /// Base quantity to quote, positive.
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
}

/// A firm quote: the dealer trades exactly `quantity` at `price` if accepted by
/// `valid_until` (and its last look agrees).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteResponse {
    /// The dealer's quote id, to name in the acceptance.
    pub quote_id: String,
    /// The taker's request id, echoed.
    pub client_request_id: String,
    /// The instrument quoted.
    pub instrument: String,
    /// The taker's side.
    pub side: Side,
    /// Base quantity quoted.
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    /// Price per base unit for the whole quantity.
    #[serde(with = "rust_decimal::serde::str")]
    pub price: Decimal,
    /// When the dealer priced it, unix ms (dealer clock).
    pub quoted_at: u64,
    /// Last unix ms (dealer clock) at which an acceptance is honoured.
    pub valid_until: u64,
}

impl QuoteResponse {
    /// How long the quote stays firm, in the dealer's own clock (`valid_until − quoted_at`).
    ///
    /// A taker measures this from the moment it *sent* the request, which never
    /// overstates the time left whatever the two clocks say.
    pub fn validity_ms(&self) -> u64 {
        self.valid_until.saturating_sub(self.quoted_at)
    }
}

/// An acceptance of a quote, fill-or-kill (`POST /v1/orders`).
///
/// Idempotent by `client_order_id`: sending it again returns the first answer and never
/// trades twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// The taker's order id: the idempotency key.
    pub client_order_id: String,
    /// The quote accepted.
    pub quote_id: String,
    /// The quote's instrument.
    pub instrument: String,
    /// The quote's side.
    pub side: Side,
    /// The quote's quantity.
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    /// The quote's price.
    #[serde(with = "rust_decimal::serde::str")]
    pub price: Decimal,
}

/// A confirmed trade: the only thing that proves a fill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trade {
    /// The dealer's trade id.
    pub trade_id: String,
    /// The taker's order id.
    pub client_order_id: String,
    /// The quote accepted.
    pub quote_id: String,
    /// The instrument.
    pub instrument: String,
    /// The taker's side.
    pub side: Side,
    /// Price per base unit.
    #[serde(with = "rust_decimal::serde::str")]
    pub price: Decimal,
    /// Base quantity traded.
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    /// When it traded, unix ms (dealer clock).
    pub executed_at: u64,
}

/// Why the dealer refused an acceptance; nothing traded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The dealer's last look declined.
    LastLook,
    /// The acceptance arrived after `valid_until`.
    QuoteExpired,
    /// The dealer never issued this quote id.
    UnknownQuote,
    /// The quote was already accepted (or refused) once.
    QuoteUsed,
    /// The order's instrument, side, quantity or price differ from the quote's.
    QuoteMismatch,
    /// The dealer has no room left to trade this quantity with us.
    Capacity,
}

impl RejectReason {
    /// The reason as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::LastLook => "last_look",
            RejectReason::QuoteExpired => "quote_expired",
            RejectReason::UnknownQuote => "unknown_quote",
            RejectReason::QuoteUsed => "quote_used",
            RejectReason::QuoteMismatch => "quote_mismatch",
            RejectReason::Capacity => "capacity",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The taker's order id.
    pub client_order_id: String,
    /// Why, as a stable code.
    pub reason: RejectReason,
    /// Why, in words.
    pub message: String,
}

/// The final answer on an order: the body of `POST /v1/orders` and of
/// `GET /v1/trades/{client_order_id}`, tagged by `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OrderResult {
    /// The dealer traded: `{"status": "filled", "trade_id": …}`.
    Filled(Trade),
    /// The dealer refused: `{"status": "rejected", "reason": …}`.
    Rejected(Rejection),
}

impl OrderResult {
    /// The taker's order id the answer is about.
    pub fn client_order_id(&self) -> &str {
        match self {
            OrderResult::Filled(t) => &t.client_order_id,
            OrderResult::Rejected(r) => &r.client_order_id,
        }
    }
}

/// Stable error codes of non-2xx answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 401: no API key, or the wrong one.
    Unauthorized,
    /// 400: the body is not a valid request (field named in the message).
    BadRequest,
    /// 422: the dealer does not quote this instrument.
    UnknownInstrument,
    /// 422: the dealer will not quote this size (ladder or capacity).
    NoLiquidity,
    /// 404: no order with this client order id.
    NotFound,
    /// 409: the client order id was used for a different order.
    DuplicateClientOrderId,
    /// 503: the dealer is unavailable; nothing was processed.
    Unavailable,
}

/// The body of every non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// A stable code.
    pub error: ErrorCode,
    /// Details in words.
    pub message: String,
}

/// One rung of a streamed ladder: a taker trading any size up to `quantity` would get
/// `bid` (selling) or `ask` (buying) for the whole size; `null` when that side does not
/// reach this size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// Upper size bound of the tier, base units.
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    /// Price at which the dealer buys from the taker.
    #[serde(with = "opt_decimal_str")]
    pub bid: Option<Decimal>,
    /// Price at which the dealer sells to the taker.
    #[serde(with = "opt_decimal_str")]
    pub ask: Option<Decimal>,
}

/// A frame the client sends on the ladder WebSocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Start streaming the instrument's ladder.
    Subscribe {
        /// The instrument.
        instrument: String,
    },
}

/// A frame the dealer sends on the ladder WebSocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The subscription is live; ladders and heartbeats follow.
    Subscribed {
        /// The instrument.
        instrument: String,
        /// Interval between heartbeats, ms.
        heartbeat_ms: u64,
        /// Interval between periodic ladders, ms (a ladder also follows every trade).
        ladder_ms: u64,
    },
    /// The indicative ladder, smallest tier first.
    Ladder {
        /// The instrument.
        instrument: String,
        /// Increases by one with every ladder sent on this connection.
        seq: u64,
        /// Dealer time, unix ms.
        time: u64,
        /// The tiers.
        tiers: Vec<Tier>,
    },
    /// The connection is alive.
    Heartbeat {
        /// Dealer time, unix ms.
        time: u64,
    },
    /// The subscription was refused; the dealer closes the socket.
    Error {
        /// A stable code.
        error: ErrorCode,
        /// Details in words.
        message: String,
    },
}

/// `Option<Decimal>` as a JSON string or `null`; works inside tagged enums too (where
/// `null` arrives as a unit).
mod opt_decimal_str {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::str::FromStr;

    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_str(&d.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| Decimal::from_str(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn decimals_travel_as_strings_and_numbers_are_refused() {
        let q = QuoteRequest {
            client_request_id: "r1".into(),
            instrument: "USDC/USD".into(),
            side: Side::Sell,
            quantity: dec!(1500000.50),
        };
        let json = serde_json::to_string(&q).unwrap();
        assert!(json.contains(r#""quantity":"1500000.50""#), "{json}");
        assert_eq!(serde_json::from_str::<QuoteRequest>(&json).unwrap(), q);
        let bad = r#"{"client_request_id":"r","instrument":"X","side":"sell","quantity":1.5}"#;
        assert!(serde_json::from_str::<QuoteRequest>(bad).is_err());
    }

    #[test]
    fn order_result_is_tagged_by_status() {
        let r = OrderResult::Rejected(Rejection {
            client_order_id: "c1".into(),
            reason: RejectReason::LastLook,
            message: "no".into(),
        });
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains(r#""status":"rejected""#), "{json}");
        assert!(json.contains(r#""reason":"last_look""#), "{json}");
        assert_eq!(serde_json::from_str::<OrderResult>(&json).unwrap(), r);
        let t = OrderResult::Filled(Trade {
            trade_id: "t1".into(),
            client_order_id: "c1".into(),
            quote_id: "q1".into(),
            instrument: "USDC/USD".into(),
            side: Side::Buy,
            price: dec!(1.0001),
            quantity: dec!(10),
            executed_at: 1,
        });
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains(r#""price":"1.0001""#), "{json}");
        assert_eq!(serde_json::from_str::<OrderResult>(&json).unwrap(), t);
    }

    #[test]
    fn ladder_frame_round_trips_with_missing_sides() {
        let f = ServerFrame::Ladder {
            instrument: "USDC/USD".into(),
            seq: 3,
            time: 9,
            tiers: vec![Tier {
                quantity: dec!(5),
                bid: Some(dec!(0.9999)),
                ask: None,
            }],
        };
        let json = serde_json::to_string(&f).unwrap();
        assert!(json.contains(r#""ask":null"#), "{json}");
        assert_eq!(serde_json::from_str::<ServerFrame>(&json).unwrap(), f);
    }
}
