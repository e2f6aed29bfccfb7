//! API keys: a secret that never reaches a log.

use std::fmt;

/// Why a credential could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// The environment variable is not set (or not valid UTF-8).
    #[error("environment variable {var} with the dealer API key is not set")]
    MissingEnv {
        /// The variable's name.
        var: String,
    },
    /// The key is empty or not a valid header value (printable ASCII only).
    #[error("the API key is empty or has characters a header cannot carry")]
    Invalid,
}

/// A dealer API key, for authenticating to one dealer.
///
/// `Debug` and `Display` print `<redacted>`; the only way to the text is
/// [`ApiKey::expose`], used where the key goes into a request header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// A key from its text; refuses an empty key or one a header cannot carry.
    pub fn new(key: impl Into<String>) -> Result<Self, CredentialError> {
        let key = key.into();
        if key.is_empty() || !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(CredentialError::Invalid);
        }
        Ok(Self(key))
    }

    /// The key held in environment variable `var`.
    pub fn from_env(var: &str) -> Result<Self, CredentialError> {
        let key = std::env::var(var).map_err(|_| CredentialError::MissingEnv {
            var: var.to_owned(),
        })?;
        Self::new(key)
    }

    /// The key's text, for the request header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is this key, comparing in time independent of where they
    /// differ (lengths may leak; contents do not).
    pub fn matches(&self, candidate: &[u8]) -> bool {
        let key = self.0.as_bytes();
        if key.len() != candidate.len() {
            return false;
        }
        key.iter()
            .zip(candidate)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let k = ApiKey::new("s3cret-key").unwrap();
        assert!(!format!("{k:?}").contains("s3cret"));
        assert!(!format!("{k}").contains("s3cret"));
        assert_eq!(k.expose(), "s3cret-key");
    }

    #[test]
    fn matches_only_the_same_bytes() {
        let k = ApiKey::new("abc").unwrap();
        assert!(k.matches(b"abc"));
        assert!(!k.matches(b"abd"));
        assert!(!k.matches(b"ab"));
        assert!(ApiKey::new("").is_err());
        assert!(ApiKey::new("a b").is_err());
    }
}
