//! The gateway's engine thread: the one place that owns the engine, the venue links
//! and the desks' view of their orders.
//!
//! Three bounded queues feed it: desk requests (from the FIX acceptor's threads),
//! venue events (from the links' threads) and control (shutdown). It applies each to
//! the deterministic [`Engine`] with the wall clock's time and carries out the
//! commands: children go to their [`VenueLink`], timers into a bounded heap, desk
//! reports out as FIX ExecutionReports on the desk's session. A link that refuses a
//! child turns into a reject the engine re-routes, never a lost order.

use crate::clock::{Clock, SystemClock};
use crate::domain::{ChildId, ParentId};
use crate::engine::{Command, DeskEvent, DeskReport, Engine, Event, NewParent};
use crate::ingress;
use crate::serve::admission::ServiceTime;
use crate::serve::cpu_time::CpuMark;
use crate::serve::durable::{Durable, Entry, Recovery, Replayed};
use crossbeam_channel::Receiver;
use fix::desk::{
    CancelReject, CancelRequest, CxlRejReason, DeskMessage, DeskOutbox, ExecIds, ExecReport,
    ExecType, OrdStatus, StatusRequest,
};
use hdrhistogram::Histogram;
use risk::{PreTradeGate, SharedGate};
use rust_decimal::Decimal;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use venues::{Known, LinkEvent, Nanos, RejectKind, VenueId, VenueLink, VenueReport};

/// Most timers (TWAP slices, retries) pending at once.
const MAX_TIMERS: usize = 100_000;
/// Most events one input may cascade into (link refusals fed back, timers due now).
const MAX_CASCADE: usize = 10_000;
/// Longest a restarted gateway holds new work while its venues answer for the children
/// that were working at the crash.
const RECONCILE_WAIT: Duration = Duration::from_secs(10);
/// Most effects waiting for one journal commit; past it the batch is flushed early.
const MAX_EFFECTS: usize = 4096;
/// Most further inputs taken off the queues, when already waiting, into one batch
/// (one journal commit).
const MAX_BATCH: usize = 64;

/// A desk request, decoded and mapped, waiting for the engine thread.
#[derive(Debug)]
pub enum Inbound {
    /// A new parent.
    New {
        /// The parent, mapped from its NewOrderSingle.
        parent: NewParent,
        /// When it arrived.
        arrival: Arrival,
    },
    /// A cancel request.
    Cancel {
        /// The desk.
        desk: String,
        /// The request.
        request: CancelRequest,
    },
    /// A status request.
    Status {
        /// The desk.
        desk: String,
        /// The request.
        request: StatusRequest,
    },
}

/// When a desk's parent arrived, for the gateway's hop histograms.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    /// The acceptor had the NewOrderSingle from QuickFIX (before decoding it).
    pub received: Instant,
    /// The NewOrderSingle was decoded and mapped to a parent.
    pub decoded: Instant,
    /// The decoding thread's CPU time, read just before `decoded` when
    /// `[gateway] hop_cpu_time` is on.
    pub cpu: Option<CpuMark>,
}

/// A request to the engine thread from whoever runs the gateway.
#[derive(Debug, Clone, Copy)]
pub enum Control {
    /// The risk gate changed under the engine (admin API, limits file): apply it now.
    Wake,
    /// The desk acceptor is up: the status reports recovery prepared can go out.
    DesksReady,
    /// Stop: cancel open parents first when `cancel_open` is set, waiting at most `grace`.
    Shutdown {
        /// Cancel every open parent before stopping.
        cancel_open: bool,
        /// Longest wait for the cancels to be confirmed.
        grace: Duration,
    },
}

/// Latency at each hop the engine thread sees, in nanoseconds.
#[derive(Debug, Clone)]
pub struct Hops {
    /// Desk request received by the acceptor → taken off the queue by the engine.
    pub queue_wait: Histogram<u64>,
    /// One engine step (`Engine::handle`), routing and risk included.
    pub decision: Histogram<u64>,
    /// The engine step of a new parent: validation, the first route and its risk checks.
    pub new_parent_decision: Histogram<u64>,
    /// Handing one child to its venue link.
    pub venue_send: Histogram<u64>,
    /// Parent received by the acceptor → its first child handed to its venue link:
    /// the gateway's own processing (decode, queue, journal, route, risk).
    pub parent_to_first_child: Histogram<u64>,
    /// Parent decoded and mapped → its first child handed to its venue link: the same
    /// without the NewOrderSingle's decoding.
    pub decoded_to_first_child: Histogram<u64>,
    /// The CPU time of `decoded_to_first_child` when one thread ran the whole hop (a
    /// desk request run to completion) and `[gateway] hop_cpu_time` is on. Read just
    /// outside the hop's two instants, so it is at most about two clock reads above
    /// the CPU the hop itself took.
    pub decoded_to_first_child_cpu: Histogram<u64>,
    /// The same hops' wall time less their CPU time: what the thread spent off the CPU
    /// (waiting for a vCPU, a lock, a page). A lower bound, for the reason above.
    pub decoded_to_first_child_off_cpu: Histogram<u64>,
    /// Parent received by the acceptor → its venue link has sent the first child (for
    /// a FIX venue: QuickFIX has built, stored and written the NewOrderSingle).
    pub parent_to_first_child_sent: Histogram<u64>,
    /// Building and sending one ExecutionReport to a desk.
    pub desk_send: Histogram<u64>,
    /// Committing the journal before an input's effects leave the process.
    pub journal_commit: Histogram<u64>,
}

impl Hops {
    fn new() -> Self {
        let h = || {
            Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
                .expect("1 ns to 1 h at 3 significant figures is a valid histogram")
        };
        Self {
            queue_wait: h(),
            decision: h(),
            new_parent_decision: h(),
            venue_send: h(),
            parent_to_first_child: h(),
            decoded_to_first_child: h(),
            decoded_to_first_child_cpu: h(),
            decoded_to_first_child_off_cpu: h(),
            parent_to_first_child_sent: h(),
            desk_send: h(),
            journal_commit: h(),
        }
    }

    /// One line per hop: count, p50, p99, p99.9 and max in µs.
    pub fn summary(&self) -> String {
        let line = hop_line;
        [
            line("queue wait", &self.queue_wait),
            line("engine decision", &self.decision),
            line("new parent decision", &self.new_parent_decision),
            line("venue send", &self.venue_send),
            line("parent → first child", &self.parent_to_first_child),
            line("decoded → first child", &self.decoded_to_first_child),
            line("  of it on CPU", &self.decoded_to_first_child_cpu),
            line("  of it off CPU", &self.decoded_to_first_child_off_cpu),
            line("parent → child sent", &self.parent_to_first_child_sent),
            line("desk report send", &self.desk_send),
            line("journal commit", &self.journal_commit),
        ]
        .join("\n")
    }
}

/// One hop's line of a summary: `name`, count, p50, p99, p99.9 and max of `h` (ns) in µs.
pub(crate) fn hop_line(name: &str, h: &Histogram<u64>) -> String {
    format!(
        "{name:<22} n={:<8} p50={:>9.1}µs p99={:>9.1}µs p99.9={:>9.1}µs max={:>9.1}µs",
        h.len(),
        h.value_at_quantile(0.5) as f64 / 1e3,
        h.value_at_quantile(0.99) as f64 / 1e3,
        h.value_at_quantile(0.999) as f64 / 1e3,
        h.max() as f64 / 1e3
    )
}

/// One of the [`Hops`].
#[derive(Debug, Clone, Copy)]
enum Hop {
    QueueWait,
    Decision,
    NewParentDecision,
    JournalCommit,
    ParentToFirstChild,
    DecodedToFirstChild,
    DecodedToFirstChildCpu,
    DecodedToFirstChildOffCpu,
    VenueSend,
    ParentToFirstChildSent,
    DeskSend,
}

impl Hops {
    fn histogram(&mut self, hop: Hop) -> &mut Histogram<u64> {
        match hop {
            Hop::QueueWait => &mut self.queue_wait,
            Hop::Decision => &mut self.decision,
            Hop::NewParentDecision => &mut self.new_parent_decision,
            Hop::JournalCommit => &mut self.journal_commit,
            Hop::ParentToFirstChild => &mut self.parent_to_first_child,
            Hop::DecodedToFirstChild => &mut self.decoded_to_first_child,
            Hop::DecodedToFirstChildCpu => &mut self.decoded_to_first_child_cpu,
            Hop::DecodedToFirstChildOffCpu => &mut self.decoded_to_first_child_off_cpu,
            Hop::VenueSend => &mut self.venue_send,
            Hop::ParentToFirstChildSent => &mut self.parent_to_first_child_sent,
            Hop::DeskSend => &mut self.desk_send,
        }
    }
}

/// Most hop samples kept before they are written into their histograms.
const MAX_SAMPLES: usize = 4096;

/// Hop times taken during a step, written into the histograms once the step's
/// messages are out: a histogram's write touches a large table (cache misses of its
/// own) and has no business on the path it measures.
#[derive(Debug, Default)]
struct Samples(Vec<(Hop, u64)>);

impl Samples {
    /// The time from `from` to `to` at `hop`.
    fn between(&mut self, hop: Hop, from: Instant, to: Instant) {
        self.record(hop, to.saturating_duration_since(from));
    }

    /// `ns` nanoseconds at `hop`.
    fn record(&mut self, hop: Hop, ns: Duration) {
        let ns = u64::try_from(ns.as_nanos()).unwrap_or(u64::MAX);
        self.0.push((hop, ns.max(1)));
    }

    /// The time from `since` until now at `hop`.
    fn since(&mut self, hop: Hop, since: Instant) {
        self.between(hop, since, Instant::now());
    }

    /// Whether the buffer is at its bound.
    fn full(&self) -> bool {
        self.0.len() >= MAX_SAMPLES
    }

    fn write_into(&mut self, hops: &mut Hops) {
        for (hop, ns) in self.0.drain(..) {
            let _ = hops.histogram(hop).record(ns);
        }
    }
}

/// What the engine thread hands back when it stops.
#[derive(Debug)]
pub struct CoreSummary {
    /// Parents still open when it stopped (left working, or not confirmed in time).
    pub open_parents: Vec<String>,
    /// Parents it cancelled on the way out.
    pub cancelled_on_shutdown: usize,
    /// Latency per hop.
    pub hops: Hops,
    /// The fatal error that stopped it, if any.
    pub fatal: Option<String>,
    /// Parents refused as busy for waiting longer than `max_queue_wait_ms` in the queue.
    pub expired_in_queue: u64,
    /// Inputs handled on the session thread they arrived on (run to completion).
    pub inline: InlineCounts,
}

/// How many inputs the session threads handled themselves, by source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InlineCounts {
    /// Desk requests handled on their desk session's thread.
    pub desk_requests: u64,
    /// Venue events handled on their FIX venue session's thread.
    pub venue_events: u64,
}

impl CoreSummary {
    /// The summary of an engine thread that never ran.
    pub fn failed(why: &str) -> Self {
        Self {
            open_parents: Vec::new(),
            cancelled_on_shutdown: 0,
            hops: Hops::new(),
            fatal: Some(why.to_owned()),
            expired_in_queue: 0,
            inline: InlineCounts::default(),
        }
    }
}

#[derive(Debug)]
struct Timer {
    at: Nanos,
    seq: u64,
    event: Event,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Timer {}
impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timer {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Something the engine thread owes the outside world once the journal is committed.
enum Effect {
    /// What the engine asked for.
    Engine(Command),
    /// A parent refused before the engine saw it (too long in the queue).
    Refuse {
        /// The desk.
        desk: String,
        /// The reject.
        report: Box<ExecReport>,
    },
}

impl Effect {
    /// A child or a cancel for a venue (sent before desk reports of the same batch).
    fn is_venue(&self) -> bool {
        matches!(
            self,
            Effect::Engine(Command::Send { .. } | Command::Cancel { .. })
        )
    }
}

/// The engine thread's state.
pub struct Core<G> {
    engine: Engine<G>,
    clock: SystemClock,
    links: HashMap<VenueId, Box<dyn VenueLink>>,
    outbox: Arc<DeskOutbox>,
    by_client: HashMap<(String, String), ParentId>,
    pending_cancel: HashMap<ParentId, CancelRequest>,
    timers: BinaryHeap<Reverse<Timer>>,
    timer_seq: u64,
    exec_ids: Arc<ExecIds>,
    hops: Hops,
    /// Hop times of the current step, not yet in `hops`.
    samples: Samples,
    out: Vec<Command>,
    trade_prints: u64,
    durable: Option<Durable>,
    /// Children asked for at their venues after a restart, not yet settled.
    reconciling: std::collections::HashSet<ChildId>,
    /// Until when new desk requests and timers wait for `reconciling`.
    reconcile_until: Option<Instant>,
    /// What applied inputs asked of the outside world, waiting for the journal commit;
    /// a Send carries when its parent arrived (for the hop histogram).
    effects: Vec<(Effect, Option<Arrival>)>,
    /// The parents open after a restart, whose desks get a status report once the desk
    /// acceptor is up (built then, from the state at that moment).
    recovered_status: Vec<ParentId>,
    /// How long the engine thread polls its queues before it parks (see [`Core::with_spin`]).
    spin: Duration,
    /// The average time per input, told to the desk acceptor's admission.
    service: Option<Arc<ServiceTime>>,
    /// When the first input of the current batch was taken, and how many were.
    batch: Option<(Instant, u64)>,
    /// A parent that waited longer than this in the inbound queue is refused as busy.
    max_queue_wait: Option<Duration>,
    /// Parents refused for that.
    expired_in_queue: u64,
    /// Inputs handled inline so far.
    inline: InlineCounts,
    /// The live risk gate, whose controls are journaled between inputs and replayed.
    controls: Option<SharedGate>,
    /// The latest liquidity per venue and side not yet handed to the engine (bounded by
    /// the venues × 2).
    pending_liquidity: std::collections::BTreeMap<(VenueId, venues::Side), venues::Liquidity>,
    /// New snapshots arrived since the route books were last built ahead.
    prepare_books: bool,
    /// Stopping: until when open parents are waited for.
    stopping: Option<Instant>,
    /// Parents cancelled by the shutdown.
    cancelled_on_shutdown: usize,
    /// The error that stopped the engine.
    fatal: Option<String>,
}

impl<G: PreTradeGate> Core<G> {
    /// A core around `engine`, sending children through `links`.
    pub fn new(
        engine: Engine<G>,
        clock: SystemClock,
        links: Vec<Box<dyn VenueLink>>,
        outbox: Arc<DeskOutbox>,
        exec_ids: Arc<ExecIds>,
        durable: Option<Durable>,
    ) -> Self {
        Self {
            engine,
            clock,
            links: links.into_iter().map(|l| (l.id().clone(), l)).collect(),
            outbox,
            by_client: HashMap::new(),
            pending_cancel: HashMap::new(),
            timers: BinaryHeap::new(),
            timer_seq: 0,
            exec_ids,
            hops: Hops::new(),
            samples: Samples::default(),
            out: Vec::new(),
            trade_prints: 0,
            durable,
            reconciling: std::collections::HashSet::new(),
            reconcile_until: None,
            effects: Vec::new(),
            recovered_status: Vec::new(),
            spin: Duration::ZERO,
            service: None,
            batch: None,
            max_queue_wait: None,
            expired_in_queue: 0,
            inline: InlineCounts::default(),
            controls: None,
            pending_liquidity: std::collections::BTreeMap::new(),
            prepare_books: false,
            stopping: None,
            cancelled_on_shutdown: 0,
            fatal: None,
        }
    }

    /// Journals the live gate's controls in order with the inputs (each lands between
    /// two inputs: the engine pins the gate while it handles one) and replays them on
    /// recovery, so kill switches, stages and limits come back as they were.
    pub fn with_controls(mut self, gate: SharedGate) -> Self {
        if self.durable.is_some() {
            gate.record_controls();
        }
        self.controls = Some(gate);
        self
    }

    /// Refuses, as busy, a parent that waited longer than `max` in the inbound queue
    /// by the time the engine takes it (what the acceptor's admission let through
    /// before the queue grew slow).
    pub fn with_max_queue_wait(mut self, max: Duration) -> Self {
        self.max_queue_wait = Some(max);
        self
    }

    /// Keeps `service` up to date with the engine's time per input (journal commit
    /// included), for the acceptor's time-bounded admission.
    pub fn with_service_time(mut self, service: Arc<ServiceTime>) -> Self {
        self.service = Some(service);
        self
    }

    /// Starts timing the current batch at its first input, and counts desk requests:
    /// the batch's whole time (venue reports and the journal commit included) is put
    /// on the desk requests in it, the best predictor of what one more queued request
    /// will cost. Batches without a desk request are not sampled.
    fn count_input(&mut self, desk_request: bool) {
        let (_, n) = self.batch.get_or_insert_with(|| (Instant::now(), 0));
        if desk_request {
            *n += 1;
        }
    }

    /// Makes the engine thread poll its queues for up to `spin` after each batch before
    /// it parks: an input arriving meanwhile is taken without the wake-up of a parked
    /// thread (tens of µs on a virtual machine), at the cost of that much CPU per batch.
    pub fn with_spin(mut self, spin: Duration) -> Self {
        self.spin = spin;
        self
    }

    /// Whether new work waits: after a restart nothing new is sent until every child
    /// that was working has been settled with its venue (or `RECONCILE_WAIT` passed).
    fn reconcile_gate(&mut self) -> bool {
        let Some(until) = self.reconcile_until else {
            return false;
        };
        let children = self.engine.children();
        self.reconciling
            .retain(|c| children.get(c).is_some_and(|c| !c.status().is_terminal()));
        if self.reconciling.is_empty() {
            tracing::info!("reconciliation done: taking new requests");
            self.reconcile_until = None;
            return false;
        }
        if Instant::now() >= until {
            tracing::error!(
                children = ?self.reconciling,
                "reconciliation not answered in time: taking new requests; check these children at their venues"
            );
            self.reconciling.clear();
            self.reconcile_until = None;
            return false;
        }
        true
    }

    /// Replays the journal's `recovery` into the engine (which must be fresh), before
    /// any new input: the parents, children, risk usage and pending timers come back as
    /// they were. Nothing is sent while replaying; afterwards every open parent's desk
    /// is sent its true state (an unsolicited status report), and each child that was
    /// still working is asked for at its venue. Returns how many events were replayed.
    pub fn recover(&mut self, recovery: &Recovery) -> Result<u64, String> {
        // What the limits file says now; replay puts back what was in force.
        let file_limits = self.controls.as_ref().map(SharedGate::limits);
        // The limits the journal last took from the file (at its start or on reload).
        let mut last_from_file = None;
        let mut n = 0u64;
        for input in &recovery.inputs {
            match input {
                Replayed::Event(at, event) => {
                    self.replay(*at, event.clone())?;
                    n += 1;
                }
                Replayed::Control(recorded) => match &self.controls {
                    Some(gate) => {
                        // A control that no longer applies (a journal written under other
                        // validation rules, say) leaves the gate as it is: said, not fatal.
                        if let Err(e) = gate.replay(recorded) {
                            tracing::error!(
                                who = %recorded.who,
                                reason = %recorded.reason,
                                "journal replay: a risk control did not apply again: {e}"
                            );
                        }
                        if let Some(l) = recorded.file_limits() {
                            last_from_file = Some(l.clone());
                        }
                    }
                    None => tracing::warn!(
                        who = %recorded.who,
                        "journal holds a risk control but the gateway runs without live risk: skipped"
                    ),
                },
            }
        }
        self.settle_limits(recovery, file_limits, last_from_file)?;
        if n == 0 {
            return Ok(0);
        }
        let now = self.clock.now();
        if let Some(d) = &mut self.durable {
            d.mark(&Entry::Restart {
                at: now,
                replayed: n,
            })
            .map_err(|e| e.to_string())?;
        }
        for id in self.open_parent_ids() {
            tracing::info!(parent = %id, "recovered open parent: its desk will be told its state");
            self.recovered_status.push(id);
        }
        let working: Vec<(VenueId, ChildId, Known)> = self
            .engine
            .children()
            .values()
            .filter(|c| !c.status().is_terminal())
            .map(|c| {
                let known = Known {
                    filled: c.filled(),
                    gross: c.gross_amount(),
                    fixed_cost: c.fixed_cost(),
                };
                (c.venue.clone(), c.id.clone(), known)
            })
            .collect();
        for (venue, child, known) in working {
            match self.links.get(&venue).map(|l| l.reconcile(&child.0, known)) {
                Some(Ok(())) => {
                    tracing::info!(%venue, %child, "child working at the crash: asked its venue");
                    self.reconciling.insert(child);
                }
                Some(Err(e)) => tracing::error!(
                    %venue, %child,
                    "child working at the crash cannot be reconciled automatically ({e}): check the venue"
                ),
                None => {
                    tracing::error!(%venue, %child, "child working at the crash: venue has no link")
                }
            }
        }
        if !self.reconciling.is_empty() {
            self.reconcile_until = Some(Instant::now() + RECONCILE_WAIT);
        }
        tracing::info!(
            events = n,
            open_parents = self.recovered_status.len(),
            reconciling = self.reconciling.len(),
            "journal replayed"
        );
        Ok(n)
    }

    /// Applies one journaled event at its recorded time, with no effect outside the
    /// engine: only timers and the desk bookkeeping are kept.
    /// After replay: a new journal starts from the limits in force (so a later replay
    /// does not depend on the file at that time). A restarted one keeps what was in
    /// force before (admin changes included), unless the limits file itself changed
    /// while the gateway was down: then the file's limits apply as a control like any
    /// other (audited, journaled). Kill switches and stages stay as replayed.
    fn settle_limits(
        &mut self,
        recovery: &Recovery,
        file_limits: Option<risk::Limits>,
        last_from_file: Option<risk::Limits>,
    ) -> Result<(), String> {
        let (Some(gate), Some(file_limits)) = (&self.controls, file_limits) else {
            return Ok(());
        };
        let now = u64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        )
        .unwrap_or(u64::MAX);
        let started_here = !recovery
            .inputs
            .iter()
            .any(|i| matches!(i, Replayed::Control(_)));
        if started_here {
            if let Some(d) = &mut self.durable {
                d.mark(&Entry::Control {
                    recorded: gate.baseline(now),
                })
                .map_err(|e| e.to_string())?;
            }
            return Ok(());
        }
        if last_from_file.as_ref() != Some(&file_limits) {
            let by = risk::Actor {
                who: risk::LIMITS_FILE,
                reason: "limits file changed while the gateway was down",
                now,
            };
            match gate.replace_limits(&by, file_limits) {
                Ok(_) => tracing::warn!("limits file changed while the gateway was down: applied"),
                Err(e) => tracing::error!(
                    "limits file changed while the gateway was down and was not applied: {e}"
                ),
            }
        }
        Ok(())
    }

    fn replay(&mut self, at: Nanos, event: Event) -> Result<(), String> {
        if matches!(event, Event::SliceDue { .. } | Event::RetryRound { .. }) {
            self.forget_timer(&event);
        }
        let mut out = std::mem::take(&mut self.out);
        if let Err(crate::engine::EngineError::Invariant(msg)) =
            self.engine.handle(at, event, &mut out)
        {
            return Err(format!("replay: invariant broken: {msg}"));
        }
        for cmd in out.drain(..) {
            match cmd {
                Command::Schedule { at, event } => self.push_timer(at, event)?,
                Command::Desk(report) => {
                    if let Some(rec) = self.engine.parents().get(&report.parent)
                        && matches!(report.event, DeskEvent::Ack | DeskEvent::Rejected { .. })
                    {
                        self.by_client
                            .entry((rec.order.desk.clone(), report.client_id.clone()))
                            .or_insert_with(|| report.parent.clone());
                    }
                }
                Command::Send { .. } | Command::Cancel { .. } => {}
            }
        }
        self.out = out;
        Ok(())
    }

    /// Drops the pending timer that carried `event` (it fired before the crash).
    fn forget_timer(&mut self, event: &Event) {
        let mut timers = std::mem::take(&mut self.timers).into_vec();
        if let Some(i) = timers.iter().position(|Reverse(t)| &t.event == event) {
            timers.swap_remove(i);
        }
        self.timers = timers.into_iter().collect();
    }

    fn push_timer(&mut self, at: Nanos, event: Event) -> Result<(), String> {
        if self.timers.len() >= MAX_TIMERS {
            return Err(format!("more than {MAX_TIMERS} timers pending"));
        }
        self.timer_seq += 1;
        self.timers.push(Reverse(Timer {
            at,
            seq: self.timer_seq,
            event,
        }));
        Ok(())
    }

    /// How long the engine thread may wait for its next input (the next timer, the
    /// group commit's deadline, a reconciliation check), and whether new desk requests
    /// are held for reconciliation meanwhile.
    pub(super) fn before_wait(&mut self) -> (Duration, bool) {
        let mut wait = self.next_timer_in().unwrap_or(Duration::from_millis(100));
        if let Some(d) = &self.durable
            && let Some(due) = d.commit_in(Instant::now())
        {
            wait = wait.min(due);
        }
        let gated = self.reconcile_gate();
        if gated {
            wait = wait.min(Duration::from_millis(50));
        }
        (wait, gated)
    }

    /// How long the engine thread polls its queues before it parks.
    pub(super) fn spin(&self) -> Duration {
        self.spin
    }

    /// Applies one control.
    pub(super) fn on_control(&mut self, control: Control) -> Result<(), String> {
        match control {
            Control::Wake => self.apply(Event::RiskChanged, None),
            Control::DesksReady => self.tell_recovered_status(),
            Control::Shutdown { cancel_open, grace } => {
                self.stopping = Some(Instant::now() + grace);
                if cancel_open {
                    self.cancelled_on_shutdown = self.cancel_all()?;
                }
                Ok(())
            }
        }
    }

    /// Whoever runs the gateway is gone: stop as soon as this step is done.
    pub(super) fn stop_now(&mut self) {
        self.stopping.get_or_insert_with(Instant::now);
    }

    /// Ends a step of the engine thread after its input: under group commit whatever
    /// else is already queued joins it (one journal commit for all), then timers due
    /// fire, the journal is committed and every effect goes out.
    pub(super) fn end_step(
        &mut self,
        step: Result<(), String>,
        desk_rx: &Receiver<Inbound>,
        link_rx: &Receiver<LinkEvent>,
        gated: bool,
    ) {
        // Otherwise nothing is gained by waiting: this input's effects go out at once.
        let batching = self.durable.as_ref().is_some_and(Durable::groups_commits);
        let step = step
            .and_then(|()| {
                if batching {
                    self.take_ready(desk_rx, link_rx, gated)
                } else {
                    Ok(())
                }
            })
            .and_then(|()| if gated { Ok(()) } else { self.fire_timers() })
            .and_then(|()| self.flush())
            .and_then(|()| match &mut self.durable {
                Some(d) => d.commit_if_due(Instant::now()).map_err(|e| e.to_string()),
                None => Ok(()),
            });
        self.end_batch(step);
    }

    /// Whether a desk request can be handled at once on the calling thread: the engine
    /// is running, not stopping and not holding new work for reconciliation, and the
    /// journal does not group commits. Under group commit the engine thread's batches
    /// share one `fdatasync` among many inputs; a desk thread committing its one
    /// request alone would cost that request a sync of its own, under the lock.
    pub(super) fn takes_inline(&self) -> bool {
        self.fatal.is_none()
            && self.stopping.is_none()
            && self.reconcile_until.is_none()
            && !self.durable.as_ref().is_some_and(Durable::groups_commits)
    }

    /// Counts an input handled on a session's thread: a venue event, or a desk request.
    pub(super) fn count_inline(&mut self, venue: bool) {
        if venue {
            self.inline.venue_events += 1;
        } else {
            self.inline.desk_requests += 1;
        }
    }

    /// Handles one input start to finish on the calling thread (a desk or venue
    /// session's, see [`super::shared::SharedCore`]): `input` (a call to
    /// [`Core::on_desk`] or [`Core::on_link`]), the timers due, the journal commit and
    /// every effect, then the end of the batch ([`Core::end_batch`]). Returns whether
    /// the engine thread must look again (a timer now due earlier than it waits for,
    /// or a fatal error).
    pub(super) fn run_inline(
        &mut self,
        input: impl FnOnce(&mut Self) -> Result<(), String>,
    ) -> bool {
        let earliest = |core: &Self| core.timers.peek().map(|Reverse(t)| t.at);
        let before = earliest(self);
        let step = input(self)
            .and_then(|()| self.fire_timers())
            .and_then(|()| self.flush())
            .and_then(|()| match &mut self.durable {
                Some(d) => d.commit().map_err(|e| e.to_string()),
                None => Ok(()),
            });
        self.end_batch(step);
        let after = earliest(self);
        self.fatal.is_some() || after.is_some_and(|a| before.is_none_or(|b| a < b))
    }

    /// Ends a batch, on whichever thread ran it: builds the route books new snapshots
    /// make stale and drops those the batch replaced (both off the next parent's
    /// path), tells the admission the batch's time, and keeps a step's fatal error.
    fn end_batch(&mut self, step: Result<(), String>) {
        if std::mem::take(&mut self.prepare_books) {
            self.engine.prepare(&self.pending_liquidity);
        }
        self.engine.release_retired();
        self.samples.write_into(&mut self.hops);
        if let Some((started, inputs)) = self.batch.take()
            && let Some(service) = &self.service
        {
            service.record(started.elapsed(), inputs);
        }
        if let Err(e) = step {
            tracing::error!("engine stopped: {e}");
            self.fatal.get_or_insert(e);
        }
    }

    /// The engine, for the serve module's tests.
    #[cfg(test)]
    pub(super) fn engine(&self) -> &Engine<G> {
        &self.engine
    }

    /// Whether the engine is done: a fatal error, or stopping with every parent ended
    /// (or the grace period over).
    pub(super) fn finished(&self) -> bool {
        self.fatal.is_some()
            || self.stopping.is_some_and(|deadline| {
                self.open_parents().is_empty() || Instant::now() >= deadline
            })
    }

    /// Answers a desk request still queued when the engine stops, so none goes
    /// unanswered (see [`Core::stop_answer`]); a status request is answered from the
    /// final state.
    pub(super) fn answer_at_stop(&mut self, inbound: Inbound) {
        match self.stop_answer(&inbound) {
            Some((desk, msg)) => self.send(&desk, msg),
            None => {
                if let Err(e) = self.on_desk(inbound) {
                    tracing::error!("status request at shutdown: {e}");
                }
            }
        }
    }

    /// What a desk request still queued at the stop is answered: a new parent is
    /// refused (nothing was done), a cancel is refused (the shutdown policy has already
    /// dealt with open parents). `None` for a status request, answered as usual.
    pub(super) fn stop_answer(&mut self, inbound: &Inbound) -> Option<(String, DeskMessage)> {
        const STOPPING: &str = "the gateway is shutting down; nothing was done";
        match inbound {
            Inbound::New { parent, .. } => {
                let report = ingress::busy_reject(
                    parent,
                    STOPPING.into(),
                    self.exec_ids.next_id(),
                    fix::utc_now(),
                );
                Some((parent.desk.clone(), DeskMessage::Exec(report)))
            }
            Inbound::Cancel { desk, request } => {
                let parent = self
                    .by_client
                    .get(&(desk.clone(), request.orig_cl_ord_id.clone()))
                    .cloned();
                let (order_id, ord_status) = match parent {
                    Some(p) => {
                        let status = self.ord_status_of(&p);
                        (p.0, status)
                    }
                    None => ("NONE".into(), OrdStatus::Rejected),
                };
                let reject = cancel_reject_for(
                    order_id,
                    request,
                    ord_status,
                    CxlRejReason::Other,
                    STOPPING.into(),
                );
                Some((desk.clone(), DeskMessage::CancelReject(reject)))
            }
            Inbound::Status { .. } => None,
        }
    }

    /// What the engine hands back when it stops.
    pub(super) fn summary(mut self) -> CoreSummary {
        self.samples.write_into(&mut self.hops);
        CoreSummary {
            open_parents: self.open_parents(),
            cancelled_on_shutdown: self.cancelled_on_shutdown,
            hops: self.hops,
            fatal: self.fatal,
            expired_in_queue: self.expired_in_queue,
            inline: self.inline,
        }
    }

    /// Tells each desk where its parents open at the restart stand, as of now: after
    /// every report already owed (reconciliation may have filled a parent meanwhile),
    /// so a status never says less than a report sent before it.
    fn tell_recovered_status(&mut self) -> Result<(), String> {
        self.flush()?;
        for id in std::mem::take(&mut self.recovered_status) {
            let Some(rec) = self.engine.parents().get(&id) else {
                continue;
            };
            let report = ingress::status_report(rec, self.exec_ids.next_id(), fix::utc_now());
            let desk = rec.order.desk.clone();
            self.send(&desk, DeskMessage::Exec(report));
        }
        Ok(())
    }

    /// The parents not yet ended.
    fn open_parent_ids(&self) -> Vec<ParentId> {
        self.engine
            .parents()
            .values()
            .filter(|p| !p.order.status().is_terminal())
            .map(|p| p.order.id.clone())
            .collect()
    }

    fn open_parents(&self) -> Vec<String> {
        self.open_parent_ids().into_iter().map(|id| id.0).collect()
    }

    fn cancel_all(&mut self) -> Result<usize, String> {
        let open = self.open_parent_ids();
        for id in &open {
            tracing::info!(parent = %id, "shutdown: cancelling");
            self.apply(Event::CancelParent { parent: id.clone() }, None)?;
        }
        Ok(open.len())
    }

    fn next_timer_in(&self) -> Option<Duration> {
        let Reverse(t) = self.timers.peek()?;
        Some(Duration::from_nanos(t.at.saturating_sub(self.clock.now())))
    }

    fn fire_timers(&mut self) -> Result<(), String> {
        let mut n = 0;
        while let Some(Reverse(t)) = self.timers.peek() {
            if t.at > self.clock.now() || n >= MAX_CASCADE {
                break;
            }
            let Some(Reverse(t)) = self.timers.pop() else {
                break;
            };
            self.apply(t.event, None)?;
            n += 1;
        }
        Ok(())
    }

    /// Applies up to `MAX_BATCH` more inputs that are already queued (desk requests
    /// only when not held for reconciliation), without waiting.
    fn take_ready(
        &mut self,
        desk_rx: &Receiver<Inbound>,
        link_rx: &Receiver<LinkEvent>,
        gated: bool,
    ) -> Result<(), String> {
        for _ in 0..MAX_BATCH {
            let mut took = false;
            if !gated && let Ok(inbound) = desk_rx.try_recv() {
                self.on_desk(inbound)?;
                took = true;
            }
            if let Ok(event) = link_rx.try_recv() {
                self.on_link(event)?;
                took = true;
            }
            if !took {
                break;
            }
        }
        Ok(())
    }

    pub(super) fn on_desk(&mut self, inbound: Inbound) -> Result<(), String> {
        self.count_input(true);
        if !matches!(inbound, Inbound::New { .. }) {
            // Cancels and status requests answer from state the desk has been told.
            self.flush()?;
        }
        match inbound {
            Inbound::New { parent, arrival } => {
                self.samples.since(Hop::QueueWait, arrival.received);
                let waited = arrival.received.elapsed();
                if let Some(service) = &self.service {
                    service.record_sojourn(waited);
                }
                if let Some(max) = self.max_queue_wait
                    && waited > max
                {
                    // Too late to act on: nothing was done (never journaled, never
                    // routed), as if refused at the door. The desk is told after what
                    // earlier inputs owe it, to keep its reports in order.
                    self.expired_in_queue += 1;
                    let text = format!(
                        "gateway busy: waited {} ms in the inbound queue (max_queue_wait_ms = {}); nothing was done, retry later",
                        waited.as_millis(),
                        max.as_millis()
                    );
                    let report = ingress::busy_reject(
                        &parent,
                        text,
                        self.exec_ids.next_id(),
                        fix::utc_now(),
                    );
                    let desk = parent.desk.clone();
                    if self.effects.is_empty() {
                        self.send(&desk, DeskMessage::Exec(report));
                    } else {
                        let report = Box::new(report);
                        self.effects.push((Effect::Refuse { desk, report }, None));
                    }
                    return Ok(());
                }
                self.apply(Event::NewParent(parent), Some(arrival))
            }
            Inbound::Cancel { desk, request } => {
                let key = (desk.clone(), request.orig_cl_ord_id.clone());
                let Some(parent) = self.by_client.get(&key).cloned() else {
                    self.cancel_reject(
                        &desk,
                        "NONE".into(),
                        request,
                        OrdStatus::Rejected,
                        CxlRejReason::UnknownOrder,
                        "unknown order: no parent with this OrigClOrdID for this desk".into(),
                    );
                    return Ok(());
                };
                if self.pending_cancel.contains_key(&parent) {
                    let status = self.ord_status_of(&parent);
                    self.cancel_reject(
                        &desk,
                        parent.0.clone(),
                        request,
                        status,
                        CxlRejReason::AlreadyPending,
                        "a cancel for this order is already pending".into(),
                    );
                    return Ok(());
                }
                self.pending_cancel.insert(parent.clone(), request);
                self.apply(Event::CancelParent { parent }, None)
            }
            Inbound::Status { desk, request } => {
                let key = (desk.clone(), request.cl_ord_id.clone());
                let exec_id = self.exec_ids.next_id();
                let report = match self
                    .by_client
                    .get(&key)
                    .and_then(|p| self.engine.parents().get(p))
                {
                    Some(rec) => ingress::status_report(rec, exec_id, fix::utc_now()),
                    None => unknown_status(&request, exec_id),
                };
                self.send(&desk, DeskMessage::Exec(report));
                Ok(())
            }
        }
    }

    fn ord_status_of(&self, parent: &ParentId) -> OrdStatus {
        self.engine
            .parents()
            .get(parent)
            .map(|rec| ingress::status_report(rec, String::new(), String::new()).ord_status)
            .unwrap_or(OrdStatus::Rejected)
    }

    fn cancel_reject(
        &mut self,
        desk: &str,
        order_id: String,
        request: CancelRequest,
        ord_status: OrdStatus,
        reason: CxlRejReason,
        text: String,
    ) {
        let reject = cancel_reject_for(order_id, &request, ord_status, reason, text);
        self.send(desk, DeskMessage::CancelReject(reject));
    }

    pub(super) fn on_link(&mut self, event: LinkEvent) -> Result<(), String> {
        self.count_input(false);
        match event {
            LinkEvent::Report {
                client_id, report, ..
            } => self.apply(
                Event::Venue {
                    child: ChildId(client_id),
                    report,
                },
                None,
            ),
            LinkEvent::Liquidity(liq) => {
                self.on_liquidity(liq);
                Ok(())
            }
            LinkEvent::Trade { .. } => {
                // Trade prints feed the reference rate once TCA runs live (issue 7).
                self.trade_prints += 1;
                Ok(())
            }
            LinkEvent::Connection { venue, up, reason } => {
                if up {
                    tracing::info!(%venue, "venue connected: {reason}");
                } else {
                    tracing::warn!(%venue, "venue disconnected: {reason}");
                }
                Ok(())
            }
        }
    }

    /// Applies `event` after the liquidity snapshots that arrived since the last input
    /// (see [`Core::on_liquidity`]).
    fn apply(&mut self, event: Event, arrival: Option<Arrival>) -> Result<(), String> {
        if !self.pending_liquidity.is_empty() {
            for liq in std::mem::take(&mut self.pending_liquidity).into_values() {
                self.apply_one(Event::Liquidity(liq), None)?;
            }
        }
        self.apply_one(event, arrival)
    }

    /// Keeps a venue's new liquidity until the next input. The engine only stores a
    /// snapshot (it acts on parents, timers and venue reports, never on liquidity
    /// alone), so only the latest per venue and side before an input matters: it is
    /// journaled and applied just before that input, in the same order live and in
    /// replay. An idle gateway's journal no longer grows with every market data update.
    fn on_liquidity(&mut self, liq: venues::Liquidity) {
        self.pending_liquidity
            .insert((liq.venue.clone(), liq.side), liq);
        self.prepare_books = true;
    }

    /// Journals `event` and applies it at the engine's current time. Timers it asks
    /// for are kept at once; what it asks of the outside world (children, cancels, desk
    /// reports) waits in `effects` until [`Core::flush`] has made the journal durable.
    /// `arrival` is when the desk request behind it arrived.
    fn apply_one(&mut self, event: Event, arrival: Option<Arrival>) -> Result<(), String> {
        let started = Instant::now();
        let now = self.clock.now();
        // No control applies while this input is handled; those applied since the last
        // input go into the journal ahead of it.
        let pin = self.controls.as_ref().map(SharedGate::pin);
        if let Some(d) = &mut self.durable {
            if let Some(gate) = &self.controls {
                for recorded in gate.take_unjournaled() {
                    d.record_control(&recorded).map_err(|e| e.to_string())?;
                }
            }
            d.record(now, &event).map_err(|e| e.to_string())?;
        }
        let mut out = std::mem::take(&mut self.out);
        let new_parent = matches!(event, Event::NewParent(_));
        let handled = self.engine.handle(now, event, &mut out);
        drop(pin);
        let decided = Instant::now();
        self.samples.between(Hop::Decision, started, decided);
        if new_parent {
            self.samples
                .between(Hop::NewParentDecision, started, decided);
        }
        if self.samples.full() {
            self.samples.write_into(&mut self.hops);
        }
        if let Err(e) = handled {
            match e {
                crate::engine::EngineError::Invariant(msg) => {
                    return Err(format!("invariant broken: {msg}"));
                }
                other => tracing::warn!("event refused by the engine: {other}"),
            }
        }
        let mut arrival = arrival;
        for cmd in out.drain(..) {
            match cmd {
                Command::Schedule { at, event } => self.push_timer(at, event)?,
                Command::Send { .. } => {
                    let r = arrival.take();
                    self.effects.push((Effect::Engine(cmd), r));
                }
                other => self.effects.push((Effect::Engine(other), None)),
            }
        }
        self.out = out;
        if self.effects.len() > MAX_EFFECTS {
            self.flush()?;
        }
        Ok(())
    }

    /// Makes every journaled input durable (one commit for the whole batch: group
    /// commit), then carries out what they asked: nothing leaves the process before the
    /// input behind it is on disk, so a desk's ack always follows its parent reaching
    /// the journal. A child the link refuses comes back as a reject, journaled and
    /// applied in turn.
    fn flush(&mut self) -> Result<(), String> {
        let mut rounds = 0;
        while !self.effects.is_empty() {
            rounds += 1;
            if rounds > MAX_CASCADE {
                return Err(format!("more than {MAX_CASCADE} cascaded rounds"));
            }
            if let Some(d) = &mut self.durable {
                let t = Instant::now();
                d.commit().map_err(|e| e.to_string())?;
                self.samples.since(Hop::JournalCommit, t);
            }
            // Venue commands first, then desk reports, each in the order the engine
            // gave them: a child reaches its venue without waiting behind the desk's
            // ack, and neither the desk's nor any venue's messages change order.
            let mut effects = std::mem::take(&mut self.effects);
            if effects.iter().any(|(e, _)| !e.is_venue()) {
                effects.sort_by_key(|(e, _)| !e.is_venue());
            }
            let mut refused = Vec::new();
            for (effect, arrival) in effects {
                let cmd = match effect {
                    Effect::Engine(cmd) => cmd,
                    Effect::Refuse { desk, report } => {
                        self.send(&desk, DeskMessage::Exec(*report));
                        continue;
                    }
                };
                match cmd {
                    Command::Send {
                        venue,
                        order,
                        approval,
                    } => {
                        if !approval.covers(venue.as_str(), order.qty) {
                            return Err(format!(
                                "child {} sent beyond its approval",
                                order.client_id
                            ));
                        }
                        let child = ChildId(order.client_id.clone());
                        let t = Instant::now();
                        let cpu = arrival.and_then(|a| a.cpu?.elapsed_here());
                        let sent = match self.links.get(&venue) {
                            Some(link) => link.send(order).map_err(|e| e.to_string()),
                            None => Err(format!("venue {venue} has no link")),
                        };
                        let done = Instant::now();
                        self.samples.between(Hop::VenueSend, t, done);
                        if let Some(arrival) = arrival {
                            let s = &mut self.samples;
                            s.between(Hop::ParentToFirstChild, arrival.received, t);
                            s.between(Hop::DecodedToFirstChild, arrival.decoded, t);
                            s.between(Hop::ParentToFirstChildSent, arrival.received, done);
                            if let Some(cpu) = cpu {
                                let wall = t.saturating_duration_since(arrival.decoded);
                                s.record(Hop::DecodedToFirstChildCpu, cpu);
                                s.record(Hop::DecodedToFirstChildOffCpu, wall.saturating_sub(cpu));
                            }
                        }
                        if let Err(reason) = sent {
                            tracing::warn!(%venue, %child, "child not sent: {reason}");
                            refused.push(Event::Venue {
                                child,
                                report: VenueReport::Rejected {
                                    kind: RejectKind::Unreachable,
                                    reason,
                                },
                            });
                        }
                    }
                    Command::Cancel { venue, child } => {
                        if let Some(link) = self.links.get(&venue)
                            && let Err(e) = link.cancel(&child.0)
                        {
                            tracing::debug!(%venue, %child, "cancel not sent: {e}");
                        }
                    }
                    Command::Desk(report) => self.tell_desk(report),
                    Command::Schedule { at, event } => self.push_timer(at, event)?,
                }
            }
            for event in refused {
                self.apply(event, None)?;
            }
        }
        Ok(())
    }

    fn tell_desk(&mut self, report: DeskReport) {
        let t = Instant::now();
        let Some(rec) = self.engine.parents().get(&report.parent) else {
            tracing::error!(parent = %report.parent, "desk report for an unknown parent");
            return;
        };
        let desk = rec.order.desk.clone();
        if matches!(report.event, DeskEvent::Ack | DeskEvent::Rejected { .. }) {
            self.by_client
                .entry((desk.clone(), report.client_id.clone()))
                .or_insert_with(|| report.parent.clone());
        }
        let msg = match &report.event {
            DeskEvent::CancelRejected { reason } => {
                let Some(request) = self.pending_cancel.remove(&report.parent) else {
                    return;
                };
                let status = ingress::status_report(rec, String::new(), String::new()).ord_status;
                DeskMessage::CancelReject(CancelReject {
                    order_id: report.parent.0.clone(),
                    cl_ord_id: request.cl_ord_id,
                    orig_cl_ord_id: request.orig_cl_ord_id,
                    ord_status: status,
                    reason: CxlRejReason::TooLate,
                    text: reason.clone(),
                    transact_time: fix::utc_now(),
                })
            }
            event => {
                let Some(mut er) =
                    ingress::exec_report(rec, &report, self.exec_ids.next_id(), fix::utc_now())
                else {
                    return;
                };
                if matches!(event, DeskEvent::Done { .. })
                    && let Some(request) = self.pending_cancel.remove(&report.parent)
                    && er.exec_type == ExecType::Canceled
                {
                    er.orig_cl_ord_id = Some(request.orig_cl_ord_id);
                    er.cl_ord_id = request.cl_ord_id;
                }
                DeskMessage::Exec(er)
            }
        };
        self.send(&desk, msg);
        self.samples.since(Hop::DeskSend, t);
    }

    /// Hands `msg` to the desk's writer thread: the engine never writes to a socket.
    fn send(&mut self, desk: &str, msg: DeskMessage) {
        if let Err(e) = self.outbox.send(desk, msg) {
            tracing::error!(%desk, "report not queued: {e}");
        }
    }
}

/// The OrderCancelReject answering `request`, now.
fn cancel_reject_for(
    order_id: String,
    request: &CancelRequest,
    ord_status: OrdStatus,
    reason: CxlRejReason,
    text: String,
) -> CancelReject {
    CancelReject {
        order_id,
        cl_ord_id: request.cl_ord_id.clone(),
        orig_cl_ord_id: request.orig_cl_ord_id.clone(),
        ord_status,
        reason,
        text,
        transact_time: fix::utc_now(),
    }
}

fn unknown_status(request: &StatusRequest, exec_id: String) -> ExecReport {
    ExecReport {
        order_id: request.order_id.clone().unwrap_or_else(|| "NONE".into()),
        cl_ord_id: request.cl_ord_id.clone(),
        orig_cl_ord_id: None,
        exec_id,
        exec_type: ExecType::OrderStatus,
        ord_status: OrdStatus::Rejected,
        account: None,
        symbol: request.symbol.clone().unwrap_or_else(|| "N/A".into()),
        side: request.side,
        order_qty: Decimal::ZERO,
        cum_qty: Decimal::ZERO,
        leaves_qty: Decimal::ZERO,
        avg_px: Decimal::ZERO,
        transact_time: fix::utc_now(),
        last_qty: None,
        last_px: None,
        last_mkt: None,
        ord_rej_reason: None,
        text: Some("unknown order: no parent with this ClOrdID for this desk".into()),
    }
}
