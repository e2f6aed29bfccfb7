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
pub mod present;
pub mod session;
mod value;

pub use value::{utc_now, utc_timestamp_of};

/// An empty FIX.4.4 message of type `msg_type` (header 8 and 35 set; the session fills
/// in CompIDs, sequence number and SendingTime when it sends it).
pub fn new_message(msg_type: &str) -> Result<quickfix::Message, quickfix::QuickFixError> {
    use quickfix::FieldMap;
    let mut m = quickfix::Message::new();
    m.with_header_mut(|h| {
        h.set_field(8, "FIX.4.4")?;
        h.set_field(35, msg_type)
    })?;
    Ok(m)
}

pub use error::FieldError;
