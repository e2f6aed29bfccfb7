//! The live risk layer of `sor serve`: the limits file behind a [`SharedGate`], its
//! audit log, the risk officer's admin API, and hot reload of the file.
//!
//! The engine and the admin server hold the same gate; a change made through either
//! path (an admin call, an edited file) is validated whole, written to the audit log,
//! then applied between two checks, never half-way through one. After each change the
//! engine thread is woken ([`Control::Wake`]) so a kill switch cancels its working
//! children at once. An edited file that does not validate changes nothing and logs
//! one line naming the field.

use super::ServeError;
use super::config::RiskSetup;
use super::core::Control;
use crate::admin::server::unix_nanos;
use crate::admin::{AdminServer, AdminState};
use crossbeam_channel::Sender;
use risk::{Actor, AuditLog, Gate, Limits, SharedGate, TokenStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// The live risk layer: its gate from the start, its admin API and file watcher once
/// [`RiskLive::start_services`] runs (after the journal is replayed, so no control can
/// land in the middle of a replay).
#[derive(Debug)]
pub struct RiskLive {
    gate: SharedGate,
    admin: Option<AdminServer>,
    stop: Arc<AtomicBool>,
    reloader: Option<JoinHandle<()>>,
    /// The limits file's modification time when it was loaded.
    loaded: Option<SystemTime>,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl RiskLive {
    /// Loads the limits and opens the audit log: the gate, without its services yet.
    pub fn open(setup: &RiskSetup) -> Result<Self, ServeError> {
        let cfg = |what: String| ServeError::Config(what);
        let loaded = modified(&setup.limits);
        let limits = Limits::load(&setup.limits)
            .map_err(|e| cfg(format!("{}: {e}", setup.limits.display())))?;
        let gate =
            Gate::new(limits).map_err(|e| cfg(format!("{}: {e}", setup.limits.display())))?;
        if let Some(dir) = setup.audit_log.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| cfg(format!("{}: {e}", dir.display())))?;
        }
        let audit = AuditLog::open(&setup.audit_log)
            .map_err(|e| cfg(format!("{}: {e}", setup.audit_log.display())))?;
        Ok(Self {
            gate: SharedGate::new(gate, audit),
            admin: None,
            stop: Arc::new(AtomicBool::new(false)),
            reloader: None,
            loaded,
        })
    }

    /// Starts the admin API (when a token file is configured) and the file watcher; a
    /// file changed since [`RiskLive::open`] loaded it is reloaded at the first check.
    pub fn start_services(
        &mut self,
        setup: &RiskSetup,
        runtime: &tokio::runtime::Runtime,
        wake: Sender<Control>,
    ) -> Result<(), ServeError> {
        let cfg = |what: String| ServeError::Config(what);
        let gate = self.gate.clone();
        let wake_engine = {
            let wake = wake.clone();
            move || {
                // A full control queue already holds a wake-up.
                let _ = wake.try_send(Control::Wake);
            }
        };
        if let Some(path) = &setup.admin_tokens {
            let text = std::fs::read_to_string(path)
                .map_err(|e| cfg(format!("{}: {e}", path.display())))?;
            let tokens = TokenStore::from_toml_str(&text)
                .map_err(|e| cfg(format!("{}: {e}", path.display())))?;
            let state = AdminState::new(gate.clone(), tokens).with_on_change(wake_engine.clone());
            let bind = std::net::SocketAddr::from(([127, 0, 0, 1], setup.admin_port));
            let server = AdminServer::start(bind, state, runtime.handle())
                .map_err(|e| cfg(format!("admin API on {bind}: {e}")))?;
            tracing::info!(addr = %server.addr(), "risk admin API listening");
            self.admin = Some(server);
        }
        let (stop, path, seen) = (self.stop.clone(), setup.limits.clone(), self.loaded);
        let every = Duration::from_millis(setup.reload_ms);
        let reloader = std::thread::Builder::new()
            .name("limits reload".into())
            .spawn(move || watch(&path, seen, &gate, &stop, every, wake_engine))
            .map_err(|source| ServeError::Thread {
                what: "limits reload".into(),
                source,
            })?;
        self.reloader = Some(reloader);
        Ok(())
    }

    /// The gate the engine checks against.
    pub fn gate(&self) -> SharedGate {
        self.gate.clone()
    }

    /// The admin API's address, when it runs.
    pub fn admin_addr(&self) -> Option<std::net::SocketAddr> {
        self.admin.as_ref().map(AdminServer::addr)
    }

    /// Stops the watcher and the admin API.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.reloader.take() {
            let _ = t.join();
        }
        if let Some(a) = self.admin.take() {
            a.shutdown();
        }
    }
}

/// Polls `path` every `every`; a changed file is loaded and, if valid, replaces the
/// limits (audited as `limits-file`); if not, the old limits stay and one line says why.
fn watch(
    path: &PathBuf,
    seen: Option<SystemTime>,
    gate: &SharedGate,
    stop: &AtomicBool,
    every: Duration,
    wake: impl Fn(),
) {
    let mut seen = seen;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(every);
        let now = modified(path);
        if now == seen {
            continue;
        }
        seen = now;
        let loaded = Limits::load(path).map_err(|e| e.to_string());
        let applied = loaded.and_then(|limits| {
            gate.replace_limits(
                &Actor {
                    who: risk::LIMITS_FILE,
                    reason: "limits file changed",
                    now: unix_nanos(),
                },
                limits,
            )
            .map_err(|e| e.to_string())
        });
        match applied {
            Ok(_) => {
                tracing::info!(file = %path.display(), "risk limits reloaded");
                wake();
            }
            Err(e) => tracing::error!(
                file = %path.display(),
                "risk limits NOT reloaded, the old limits stay in force: {e}"
            ),
        }
    }
}
