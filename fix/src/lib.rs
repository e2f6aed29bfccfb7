//! FIX 4.4 message mapping for the smart order router.
//!
//! This crate turns FIX messages (as parsed by QuickFIX through the `quickfix`
//! crate) into plain Rust values and back. The desk-facing contract lives in
//! `specs/desk-fix.md`; [`desk`] implements its NewOrderSingle (35=D) and
//! ExecutionReport (35=8) mapping. Instrument-specific checks (precision, known
//! symbols) are deliberately left to the `sor` crate.

pub mod auth;
pub mod client;
pub mod desk;
mod error;
pub mod session;
mod value;

pub use value::{utc_now, utc_timestamp_of};

pub use error::FieldError;
