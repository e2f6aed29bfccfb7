//! What can go wrong between the adapter, the node and the simulator.

/// An error of the chain adapter or the chain simulator, with the context to act on it.
///
/// No variant ever carries the signing key or the RPC URL (which can hold an API key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// The HTTP request did not get an answer (connection refused, timeout, …).
    #[error("{method}: the node did not answer: {detail}")]
    Transport {
        /// The JSON-RPC method called.
        method: String,
        /// What the HTTP client said (without the URL).
        detail: String,
    },
    /// The node answered with a JSON-RPC error object.
    #[error("{method}: JSON-RPC error {code}: {message}")]
    Rpc {
        /// The JSON-RPC method called.
        method: String,
        /// The error code (-32602 invalid params, 3 execution reverted, …).
        code: i64,
        /// The node's message.
        message: String,
        /// The error's `data` member, as JSON text (revert data for code 3).
        data: Option<String>,
    },
    /// The node answered something that is not what the method returns.
    #[error("{method}: unexpected answer: {detail}")]
    BadResponse {
        /// The JSON-RPC method called.
        method: String,
        /// What was wrong with it.
        detail: String,
    },
    /// Call data, return data or a log could not be encoded or decoded.
    #[error("ABI {what}: {detail}")]
    Abi {
        /// The function, event or field concerned.
        what: String,
        /// What was wrong.
        detail: String,
    },
    /// The signing key could not be loaded or used (the key itself is never shown).
    #[error("signing key: {0}")]
    Key(String),
    /// A configuration value is unusable.
    #[error("config {field}: {problem}")]
    Config {
        /// The field, e.g. `base.decimals`.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An amount cannot be expressed in the token's raw units.
    #[error("amount {amount}: {problem}")]
    Amount {
        /// The amount, as given.
        amount: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The write-ahead swap log could not be opened, read or written.
    #[error("swap log {file}: {problem}")]
    SwapLog {
        /// The log's path.
        file: String,
        /// What failed, with the system's words.
        problem: String,
    },
    /// A line of the swap log breaks its format (the gateway does not start).
    #[error("swap log {file} line {line}: {rule}")]
    SwapLogLine {
        /// The log's path.
        file: String,
        /// The line number, from 1.
        line: usize,
        /// The rule the line breaks.
        rule: String,
    },
    /// The chain simulator could not start.
    #[error("chain simulator: {0}")]
    Sim(String),
}

impl ChainError {
    /// The revert reason, when this is a node's "execution reverted" answer to a call.
    pub fn revert_reason(&self) -> Option<String> {
        let ChainError::Rpc {
            code,
            message,
            data,
            ..
        } = self
        else {
            return None;
        };
        if *code != super::rpc::codes::EXECUTION_REVERTED && !message.contains("revert") {
            return None;
        }
        let from_data = data.as_deref().and_then(|d| {
            let hex = d.trim_matches('"');
            let bytes = alloy::hex::decode(hex).ok()?;
            super::abi::decode_revert(&bytes)
        });
        Some(from_data.unwrap_or_else(|| {
            message
                .strip_prefix("execution reverted: ")
                .unwrap_or(message)
                .to_owned()
        }))
    }
}
