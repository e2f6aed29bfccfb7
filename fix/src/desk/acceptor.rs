//! The desk-facing acceptor's QuickFIX application: who may log on, and what each
//! inbound application message becomes.
//!
//! It authenticates Logons against the [`DeskDirectory`] (unknown CompIDs never get a
//! session; a desk with a password must send Username(553)/Password(554) that match
//! its stored hash), decodes NewOrderSingle, OrderCancelRequest and
//! OrderStatusRequest into plain values for a [`DeskHandler`], and answers what it
//! cannot hand on itself: a NewOrderSingle that breaks a field rule gets an
//! ExecutionReport reject (150=8) whose Text names the tag; any other message it
//! will not act on gets a BusinessMessageReject (35=j). The session stays up.

use quickfix::{
    ApplicationCallback, FieldMap, Message, MsgFromAdminError, MsgFromAppError, SessionId,
};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::outbox::{DeskMessage, DeskOutbox};
use super::requests::{BusinessReject, CancelReject, CxlRejReason};
use super::{
    CancelRequest, ExecReport, ExecType, NewOrder, OrdStatus, Side, StatusRequest, parse_cancel,
    parse_new_order, parse_status,
};
use crate::auth::PasswordHash;
use crate::value::utc_now;

/// What a desk must present at Logon.
#[derive(Debug, Clone, Default)]
pub struct DeskLogin {
    /// Username(553) the desk must send with its password (defaults to its CompID).
    pub username: Option<String>,
    /// The stored hash of its password; `None` for a desk without one.
    pub password: Option<PasswordHash>,
}

/// The desks allowed to log on, by CompID.
#[derive(Debug, Clone, Default)]
pub struct DeskDirectory {
    desks: HashMap<String, DeskLogin>,
}

/// Why a Logon was refused (for the log; the desk sees only a Logout).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogonRefusal {
    /// The CompID is not a configured desk.
    #[error("unknown desk CompID {0}")]
    UnknownDesk(String),
    /// The desk has a password and the Logon carried none.
    #[error("desk {0}: Logon without Username(553)/Password(554)")]
    MissingCredentials(String),
    /// Username or password did not match.
    #[error("desk {0}: wrong username or password")]
    BadCredentials(String),
}

impl DeskDirectory {
    /// Adds or replaces a desk.
    pub fn insert(&mut self, comp_id: impl Into<String>, login: DeskLogin) {
        self.desks.insert(comp_id.into(), login);
    }

    /// The configured desk CompIDs, sorted.
    pub fn comp_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.desks.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Checks a Logon from `comp_id` carrying `username`/`password`.
    pub fn check(
        &self,
        comp_id: &str,
        username: Option<&str>,
        password: Option<&str>,
    ) -> Result<(), LogonRefusal> {
        let desk = self
            .desks
            .get(comp_id)
            .ok_or_else(|| LogonRefusal::UnknownDesk(comp_id.to_owned()))?;
        let Some(hash) = &desk.password else {
            return Ok(());
        };
        let (Some(user), Some(pass)) = (username, password) else {
            return Err(LogonRefusal::MissingCredentials(comp_id.to_owned()));
        };
        let expected_user = desk.username.as_deref().unwrap_or(comp_id);
        // Hash first, whatever the username, so timing says nothing about which was wrong.
        let pass_ok = hash.verify(pass);
        if user == expected_user && pass_ok {
            Ok(())
        } else {
            Err(LogonRefusal::BadCredentials(comp_id.to_owned()))
        }
    }
}

/// A desk request the acceptor decoded, for the gateway to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskRequest {
    /// A NewOrderSingle that passed every field rule.
    New(NewOrder),
    /// An OrderCancelRequest.
    Cancel(CancelRequest),
    /// An OrderStatusRequest.
    Status(StatusRequest),
}

/// Why the gateway would not take a request; the acceptor tells the desk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The gateway's inbound queue is full: back-pressure, try again.
    #[error("gateway busy: {0}")]
    Busy(String),
    /// The request is valid FIX but the gateway cannot take it (the text says why).
    #[error("{0}")]
    Invalid(String),
}

/// The gateway side of the desk acceptor.
pub trait DeskHandler: Send + Sync + 'static {
    /// A desk logged on.
    fn session_up(&self, _desk: &str) {}
    /// A desk logged out or disconnected.
    fn session_down(&self, _desk: &str) {}
    /// A decoded request from `desk`, received at `received`. `Err` is answered to
    /// the desk by the acceptor (a reject naming the reason); `Ok` means the gateway
    /// took it and will answer itself.
    fn request(&self, desk: &str, request: DeskRequest, received: Instant) -> Result<(), Refusal>;
}

/// Unique ExecIDs across every thread of one gateway run: `<prefix>-<n>`.
#[derive(Debug)]
pub struct ExecIds {
    prefix: String,
    next: AtomicU64,
}

impl ExecIds {
    /// A source whose ids start with `prefix` (make it unique per run, e.g. the start time).
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            next: AtomicU64::new(1),
        }
    }

    /// The next id.
    pub fn next_id(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.prefix)
    }
}

/// The desk acceptor's QuickFIX callbacks.
pub struct DeskApp<H> {
    directory: DeskDirectory,
    handler: H,
    exec_ids: std::sync::Arc<ExecIds>,
    outbox: std::sync::Arc<DeskOutbox>,
}

impl<H> std::fmt::Debug for DeskApp<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeskApp")
            .field("desks", &self.directory.comp_ids())
            .finish_non_exhaustive()
    }
}

impl<H: DeskHandler> DeskApp<H> {
    /// An application admitting `directory`'s desks and handing requests to `handler`.
    /// Its own answers (rejects) go out through `outbox`, never from QuickFIX's
    /// reading thread, so a desk blocked writing to us can never block our reading.
    pub fn new(
        directory: DeskDirectory,
        handler: H,
        exec_ids: std::sync::Arc<ExecIds>,
        outbox: std::sync::Arc<DeskOutbox>,
    ) -> Self {
        Self {
            directory,
            handler,
            exec_ids,
            outbox,
        }
    }

    fn reply(&self, msg: DeskMessage, session: &SessionId) {
        let desk = session.get_target_comp_id().unwrap_or_default();
        if let Err(e) = self.outbox.send(&desk, msg) {
            tracing::error!(session = %session.to_repr(), "could not answer the desk: {e}");
        }
    }

    fn reject_order(&self, order: &NewOrder, text: String, session: &SessionId) {
        let report = ExecReport {
            order_id: "NONE".into(),
            cl_ord_id: order.cl_ord_id.clone(),
            orig_cl_ord_id: None,
            exec_id: self.exec_ids.next_id(),
            exec_type: ExecType::Rejected,
            ord_status: OrdStatus::Rejected,
            account: order.account.clone(),
            symbol: order.symbol.clone(),
            side: order.side,
            order_qty: order.order_qty,
            cum_qty: Decimal::ZERO,
            leaves_qty: Decimal::ZERO,
            avg_px: Decimal::ZERO,
            transact_time: utc_now(),
            last_qty: None,
            last_px: None,
            last_mkt: None,
            // 0 = broker option, 99 = other.
            ord_rej_reason: Some(if text.starts_with("gateway busy") {
                0
            } else {
                99
            }),
            text: Some(text),
        };
        self.reply(DeskMessage::Exec(report), session);
    }

    /// A NewOrderSingle that broke a field rule: an ExecutionReport reject built
    /// from whatever could be read, or a BusinessMessageReject when even ClOrdID
    /// and Side are unusable.
    fn reject_unparsed(&self, msg: &Message, text: String, session: &SessionId) {
        let side = match msg.get_field(54).as_deref() {
            Some("1") => Some(Side::Buy),
            Some("2") => Some(Side::Sell),
            _ => None,
        };
        let cl_ord_id = msg.get_field(11).filter(|s| !s.is_empty());
        let (Some(side), Some(cl_ord_id)) = (side, cl_ord_id) else {
            self.business_reject(msg, "D", 0, text, session);
            return;
        };
        let order_qty = msg
            .get_field(38)
            .and_then(|q| q.parse::<Decimal>().ok())
            .unwrap_or(Decimal::ZERO);
        let order = NewOrder {
            cl_ord_id,
            account: msg.get_field(1),
            symbol: msg
                .get_field(55)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "N/A".into()),
            side,
            order_qty,
            ord_type: super::OrdType::Market,
            price: None,
            time_in_force: super::TimeInForce::Day,
            transact_time: String::new(),
            target_strategy: super::TargetStrategy::Sweep,
            duration_secs: None,
            max_clip: None,
            venues: None,
            max_slippage_bps: None,
        };
        self.reject_order(&order, text, session);
    }

    fn business_reject(
        &self,
        msg: &Message,
        msg_type: &str,
        reason: u32,
        text: String,
        session: &SessionId,
    ) {
        let reject = BusinessReject {
            ref_seq_num: msg
                .with_header(|h| h.get_field(34))
                .and_then(|s| s.parse().ok()),
            ref_msg_type: msg_type.to_owned(),
            ref_id: msg.get_field(11),
            reason,
            text,
        };
        self.reply(DeskMessage::BusinessReject(reject), session);
    }
}

impl<H: DeskHandler> ApplicationCallback for DeskApp<H> {
    fn on_logon(&self, session: &SessionId) {
        if let Some(desk) = session.get_target_comp_id() {
            tracing::info!(%desk, "desk logged on");
            self.handler.session_up(&desk);
        }
    }

    fn on_logout(&self, session: &SessionId) {
        if let Some(desk) = session.get_target_comp_id() {
            tracing::info!(%desk, "desk logged out");
            self.handler.session_down(&desk);
        }
    }

    fn on_msg_from_admin(
        &self,
        msg: &Message,
        session: &SessionId,
    ) -> Result<(), MsgFromAdminError> {
        if msg.with_header(|h| h.get_field(35)).as_deref() != Some("A") {
            return Ok(());
        }
        let desk = session.get_target_comp_id().unwrap_or_default();
        let user = msg.get_field(553);
        let pass = msg.get_field(554);
        match self
            .directory
            .check(&desk, user.as_deref(), pass.as_deref())
        {
            Ok(()) => Ok(()),
            Err(refusal) => {
                tracing::warn!("logon refused: {refusal}");
                Err(MsgFromAdminError::RejectLogon)
            }
        }
    }

    fn on_msg_from_app(&self, msg: &Message, session: &SessionId) -> Result<(), MsgFromAppError> {
        let received = Instant::now();
        let desk = session.get_target_comp_id().unwrap_or_default();
        let msg_type = msg.with_header(|h| h.get_field(35)).unwrap_or_default();
        match msg_type.as_str() {
            "D" => match parse_new_order(msg) {
                Ok(order) => {
                    if let Err(refusal) =
                        self.handler
                            .request(&desk, DeskRequest::New(order.clone()), received)
                    {
                        self.reject_order(&order, refusal.to_string(), session);
                    }
                }
                Err(e) => self.reject_unparsed(msg, e.to_string(), session),
            },
            "F" => match parse_cancel(msg) {
                Ok(cancel) => {
                    if let Err(refusal) =
                        self.handler
                            .request(&desk, DeskRequest::Cancel(cancel.clone()), received)
                    {
                        let reject = CancelReject {
                            order_id: cancel.order_id.clone().unwrap_or_else(|| "NONE".into()),
                            cl_ord_id: cancel.cl_ord_id,
                            orig_cl_ord_id: cancel.orig_cl_ord_id,
                            ord_status: OrdStatus::New,
                            reason: CxlRejReason::Other,
                            text: refusal.to_string(),
                            transact_time: utc_now(),
                        };
                        self.reply(DeskMessage::CancelReject(reject), session);
                    }
                }
                Err(e) => self.business_reject(msg, "F", 0, e.to_string(), session),
            },
            "H" => match parse_status(msg) {
                Ok(status) => {
                    if let Err(refusal) =
                        self.handler
                            .request(&desk, DeskRequest::Status(status), received)
                    {
                        self.business_reject(msg, "H", 4, refusal.to_string(), session);
                    }
                }
                Err(e) => self.business_reject(msg, "H", 0, e.to_string(), session),
            },
            other => self.business_reject(
                msg,
                other,
                3,
                format!("MsgType {other} is not supported on a desk session (send D, F or H)"),
                session,
            ),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> DeskDirectory {
        let mut d = DeskDirectory::default();
        d.insert("DESK1", DeskLogin::default());
        d.insert(
            "DESK2",
            DeskLogin {
                username: None,
                password: Some(PasswordHash::create("pw2", "salt").unwrap()),
            },
        );
        d
    }

    #[test]
    fn logons_are_checked_against_the_directory() {
        let d = directory();
        assert!(d.check("DESK1", None, None).is_ok());
        assert_eq!(
            d.check("DESK9", None, None),
            Err(LogonRefusal::UnknownDesk("DESK9".into()))
        );
        assert!(d.check("DESK2", Some("DESK2"), Some("pw2")).is_ok());
        assert_eq!(
            d.check("DESK2", None, None),
            Err(LogonRefusal::MissingCredentials("DESK2".into()))
        );
        assert_eq!(
            d.check("DESK2", Some("DESK2"), Some("nope")),
            Err(LogonRefusal::BadCredentials("DESK2".into()))
        );
        assert_eq!(
            d.check("DESK2", Some("other"), Some("pw2")),
            Err(LogonRefusal::BadCredentials("DESK2".into()))
        );
    }

    #[test]
    fn exec_ids_are_unique() {
        let ids = ExecIds::new("X");
        assert_eq!(ids.next_id(), "X-1");
        assert_eq!(ids.next_id(), "X-2");
    }
}
