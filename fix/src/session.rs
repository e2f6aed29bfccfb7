//! QuickFIX sessions: settings, the data dictionary, message stores, and a thread that
//! owns an acceptor or initiator for as long as the gateway runs.
//!
//! QuickFIX objects borrow their application, store and log factories and are not
//! `Send`, so each acceptor or initiator lives on its own host thread
//! ([`SessionHost`]): the thread builds everything from plain [`EndpointConfig`] data,
//! reports whether it started (a port in use is an error to the caller, not a log
//! line), and stops the sessions (Logout first) when asked.

use quickfix::{
    Acceptor, Application, ApplicationCallback, ConnectionHandler, Dictionary,
    FileMessageStoreFactory, FixSocketServerKind, Initiator, LogCallback, LogFactory,
    QuickFixError, SessionId, SessionSettings,
};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// The gateway's FIX 4.4 data dictionary (see `fix/spec/FIX44-sor.xml`).
pub const DICTIONARY_XML: &str = include_str!("../spec/FIX44-sor.xml");

/// File name of the dictionary inside a data directory.
pub const DICTIONARY_FILE: &str = "FIX44-sor.xml";

/// Why a FIX endpoint could not be set up or started.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The data directory or a file in it could not be written.
    #[error("FIX data directory {path}: {source}")]
    DataDir {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A path is not valid UTF-8 (QuickFIX takes C strings).
    #[error("FIX data directory {0}: path is not UTF-8")]
    NonUtf8Path(PathBuf),
    /// QuickFIX refused the settings or could not start (e.g. the port is in use).
    #[error("QuickFIX {what}: {source}")]
    QuickFix {
        /// What was being done.
        what: &'static str,
        /// QuickFIX's error.
        source: QuickFixError,
    },
    /// The host thread ended before it said whether it started.
    #[error("FIX session thread for {0} ended before starting")]
    ThreadGone(String),
}

fn qf(what: &'static str) -> impl FnOnce(QuickFixError) -> SessionError {
    move |source| SessionError::QuickFix { what, source }
}

/// Which end of the TCP connection this endpoint is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Listens on `port` (0.0.0.0 unless `bind` is set).
    Acceptor {
        /// TCP port.
        port: u16,
    },
    /// Connects to `host:port`, retrying every `reconnect_secs`.
    Initiator {
        /// Host to connect to.
        host: String,
        /// Port.
        port: u16,
        /// Seconds between connection attempts.
        reconnect_secs: u16,
    },
}

/// Plain description of one FIX endpoint (acceptor or initiator) and its sessions.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Name for logs and errors (e.g. `desk-acceptor`, `venue book-x`).
    pub name: String,
    /// Acceptor or initiator.
    pub role: Role,
    /// Our CompID (SenderCompID on what we send).
    pub sender: String,
    /// The counterparties' CompIDs: one session each.
    pub targets: Vec<String>,
    /// Directory for the data dictionary and the file message stores; created if
    /// missing. Sequence numbers persist here across restarts.
    pub data_dir: PathBuf,
    /// Heartbeat interval an initiator asks for (an acceptor takes the client's).
    pub heartbeat_secs: u16,
    /// One thread per session instead of one for all.
    pub threaded: bool,
    /// Whether QuickFIX keeps what it sends so it can resend it on the other side's
    /// ResendRequest. Every endpoint of the gateway keeps it on. Off, QuickFIX answers
    /// a ResendRequest with one gap fill up to its next sequence number, which also
    /// covers what it sent after the request arrived: a subscription or an order sent
    /// right after logon is then skipped by the other side and lost (seen with the
    /// exchange simulator after a restart). Sequence numbers persist either way.
    pub persist_messages: bool,
}

/// Writes the data dictionary into `data_dir` (creating it) and returns its path.
pub fn write_dictionary(data_dir: &Path) -> Result<PathBuf, SessionError> {
    let io = |source| SessionError::DataDir {
        path: data_dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let path = data_dir.join(DICTIONARY_FILE);
    let current = std::fs::read_to_string(&path).ok();
    if current.as_deref() != Some(DICTIONARY_XML) {
        std::fs::write(&path, DICTIONARY_XML).map_err(io)?;
    }
    Ok(path)
}

fn utf8(path: &Path) -> Result<&str, SessionError> {
    path.to_str()
        .ok_or_else(|| SessionError::NonUtf8Path(path.to_owned()))
}

/// Builds QuickFIX settings for `config`: FIX.4.4, our dictionary, file stores under
/// the data directory, sessions that never end by the clock (00:00:00–00:00:00).
pub fn settings(config: &EndpointConfig) -> Result<SessionSettings, SessionError> {
    let dict_path = write_dictionary(&config.data_dir)?;
    let store = config.data_dir.join("store");
    std::fs::create_dir_all(&store).map_err(|source| SessionError::DataDir {
        path: store.clone(),
        source,
    })?;
    let mut settings = SessionSettings::new();
    let mut defaults = Dictionary::new();
    let set = |d: &mut Dictionary, k: &str, v: &str| {
        d.set(k, v.to_owned()).map_err(qf("setting a default"))
    };
    match &config.role {
        Role::Acceptor { port } => {
            set(&mut defaults, "ConnectionType", "acceptor")?;
            set(&mut defaults, "SocketAcceptPort", &port.to_string())?;
            set(&mut defaults, "SocketReuseAddress", "Y")?;
        }
        Role::Initiator {
            host,
            port,
            reconnect_secs,
        } => {
            set(&mut defaults, "ConnectionType", "initiator")?;
            set(&mut defaults, "SocketConnectHost", host)?;
            set(&mut defaults, "SocketConnectPort", &port.to_string())?;
            set(
                &mut defaults,
                "ReconnectInterval",
                &reconnect_secs.to_string(),
            )?;
            set(
                &mut defaults,
                "HeartBtInt",
                &config.heartbeat_secs.to_string(),
            )?;
        }
    }
    set(&mut defaults, "SocketNodelay", "Y")?;
    set(&mut defaults, "StartTime", "00:00:00")?;
    set(&mut defaults, "EndTime", "00:00:00")?;
    set(&mut defaults, "UseDataDictionary", "Y")?;
    set(&mut defaults, "DataDictionary", utf8(&dict_path)?)?;
    set(&mut defaults, "FileStorePath", utf8(&store)?)?;
    // Be liberal in what desks may add (tags < 5000 that the dictionary does not
    // list), strict in what the contract defines.
    set(&mut defaults, "AllowUnknownMsgFields", "Y")?;
    set(&mut defaults, "ValidateUserDefinedFields", "N")?;
    set(&mut defaults, "ValidateFieldsOutOfOrder", "N")?;
    set(
        &mut defaults,
        "PersistMessages",
        if config.persist_messages { "Y" } else { "N" },
    )?;
    settings
        .set(None, defaults)
        .map_err(qf("applying defaults"))?;
    for target in &config.targets {
        let id = SessionId::try_new("FIX.4.4", &config.sender, target, "")
            .map_err(qf("naming a session"))?;
        settings
            .set(Some(&id), Dictionary::new())
            .map_err(qf("adding a session"))?;
    }
    Ok(settings)
}

/// Forwards QuickFIX's session log to `tracing`, with passwords (554) masked.
#[derive(Debug, Clone, Default)]
pub struct TracingLog {
    /// Name of the endpoint, for the log lines.
    pub endpoint: String,
}

/// Replaces the value of Password(554) in a raw FIX message with `***`.
pub fn redact(raw: &str) -> std::borrow::Cow<'_, str> {
    const SOH: char = '\u{1}';
    if !raw.contains("554=") {
        return raw.into();
    }
    let fields: Vec<&str> = raw
        .split(SOH)
        .map(|f| if f.starts_with("554=") { "554=***" } else { f })
        .collect();
    fields.join("\u{1}").into()
}

impl LogCallback for TracingLog {
    fn on_incoming(&self, session: Option<&SessionId>, msg: &str) {
        tracing::trace!(endpoint = %self.endpoint, session = ?session.map(SessionId::to_repr), "in  {}", redact(msg).replace('\u{1}', "|"));
    }

    fn on_outgoing(&self, session: Option<&SessionId>, msg: &str) {
        tracing::trace!(endpoint = %self.endpoint, session = ?session.map(SessionId::to_repr), "out {}", redact(msg).replace('\u{1}', "|"));
    }

    fn on_event(&self, session: Option<&SessionId>, msg: &str) {
        tracing::debug!(endpoint = %self.endpoint, session = ?session.map(SessionId::to_repr), "{msg}");
    }
}

/// A running acceptor or initiator on its own thread. Dropping it stops the sessions.
#[derive(Debug)]
pub struct SessionHost {
    name: String,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl SessionHost {
    /// Starts `config`'s endpoint with the application `make_app` builds (on the host
    /// thread) and returns once QuickFIX has started it, or with the reason it could not.
    pub fn start<A, F>(config: EndpointConfig, make_app: F) -> Result<Self, SessionError>
    where
        A: ApplicationCallback + 'static,
        F: FnOnce() -> A + Send + 'static,
    {
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), SessionError>>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let name = config.name.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fix {}", config.name))
            .spawn(move || host(config, make_app, ready_tx, stop_rx))
            .map_err(|source| SessionError::DataDir {
                path: PathBuf::from("<thread>"),
                source,
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Self {
                name,
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(SessionError::ThreadGone(name))
            }
        }
    }

    /// The endpoint's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Logs out every session and stops the endpoint, waiting for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for SessionHost {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn host<A, F>(
    config: EndpointConfig,
    make_app: F,
    ready: mpsc::Sender<Result<(), SessionError>>,
    stop: mpsc::Receiver<()>,
) where
    A: ApplicationCallback + 'static,
    F: FnOnce() -> A,
{
    let settings = match settings(&config) {
        Ok(s) => s,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let callbacks = make_app();
    let log = TracingLog {
        endpoint: config.name.clone(),
    };
    let kind = if config.threaded {
        FixSocketServerKind::MultiThreaded
    } else {
        FixSocketServerKind::SingleThreaded
    };
    let built = (|| {
        let app = Application::try_new(&callbacks).map_err(qf("creating the application"))?;
        let store =
            FileMessageStoreFactory::try_new(&settings).map_err(qf("opening the message store"))?;
        let logs = LogFactory::try_new(&log).map_err(qf("creating the log"))?;
        Ok::<_, SessionError>((app, store, logs))
    })();
    let (app, store, logs) = match built {
        Ok(parts) => parts,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    match &config.role {
        Role::Acceptor { .. } => {
            let endpoint = Acceptor::try_new(&settings, &app, &store, &logs, kind)
                .map_err(qf("creating the acceptor"));
            run(endpoint, ready, stop);
        }
        Role::Initiator { .. } => {
            let endpoint = Initiator::try_new(&settings, &app, &store, &logs, kind)
                .map_err(qf("creating the initiator"));
            run(endpoint, ready, stop);
        }
    }
}

fn run<H: ConnectionHandler>(
    endpoint: Result<H, SessionError>,
    ready: mpsc::Sender<Result<(), SessionError>>,
    stop: mpsc::Receiver<()>,
) {
    let mut endpoint = match endpoint {
        Ok(e) => e,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    if let Err(e) = endpoint.start() {
        let _ = ready.send(Err(SessionError::QuickFix {
            what: "starting",
            source: e,
        }));
        return;
    }
    let _ = ready.send(Ok(()));
    // Either an explicit stop or the owner going away ends the endpoint.
    let _ = stop.recv();
    if let Err(e) = endpoint.stop() {
        tracing::warn!("stopping FIX endpoint: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_log() {
        let raw = "8=FIX.4.4\u{1}35=A\u{1}553=DESK2\u{1}554=s3cret\u{1}10=000\u{1}";
        let shown = redact(raw);
        assert!(!shown.contains("s3cret"));
        assert!(shown.contains("554=***"));
        assert!(shown.contains("553=DESK2"));
        assert_eq!(redact("8=FIX.4.4\u{1}35=0\u{1}"), "8=FIX.4.4\u{1}35=0\u{1}");
    }

    #[test]
    fn the_dictionary_is_written_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("fix-dict-{}", std::process::id()));
        let path = write_dictionary(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), DICTIONARY_XML);
        assert_eq!(write_dictionary(&dir).unwrap(), path);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
