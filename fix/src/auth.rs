//! Desk passwords, stored only as salted SHA-256 hashes.
//!
//! The stored form is `sha256$<salt>$<hex digest of salt ‖ password>`; `sor
//! hash-password` prints one. A password is compared by hashing it the same way and
//! comparing digests in constant time; the clear password is never kept or logged.

use sha2::{Digest, Sha256};
use std::fmt;

/// A stored password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    salt: String,
    digest: [u8; 32],
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(sha256, redacted)")
    }
}

/// Why a stored hash string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hash: {0} (expected sha256$<salt>$<64 hex digits>)")]
pub struct HashFormatError(&'static str);

fn digest(salt: &str, password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(password.as_bytes());
    h.finalize().into()
}

impl PasswordHash {
    /// Hashes `password` with `salt` (any string without `$`).
    pub fn create(password: &str, salt: &str) -> Result<Self, HashFormatError> {
        if salt.is_empty() || salt.contains('$') {
            return Err(HashFormatError("salt must be non-empty and contain no '$'"));
        }
        Ok(Self {
            salt: salt.to_owned(),
            digest: digest(salt, password),
        })
    }

    /// Reads the stored form `sha256$<salt>$<hex>`.
    pub fn parse(stored: &str) -> Result<Self, HashFormatError> {
        let mut parts = stored.split('$');
        let (Some(alg), Some(salt), Some(hex_digest), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(HashFormatError("not three '$'-separated parts"));
        };
        if alg != "sha256" {
            return Err(HashFormatError("algorithm is not sha256"));
        }
        if salt.is_empty() {
            return Err(HashFormatError("empty salt"));
        }
        let bytes = hex::decode(hex_digest).map_err(|_| HashFormatError("digest is not hex"))?;
        let digest: [u8; 32] = bytes
            .try_into()
            .map_err(|_| HashFormatError("digest is not 32 bytes"))?;
        Ok(Self {
            salt: salt.to_owned(),
            digest,
        })
    }

    /// Whether `password` is the one this hash was made from (constant-time compare).
    pub fn verify(&self, password: &str) -> bool {
        let candidate = digest(&self.salt, password);
        candidate
            .iter()
            .zip(self.digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256${}${}", self.salt, hex::encode(self.digest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = PasswordHash::create("desk2-secret", "abc123").unwrap();
        assert!(h.verify("desk2-secret"));
        assert!(!h.verify("desk2-secreT"));
        assert!(!h.verify(""));
        let stored = h.to_string();
        assert!(stored.starts_with("sha256$abc123$"));
        assert!(!stored.contains("desk2-secret"));
        assert_eq!(PasswordHash::parse(&stored).unwrap(), h);
        assert!(!format!("{h:?}").contains("abc123"));
    }

    #[test]
    fn malformed_stored_hashes_are_refused_with_the_reason() {
        for (bad, why) in [
            ("md5$s$00", "algorithm"),
            ("sha256$$00", "empty salt"),
            ("sha256$s$zz", "not hex"),
            ("sha256$s$00", "32 bytes"),
            ("sha256$s", "three"),
        ] {
            let err = PasswordHash::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
        assert!(PasswordHash::create("p", "a$b").is_err());
    }
}
