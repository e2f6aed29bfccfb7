//! Who may read and who may change the gate: bearer tokens stored as SHA-256 hashes,
//! with a role each. Pure: the HTTP server passes the `Authorization` header in.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// What a token holder may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads and changes limits, kill switches and stages.
    RiskOfficer,
    /// Reads only.
    Trader,
}

impl Role {
    /// The role's name in token files: `risk_officer`, `trader`.
    pub fn name(self) -> &'static str {
        match self {
            Role::RiskOfficer => "risk_officer",
            Role::Trader => "trader",
        }
    }

    /// Whether this role may do `action`.
    pub fn may(self, action: Action) -> bool {
        match action {
            Action::Read => true,
            Action::Change => self == Role::RiskOfficer,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an admin request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read limits, usage, stages, kill switches.
    Read,
    /// Any [`crate::Control`].
    Change,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Read => "read",
            Action::Change => "change",
        })
    }
}

/// The holder of a valid token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The token's name (use it as the audit record's `who`).
    pub name: String,
    /// Its role.
    pub role: Role,
}

/// A request the admin API must refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token, a malformed header, or a token that matches none (HTTP 401).
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// A valid token whose role may not do this (HTTP 403).
    #[error("forbidden: role {role} may not {action}")]
    Forbidden {
        /// The caller's role.
        role: Role,
        /// What it tried.
        action: Action,
    },
}

/// A token file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct TokenConfigError {
    /// Which entry, e.g. `tokens[1].sha256`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// The SHA-256 of a token, as lowercase hex: what a token file stores.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `role` may do `action`, as the error the admin API returns.
pub fn authorize(role: Role, action: Action) -> Result<(), AuthError> {
    if role.may(action) {
        Ok(())
    } else {
        Err(AuthError::Forbidden { role, action })
    }
}

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    hash: [u8; 32],
    role: Role,
}

/// The admin tokens, kept only as SHA-256 hashes.
#[derive(Debug, Clone, Default)]
pub struct TokenStore {
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    #[serde(default)]
    tokens: Vec<TokenSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenSpec {
    name: String,
    role: Role,
    sha256: String,
}

/// Longest `Authorization` header accepted.
const MAX_HEADER: usize = 4096;

impl TokenStore {
    /// No tokens: every request is unauthorized.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a token by its SHA-256 hex hash.
    pub fn add(
        &mut self,
        name: &str,
        sha256_hex: &str,
        role: Role,
    ) -> Result<(), TokenConfigError> {
        let bad = |m: String| TokenConfigError {
            path: name.to_owned(),
            message: m,
        };
        if name.trim().is_empty() {
            return Err(bad("a token needs a name".into()));
        }
        if self.entries.iter().any(|e| e.name == name) {
            return Err(bad("name appears twice".into()));
        }
        let mut hash = [0u8; 32];
        hex::decode_to_slice(sha256_hex.trim(), &mut hash)
            .map_err(|e| bad(format!("sha256 must be 64 hex digits: {e}")))?;
        if self.entries.iter().any(|e| e.hash == hash) {
            return Err(bad("the same token hash appears twice".into()));
        }
        self.entries.push(Entry {
            name: name.to_owned(),
            hash,
            role,
        });
        Ok(())
    }

    /// Parses a token file:
    ///
    /// ```toml
    /// [[tokens]]
    /// name = "alice"
    /// role = "risk_officer"            # or "trader"
    /// sha256 = "…64 hex digits…"       # risk::hash_token(token)
    /// ```
    pub fn from_toml_str(text: &str) -> Result<Self, TokenConfigError> {
        let file: TokenFile = toml::from_str(text).map_err(|e| TokenConfigError {
            path: "tokens".into(),
            message: e.message().to_owned(),
        })?;
        let mut store = Self::new();
        for (i, t) in file.tokens.iter().enumerate() {
            store
                .add(&t.name, &t.sha256, t.role)
                .map_err(|e| TokenConfigError {
                    path: format!("tokens[{i}]"),
                    message: format!("{}: {}", t.name, e.message),
                })?;
        }
        Ok(store)
    }

    /// Checks an `Authorization` header value (`Bearer <token>`): the holder, or
    /// `Unauthorized`. Every stored hash is compared in full, in constant time.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, AuthError> {
        let header = authorization.ok_or(AuthError::Unauthorized("no Authorization header"))?;
        if header.len() > MAX_HEADER {
            return Err(AuthError::Unauthorized("Authorization header too long"));
        }
        let (scheme, token) = header
            .trim()
            .split_once(' ')
            .ok_or(AuthError::Unauthorized("expected \"Bearer <token>\""))?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
            return Err(AuthError::Unauthorized("expected \"Bearer <token>\""));
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found: Option<&Entry> = None;
        for e in &self.entries {
            let diff = e
                .hash
                .iter()
                .zip(digest.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            if diff == 0 {
                found = Some(e);
            }
        }
        found
            .map(|e| Principal {
                name: e.name.clone(),
                role: e.role,
            })
            .ok_or(AuthError::Unauthorized("unknown token"))
    }

    /// [`TokenStore::authenticate`] then [`authorize`]: the holder if the token is valid
    /// and its role may do `action`.
    pub fn check(
        &self,
        authorization: Option<&str>,
        action: Action,
    ) -> Result<Principal, AuthError> {
        let p = self.authenticate(authorization)?;
        authorize(p.role, action)?;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> TokenStore {
        let text = format!(
            "[[tokens]]\nname = \"alice\"\nrole = \"risk_officer\"\nsha256 = \"{}\"\n\n\
             [[tokens]]\nname = \"bob\"\nrole = \"trader\"\nsha256 = \"{}\"\n",
            hash_token("s3cret-alice"),
            hash_token("s3cret-bob")
        );
        TokenStore::from_toml_str(&text).unwrap()
    }

    #[test]
    fn bearer_tokens_map_to_roles() {
        let s = store();
        let a = s.authenticate(Some("Bearer s3cret-alice")).unwrap();
        assert_eq!((a.name.as_str(), a.role), ("alice", Role::RiskOfficer));
        let b = s.authenticate(Some("bearer   s3cret-bob")).unwrap();
        assert_eq!(b.role, Role::Trader);
        for bad in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Basic s3cret-alice"),
            Some("Bearer nope"),
            Some("Bearer a b"),
        ] {
            assert!(
                matches!(s.authenticate(bad), Err(AuthError::Unauthorized(_))),
                "{bad:?}"
            );
        }
        assert!(s.authenticate(Some(&"x".repeat(5000))).is_err());
    }

    #[test]
    fn traders_read_officers_change() {
        let s = store();
        assert!(s.check(Some("Bearer s3cret-bob"), Action::Read).is_ok());
        assert_eq!(
            s.check(Some("Bearer s3cret-bob"), Action::Change),
            Err(AuthError::Forbidden {
                role: Role::Trader,
                action: Action::Change
            })
        );
        assert!(s.check(Some("Bearer s3cret-alice"), Action::Change).is_ok());
        assert_eq!(
            AuthError::Forbidden {
                role: Role::Trader,
                action: Action::Change
            }
            .to_string(),
            "forbidden: role trader may not change"
        );
    }

    #[test]
    fn bad_token_files_name_the_entry() {
        let e = TokenStore::from_toml_str(
            "[[tokens]]\nname = \"x\"\nrole = \"trader\"\nsha256 = \"abc\"\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("tokens[0]: x: sha256 must be 64 hex digits"),
            "{e}"
        );
        assert!(
            TokenStore::from_toml_str(
                "[[tokens]]\nname = \"x\"\nrole = \"admin\"\nsha256 = \"\"\n"
            )
            .is_err()
        );
    }
}
