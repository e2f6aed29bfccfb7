//! A small Ethereum JSON-RPC 2.0 client over HTTP (reqwest), and the wire constants the
//! simulator shares with it.
//!
//! The adapter needs about ten methods with its own bounds on every wait, so it talks
//! JSON-RPC directly instead of through alloy's provider stack; the payloads (blocks,
//! receipts, quantities) are alloy's RPC types.

use super::ChainError;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// JSON-RPC 2.0 error codes (the spec's, plus Ethereum's conventions).
pub mod codes {
    /// The body is not JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// The JSON is not a request object.
    pub const INVALID_REQUEST: i64 = -32600;
    /// No such method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// The method's parameters are wrong; the message names the field.
    pub const INVALID_PARAMS: i64 = -32602;
    /// The server failed.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// A node-side refusal (nonce too low, fee too low, unknown block, …).
    pub const SERVER_ERROR: i64 = -32000;
    /// `eth_call` / `eth_estimateGas` reverted; `data` holds the revert data (geth).
    pub const EXECUTION_REVERTED: i64 = 3;
}

/// A JSON-RPC client for one node: numbered requests, a timeout on each.
#[derive(Debug)]
pub struct RpcClient {
    http: reqwest::Client,
    url: String,
    next_id: AtomicU64,
}

impl RpcClient {
    /// A client for the node at `url` (http or https); every request gives up after
    /// `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, ChainError> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ChainError::Config {
                field: "rpc_url".into(),
                problem: "must start with http:// or https://".into(),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ChainError::Config {
                field: "rpc_url".into(),
                problem: format!("cannot build the HTTP client: {}", e.without_url()),
            })?;
        Ok(Self {
            http,
            url: url.to_owned(),
            next_id: AtomicU64::new(1),
        })
    }

    /// Calls `method` with `params` (a JSON array) and returns the `result` member.
    pub async fn call_raw(&self, method: &str, params: Value) -> Result<Value, ChainError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let resp = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| transport(method, e))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| transport(method, e))?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| ChainError::BadResponse {
            method: method.into(),
            detail: format!("HTTP {status}, body is not JSON: {e}"),
        })?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            return Err(ChainError::Rpc {
                method: method.into(),
                code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                data: err.get("data").map(Value::to_string),
            });
        }
        if v.get("id") != Some(&json!(id)) {
            return Err(ChainError::BadResponse {
                method: method.into(),
                detail: format!("answer id {:?} is not the request id {id}", v.get("id")),
            });
        }
        v.get("result")
            .cloned()
            .ok_or_else(|| ChainError::BadResponse {
                method: method.into(),
                detail: format!("HTTP {status}, no result and no error"),
            })
    }

    /// Calls `method` and decodes its result as `R`.
    pub async fn call<R: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<R, ChainError> {
        let v = self.call_raw(method, params).await?;
        serde_json::from_value(v).map_err(|e| ChainError::BadResponse {
            method: method.into(),
            detail: e.to_string(),
        })
    }
}

fn transport(method: &str, e: reqwest::Error) -> ChainError {
    let kind = if e.is_timeout() {
        "timed out: "
    } else if e.is_connect() {
        "cannot connect: "
    } else {
        ""
    };
    ChainError::Transport {
        method: method.into(),
        detail: format!("{kind}{}", e.without_url()),
    }
}
