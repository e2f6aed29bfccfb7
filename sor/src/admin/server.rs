//! The admin HTTP server: the endpoints of [`crate::admin`] over a [`SharedGate`].

use super::wire::{
    CapBody, ChangeBody, ClearLimitBody, ErrorBody, KillBody, ReleaseBody, SetLimitBody, StageBody,
    value_text,
};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use risk::{
    Action, Actor, AuditRecord, AuthError, ControlError, GateSnapshot, Limits, Principal,
    SharedGate, TokenStore,
};
use serde::de::DeserializeOwned;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Largest request body accepted, in bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// What the admin server serves: the live gate, who may use it, the clock and the
/// engine's wake-up.
#[derive(Clone)]
pub struct AdminState {
    /// The gate the engine checks against; controls go through it (and its audit log).
    pub gate: SharedGate,
    /// The admin tokens and their roles.
    pub tokens: TokenStore,
    /// The time stamped on controls and snapshots: nanoseconds since the Unix epoch.
    pub now: Arc<dyn Fn() -> u64 + Send + Sync>,
    /// Called after every successful change (never after a refused one), so the engine
    /// thread wakes up and applies it (kill-switch cancels). It runs on the runtime's
    /// threads, so it must not block (send on a channel, unpark a thread).
    pub on_change: Arc<dyn Fn() + Send + Sync>,
}

impl fmt::Debug for AdminState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminState")
            .field("gate", &self.gate)
            .finish_non_exhaustive()
    }
}

/// Nanoseconds since the Unix epoch by the system clock (0 before the epoch).
pub fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl AdminState {
    /// A state with the system clock ([`unix_nanos`]) and no wake-up; see
    /// [`AdminState::with_now`] and [`AdminState::with_on_change`].
    pub fn new(gate: SharedGate, tokens: TokenStore) -> Self {
        Self {
            gate,
            tokens,
            now: Arc::new(unix_nanos),
            on_change: Arc::new(|| {}),
        }
    }

    /// The same state with another clock (nanoseconds since the Unix epoch).
    pub fn with_now(mut self, now: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.now = Arc::new(now);
        self
    }

    /// The same state calling `on_change` after every successful change.
    pub fn with_on_change(mut self, on_change: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_change = Arc::new(on_change);
        self
    }
}

/// The admin server could not start.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The bind address is not a loopback address.
    #[error(
        "admin API: refusing to listen on {bind}: it has no TLS, so it binds only to a loopback address (127.0.0.1 or [::1])"
    )]
    NotLoopback {
        /// The address asked for.
        bind: SocketAddr,
    },
    /// The socket could not be bound or set up.
    #[error("admin API: cannot listen on {bind}: {source}")]
    Bind {
        /// The address asked for.
        bind: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A running admin server. Dropping it asks it to stop, like [`AdminServer::shutdown`].
#[derive(Debug)]
pub struct AdminServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl AdminServer {
    /// Binds `bind` (a loopback address; port 0 picks a free port) before returning, so
    /// [`AdminServer::addr`] is the real address, and serves the admin API on
    /// `handle`'s runtime until [`AdminServer::shutdown`].
    pub fn start(
        bind: SocketAddr,
        state: AdminState,
        handle: &Handle,
    ) -> Result<AdminServer, AdminError> {
        if !bind.ip().is_loopback() {
            return Err(AdminError::NotLoopback { bind });
        }
        let io = |source| AdminError::Bind { bind, source };
        let std_listener = std::net::TcpListener::bind(bind).map_err(io)?;
        std_listener.set_nonblocking(true).map_err(io)?;
        let addr = std_listener.local_addr().map_err(io)?;
        let listener = {
            let _entered = handle.enter();
            tokio::net::TcpListener::from_std(std_listener).map_err(io)?
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router(state);
        let task = handle.spawn(async move {
            let serving = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serving.await {
                tracing::error!(%addr, "admin API stopped: {e}");
            }
        });
        tracing::info!(%addr, "risk admin API listening");
        Ok(AdminServer {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Asks the server to stop and returns at once (callable from any thread, in or out
    /// of the runtime): it accepts no new connection, lets requests in flight finish,
    /// then closes. Use [`AdminServer::shutdown_and_wait`] to wait for that.
    pub fn shutdown(mut self) {
        self.signal();
    }

    /// Asks the server to stop and waits until it has (connections in flight get up to
    /// `grace`, then are dropped). When it returns the port is free.
    pub async fn shutdown_and_wait(mut self, grace: Duration) {
        self.signal();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(grace, &mut task).await.is_err()
        {
            task.abort();
            let _ = task.await;
        }
    }

    fn signal(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.signal();
    }
}

/// The admin API's routes over `state`, for embedding in another server or testing
/// without a socket. [`AdminServer::start`] serves exactly this.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/v1/limits", get(get_limits).post(set_limit))
        .route("/v1/limits/clear", post(clear_limit))
        .route("/v1/usage", get(get_usage))
        .route("/v1/kill", post(kill))
        .route("/v1/release", post(release))
        .route("/v1/stage", post(stage))
        .route("/v1/stage/cap", post(cap))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(Arc::new(state))
}

type St = State<Arc<AdminState>>;

/// A refusal, as the API answers it.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
        }
    }

    fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code.to_owned(),
            detail: self.detail,
        };
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sor-risk\""),
            );
        }
        resp
    }
}

impl From<ControlError> for ApiError {
    fn from(e: ControlError) -> Self {
        use StatusCode as S;
        let (status, code) = match &e {
            ControlError::Limits(_) => (S::BAD_REQUEST, "invalid_limit"),
            ControlError::Unknown { .. } => (S::BAD_REQUEST, "unknown_name"),
            ControlError::NoRamp { .. } => (S::BAD_REQUEST, "no_ramp"),
            ControlError::UnknownStage { .. } => (S::BAD_REQUEST, "unknown_stage"),
            ControlError::AboveCeiling { .. } => (S::BAD_REQUEST, "above_ceiling"),
            ControlError::NotEngaged { .. } => (S::BAD_REQUEST, "not_engaged"),
            ControlError::Unattributed => (S::BAD_REQUEST, "bad_request"),
            ControlError::Conflict => (S::CONFLICT, "conflict"),
            ControlError::Backlog(_) => (S::SERVICE_UNAVAILABLE, "busy"),
            ControlError::Audit(_) => (S::INTERNAL_SERVER_ERROR, "audit_failed"),
        };
        Self::new(status, code, e.to_string())
    }
}

/// What a change endpoint changes, for the 403 text.
#[derive(Clone, Copy)]
enum Noun {
    Limits,
    Kills,
    Stages,
}

impl Noun {
    fn text(self) -> &'static str {
        match self {
            Noun::Limits => "limits",
            Noun::Kills => "kill switches",
            Noun::Stages => "ramp stages",
        }
    }
}

fn auth(
    state: &AdminState,
    headers: &HeaderMap,
    action: Action,
    noun: Noun,
) -> Result<Principal, ApiError> {
    // A header that is not visible ASCII is checked as an empty one: refused, and never
    // echoed.
    let value = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or(""));
    state.tokens.check(value, action).map_err(|e| match e {
        AuthError::Unauthorized(why) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!("{why}; send \"Authorization: Bearer <token>\""),
        ),
        AuthError::Forbidden { role, action } => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("role {role} may not {action} {}", noun.text()),
        ),
    })
}

/// Parses a JSON body; the error names the field (or says the JSON is malformed).
fn parse<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|r| {
        let status = r.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "payload_too_large"
        } else {
            "bad_request"
        };
        ApiError::new(status, code, format!("request body: {}", r.body_text()))
    })?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data if path != "." => {
                ApiError::bad_request(format!("{path}: {inner}"))
            }
            serde_json::error::Category::Data => ApiError::bad_request(inner.to_string()),
            _ => ApiError::bad_request(format!("malformed JSON body: {inner}")),
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("malformed JSON body: {e}")))?;
    Ok(value)
}

async fn get_limits(State(s): St, headers: HeaderMap) -> Result<Json<Limits>, ApiError> {
    auth(&s, &headers, Action::Read, Noun::Limits)?;
    Ok(Json(s.gate.limits()))
}

async fn get_usage(State(s): St, headers: HeaderMap) -> Result<Json<GateSnapshot>, ApiError> {
    auth(&s, &headers, Action::Read, Noun::Limits)?;
    Ok(Json(s.gate.snapshot((s.now)())))
}

/// Authenticates, parses, checks the reason, then runs `f` off the async threads (the
/// audit log syncs to disk) and wakes the engine on success.
async fn change<B, F>(
    s: Arc<AdminState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    noun: Noun,
    f: F,
) -> Result<Json<AuditRecord>, ApiError>
where
    B: DeserializeOwned + ChangeBody + Send + 'static,
    F: FnOnce(&SharedGate, &Actor<'_>, &B) -> Result<AuditRecord, ControlError> + Send + 'static,
{
    let who = auth(&s, &headers, Action::Change, noun)?;
    let body: B = parse(body)?;
    if body.reason().trim().is_empty() {
        return Err(ApiError::bad_request(
            "reason: must not be empty; say why the change is made",
        ));
    }
    body.validate().map_err(ApiError::bad_request)?;
    let st = s.clone();
    let done = tokio::task::spawn_blocking(move || {
        let by = Actor {
            who: &who.name,
            reason: body.reason(),
            now: (st.now)(),
        };
        f(&st.gate, &by, &body).map_err(|e| (who.name.clone(), e))
    })
    .await
    .map_err(|e| {
        tracing::error!("admin API: a control task failed: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the change could not be completed; check the audit log and the limits",
        )
    })?;
    match done {
        Ok(rec) => {
            (s.on_change)();
            tracing::info!(
                who = %rec.who, what = %rec.what, key = %rec.key, reason = %rec.reason,
                "risk control applied"
            );
            Ok(Json(rec))
        }
        Err((who, e)) => {
            tracing::warn!(%who, "risk control refused: {e}");
            Err(e.into())
        }
    }
}

async fn set_limit(
    State(s): St,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AuditRecord>, ApiError> {
    change(s, headers, body, Noun::Limits, |g, by, b: &SetLimitBody| {
        // `validate` has accepted the value already.
        let value = value_text(&b.value).map_err(|m| {
            ControlError::Limits(risk::LimitsError::Invalid {
                path: b.key.clone(),
                message: m,
                line: None,
            })
        })?;
        g.set_limit(by, &b.key, &value)
    })
    .await
}

async fn clear_limit(
    State(s): St,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AuditRecord>, ApiError> {
    change(
        s,
        headers,
        body,
        Noun::Limits,
        |g, by, b: &ClearLimitBody| g.clear_limit(by, &b.key),
    )
    .await
}

async fn kill(
    State(s): St,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AuditRecord>, ApiError> {
    change(s, headers, body, Noun::Kills, |g, by, b: &KillBody| {
        g.engage_kill(by, b.scope.clone().into(), b.cancel_working)
    })
    .await
}

async fn release(
    State(s): St,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AuditRecord>, ApiError> {
    change(s, headers, body, Noun::Kills, |g, by, b: &ReleaseBody| {
        g.release_kill(by, b.scope.clone().into())
    })
    .await
}

async fn stage(
    State(s): St,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AuditRecord>, ApiError> {
    change(s, headers, body, Noun::Stages, |g, by, b: &StageBody| {
        g.set_stage(by, &b.venue, &b.stage)
    })
    .await
}

async fn cap(
    State(s): St,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AuditRecord>, ApiError> {
    change(s, headers, body, Noun::Stages, |g, by, b: &CapBody| {
        g.cap_stage(by, &b.venue, &b.ceiling)
    })
    .await
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see GET /v1/limits, GET /v1/usage, POST /v1/limits, /v1/limits/clear, /v1/kill, /v1/release, /v1/stage, /v1/stage/cap",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed here: reads are GET, changes are POST",
    )
}
