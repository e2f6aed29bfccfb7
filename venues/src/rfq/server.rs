//! A simulated OTC dealer behind the real HTTP/WebSocket API (axum), for end-to-end
//! tests and benchmarks over loopback.
//!
//! [`DealerServer::start`] binds (port 0 picks a free one), serves until
//! [`DealerServer::shutdown`], and hands back the address. Pricing, validity and last
//! look are [`crate::sim::RfqDealerSim`]'s; on top come authentication, a seeded
//! response time per request, idempotent orders, and [`Fault`]s that can be switched at
//! run time. Everything is deterministic given the seed and the order of requests.

use super::dealer::{ConfigError, DealerBook, DealerSimConfig};
use super::wire::{
    API_KEY_HEADER, ApiError, ClientFrame, ErrorCode, OrderRequest, QuoteRequest, ServerFrame,
};
use crate::{Nanos, VenueId};
use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Why the simulator could not start or come back up.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The address could not be bound.
    #[error("dealer {dealer}: cannot bind {addr}: {source}")]
    Bind {
        /// The dealer.
        dealer: VenueId,
        /// The address.
        addr: SocketAddr,
        /// The socket error.
        source: std::io::Error,
    },
}

/// A misbehaviour the simulator can be switched into at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// Behave.
    #[default]
    None,
    /// Process every HTTP request, then hold its answer this long (a slow dealer: its
    /// quotes may be stale on arrival and its orders may trade while the taker waits).
    Slow(Duration),
    /// Answer every HTTP request (after authentication) with 503; process nothing.
    ServerError,
    /// Answer every HTTP request with 200 and a body that is not JSON, and stream
    /// ladders that are not JSON; process nothing.
    Malformed,
    /// Close the listener and every WebSocket: connections are refused. Leaving this
    /// mode binds the same address again.
    Down,
    /// Keep WebSockets open but send nothing on them (no ladder, no heartbeat).
    SilentStream,
    /// Execute the next `n` orders but never deliver their answers (held until the
    /// dealer goes down): a lost response. Retries of the same order are answered.
    LoseOrderResponses(u32),
}

const MALFORMED_BODY: &str = r#"{"quote_id": "oops", "price": 0.99"#;
/// How long a lost answer is held at most.
const LOST_RESPONSE_HOLD: Duration = Duration::from_secs(60);
/// How long a new WebSocket may take to subscribe.
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(10);

struct Shared {
    id: VenueId,
    config: DealerSimConfig,
    book: Mutex<DealerBook>,
    fault: Mutex<Fault>,
    ladder_changed: watch::Sender<u64>,
    up: watch::Sender<bool>,
}

/// A running simulated dealer.
pub struct DealerServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    serve: tokio::sync::Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for DealerServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DealerServer")
            .field("id", &self.shared.id)
            .field("addr", &self.addr)
            .field("fault", &*self.shared.fault.lock())
            .finish()
    }
}

fn unix_nanos() -> Nanos {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl DealerServer {
    /// Starts a dealer on `bind` (use port 0 for a free port). Must be called within a
    /// tokio runtime; the server runs on it.
    pub async fn start(config: DealerSimConfig, bind: SocketAddr) -> Result<Self, ServerError> {
        let book = DealerBook::new(&config)?;
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|source| ServerError::Bind {
                dealer: config.id.clone(),
                addr: bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            dealer: config.id.clone(),
            addr: bind,
            source,
        })?;
        let shared = Arc::new(Shared {
            id: config.id.clone(),
            config,
            book: Mutex::new(book),
            fault: Mutex::new(Fault::None),
            ladder_changed: watch::Sender::new(0),
            up: watch::Sender::new(true),
        });
        let task = spawn_serve(listener, shared.clone());
        tracing::info!(dealer = %shared.id, %addr, "rfq dealer simulator listening");
        Ok(Self {
            shared,
            addr,
            serve: tokio::sync::Mutex::new(Some(task)),
        })
    }

    /// The dealer's id.
    pub fn id(&self) -> &VenueId {
        &self.shared.id
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://ip:port`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The fault mode now.
    pub fn fault(&self) -> Fault {
        *self.shared.fault.lock()
    }

    /// Trades done so far.
    pub fn trade_count(&self) -> u64 {
        self.shared.book.lock().trade_count()
    }

    /// Quotes issued so far.
    pub fn quotes_issued(&self) -> u64 {
        self.shared.book.lock().quotes_issued()
    }

    /// Switches the fault mode. Entering [`Fault::Down`] returns once the listener is
    /// closed; leaving it returns once the address is bound again.
    pub async fn set_fault(&self, fault: Fault) -> Result<(), ServerError> {
        let mut serve = self.serve.lock().await;
        *self.shared.fault.lock() = fault;
        tracing::info!(dealer = %self.shared.id, ?fault, "rfq dealer simulator fault mode");
        match (fault, serve.is_some()) {
            (Fault::Down, true) => {
                self.shared.up.send_replace(false);
                if let Some(task) = serve.take() {
                    stop(task).await;
                }
            }
            (f, false) if f != Fault::Down => {
                let listener =
                    TcpListener::bind(self.addr)
                        .await
                        .map_err(|source| ServerError::Bind {
                            dealer: self.shared.id.clone(),
                            addr: self.addr,
                            source,
                        })?;
                self.shared.up.send_replace(true);
                *serve = Some(spawn_serve(listener, self.shared.clone()));
            }
            _ => {}
        }
        Ok(())
    }

    /// Stops serving: the listener closes, open WebSockets and held answers end.
    pub async fn shutdown(self) {
        self.shared.up.send_replace(false);
        let task = self.serve.lock().await.take();
        if let Some(task) = task {
            stop(task).await;
        }
    }
}

impl Drop for DealerServer {
    fn drop(&mut self) {
        self.shared.up.send_replace(false);
    }
}

async fn stop(task: JoinHandle<()>) {
    let abort = task.abort_handle();
    if tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .is_err()
    {
        abort.abort();
    }
}

fn spawn_serve(listener: TcpListener, shared: Arc<Shared>) -> JoinHandle<()> {
    let mut up = shared.up.subscribe();
    let id = shared.id.clone();
    let app = Router::new()
        .route(super::wire::QUOTES_PATH, post(quote))
        .route(super::wire::ORDERS_PATH, post(order))
        .route("/v1/trades/{client_order_id}", get(trade))
        .route(super::wire::LADDER_PATH, get(ladder))
        .with_state(shared);
    tokio::spawn(async move {
        let signal = async move {
            let _ = up.wait_for(|u| !*u).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .await
        {
            tracing::warn!(dealer = %id, error = %e, "rfq dealer simulator stopped with an error");
        }
    })
}

fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn api_error(error: ErrorCode, message: String) -> Response {
    let status = match error {
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::UnknownInstrument | ErrorCode::NoLiquidity => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::DuplicateClientOrderId => StatusCode::CONFLICT,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    };
    json_response(status, &ApiError { error, message })
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let key = &shared.config.api_key;
    if let Some(v) = headers.get(API_KEY_HEADER) {
        return key.matches(v.as_bytes());
    }
    if let Some(v) = headers.get(header::AUTHORIZATION)
        && let Some(token) = v.as_bytes().strip_prefix(b"Bearer ")
    {
        return key.matches(token);
    }
    false
}

/// Authentication, fault modes that refuse up front, then the seeded response time.
/// `Some` is the answer that ends the request here.
async fn gate(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    if !authorized(shared, headers) {
        return Some(api_error(
            ErrorCode::Unauthorized,
            "missing or wrong API key".to_owned(),
        ));
    }
    match *shared.fault.lock() {
        Fault::ServerError => {
            return Some(api_error(
                ErrorCode::Unavailable,
                "dealer unavailable (simulated)".to_owned(),
            ));
        }
        Fault::Malformed => {
            return Some(
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    MALFORMED_BODY,
                )
                    .into_response(),
            );
        }
        _ => {}
    }
    let delay = shared.book.lock().draw_latency();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    None
}

/// Holds an answer as the fault mode says (slow, or lost until the dealer goes down).
async fn hold(shared: &Shared, is_order: bool) {
    let wait = {
        let mut fault = shared.fault.lock();
        match *fault {
            Fault::Slow(d) => Some(d),
            Fault::LoseOrderResponses(n) if is_order && n > 0 => {
                *fault = if n == 1 {
                    Fault::None
                } else {
                    Fault::LoseOrderResponses(n - 1)
                };
                Some(LOST_RESPONSE_HOLD)
            }
            _ => None,
        }
    };
    if let Some(wait) = wait {
        let mut up = shared.up.subscribe();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = up.wait_for(|u| !*u) => {}
        }
    }
}

/// The request body, or the message of the `400 bad_request` to answer.
fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

async fn quote(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = gate(&shared, &headers).await {
        return r;
    }
    let req: QuoteRequest = match parse(&body) {
        Ok(r) => r,
        Err(e) => return api_error(ErrorCode::BadRequest, e),
    };
    let answer = shared.book.lock().quote(&req, unix_nanos());
    hold(&shared, false).await;
    match answer {
        Ok(q) => {
            tracing::debug!(dealer = %shared.id, quote = %q.quote_id, price = %q.price, "quoted");
            json_response(StatusCode::OK, &q)
        }
        Err(e) => api_error(e.error, e.message),
    }
}

async fn order(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = gate(&shared, &headers).await {
        return r;
    }
    let req: OrderRequest = match parse(&body) {
        Ok(r) => r,
        Err(e) => return api_error(ErrorCode::BadRequest, e),
    };
    let (answer, traded_before, traded_after) = {
        let mut book = shared.book.lock();
        let before = book.trade_count();
        let answer = book.order(&req, unix_nanos());
        (answer, before, book.trade_count())
    };
    if traded_after != traded_before {
        shared.ladder_changed.send_modify(|v| *v += 1);
    }
    hold(&shared, true).await;
    match answer {
        Ok(result) => {
            tracing::debug!(dealer = %shared.id, order = %req.client_order_id, ?result, "order answered");
            json_response(StatusCode::OK, &result)
        }
        Err(e) => api_error(e.error, e.message),
    }
}

async fn trade(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(client_order_id): Path<String>,
) -> Response {
    if let Some(r) = gate(&shared, &headers).await {
        return r;
    }
    let answer = shared.book.lock().lookup(&client_order_id);
    hold(&shared, false).await;
    match answer {
        Some(result) => json_response(StatusCode::OK, &result),
        None => api_error(ErrorCode::NotFound, format!("no order {client_order_id}")),
    }
}

async fn ladder(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !authorized(&shared, &headers) {
        return api_error(
            ErrorCode::Unauthorized,
            "missing or wrong API key".to_owned(),
        );
    }
    if *shared.fault.lock() == Fault::ServerError {
        return api_error(
            ErrorCode::Unavailable,
            "dealer unavailable (simulated)".to_owned(),
        );
    }
    ws.on_upgrade(move |socket| session(socket, shared))
}

fn frame(f: &ServerFrame) -> Option<Message> {
    serde_json::to_string(f)
        .ok()
        .map(|s| Message::Text(s.into()))
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One ladder WebSocket: wait for the subscription, then stream until either side
/// closes or the dealer goes down.
async fn session(socket: WebSocket, shared: Arc<Shared>) {
    let (mut tx, mut rx) = socket.split();
    let mut up = shared.up.subscribe();
    let subscribed = tokio::time::timeout(SUBSCRIBE_WAIT, async {
        while let Some(Ok(msg)) = rx.next().await {
            if let Message::Text(t) = msg {
                return serde_json::from_str::<ClientFrame>(t.as_str()).ok();
            }
        }
        None
    })
    .await;
    let instrument = match subscribed {
        Ok(Some(ClientFrame::Subscribe { instrument })) => instrument,
        _ => return,
    };
    if instrument != shared.config.instrument {
        let refuse = ServerFrame::Error {
            error: ErrorCode::UnknownInstrument,
            message: format!("dealer {} does not quote {}", shared.id, instrument),
        };
        if let Some(m) = frame(&refuse) {
            let _ = tx.send(m).await;
        }
        let _ = tx.send(Message::Close(None)).await;
        return;
    }
    let hello = ServerFrame::Subscribed {
        instrument: instrument.clone(),
        heartbeat_ms: ms(shared.config.heartbeat_interval),
        ladder_ms: ms(shared.config.ladder_interval),
    };
    let silent = *shared.fault.lock() == Fault::SilentStream;
    if !silent
        && let Some(m) = frame(&hello)
        && tx.send(m).await.is_err()
    {
        return;
    }
    let mut changed = shared.ladder_changed.subscribe();
    let mut ladder_tick =
        tokio::time::interval(shared.config.ladder_interval.max(Duration::from_millis(1)));
    let mut heartbeat = tokio::time::interval(
        shared
            .config
            .heartbeat_interval
            .max(Duration::from_millis(1)),
    );
    heartbeat.reset();
    let mut seq = 0u64;
    loop {
        let send_ladder = tokio::select! {
            _ = ladder_tick.tick() => true,
            r = changed.changed() => {
                if r.is_err() { break; }
                true
            }
            _ = heartbeat.tick() => false,
            _ = up.wait_for(|u| !*u) => break,
            msg = rx.next() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            },
        };
        let fault = *shared.fault.lock();
        let message = match fault {
            Fault::SilentStream => continue,
            Fault::Malformed if send_ladder => {
                Message::Text("{\"type\": \"ladder\", \"tiers\": [".into())
            }
            _ => {
                let now = unix_nanos();
                let f = if send_ladder {
                    seq += 1;
                    ServerFrame::Ladder {
                        instrument: instrument.clone(),
                        seq,
                        time: now / 1_000_000,
                        tiers: shared.book.lock().ladder(now),
                    }
                } else {
                    ServerFrame::Heartbeat {
                        time: now / 1_000_000,
                    }
                };
                match frame(&f) {
                    Some(m) => m,
                    None => continue,
                }
            }
        };
        if tx.send(message).await.is_err() {
            break;
        }
    }
    let _ = tx.send(Message::Close(None)).await;
}
