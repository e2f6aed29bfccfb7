//! A plain FIX 4.4 initiator for a desk: what the end-to-end tests, the benchmark and
//! a trader's shell use to talk to the gateway exactly as an outside client would.
//!
//! Everything the gateway sends arrives as [`FixFields`] (tag/value pairs, `Send`
//! unlike QuickFIX's own message type) on a channel, together with logon and logout
//! events, so a test can wait for "the next ExecutionReport" with a timeout.

use crate::session::{EndpointConfig, Role, SessionError, SessionHost};
use crossbeam_channel::{Receiver, Sender, unbounded};
use quickfix::{
    ApplicationCallback, FieldMap, Message, MsgFromAdminError, MsgFromAppError, QuickFixError,
    SessionId, send_to_target,
};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A received FIX message as tag/value pairs, in wire order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixFields {
    fields: Vec<(u32, String)>,
}

impl FixFields {
    /// Parses a raw SOH-delimited FIX message.
    pub fn parse(raw: &str) -> Self {
        let fields = raw
            .split('\u{1}')
            .filter_map(|f| {
                let (tag, value) = f.split_once('=')?;
                Some((tag.parse().ok()?, value.to_owned()))
            })
            .collect();
        Self { fields }
    }

    /// The first value of `tag`.
    pub fn get(&self, tag: u32) -> Option<&str> {
        self.fields
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v.as_str())
    }

    /// MsgType(35).
    pub fn msg_type(&self) -> &str {
        self.get(35).unwrap_or("")
    }
}

/// What the client saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// The session logged on.
    LoggedOn,
    /// The session logged out or was disconnected.
    LoggedOut,
    /// An application message (ExecutionReport, OrderCancelReject, BusinessMessageReject).
    App(FixFields),
    /// A session-level message other than heartbeats (Reject 35=3, Logout 35=5).
    Admin(FixFields),
}

/// How to reach the gateway.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Host of the gateway.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// Our CompID (the desk).
    pub desk: String,
    /// The gateway's CompID.
    pub gateway: String,
    /// Username(553)/Password(554) to send at Logon.
    pub credentials: Option<(String, String)>,
    /// Where the client's message store lives.
    pub data_dir: PathBuf,
    /// HeartBtInt to ask for.
    pub heartbeat_secs: u16,
}

struct ClientApp {
    events: Sender<ClientEvent>,
    credentials: Option<(String, String)>,
}

fn fields(msg: &Message) -> FixFields {
    FixFields::parse(&msg.to_fix_string().unwrap_or_default())
}

impl ApplicationCallback for ClientApp {
    fn on_logon(&self, _session: &SessionId) {
        let _ = self.events.send(ClientEvent::LoggedOn);
    }

    fn on_logout(&self, _session: &SessionId) {
        let _ = self.events.send(ClientEvent::LoggedOut);
    }

    fn on_msg_to_admin(&self, msg: &mut Message, _session: &SessionId) {
        if msg.with_header(|h| h.get_field(35)).as_deref() == Some("A")
            && let Some((user, pass)) = &self.credentials
        {
            let _ = msg.set_field(553, user.as_str());
            let _ = msg.set_field(554, pass.as_str());
        }
    }

    fn on_msg_from_admin(&self, msg: &Message, _: &SessionId) -> Result<(), MsgFromAdminError> {
        let f = fields(msg);
        if !matches!(f.msg_type(), "0" | "1" | "A") {
            let _ = self.events.send(ClientEvent::Admin(f));
        }
        Ok(())
    }

    fn on_msg_from_app(&self, msg: &Message, _: &SessionId) -> Result<(), MsgFromAppError> {
        let _ = self.events.send(ClientEvent::App(fields(msg)));
        Ok(())
    }
}

/// A connected (or connecting) desk client.
#[derive(Debug)]
pub struct DeskClient {
    host: SessionHost,
    events: Receiver<ClientEvent>,
    desk: String,
    gateway: String,
}

impl DeskClient {
    /// Starts the initiator; it connects and logs on in the background (see
    /// [`wait_logon`](Self::wait_logon)).
    pub fn start(config: ClientConfig) -> Result<Self, SessionError> {
        let (tx, rx) = unbounded();
        let endpoint = EndpointConfig {
            name: format!("client {}", config.desk),
            role: Role::Initiator {
                host: config.host.clone(),
                port: config.port,
                reconnect_secs: 1,
            },
            sender: config.desk.clone(),
            targets: vec![config.gateway.clone()],
            data_dir: config.data_dir.clone(),
            heartbeat_secs: config.heartbeat_secs,
            threaded: true,
            persist_messages: true,
        };
        let credentials = config.credentials.clone();
        let host = SessionHost::start(endpoint, move || ClientApp {
            events: tx,
            credentials,
        })?;
        Ok(Self {
            host,
            events: rx,
            desk: config.desk,
            gateway: config.gateway,
        })
    }

    /// Waits until the session is logged on; `false` if it was not within `timeout`.
    pub fn wait_logon(&self, timeout: Duration) -> bool {
        self.wait_for(timeout, |e| matches!(e, ClientEvent::LoggedOn))
            .is_some()
    }

    /// The next event matching `pred` within `timeout` (others are skipped).
    pub fn wait_for(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&ClientEvent) -> bool,
    ) -> Option<ClientEvent> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.events.recv_timeout(left) {
                Ok(e) if pred(&e) => return Some(e),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    /// The next application message matching `pred` within `timeout`.
    pub fn next_app(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&FixFields) -> bool,
    ) -> Option<FixFields> {
        match self.wait_for(timeout, |e| matches!(e, ClientEvent::App(f) if pred(f)))? {
            ClientEvent::App(f) => Some(f),
            _ => None,
        }
    }

    /// The raw event queue.
    pub fn events(&self) -> &Receiver<ClientEvent> {
        &self.events
    }

    /// Sends `msg` (header 8 and 35 set by the caller) on the session.
    pub fn send(&self, msg: Message) -> Result<(), QuickFixError> {
        let session = SessionId::try_new("FIX.4.4", &self.desk, &self.gateway, "")?;
        send_to_target(msg, &session)
    }

    /// Sends a message made of `msg_type` and the body `fields`, in order.
    pub fn send_fields(&self, msg_type: &str, fields: &[(i32, &str)]) -> Result<(), QuickFixError> {
        self.send_order_like(msg_type, fields, &[])
    }

    /// Sends a NewOrderSingle made of the body `fields` and the strategy parameters
    /// `params` (StrategyParametersGrp 957: name in 958, value in 960).
    pub fn send_order(
        &self,
        fields: &[(i32, &str)],
        params: &[(&str, &str)],
    ) -> Result<(), QuickFixError> {
        self.send_order_like("D", fields, params)
    }

    fn send_order_like(
        &self,
        msg_type: &str,
        fields: &[(i32, &str)],
        params: &[(&str, &str)],
    ) -> Result<(), QuickFixError> {
        let mut m = crate::new_message(msg_type)?;
        for (tag, value) in fields {
            m.set_field(*tag, *value)?;
        }
        for (name, value) in params {
            let mut g = quickfix::Group::try_new(957, 958)?;
            g.set_field(958, *name)?;
            g.set_field(960, *value)?;
            m.add_group(&g)?;
        }
        self.send(m)
    }

    /// Logs out and stops the initiator.
    pub fn stop(self) {
        self.host.stop();
    }
}
