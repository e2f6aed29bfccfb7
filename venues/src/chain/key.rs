//! The adapter's signing key: where it comes from, and signing transactions with it.
//!
//! The key never appears in `Debug` output, error messages or logs: [`SecretKeyHex`] and
//! [`ChainKey`] print `<redacted>`, and a key that does not parse is refused with a fixed
//! message that quotes none of it.

use super::ChainError;
use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy::eips::eip2718::Encodable2718;
use alloy::primitives::{Address, B256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use std::fmt;

/// The environment variable the key is read from by default.
pub const KEY_ENV: &str = "SOR_CHAIN_KEY";

/// A private key as 64 hex digits (with or without `0x`); `Debug` shows `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKeyHex(String);

impl SecretKeyHex {
    /// Wraps the hex text of a private key.
    pub fn new(hex: impl Into<String>) -> Self {
        Self(hex.into())
    }
}

impl fmt::Debug for SecretKeyHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where the adapter's signing key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The named environment variable (normally [`KEY_ENV`], `SOR_CHAIN_KEY`).
    Env(String),
    /// The key itself, e.g. from a config file or a secret store.
    Hex(SecretKeyHex),
}

impl Default for KeySource {
    fn default() -> Self {
        KeySource::Env(KEY_ENV.into())
    }
}

/// A loaded signing key: signs transactions for its address.
#[derive(Clone)]
pub struct ChainKey {
    signer: PrivateKeySigner,
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainKey")
            .field("address", &self.signer.address())
            .field("key", &"<redacted>")
            .finish()
    }
}

impl ChainKey {
    /// Loads the key from `source`.
    pub fn load(source: &KeySource) -> Result<Self, ChainError> {
        match source {
            KeySource::Env(var) => {
                let text = std::env::var(var).map_err(|_| {
                    ChainError::Key(format!("environment variable {var} is not set"))
                })?;
                Self::from_hex(&text).map_err(|e| ChainError::Key(format!("{var}: {e}")))
            }
            KeySource::Hex(SecretKeyHex(text)) => {
                Self::from_hex(text).map_err(|e| ChainError::Key(e.to_string()))
            }
        }
    }

    /// A key from 64 hex digits, with or without `0x`.
    fn from_hex(text: &str) -> Result<Self, &'static str> {
        let t = text.trim();
        let t = t.strip_prefix("0x").unwrap_or(t);
        if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("not 64 hex digits");
        }
        let bytes = alloy::hex::decode(t).map_err(|_| "not 64 hex digits")?;
        let key = B256::try_from(bytes.as_slice()).map_err(|_| "not 32 bytes")?;
        let signer =
            PrivateKeySigner::from_bytes(&key).map_err(|_| "not a valid secp256k1 private key")?;
        Ok(Self { signer })
    }

    /// The key for 32 raw bytes (for tests and tools).
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, ChainError> {
        PrivateKeySigner::from_bytes(&B256::from(bytes))
            .map(|signer| Self { signer })
            .map_err(|_| ChainError::Key("not a valid secp256k1 private key".into()))
    }

    /// The account address of the key.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// Signs `tx` and returns the raw EIP-2718 bytes for `eth_sendRawTransaction` and
    /// the transaction hash.
    pub fn sign(&self, tx: UnsignedTx) -> Result<(Vec<u8>, B256), ChainError> {
        let envelope: TxEnvelope = match tx {
            UnsignedTx::Eip1559(tx) => {
                let sig = self
                    .signer
                    .sign_hash_sync(&tx.signature_hash())
                    .map_err(|e| ChainError::Key(format!("signing failed: {e}")))?;
                tx.into_signed(sig).into()
            }
            UnsignedTx::Legacy(tx) => {
                let sig = self
                    .signer
                    .sign_hash_sync(&tx.signature_hash())
                    .map_err(|e| ChainError::Key(format!("signing failed: {e}")))?;
                tx.into_signed(sig).into()
            }
        };
        Ok((envelope.encoded_2718(), *envelope.tx_hash()))
    }
}

/// A transaction to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsignedTx {
    /// An EIP-1559 (type 2) transaction.
    Eip1559(TxEip1559),
    /// A legacy transaction with EIP-155 replay protection.
    Legacy(TxLegacy),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let hex = "0x0707070707070707070707070707070707070707070707070707070707070707";
        let src = KeySource::Hex(SecretKeyHex::new(hex));
        assert!(!format!("{src:?}").contains("0707"));
        let key = ChainKey::load(&src).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("<redacted>") && !shown.contains("070707070707"));
    }

    #[test]
    fn bad_keys_are_refused_without_quoting_them() {
        for bad in [
            "0x12",
            "zz07070707070707070707070707070707070707070707070707070707070707",
            "",
        ] {
            let e = ChainKey::load(&KeySource::Hex(SecretKeyHex::new(bad)))
                .unwrap_err()
                .to_string();
            assert!(e.contains("hex digits"), "{e}");
            assert!(!e.contains("zz07"), "{e}");
        }
        let zero = "0000000000000000000000000000000000000000000000000000000000000000";
        let e = ChainKey::load(&KeySource::Hex(SecretKeyHex::new(zero))).unwrap_err();
        assert!(e.to_string().contains("not a valid secp256k1"));
        let e =
            ChainKey::load(&KeySource::Env("SOR_CHAIN_KEY_SURELY_UNSET_42".into())).unwrap_err();
        assert!(
            e.to_string()
                .contains("SOR_CHAIN_KEY_SURELY_UNSET_42 is not set")
        );
    }
}
