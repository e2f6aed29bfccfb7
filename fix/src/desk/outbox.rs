//! The desk outbox: one writer thread per desk session, so nothing that reads FIX or
//! runs the engine ever waits on a desk's socket.
//!
//! QuickFIX writes synchronously and holds a session's lock while it writes. A desk
//! that pipelines orders and is itself blocked writing them does not read until we
//! read, so a reply written from our reading thread (a "gateway busy" reject) or from
//! the engine thread could block both sides for good. Every message to a desk therefore
//! goes through [`DeskOutbox::send`], which only enqueues plain data; the desk's own
//! writer thread builds the FIX message and hands it to QuickFIX. One writer per desk
//! keeps the desk's messages in the order they were enqueued, and a desk that stops
//! reading delays only itself.
//!
//! Each queue is bounded. A desk whose backlog reaches the bound has stopped reading
//! for a long time; the producer then waits for room (and says so once in the log)
//! rather than dropping a report.

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use hdrhistogram::Histogram;
use quickfix::{Message, QuickFixError, SessionId, send_to_target};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::ExecReport;
use super::requests::{BusinessReject, CancelReject};

/// Default bound of each desk's queue, in messages.
pub const DEFAULT_OUTBOX_CAPACITY: usize = 65_536;

/// A message for a desk, as plain data (QuickFIX messages cannot cross threads).
// Nearly every message is an ExecutionReport, so boxing it would only add an
// allocation to the common case.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskMessage {
    /// An ExecutionReport (35=8).
    Exec(ExecReport),
    /// An OrderCancelReject (35=9).
    CancelReject(CancelReject),
    /// A BusinessMessageReject (35=j).
    BusinessReject(BusinessReject),
}

impl DeskMessage {
    fn to_message(&self) -> Result<Message, QuickFixError> {
        match self {
            DeskMessage::Exec(er) => er.to_message(),
            DeskMessage::CancelReject(r) => r.to_message(),
            DeskMessage::BusinessReject(r) => r.to_message(),
        }
    }
}

/// Why a message could not be queued for a desk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboxError {
    /// The CompID is not a configured desk.
    #[error("no desk session {0} in the outbox")]
    UnknownDesk(String),
    /// The outbox was shut down.
    #[error("the outbox for desk {0} is closed")]
    Closed(String),
    /// A writer thread could not be started.
    #[error("could not start the writer for desk {desk}: {reason}")]
    Spawn {
        /// The desk.
        desk: String,
        /// The OS error.
        reason: String,
    },
}

/// A message for a desk and when it was queued.
struct Queued {
    at: Instant,
    msg: DeskMessage,
}

struct Writer {
    queue: Sender<Queued>,
    /// Messages queued and not yet handed to QuickFIX (queued plus the one in hand).
    pending: Arc<AtomicUsize>,
    thread: JoinHandle<WriterStats>,
}

/// What one desk's writer did over its life.
#[derive(Debug, Clone)]
pub struct WriterStats {
    /// Messages handed to QuickFIX.
    pub written: u64,
    /// Messages QuickFIX refused (could not build or no such session); each is logged.
    pub failed: u64,
    /// Nanoseconds from a message being queued to QuickFIX having built and written
    /// it: the writer's wake-up, the build and the socket write. One sample per
    /// message written.
    pub queued_to_written: Histogram<u64>,
}

impl Default for WriterStats {
    fn default() -> Self {
        Self {
            written: 0,
            failed: 0,
            queued_to_written: latency_histogram(),
        }
    }
}

/// A histogram of 1 ns to 1 h at 3 significant figures.
fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
        .expect("1 ns to 1 h at 3 significant figures is a valid histogram")
}

/// The writer threads of every configured desk.
pub struct DeskOutbox {
    writers: HashMap<String, Writer>,
}

impl std::fmt::Debug for DeskOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeskOutbox")
            .field("desks", &self.writers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl DeskOutbox {
    /// Starts one writer thread for each of `desks` on the sessions `FIX.4.4:<gateway>-><desk>`,
    /// each with a queue of `capacity` messages. An idle writer polls its queue for
    /// `spin` before it parks (zero: parks at once): spinning trades a core's time
    /// for the wake-up on the next report.
    pub fn start<'a>(
        gateway: &str,
        desks: impl IntoIterator<Item = &'a str>,
        capacity: usize,
        spin: Duration,
    ) -> Result<Self, OutboxError> {
        let mut writers = HashMap::new();
        for desk in desks {
            let (tx, rx) = bounded(capacity.max(1));
            let (gateway, name) = (gateway.to_owned(), desk.to_owned());
            let pending = Arc::new(AtomicUsize::new(0));
            let in_writer = pending.clone();
            let thread = std::thread::Builder::new()
                .name(format!("desk-out-{desk}"))
                .spawn(move || write_loop(&gateway, &name, &rx, &in_writer, spin))
                .map_err(|e| OutboxError::Spawn {
                    desk: desk.to_owned(),
                    reason: e.to_string(),
                })?;
            writers.insert(
                desk.to_owned(),
                Writer {
                    queue: tx,
                    pending,
                    thread,
                },
            );
        }
        Ok(Self { writers })
    }

    /// Queues `msg` for `desk`. Waits only when the desk's backlog is full.
    pub fn send(&self, desk: &str, msg: DeskMessage) -> Result<(), OutboxError> {
        let writer = self
            .writers
            .get(desk)
            .ok_or_else(|| OutboxError::UnknownDesk(desk.to_owned()))?;
        writer.pending.fetch_add(1, Ordering::AcqRel);
        let msg = Queued {
            at: Instant::now(),
            msg,
        };
        let queued = match writer.queue.try_send(msg) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(msg)) => {
                tracing::warn!(
                    %desk,
                    backlog = writer.queue.len(),
                    "desk is not reading its session: outbound backlog full, waiting for room"
                );
                writer
                    .queue
                    .send(msg)
                    .map_err(|_| OutboxError::Closed(desk.to_owned()))
            }
            Err(TrySendError::Disconnected(_)) => Err(OutboxError::Closed(desk.to_owned())),
        };
        if queued.is_err() {
            writer.pending.fetch_sub(1, Ordering::AcqRel);
        }
        queued
    }

    /// Waits until every message queued so far has been handed to QuickFIX, or until
    /// `timeout`; says whether everything went out. Used before the sessions log out.
    pub fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self
                .writers
                .values()
                .all(|w| w.pending.load(Ordering::Acquire) == 0)
            {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Messages waiting for `desk`'s writer.
    pub fn backlog(&self, desk: &str) -> usize {
        self.writers
            .get(desk)
            .map_or(0, |w| w.pending.load(Ordering::Acquire))
    }

    /// Writes everything queued, stops the writers and returns what each desk's
    /// writer did over its life.
    pub fn close(self) -> HashMap<String, WriterStats> {
        let mut written = HashMap::new();
        for (desk, writer) in self.writers {
            drop(writer.queue);
            match writer.thread.join() {
                Ok(n) => {
                    written.insert(desk, n);
                }
                Err(_) => tracing::error!(%desk, "desk writer thread panicked"),
            }
        }
        written
    }
}

/// The next message on `queue`: polled for up to `spin` when none is waiting, then
/// waited for; `None` once the queue is closed and empty.
fn next_message(queue: &Receiver<Queued>, spin: Duration) -> Option<Queued> {
    if let Ok(q) = queue.try_recv() {
        return Some(q);
    }
    if !spin.is_zero() {
        let until = Instant::now() + spin;
        while Instant::now() < until {
            match queue.try_recv() {
                Ok(q) => return Some(q),
                Err(crossbeam_channel::TryRecvError::Disconnected) => return None,
                Err(crossbeam_channel::TryRecvError::Empty) => std::hint::spin_loop(),
            }
        }
    }
    queue.recv().ok()
}

fn write_loop(
    gateway: &str,
    desk: &str,
    queue: &Receiver<Queued>,
    pending: &AtomicUsize,
    spin: Duration,
) -> WriterStats {
    let mut stats = WriterStats::default();
    let session = match SessionId::try_new("FIX.4.4", gateway, desk, "") {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(%desk, "desk writer has no session id: {e}");
            for _ in queue {
                stats.failed += 1;
                pending.fetch_sub(1, Ordering::AcqRel);
            }
            return stats;
        }
    };
    while let Some(Queued { at, msg }) = next_message(queue, spin) {
        // QuickFIX stores what it sends while the desk is away and resends it on the
        // desk's ResendRequest; an error here is a message it could not even build.
        match msg.to_message().and_then(|m| send_to_target(m, &session)) {
            Ok(()) => {
                stats.written += 1;
                let took = u64::try_from(at.elapsed().as_nanos()).unwrap_or(u64::MAX);
                stats.queued_to_written.saturating_record(took.max(1));
            }
            Err(e) => {
                stats.failed += 1;
                tracing::error!(%desk, "report not sent: {e}");
            }
        }
        pending.fetch_sub(1, Ordering::AcqRel);
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::CxlRejReason;
    use crate::desk::OrdStatus;

    fn reject(id: &str) -> DeskMessage {
        DeskMessage::CancelReject(CancelReject {
            order_id: "NONE".into(),
            cl_ord_id: id.into(),
            orig_cl_ord_id: "x".into(),
            ord_status: OrdStatus::New,
            reason: CxlRejReason::Other,
            text: "t".into(),
            transact_time: crate::utc_now(),
        })
    }

    #[test]
    fn an_unknown_desk_is_an_error_naming_it() {
        let outbox = DeskOutbox::start("SOR", ["DESK1"], 4, Duration::ZERO).unwrap();
        assert_eq!(
            outbox.send("DESK9", reject("a")),
            Err(OutboxError::UnknownDesk("DESK9".into()))
        );
        outbox.close();
    }

    #[test]
    fn close_writes_everything_queued_first() {
        close_writes_everything_queued_first_with(Duration::ZERO);
    }

    #[test]
    fn a_spinning_writer_also_writes_everything_queued_first() {
        close_writes_everything_queued_first_with(Duration::from_micros(500));
    }

    fn close_writes_everything_queued_first_with(spin: Duration) {
        // No session is registered with QuickFIX here, so every send fails after the
        // message is built: the writer still consumes each one, in order, before close
        // returns.
        let outbox = DeskOutbox::start("SOR", ["DESK1", "DESK2"], 16, spin).unwrap();
        for i in 0..10 {
            outbox.send("DESK1", reject(&format!("c{i}"))).unwrap();
        }
        assert!(
            outbox.flush(Duration::from_secs(10)),
            "flush waits for the writer"
        );
        assert_eq!(outbox.backlog("DESK1"), 0);
        let stats = outbox.close();
        let desk1 = stats.get("DESK1").cloned().unwrap_or_default();
        assert_eq!(
            desk1.written + desk1.failed,
            10,
            "every queued message was taken"
        );
        let desk2 = stats.get("DESK2").cloned().unwrap_or_default();
        assert_eq!((desk2.written, desk2.failed), (0, 0));
        assert_eq!(
            desk1.queued_to_written.len(),
            desk1.written,
            "one latency sample per message written"
        );
    }
}
