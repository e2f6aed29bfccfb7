//! The taker's side of one dealer's API: firm quotes, idempotent fill-or-kill
//! acceptances with bounded retries, trade lookup for reconciliation (reqwest), and the
//! ladder subscription ([`DealerClient::subscribe_ladder`], tokio-tungstenite).
//!
//! The API key goes only to the configured base URL: every request URL is built from it
//! and checked to have its origin, redirects are not followed, proxies from the
//! environment are ignored, and the header value is marked sensitive. `Debug` of the
//! configuration and the client never shows the key.

use super::auth::ApiKey;
use super::wire::{
    API_KEY_HEADER, ApiError, ErrorCode, OrderRequest, OrderResult, QuoteRequest, QuoteResponse,
};
use crate::VenueId;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use reqwest::{StatusCode, Url};
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::time::Duration;
use tokio::time::Instant;

/// How the API key is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthScheme {
    /// `X-Api-Key: <key>`.
    #[default]
    ApiKeyHeader,
    /// `Authorization: Bearer <key>`.
    Bearer,
}

/// How to reach and trade with one dealer.
#[derive(Debug, Clone)]
pub struct DealerConfig {
    /// The dealer's venue id.
    pub venue: VenueId,
    /// Base URL, `http://host:port` (a path prefix is kept); the WebSocket uses the same
    /// host with `ws`/`wss`.
    pub base_url: String,
    /// The API key (redacted in `Debug`).
    pub api_key: ApiKey,
    /// How the key is sent.
    pub auth: AuthScheme,
    /// The instrument traded with this dealer.
    pub instrument: String,
    /// The dealer's fee on the traded quote amount, bps (used to compare quotes net and
    /// reported on fills).
    pub fee_bps: Decimal,
    /// Time limit of one HTTP attempt (connect included).
    pub request_timeout: Duration,
    /// Attempts per order, all with the same `client_order_id` (at least 1).
    pub order_attempts: u32,
    /// Pause before the second attempt; doubles each further attempt.
    pub retry_backoff: Duration,
    /// The ladder stream is dead when nothing arrives for this long.
    pub heartbeat_timeout: Duration,
    /// First pause before reconnecting the ladder stream.
    pub reconnect_min: Duration,
    /// Longest pause between ladder reconnects.
    pub reconnect_max: Duration,
}

impl DealerConfig {
    /// A dealer with 2 s requests, 3 order attempts 50 ms apart (doubling), a 1 s
    /// heartbeat watch, reconnects between 50 ms and 2 s, no fee, key in `X-Api-Key`.
    pub fn new(venue: &str, base_url: &str, api_key: ApiKey, instrument: &str) -> Self {
        Self {
            venue: VenueId(venue.to_owned()),
            base_url: base_url.to_owned(),
            api_key,
            auth: AuthScheme::ApiKeyHeader,
            instrument: instrument.to_owned(),
            fee_bps: Decimal::ZERO,
            request_timeout: Duration::from_secs(2),
            order_attempts: 3,
            retry_backoff: Duration::from_millis(50),
            heartbeat_timeout: Duration::from_secs(1),
            reconnect_min: Duration::from_millis(50),
            reconnect_max: Duration::from_secs(2),
        }
    }
}

/// What went wrong talking to a dealer. Never contains the API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The base URL is unusable.
    #[error("dealer {venue}: bad base URL {url:?}: {detail}")]
    BadUrl {
        /// The dealer.
        venue: VenueId,
        /// The URL as configured.
        url: String,
        /// Why.
        detail: String,
    },
    /// The HTTP client could not be built (or the key cannot be a header).
    #[error("dealer {venue}: cannot build the HTTP client: {detail}")]
    Build {
        /// The dealer.
        venue: VenueId,
        /// Why.
        detail: String,
    },
    /// No connection could be made: nothing reached the dealer.
    #[error("dealer {venue}: {what}: cannot connect: {detail}")]
    Connect {
        /// The dealer.
        venue: VenueId,
        /// The call.
        what: &'static str,
        /// The socket error.
        detail: String,
    },
    /// No answer within the time limit; the dealer may have acted on the request.
    #[error("dealer {venue}: {what}: no answer within {after:?}")]
    Timeout {
        /// The dealer.
        venue: VenueId,
        /// The call.
        what: &'static str,
        /// The limit.
        after: Duration,
    },
    /// The connection failed mid-request; the dealer may have acted on it.
    #[error("dealer {venue}: {what}: transport error: {detail}")]
    Transport {
        /// The dealer.
        venue: VenueId,
        /// The call.
        what: &'static str,
        /// The error.
        detail: String,
    },
    /// The dealer refused our credentials (401).
    #[error("dealer {venue}: {what}: unauthorized (401): check the API key")]
    Unauthorized {
        /// The dealer.
        venue: VenueId,
        /// The call.
        what: &'static str,
    },
    /// The dealer answered 5xx.
    #[error("dealer {venue}: {what}: server error {status}")]
    Server {
        /// The dealer.
        venue: VenueId,
        /// The call.
        what: &'static str,
        /// The HTTP status.
        status: u16,
    },
    /// The answer could not be read as the API says.
    #[error("dealer {venue}: {what}: malformed answer (HTTP {status}): {detail}")]
    Malformed {
        /// The dealer.
        venue: VenueId,
        /// The call.
        what: &'static str,
        /// The HTTP status.
        status: u16,
        /// What is wrong.
        detail: String,
    },
    /// The dealer refused the request with an API error (4xx).
    #[error("dealer {venue}: {what}: refused ({status} {error:?}): {message}")]
    Refused {
        /// The dealer.
        venue: VenueId,
        /// The call.
        what: &'static str,
        /// The HTTP status.
        status: u16,
        /// The stable code.
        error: ErrorCode,
        /// The dealer's words.
        message: String,
    },
    /// The quote is not for what was asked.
    #[error("dealer {venue}: quote {quote_id} does not match the request: {detail}")]
    QuoteMismatch {
        /// The dealer.
        venue: VenueId,
        /// The quote.
        quote_id: String,
        /// What differs.
        detail: String,
    },
    /// Every attempt of an order failed; whether it traded is unknown until a lookup
    /// answers (`may_have_traded` is false only if no attempt reached the dealer).
    #[error(
        "dealer {venue}: order {client_order_id} unresolved after {attempts} attempts \
         (may have traded: {may_have_traded}): {last}"
    )]
    Unresolved {
        /// The dealer.
        venue: VenueId,
        /// The order.
        client_order_id: String,
        /// Attempts made.
        attempts: u32,
        /// Whether any attempt may have reached the dealer.
        may_have_traded: bool,
        /// The last attempt's error.
        last: Box<ClientError>,
    },
}

impl ClientError {
    /// Whether the same request may be sent again (transport trouble, 5xx, garbage).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ClientError::Connect { .. }
                | ClientError::Timeout { .. }
                | ClientError::Transport { .. }
                | ClientError::Server { .. }
                | ClientError::Malformed { .. }
        )
    }

    /// Whether the request may have been acted on by the dealer.
    pub fn may_have_reached_dealer(&self) -> bool {
        match self {
            ClientError::Connect { .. }
            | ClientError::BadUrl { .. }
            | ClientError::Build { .. }
            | ClientError::Unauthorized { .. }
            | ClientError::Refused { .. }
            | ClientError::QuoteMismatch { .. } => false,
            ClientError::Unresolved {
                may_have_traded, ..
            } => *may_have_traded,
            ClientError::Timeout { .. }
            | ClientError::Transport { .. }
            | ClientError::Server { .. }
            | ClientError::Malformed { .. } => true,
        }
    }
}

/// A firm quote as received, with its deadline on our own monotonic clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmQuote {
    /// The dealer's answer.
    pub quote: QuoteResponse,
    /// When the request was sent.
    pub sent_at: Instant,
    /// `sent_at + (valid_until − quoted_at)`: never later than the dealer's own
    /// deadline, whatever the clocks' offset.
    pub firm_until: Instant,
}

impl FirmQuote {
    /// Time left before the quote expires (zero if it has).
    pub fn time_left(&self, now: Instant) -> Duration {
        self.firm_until.saturating_duration_since(now)
    }

    /// The acceptance of this quote under `client_order_id`.
    pub fn acceptance(&self, client_order_id: String) -> OrderRequest {
        OrderRequest {
            client_order_id,
            quote_id: self.quote.quote_id.clone(),
            instrument: self.quote.instrument.clone(),
            side: self.quote.side,
            quantity: self.quote.quantity,
            price: self.quote.price,
        }
    }
}

/// A connection pool to one dealer's API.
#[derive(Clone)]
pub struct DealerClient {
    config: DealerConfig,
    base: Url,
    http: reqwest::Client,
    auth: (HeaderName, HeaderValue),
}

impl fmt::Debug for DealerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DealerClient")
            .field("venue", &self.config.venue)
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl DealerClient {
    /// A client for the dealer in `config`; connects lazily.
    pub fn new(config: DealerConfig) -> Result<Self, ClientError> {
        let venue = config.venue.clone();
        let base = Url::parse(&config.base_url).map_err(|e| ClientError::BadUrl {
            venue: venue.clone(),
            url: config.base_url.clone(),
            detail: e.to_string(),
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(ClientError::BadUrl {
                venue,
                url: config.base_url.clone(),
                detail: "expected an http:// or https:// URL".to_owned(),
            });
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(ClientError::BadUrl {
                venue,
                url: "<redacted: has credentials>".to_owned(),
                detail: "credentials belong in api_key, not the URL".to_owned(),
            });
        }
        let (name, text) = match config.auth {
            AuthScheme::ApiKeyHeader => (
                HeaderName::from_static(API_KEY_HEADER),
                config.api_key.expose().to_owned(),
            ),
            AuthScheme::Bearer => (AUTHORIZATION, format!("Bearer {}", config.api_key.expose())),
        };
        let mut value = HeaderValue::from_str(&text).map_err(|_| ClientError::Build {
            venue: venue.clone(),
            detail: "the API key is not a valid header value".to_owned(),
        })?;
        value.set_sensitive(true);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("sor-rfq/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Build {
                venue,
                detail: e.to_string(),
            })?;
        Ok(Self {
            config,
            base,
            http,
            auth: (name, value),
        })
    }

    /// The dealer's venue id.
    pub fn venue(&self) -> &VenueId {
        &self.config.venue
    }

    /// The configuration.
    pub fn config(&self) -> &DealerConfig {
        &self.config
    }

    /// The base URL as parsed.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// `base` + path segments, checked to stay on the base's origin.
    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url, ClientError> {
        let mut url = self.base.clone();
        {
            let mut path = url.path_segments_mut().map_err(|_| ClientError::BadUrl {
                venue: self.config.venue.clone(),
                url: self.base.to_string(),
                detail: "cannot be a base".to_owned(),
            })?;
            path.pop_if_empty().extend(segments);
        }
        if url.origin() != self.base.origin() {
            return Err(ClientError::BadUrl {
                venue: self.config.venue.clone(),
                url: url.to_string(),
                detail: "request would leave the dealer's origin".to_owned(),
            });
        }
        Ok(url)
    }

    /// The auth header (name, sensitive value) for requests to this dealer only.
    pub(crate) fn auth_header(&self) -> &(HeaderName, HeaderValue) {
        &self.auth
    }

    fn transport_error(&self, what: &'static str, e: &reqwest::Error) -> ClientError {
        let venue = self.config.venue.clone();
        if e.is_connect() {
            ClientError::Connect {
                venue,
                what,
                detail: error_chain(e),
            }
        } else if e.is_timeout() {
            ClientError::Timeout {
                venue,
                what,
                after: self.config.request_timeout,
            }
        } else {
            ClientError::Transport {
                venue,
                what,
                detail: error_chain(e),
            }
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        what: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let (name, value) = &self.auth;
        let response = request
            .header(name.clone(), value.clone())
            .send()
            .await
            .map_err(|e| self.transport_error(what, &e))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(what, &e))?;
        let venue = self.config.venue.clone();
        let malformed = |detail: String| ClientError::Malformed {
            venue: venue.clone(),
            what,
            status: status.as_u16(),
            detail,
        };
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| malformed(e.to_string()));
        }
        if status == StatusCode::UNAUTHORIZED {
            return Err(ClientError::Unauthorized { venue, what });
        }
        if status.is_server_error() {
            return Err(ClientError::Server {
                venue,
                what,
                status: status.as_u16(),
            });
        }
        match serde_json::from_slice::<ApiError>(&body) {
            Ok(e) => Err(ClientError::Refused {
                venue,
                what,
                status: status.as_u16(),
                error: e.error,
                message: e.message,
            }),
            Err(e) => Err(malformed(e.to_string())),
        }
    }

    async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        what: &'static str,
        segments: &[&str],
        body: &B,
    ) -> Result<T, ClientError> {
        let url = self.url(segments)?;
        self.call(what, self.http.post(url).json(body)).await
    }

    /// Asks for a firm quote; checks that it is for what was asked.
    pub async fn request_quote(&self, req: &QuoteRequest) -> Result<FirmQuote, ClientError> {
        let sent_at = Instant::now();
        let quote: QuoteResponse = self.post("quote", &["v1", "quotes"], req).await?;
        let mut differs = Vec::new();
        if quote.instrument != req.instrument {
            differs.push(format!("instrument {}", quote.instrument));
        }
        if quote.side != req.side {
            differs.push(format!("side {}", quote.side));
        }
        if quote.quantity != req.quantity {
            differs.push(format!("quantity {}", quote.quantity));
        }
        if quote.client_request_id != req.client_request_id {
            differs.push(format!("client_request_id {}", quote.client_request_id));
        }
        if quote.price <= Decimal::ZERO {
            differs.push(format!("price {}", quote.price));
        }
        if !differs.is_empty() {
            return Err(ClientError::QuoteMismatch {
                venue: self.config.venue.clone(),
                quote_id: quote.quote_id,
                detail: differs.join(", "),
            });
        }
        let firm_until = sent_at + Duration::from_millis(quote.validity_ms());
        Ok(FirmQuote {
            quote,
            sent_at,
            firm_until,
        })
    }

    /// One attempt at an order, no retry.
    pub async fn place_order_once(&self, order: &OrderRequest) -> Result<OrderResult, ClientError> {
        let result: OrderResult = self.post("order", &["v1", "orders"], order).await?;
        if result.client_order_id() != order.client_order_id {
            return Err(ClientError::Malformed {
                venue: self.config.venue.clone(),
                what: "order",
                status: 200,
                detail: format!(
                    "answer is about order {}, not {}",
                    result.client_order_id(),
                    order.client_order_id
                ),
            });
        }
        Ok(result)
    }

    /// Sends an order, retrying with the same `client_order_id` on transport trouble,
    /// 5xx or a garbled answer, up to `order_attempts` times (the dealer answers a
    /// repeat with the first answer, so it cannot trade twice). When every attempt
    /// fails the answer is [`ClientError::Unresolved`]: look the order up with
    /// [`DealerClient::trade`] before assuming anything.
    pub async fn place_order(&self, order: &OrderRequest) -> Result<OrderResult, ClientError> {
        let attempts = self.config.order_attempts.max(1);
        let mut may_have_traded = false;
        let mut backoff = self.config.retry_backoff;
        let mut last = None;
        for attempt in 1..=attempts {
            match self.place_order_once(order).await {
                Ok(result) => return Ok(result),
                Err(e) if e.is_retryable() => {
                    may_have_traded |= e.may_have_reached_dealer();
                    tracing::warn!(
                        dealer = %self.config.venue,
                        order = %order.client_order_id,
                        attempt,
                        attempts,
                        error = %e,
                        "rfq order attempt failed; retrying with the same client_order_id"
                    );
                    last = Some(e);
                    if attempt < attempts {
                        tokio::time::sleep(backoff).await;
                        backoff = backoff.saturating_mul(2);
                    }
                }
                Err(e) if !may_have_traded => return Err(e),
                Err(e) => {
                    last = Some(e);
                    break;
                }
            }
        }
        let last = last.unwrap_or(ClientError::Transport {
            venue: self.config.venue.clone(),
            what: "order",
            detail: "no attempt made".to_owned(),
        });
        Err(ClientError::Unresolved {
            venue: self.config.venue.clone(),
            client_order_id: order.client_order_id.clone(),
            attempts,
            may_have_traded,
            last: Box::new(last),
        })
    }

    /// The dealer's answer on an order (`None`: the dealer never saw it).
    pub async fn trade(&self, client_order_id: &str) -> Result<Option<OrderResult>, ClientError> {
        let url = self.url(&["v1", "trades", client_order_id])?;
        match self
            .call::<OrderResult>("trade lookup", self.http.get(url))
            .await
        {
            Ok(r) => Ok(Some(r)),
            Err(ClientError::Refused {
                error: ErrorCode::NotFound,
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// An error and its sources in one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> DealerConfig {
        DealerConfig::new("d", url, ApiKey::new("topsecret").unwrap(), "USDC/USD")
    }

    #[test]
    fn urls_stay_on_the_base_origin_and_escape_segments() {
        let c = DealerClient::new(config("http://127.0.0.1:9/api/")).unwrap();
        let u = c.url(&["v1", "trades", "../../evil.com/x?y"]).unwrap();
        assert_eq!(u.host_str(), Some("127.0.0.1"));
        assert!(u.path().starts_with("/api/v1/trades/"), "{u}");
        assert!(!u.path().contains("/../"), "{u}");
        assert!(u.query().is_none(), "{u}");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let cfg = config("http://127.0.0.1:9");
        assert!(!format!("{cfg:?}").contains("topsecret"));
        let c = DealerClient::new(cfg).unwrap();
        assert!(!format!("{c:?}").contains("topsecret"));
    }

    #[test]
    fn bad_urls_are_refused() {
        assert!(matches!(
            DealerClient::new(config("ftp://x")),
            Err(ClientError::BadUrl { .. })
        ));
        assert!(matches!(
            DealerClient::new(config("http://u:p@127.0.0.1/")),
            Err(ClientError::BadUrl { .. })
        ));
    }
}
