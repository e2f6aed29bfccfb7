//! OTC RFQ connectivity over real HTTP and WebSocket: the dealer API, a dealer
//! simulator that serves it, the client adapter, parallel RFQ, and [`RfqLink`] behind
//! the engine's [`crate::VenueLink`].
//!
//! # The dealer API
//!
//! JSON over HTTP/1.1. Every price and quantity is a decimal **string** (`"0.9999"`);
//! a JSON number there is refused. Times are **unix epoch milliseconds** (integers).
//! Every request carries the key as `X-Api-Key: <key>` or `Authorization: Bearer
//! <key>`; without it, or with the wrong one, the answer is `401` with
//! `{"error": "unauthorized", …}`. Every non-2xx answer is
//! `{"error": <code>, "message": <words>}` ([`wire::ApiError`]).
//!
//! - `POST /v1/quotes` `{client_request_id, instrument, side: "buy"|"sell", quantity}`
//!   → `200 {quote_id, client_request_id, instrument, side, quantity, price,
//!   quoted_at, valid_until}`: a firm quote for exactly `quantity` at `price`, honoured
//!   until `valid_until` (dealer clock). The taker measures the validity
//!   (`valid_until − quoted_at`) from when it sent the request, so clock offsets never
//!   make a quote look fresher than it is. `422 no_liquidity` (size past the ladder or
//!   the dealer's remaining capacity), `422 unknown_instrument`, `400 bad_request`.
//! - `POST /v1/orders` `{client_order_id, quote_id, instrument, side, quantity, price}`:
//!   accept a quote, fill-or-kill → `200 {"status": "filled", trade_id,
//!   client_order_id, quote_id, instrument, side, price, quantity, executed_at}` or
//!   `200 {"status": "rejected", client_order_id, reason, message}` with `reason` one of
//!   `last_look`, `quote_expired`, `unknown_quote`, `quote_used`, `quote_mismatch`,
//!   `capacity`. **Idempotent**: the same `client_order_id` with the same body returns
//!   the first answer and never trades twice; with a different body, `409
//!   duplicate_client_order_id`. A quote can be accepted once.
//! - `GET /v1/trades/{client_order_id}` → `200` with the order's answer (as above),
//!   or `404 not_found` if the dealer never saw it: reconciliation after a lost answer.
//! - `GET /v1/ladder` (WebSocket): the client sends
//!   `{"type": "subscribe", "instrument": "USDC/USD"}`; the dealer answers
//!   `{"type": "subscribed", instrument, heartbeat_ms, ladder_ms}`, then streams
//!   `{"type": "ladder", instrument, seq, time, tiers: [{quantity, bid, ask}, …]}`
//!   (smallest tier first; a size up to `quantity` trades wholly at that tier's price;
//!   `bid`/`ask` `null` where that side stops) every `ladder_ms` and after every trade,
//!   and `{"type": "heartbeat", time}` every `heartbeat_ms`. An unknown instrument gets
//!   `{"type": "error", error, message}` and a close.
//!
//! # The pieces
//!
//! - [`wire`]: the messages above, shared by both sides.
//! - [`server::DealerServer`]: the simulator (axum); [`DealerSimConfig`] sets pricing,
//!   validity, last look, capacity, seeded latency; [`Fault`] switches it to slow, 5xx,
//!   malformed, down, silent stream or lost answers at run time.
//! - [`client::DealerClient`]: quotes, idempotent orders with bounded retries, trade
//!   lookup, and the ladder subscription with heartbeat watch and reconnect
//!   ([`stream::LadderSubscription`]).
//! - [`auction::Auction`]: parallel RFQ over several dealers with a deadline.
//! - [`RfqLink`]: one dealer as a [`crate::VenueLink`].
//!
//! Only plain `http`/`ws` is built in (no TLS for the WebSocket): enough for loopback
//! tests; a `wss` dealer needs tokio-tungstenite's TLS feature.

pub mod auction;
mod auth;
pub mod client;
mod dealer;
pub mod link;
pub mod server;
pub mod stream;
pub mod wire;

pub use auction::{Auction, AuctionConfig, AuctionOutcome, AuctionRequest, AuctionResult};
pub use auth::{ApiKey, CredentialError};
pub use client::{AuthScheme, ClientError, DealerClient, DealerConfig, FirmQuote};
pub use dealer::{ConfigError, DealerSimConfig, LatencyModel, Pricing};
pub use link::{RfqLink, RfqLinkConfig, ladder_liquidity};
pub use server::{DealerServer, Fault, ServerError};
pub use stream::{LadderEvent, LadderSubscription};
