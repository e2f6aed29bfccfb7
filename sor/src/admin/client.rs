//! A client of the admin API, for `sor risk` and scripts: one method per endpoint, the
//! answer as JSON, every refusal as one line.

use super::wire::{
    CapBody, ClearLimitBody, ErrorBody, KillBody, ReleaseBody, Scope, SetLimitBody, StageBody,
};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, Url};
use serde::Serialize;
use serde_json::Value as Json;
use std::fmt;
use std::time::Duration;

/// Where `sor risk` looks for the admin API unless told otherwise.
pub const DEFAULT_URL: &str = "http://127.0.0.1:9879";

/// How long a request may take before the client gives up.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest error text kept from an answer that is not the API's JSON.
const MAX_TEXT: usize = 200;

/// A request that did not get a successful answer; `Display` is one line.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL cannot be used.
    #[error("bad admin API URL {url:?}: {message}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// The token cannot be sent in an HTTP header (empty, or not visible ASCII).
    #[error("the admin token cannot be sent: {0}")]
    BadToken(&'static str),
    /// The API refused the request: `403 forbidden: role trader may not change limits`.
    #[error("{status} {code}: {detail}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The API's error code (`unauthorized`, `forbidden`, `invalid_limit`, …).
        code: String,
        /// The API's explanation.
        detail: String,
    },
    /// No answer: connection refused, timeout, broken connection.
    #[error("cannot reach the admin API at {url}: {message}")]
    Transport {
        /// The request's URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// A successful status with a body that is not JSON.
    #[error("{status}: the admin API at {url} answered something that is not JSON: {message}")]
    Decode {
        /// The HTTP status.
        status: u16,
        /// The request's URL.
        url: String,
        /// The parse error.
        message: String,
    },
}

impl ClientError {
    /// Whether the error is in what the caller gave (URL, token) rather than in the
    /// answer: `sor risk` exits 2 for these, 1 for the others.
    pub fn is_usage(&self) -> bool {
        matches!(self, ClientError::BadUrl { .. } | ClientError::BadToken(_))
    }
}

/// A client of one admin API with one token. Its `Debug` never shows the token.
#[derive(Clone)]
pub struct AdminClient {
    base: Url,
    auth: HeaderValue,
    http: reqwest::Client,
}

impl fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// The text of an error and of its sources, on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() > MAX_TEXT {
        let cut: String = joined.chars().take(MAX_TEXT).collect();
        format!("{cut}…")
    } else {
        joined
    }
}

impl AdminClient {
    /// A client of the API at `base_url` (e.g. [`DEFAULT_URL`]) sending `token`, with
    /// [`DEFAULT_TIMEOUT`].
    pub fn new(base_url: &str, token: &str) -> Result<Self, ClientError> {
        Self::with_timeout(base_url, token, DEFAULT_TIMEOUT)
    }

    /// The same with another timeout per request.
    pub fn with_timeout(
        base_url: &str,
        token: &str,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let bad = |m: &str| ClientError::BadUrl {
            url: base_url.to_owned(),
            message: m.to_owned(),
        };
        let mut base = Url::parse(base_url).map_err(|e| bad(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(bad("the scheme must be http or https"));
        }
        if base.cannot_be_a_base() || base.host().is_none() {
            return Err(bad("expected http://HOST:PORT"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(bad(
                "expected http://HOST:PORT, without a query or fragment",
            ));
        }
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(ClientError::BadToken("it is empty"));
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ClientError::BadToken(
                "it must be visible ASCII without spaces",
            ));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| ClientError::BadToken("it must be visible ASCII without spaces"))?;
        auth.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| bad(&chain(&e)))?;
        Ok(Self { base, auth, http })
    }

    /// `GET /v1/limits`: the limits in force.
    pub async fn limits(&self) -> Result<Json, ClientError> {
        self.send::<()>(Method::GET, "v1/limits", None).await
    }

    /// `GET /v1/usage`: limits and usage now.
    pub async fn usage(&self) -> Result<Json, ClientError> {
        self.send::<()>(Method::GET, "v1/usage", None).await
    }

    /// `POST /v1/limits`: sets one limit; `value` is text as the limits file writes it.
    pub async fn set_limit(
        &self,
        key: &str,
        value: &str,
        reason: &str,
    ) -> Result<Json, ClientError> {
        let body = SetLimitBody {
            key: key.to_owned(),
            value: Json::String(value.to_owned()),
            reason: reason.to_owned(),
        };
        self.send(Method::POST, "v1/limits", Some(&body)).await
    }

    /// `POST /v1/limits/clear`: removes one limit.
    pub async fn clear_limit(&self, key: &str, reason: &str) -> Result<Json, ClientError> {
        let body = ClearLimitBody {
            key: key.to_owned(),
            reason: reason.to_owned(),
        };
        self.send(Method::POST, "v1/limits/clear", Some(&body))
            .await
    }

    /// `POST /v1/kill`: engages a kill switch.
    pub async fn kill(
        &self,
        scope: Scope,
        cancel_working: bool,
        reason: &str,
    ) -> Result<Json, ClientError> {
        let body = KillBody {
            scope,
            cancel_working,
            reason: reason.to_owned(),
        };
        self.send(Method::POST, "v1/kill", Some(&body)).await
    }

    /// `POST /v1/release`: releases a kill switch.
    pub async fn release(&self, scope: Scope, reason: &str) -> Result<Json, ClientError> {
        let body = ReleaseBody {
            scope,
            reason: reason.to_owned(),
        };
        self.send(Method::POST, "v1/release", Some(&body)).await
    }

    /// `POST /v1/stage`: moves a venue to a ramp stage.
    pub async fn set_stage(
        &self,
        venue: &str,
        stage: &str,
        reason: &str,
    ) -> Result<Json, ClientError> {
        let body = StageBody {
            venue: venue.to_owned(),
            stage: stage.to_owned(),
            reason: reason.to_owned(),
        };
        self.send(Method::POST, "v1/stage", Some(&body)).await
    }

    /// `POST /v1/stage/cap`: sets the highest stage a venue may graduate to.
    pub async fn cap_stage(
        &self,
        venue: &str,
        ceiling: &str,
        reason: &str,
    ) -> Result<Json, ClientError> {
        let body = CapBody {
            venue: venue.to_owned(),
            ceiling: ceiling.to_owned(),
            reason: reason.to_owned(),
        };
        self.send(Method::POST, "v1/stage/cap", Some(&body)).await
    }

    async fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Json, ClientError> {
        let url = self.base.join(path).map_err(|e| ClientError::BadUrl {
            url: self.base.to_string(),
            message: e.to_string(),
        })?;
        let transport = |e: reqwest::Error| ClientError::Transport {
            url: url.to_string(),
            message: one_line(&chain(&e.without_url())),
        };
        let mut req = self
            .http
            .request(method, url.clone())
            .header(AUTHORIZATION, self.auth.clone());
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(transport)?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
                status: status.as_u16(),
                url: url.to_string(),
                message: e.to_string(),
            });
        }
        let (code, detail) = match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(e) => (e.error, one_line(&e.detail)),
            Err(_) => (
                status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_ascii_lowercase()
                    .replace(' ', "_"),
                one_line(&String::from_utf8_lossy(&bytes)),
            ),
        };
        Err(ClientError::Api {
            status: status.as_u16(),
            code,
            detail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_and_tokens_are_usage_errors() {
        for url in ["127.0.0.1:9879", "ftp://x", "http://x/?q=1", "nope"] {
            let e = AdminClient::new(url, "t").unwrap_err();
            assert!(e.is_usage(), "{url}: {e}");
        }
        let e = AdminClient::new(DEFAULT_URL, " ").unwrap_err();
        assert!(matches!(e, ClientError::BadToken(_)));
        let e = AdminClient::new(DEFAULT_URL, "a b").unwrap_err();
        assert!(matches!(e, ClientError::BadToken(_)));
        let c = AdminClient::new("http://127.0.0.1:1/base", "s3cret").unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cret"), "{dbg}");
        assert_eq!(c.base.as_str(), "http://127.0.0.1:1/base/");
    }

    #[test]
    fn api_errors_are_one_line() {
        let e = ClientError::Api {
            status: 403,
            code: "forbidden".into(),
            detail: "role trader may not change limits".into(),
        };
        assert_eq!(
            e.to_string(),
            "403 forbidden: role trader may not change limits"
        );
        assert!(!e.is_usage());
        assert_eq!(one_line("a\n  b\tc"), "a b c");
        assert_eq!(one_line(&"x".repeat(500)).chars().count(), MAX_TEXT + 1);
    }
}
