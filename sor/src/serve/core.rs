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
use crossbeam_channel::{Receiver, never, select};
use fix::desk::{
    CancelReject, CancelRequest, CxlRejReason, ExecIds, ExecReport, ExecType, OrdStatus,
    StatusRequest,
};
use hdrhistogram::Histogram;
use quickfix::{Message, QuickFixError, SessionId, send_to_target};
use risk::PreTradeGate;
use rust_decimal::Decimal;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use venues::{LinkEvent, Nanos, RejectKind, VenueId, VenueLink, VenueReport};

/// Most timers (TWAP slices, retries) pending at once.
const MAX_TIMERS: usize = 100_000;
/// Most events one input may cascade into (link refusals fed back, timers due now).
const MAX_CASCADE: usize = 10_000;

/// A desk request, decoded and mapped, waiting for the engine thread.
#[derive(Debug)]
pub enum Inbound {
    /// A new parent.
    New {
        /// The parent, mapped from its NewOrderSingle.
        parent: NewParent,
        /// When the acceptor received it.
        received: Instant,
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

/// A request to the engine thread from whoever runs the gateway.
#[derive(Debug, Clone, Copy)]
pub enum Control {
    /// The risk gate changed under the engine (admin API, limits file): apply it now.
    Wake,
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
    /// Handing one child to its venue link.
    pub venue_send: Histogram<u64>,
    /// Parent received by the acceptor → its first child handed to a venue link.
    pub parent_to_first_child: Histogram<u64>,
    /// Building and sending one ExecutionReport to a desk.
    pub desk_send: Histogram<u64>,
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
            venue_send: h(),
            parent_to_first_child: h(),
            desk_send: h(),
        }
    }

    /// One line per hop: count, p50, p99, p99.9 and max in µs.
    pub fn summary(&self) -> String {
        let line = |name: &str, h: &Histogram<u64>| {
            format!(
                "{name:<22} n={:<8} p50={:>9.1}µs p99={:>9.1}µs p99.9={:>9.1}µs max={:>9.1}µs",
                h.len(),
                h.value_at_quantile(0.5) as f64 / 1e3,
                h.value_at_quantile(0.99) as f64 / 1e3,
                h.value_at_quantile(0.999) as f64 / 1e3,
                h.max() as f64 / 1e3
            )
        };
        [
            line("queue wait", &self.queue_wait),
            line("engine decision", &self.decision),
            line("venue send", &self.venue_send),
            line("parent → first child", &self.parent_to_first_child),
            line("desk report send", &self.desk_send),
        ]
        .join("\n")
    }
}

fn record(h: &mut Histogram<u64>, since: Instant) {
    let ns = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let _ = h.record(ns.max(1));
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

/// The engine thread's state.
pub struct Core<G> {
    engine: Engine<G>,
    clock: SystemClock,
    links: HashMap<VenueId, Box<dyn VenueLink>>,
    comp_id: String,
    sessions: HashMap<String, SessionId>,
    by_client: HashMap<(String, String), ParentId>,
    pending_cancel: HashMap<ParentId, CancelRequest>,
    timers: BinaryHeap<Reverse<Timer>>,
    timer_seq: u64,
    exec_ids: Arc<ExecIds>,
    hops: Hops,
    out: Vec<Command>,
    trade_prints: u64,
}

impl<G: PreTradeGate> Core<G> {
    /// A core around `engine`, sending children through `links`.
    pub fn new(
        engine: Engine<G>,
        clock: SystemClock,
        links: Vec<Box<dyn VenueLink>>,
        comp_id: String,
        exec_ids: Arc<ExecIds>,
    ) -> Self {
        Self {
            engine,
            clock,
            links: links.into_iter().map(|l| (l.id().clone(), l)).collect(),
            comp_id,
            sessions: HashMap::new(),
            by_client: HashMap::new(),
            pending_cancel: HashMap::new(),
            timers: BinaryHeap::new(),
            timer_seq: 0,
            exec_ids,
            hops: Hops::new(),
            out: Vec::new(),
            trade_prints: 0,
        }
    }

    /// Runs until told to stop (or every input is gone) and says how it ended.
    pub fn run(
        mut self,
        desk_rx: Receiver<Inbound>,
        link_rx: Receiver<LinkEvent>,
        ctrl_rx: Receiver<Control>,
    ) -> CoreSummary {
        let (mut desk_rx, mut link_rx, mut ctrl_rx) = (desk_rx, link_rx, ctrl_rx);
        let mut stopping: Option<Instant> = None;
        let mut cancelled = 0;
        let mut fatal = None;
        loop {
            let wait = self.next_timer_in().unwrap_or(Duration::from_millis(100));
            let step = select! {
                recv(desk_rx) -> m => match m {
                    Ok(inbound) => self.on_desk(inbound),
                    Err(_) => { desk_rx = never(); Ok(()) }
                },
                recv(link_rx) -> m => match m {
                    Ok(event) => self.on_link(event),
                    Err(_) => { link_rx = never(); Ok(()) }
                },
                recv(ctrl_rx) -> m => match m {
                    Ok(Control::Wake) => self.apply(Event::RiskChanged, None),
                    Ok(Control::Shutdown { cancel_open, grace }) => {
                        stopping = Some(Instant::now() + grace);
                        if cancel_open {
                            match self.cancel_all() {
                                Ok(n) => { cancelled = n; Ok(()) }
                                Err(e) => Err(e),
                            }
                        } else {
                            Ok(())
                        }
                    }
                    Err(_) => {
                        ctrl_rx = never();
                        stopping.get_or_insert_with(Instant::now);
                        Ok(())
                    }
                },
                default(wait) => Ok(()),
            };
            let step = step.and_then(|()| self.fire_timers());
            if let Err(e) = step {
                tracing::error!("engine stopped: {e}");
                fatal = Some(e);
                break;
            }
            if let Some(deadline) = stopping
                && (self.open_parents().is_empty() || Instant::now() >= deadline)
            {
                break;
            }
        }
        CoreSummary {
            open_parents: self.open_parents(),
            cancelled_on_shutdown: cancelled,
            hops: self.hops,
            fatal,
        }
    }

    fn open_parents(&self) -> Vec<String> {
        self.engine
            .parents()
            .values()
            .filter(|p| !p.order.status().is_terminal())
            .map(|p| p.order.id.0.clone())
            .collect()
    }

    fn cancel_all(&mut self) -> Result<usize, String> {
        let open: Vec<ParentId> = self
            .engine
            .parents()
            .values()
            .filter(|p| !p.order.status().is_terminal())
            .map(|p| p.order.id.clone())
            .collect();
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

    fn on_desk(&mut self, inbound: Inbound) -> Result<(), String> {
        match inbound {
            Inbound::New { parent, received } => {
                record(&mut self.hops.queue_wait, received);
                self.apply(Event::NewParent(parent), Some(received))
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
                let msg = report.to_message();
                self.send(&desk, msg);
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
        let reject = CancelReject {
            order_id,
            cl_ord_id: request.cl_ord_id,
            orig_cl_ord_id: request.orig_cl_ord_id,
            ord_status,
            reason,
            text,
            transact_time: fix::utc_now(),
        };
        self.send(desk, reject.to_message());
    }

    fn on_link(&mut self, event: LinkEvent) -> Result<(), String> {
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
            LinkEvent::Liquidity(liq) => self.apply(Event::Liquidity(liq), None),
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

    /// Applies `first` and everything it cascades into (link refusals), carrying out
    /// the commands. `received` is when the desk request behind it arrived.
    fn apply(&mut self, first: Event, received: Option<Instant>) -> Result<(), String> {
        let mut queue = VecDeque::from([first]);
        let mut first_child = received;
        let mut n = 0;
        while let Some(event) = queue.pop_front() {
            n += 1;
            if n > MAX_CASCADE {
                return Err(format!("more than {MAX_CASCADE} cascaded events"));
            }
            let started = Instant::now();
            let now = self.clock.now();
            let mut out = std::mem::take(&mut self.out);
            let handled = self.engine.handle(now, event, &mut out);
            record(&mut self.hops.decision, started);
            if let Err(e) = handled {
                match e {
                    crate::engine::EngineError::Invariant(msg) => {
                        return Err(format!("invariant broken: {msg}"));
                    }
                    other => tracing::warn!("event refused by the engine: {other}"),
                }
            }
            for cmd in out.drain(..) {
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
                        let sent = match self.links.get(&venue) {
                            Some(link) => link.send(order).map_err(|e| e.to_string()),
                            None => Err(format!("venue {venue} has no link")),
                        };
                        record(&mut self.hops.venue_send, t);
                        if let Some(received) = first_child.take() {
                            record(&mut self.hops.parent_to_first_child, received);
                        }
                        if let Err(reason) = sent {
                            tracing::warn!(%venue, %child, "child not sent: {reason}");
                            queue.push_back(Event::Venue {
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
                    Command::Schedule { at, event } => {
                        if self.timers.len() >= MAX_TIMERS {
                            return Err(format!("more than {MAX_TIMERS} timers pending"));
                        }
                        self.timer_seq += 1;
                        self.timers.push(Reverse(Timer {
                            at,
                            seq: self.timer_seq,
                            event,
                        }));
                    }
                    Command::Desk(report) => self.tell_desk(report),
                }
            }
            self.out = out;
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
                CancelReject {
                    order_id: report.parent.0.clone(),
                    cl_ord_id: request.cl_ord_id,
                    orig_cl_ord_id: request.orig_cl_ord_id,
                    ord_status: status,
                    reason: CxlRejReason::TooLate,
                    text: reason.clone(),
                    transact_time: fix::utc_now(),
                }
                .to_message()
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
                er.to_message()
            }
        };
        self.send(&desk, msg);
        record(&mut self.hops.desk_send, t);
    }

    fn send(&mut self, desk: &str, msg: Result<Message, QuickFixError>) {
        let session = match self.sessions.get(desk) {
            Some(s) => s,
            None => match SessionId::try_new("FIX.4.4", &self.comp_id, desk, "") {
                Ok(s) => self.sessions.entry(desk.to_owned()).or_insert(s),
                Err(e) => {
                    tracing::error!(%desk, "no session id: {e}");
                    return;
                }
            },
        };
        if let Err(e) = msg.and_then(|m| send_to_target(m, session)) {
            // QuickFIX stores what it sends while the desk is away and resends it on
            // the desk's ResendRequest; an error here is a message it could not even build.
            tracing::error!(%desk, "report not sent: {e}");
        }
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
