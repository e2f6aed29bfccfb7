//! Run to completion: the engine shared by its own thread and the desk sessions'
//! threads.
//!
//! A desk session's thread that finds the engine free (its lock untaken, nothing
//! queued ahead) handles its own request on the spot: the parent is journaled, routed
//! and its first child handed to the venue session with no thread hand-off, so no
//! parked engine thread has to be woken first. Otherwise the request goes through the
//! bounded queue to the engine thread as before, which also takes every venue event,
//! timer and control. Under the journal's group commit nothing runs inline: there the
//! engine thread's batches share one `fdatasync` among many requests, which a desk
//! thread committing its own request alone would give up.
//!
//! One lock keeps one input at a time. The engine thread takes inputs off its queues
//! only while holding it, and a desk thread runs inline only when the queue is empty,
//! so a desk's requests are still handled in the order they came.

use super::core::{Control, Core, CoreSummary, Inbound};
use crossbeam_channel::{Receiver, Select, Sender, TryRecvError, TrySendError, bounded, never};
use parking_lot::{Mutex, RwLock};
use risk::PreTradeGate;
use std::time::Instant;
use venues::LinkEvent;

/// Why a desk request was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotQueued {
    /// The queue is at its bound.
    Full,
    /// The engine has stopped.
    Stopped,
}

/// The engine, shared between its thread ([`SharedCore::run`]) and the desk sessions'
/// threads ([`SharedCore::try_inline`]). Empty once the engine thread has stopped.
pub struct SharedCore<G> {
    slot: Mutex<Option<Core<G>>>,
    /// Whether the desk queue still takes requests: closed by the engine thread as it
    /// stops, before it answers what is left in the queue, so none is stranded there.
    open: RwLock<bool>,
    /// Tells the engine thread to look again (a timer set earlier, a fatal error).
    wake: Sender<()>,
    woken: Receiver<()>,
}

impl<G: PreTradeGate> SharedCore<G> {
    /// Shares `core` (recovered, ready to run).
    pub fn new(core: Core<G>) -> Self {
        let (wake, woken) = bounded(1);
        Self {
            slot: Mutex::new(Some(core)),
            open: RwLock::new(true),
            wake,
            woken,
        }
    }

    /// Handles `inbound` on the calling thread if the engine is free and `queue` (the
    /// engine thread's desk queue) holds nothing, and returns `None`; otherwise hands
    /// it back, to be queued.
    pub fn try_inline(&self, inbound: Inbound, queue: &Sender<Inbound>) -> Option<Inbound> {
        if !queue.is_empty() {
            return Some(inbound);
        }
        self.try_run(inbound, |core, inbound| {
            core.count_inline(false);
            core.on_desk(inbound)
        })
    }

    /// Handles a venue's `event` on the calling thread (the venue session's) if the
    /// engine is free, and returns `None`; otherwise hands it back, to be queued. The
    /// caller asks only when none of the venue's earlier events is still queued (see
    /// [`venues::InlineEvents`]): the engine thread takes queued events only under the
    /// lock, so any it took are fully handled once the lock is ours.
    pub fn try_inline_link(&self, event: LinkEvent) -> Option<LinkEvent> {
        self.try_run(event, |core, event| {
            core.count_inline(true);
            core.on_link(event)
        })
    }

    /// Runs `step` on `input`, start to finish, if the engine's lock is free and the
    /// engine takes inline work; otherwise gives `input` back. Never waits: callers
    /// are QuickFIX callbacks holding their session's lock.
    fn try_run<T>(
        &self,
        input: T,
        step: impl FnOnce(&mut Core<G>, T) -> Result<(), String>,
    ) -> Option<T> {
        let Some(mut slot) = self.slot.try_lock() else {
            return Some(input);
        };
        let Some(core) = slot.as_mut().filter(|c| c.takes_inline()) else {
            return Some(input);
        };
        if core.run_inline(|core| step(core, input)) {
            // Full: a wake-up is already pending.
            let _ = self.wake.try_send(());
        }
        None
    }

    /// Queues `inbound` for the engine thread on `queue`, unless the queue is full or
    /// the engine has stopped.
    pub fn enqueue(&self, inbound: Inbound, queue: &Sender<Inbound>) -> Result<(), NotQueued> {
        let open = self.open.read();
        if !*open {
            return Err(NotQueued::Stopped);
        }
        queue.try_send(inbound).map_err(|e| match e {
            TrySendError::Full(_) => NotQueued::Full,
            TrySendError::Disconnected(_) => NotQueued::Stopped,
        })
    }

    /// The engine thread: runs until told to stop (or every input is gone), then
    /// empties the share (dropping the venue links) and says how it ended.
    pub fn run(
        &self,
        desk_rx: Receiver<Inbound>,
        link_rx: Receiver<LinkEvent>,
        ctrl_rx: Receiver<Control>,
    ) -> CoreSummary {
        let (mut desk_rx, mut link_rx, mut ctrl_rx) = (desk_rx, link_rx, ctrl_rx);
        let held = never::<Inbound>();
        loop {
            let Some((wait, gated, spin)) = self.slot.lock().as_mut().map(|core| {
                let (wait, gated) = core.before_wait();
                (wait, gated, core.spin())
            }) else {
                break;
            };
            if !spin.is_zero() {
                let until = Instant::now() + spin.min(wait);
                while (gated || desk_rx.is_empty())
                    && link_rx.is_empty()
                    && ctrl_rx.is_empty()
                    && self.woken.is_empty()
                    && Instant::now() < until
                {
                    std::hint::spin_loop();
                }
            }
            // Wait without the lock (a desk thread may run meanwhile); take the input
            // only with it.
            let ready = {
                let mut select = Select::new();
                select.recv(if gated { &held } else { &desk_rx });
                select.recv(&link_rx);
                select.recv(&ctrl_rx);
                select.recv(&self.woken);
                select.ready_timeout(wait).ok()
            };
            let mut slot = self.slot.lock();
            let Some(core) = slot.as_mut() else {
                break;
            };
            // `ready` may be spurious: an empty queue is no input.
            let step = match ready {
                Some(0) => match desk_rx.try_recv() {
                    Ok(inbound) => core.on_desk(inbound),
                    Err(TryRecvError::Empty) => Ok(()),
                    Err(TryRecvError::Disconnected) => {
                        desk_rx = never();
                        Ok(())
                    }
                },
                Some(1) => match link_rx.try_recv() {
                    Ok(event) => core.on_link(event),
                    Err(TryRecvError::Empty) => Ok(()),
                    Err(TryRecvError::Disconnected) => {
                        link_rx = never();
                        Ok(())
                    }
                },
                Some(2) => match ctrl_rx.try_recv() {
                    Ok(control) => core.on_control(control),
                    Err(TryRecvError::Empty) => Ok(()),
                    Err(TryRecvError::Disconnected) => {
                        ctrl_rx = never();
                        core.stop_now();
                        Ok(())
                    }
                },
                Some(_) => {
                    let _ = self.woken.try_recv();
                    Ok(())
                }
                None => Ok(()),
            };
            core.end_step(step, &desk_rx, &link_rx, gated);
            if core.finished() {
                break;
            }
        }
        *self.open.write() = false;
        let Some(mut core) = self.slot.lock().take() else {
            return CoreSummary::failed("the engine was already stopped");
        };
        // Nothing can join the queue now: answer what is in it.
        while let Ok(inbound) = desk_rx.try_recv() {
            core.answer_at_stop(inbound);
        }
        core.summary()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::domain::Strategy;
    use crate::engine::{Engine, NewParent};
    use crate::journal::FsyncPolicy;
    use crate::scenario::Scenario;
    use crate::serve::durable::{Durable, JournalSettings};
    use fix::desk::{DeskMessage, DeskOutbox, ExecIds, StatusRequest};
    use risk::MinimalGate;
    use rust_decimal::Decimal;
    use std::sync::Arc;
    use std::time::Duration;
    use venues::{LinkError, Side, VenueId, VenueLink, VenueOrder};

    const MARKET: &str = r#"
name = "shared-core"
seed = 1
[valuation]
currency = "USD"
[valuation.references]
USDC = "1"
[[venues]]
id = "book-x"
kind = "book"
instrument = "USDC/USD"
latency_ms = 0
taker_fee_bps = "2"
replenish_per_sec = "1"
depth = { mid = "1.00000", half_spread = "0.00005", tick = "0.00001", levels = 5, first_qty = "1000000", qty_step = "0" }
"#;

    /// A venue that takes every child and never answers.
    struct Silent(VenueId);

    impl VenueLink for Silent {
        fn id(&self) -> &VenueId {
            &self.0
        }
        fn send(&self, _order: VenueOrder) -> Result<(), LinkError> {
            Ok(())
        }
        fn cancel(&self, _client_id: &str) -> Result<(), LinkError> {
            Ok(())
        }
    }

    fn shared() -> SharedCore<MinimalGate> {
        shared_with(None)
    }

    /// A core journaling under `fsync`, in a fresh directory named for `test`.
    fn journaled(test: &str, fsync: FsyncPolicy) -> SharedCore<MinimalGate> {
        let dir = std::env::temp_dir().join(format!(
            "sor-shared-{}-{test}-{fsync:?}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let settings = JournalSettings {
            dir,
            fsync,
            segment_bytes: 1 << 20,
        };
        let (durable, _) = Durable::open(&settings).unwrap();
        shared_with(Some(durable))
    }

    fn shared_with(durable: Option<Durable>) -> SharedCore<MinimalGate> {
        let market = Scenario::parse_market(MARKET).unwrap();
        let engine = Engine::new(market.engine, MinimalGate::new(market.risk));
        let outbox = DeskOutbox::start("SOR-TEST", ["DESK1"], 16, Duration::ZERO).unwrap();
        let link: Box<dyn VenueLink> = Box::new(Silent(VenueId("book-x".into())));
        let core = Core::new(
            engine,
            SystemClock::unix(),
            vec![link],
            Arc::new(outbox),
            Arc::new(ExecIds::new("E")),
            durable,
        );
        SharedCore::new(core)
    }

    fn status(id: &str) -> Inbound {
        Inbound::Status {
            desk: "DESK1".into(),
            request: StatusRequest {
                cl_ord_id: id.into(),
                order_id: None,
                side: fix::desk::Side::Sell,
                symbol: None,
            },
        }
    }

    fn twap(id: &str) -> Inbound {
        let now = Instant::now();
        Inbound::New {
            parent: NewParent {
                desk: "DESK1".into(),
                account: None,
                client_id: id.into(),
                instrument: "USDC/USD".into(),
                side: Side::Sell,
                qty: Decimal::from(100_000),
                limit: None,
                strategy: Strategy::Twap {
                    duration: 3_600_000_000_000,
                    slices: 60,
                    min_spacing: 1_000_000_000,
                },
                max_clip: None,
                venues: None,
            },
            arrival: super::super::core::Arrival {
                received: now,
                decoded: now,
                cpu: None,
            },
        }
    }

    #[test]
    fn a_request_runs_inline_only_when_the_engine_is_free_and_nothing_is_queued_ahead() {
        let shared = shared();
        let (tx, rx) = bounded::<Inbound>(4);
        assert!(
            shared.try_inline(status("a"), &tx).is_none(),
            "free and empty"
        );

        // Something of this desk's waits in the queue: the next request goes behind it.
        tx.send(status("b")).unwrap();
        assert!(
            shared.try_inline(status("c"), &tx).is_some(),
            "queued ahead"
        );
        let _ = rx.try_recv();

        // The engine thread is busy with an input.
        let busy = shared.slot.lock();
        assert!(shared.try_inline(status("d"), &tx).is_some(), "engine busy");
        drop(busy);
        assert!(shared.try_inline(status("e"), &tx).is_none());

        // Stopped: the engine is gone, nothing runs inline any more.
        let _ = shared.slot.lock().take();
        assert!(
            shared.try_inline(status("f"), &tx).is_some(),
            "engine stopped"
        );
    }

    fn sweep(id: &str, qty: i64) -> Inbound {
        let Inbound::New { parent, arrival } = twap(id) else {
            unreachable!("twap() makes a new parent")
        };
        Inbound::New {
            parent: NewParent {
                qty: Decimal::from(qty),
                strategy: Strategy::Sweep,
                ..parent
            },
            arrival,
        }
    }

    /// The bids of book-x: one level of 1,000,000 at 0.99995.
    fn bids() -> LinkEvent {
        LinkEvent::Liquidity(venues::Liquidity {
            venue: VenueId("book-x".into()),
            kind: venues::VenueKind::Book,
            instrument: "USDC/USD".into(),
            side: Side::Sell,
            shape: venues::CurveShape::Steps(vec![venues::Level {
                px: Decimal::new(99_995, 5),
                qty: Decimal::from(1_000_000),
            }]),
            fee_bps: Decimal::TWO,
            fixed_cost: Decimal::ZERO,
            fixed_cost_asset: "USD".into(),
        })
    }

    fn fill(client_id: &str, qty: i64, exec_id: &str) -> LinkEvent {
        LinkEvent::Report {
            venue: VenueId("book-x".into()),
            client_id: client_id.into(),
            report: venues::VenueReport::Fill {
                qty: Decimal::from(qty),
                px: Decimal::new(99_995, 5),
                fee: Decimal::ZERO,
                exec_id: exec_id.into(),
            },
        }
    }

    #[test]
    fn a_venue_event_runs_inline_when_the_engine_is_free_and_goes_back_when_it_is_not() {
        let shared = shared();
        let (tx, _rx) = bounded::<Inbound>(4);
        // Market data handled on the venue's thread: the sweep after it routes on it.
        assert!(shared.try_inline_link(bids()).is_none(), "free");
        assert!(shared.try_inline(sweep("s-1", 100_000), &tx).is_none());
        let child = {
            let slot = shared.slot.lock();
            let children = slot.as_ref().unwrap().engine().children();
            assert_eq!(children.len(), 1, "the sweep sent one child");
            children.keys().next().unwrap().0.clone()
        };

        // The engine thread is busy: the fill goes back to be queued, nothing applied.
        let busy = shared.slot.lock();
        let back = shared.try_inline_link(fill(&child, 40_000, "x-1"));
        assert_eq!(back, Some(fill(&child, 40_000, "x-1")), "engine busy");
        drop(busy);

        // Free: applied on the calling thread, in order.
        assert!(
            shared
                .try_inline_link(fill(&child, 40_000, "x-1"))
                .is_none()
        );
        assert!(
            shared
                .try_inline_link(fill(&child, 60_000, "x-2"))
                .is_none()
        );
        {
            let slot = shared.slot.lock();
            let engine = slot.as_ref().unwrap().engine();
            let parent = engine.parents().values().next().unwrap();
            assert_eq!(parent.order.filled(), Decimal::from(100_000));
            assert_eq!(parent.order.status(), crate::domain::ParentStatus::Filled);
        }
    }

    #[test]
    fn under_group_commit_venue_events_are_left_to_the_engine_thread() {
        let group = journaled(
            "venue",
            FsyncPolicy::Group {
                max_delay: Duration::from_millis(2),
                max_records: 64,
            },
        );
        assert!(group.try_inline_link(bids()).is_some());
    }

    #[test]
    fn requests_left_in_the_queue_at_the_stop_are_answered_and_the_queue_closes() {
        let shared = Arc::new(shared());
        let (desk_tx, desk_rx) = bounded::<Inbound>(8);
        let (_link_tx, link_rx) = bounded::<LinkEvent>(4);
        let (ctrl_tx, ctrl_rx) = bounded::<Control>(4);
        // Held: the engine thread can take nothing until the stop is queued too.
        let held = shared.slot.lock();
        let engine = {
            let shared = shared.clone();
            std::thread::spawn(move || shared.run(desk_rx, link_rx, ctrl_rx))
        };
        ctrl_tx
            .send(Control::Shutdown {
                cancel_open: false,
                grace: Duration::ZERO,
            })
            .unwrap();
        for i in 0..4 {
            shared
                .enqueue(twap(&format!("late-{i}")), &desk_tx)
                .unwrap();
        }
        drop(held);
        let summary = engine.join().unwrap();
        assert!(summary.fatal.is_none());
        assert!(desk_tx.is_empty(), "every queued request was answered");
        assert_eq!(
            shared.enqueue(status("after"), &desk_tx),
            Err(NotQueued::Stopped)
        );
    }

    #[test]
    fn what_a_request_left_at_the_stop_is_told() {
        let shared = shared();
        let mut slot = shared.slot.lock();
        let core = slot.as_mut().unwrap();
        let Some((desk, DeskMessage::Exec(er))) = core.stop_answer(&twap("p-1")) else {
            panic!("a new parent is refused");
        };
        assert_eq!(desk, "DESK1");
        assert_eq!(er.cl_ord_id, "p-1");
        assert_eq!(er.ord_status, fix::desk::OrdStatus::Rejected);
        assert!(er.text.unwrap().contains("shutting down"));
        let cancel = Inbound::Cancel {
            desk: "DESK1".into(),
            request: fix::desk::CancelRequest {
                cl_ord_id: "c-1".into(),
                orig_cl_ord_id: "p-1".into(),
                order_id: None,
            },
        };
        let Some((_, DeskMessage::CancelReject(rej))) = core.stop_answer(&cancel) else {
            panic!("a cancel is refused");
        };
        assert_eq!(
            (rej.cl_ord_id.as_str(), rej.orig_cl_ord_id.as_str()),
            ("c-1", "p-1")
        );
        assert!(rej.text.contains("shutting down"));
        assert!(
            core.stop_answer(&status("s-1")).is_none(),
            "a status is answered as usual"
        );
    }

    #[test]
    fn under_group_commit_requests_are_left_to_the_engine_threads_batches() {
        let (tx, _rx) = bounded::<Inbound>(4);
        let group = journaled(
            "desk",
            FsyncPolicy::Group {
                max_delay: Duration::from_millis(2),
                max_records: 64,
            },
        );
        assert!(group.try_inline(status("a"), &tx).is_some());
        let each = journaled("desk", FsyncPolicy::EachRecord);
        assert!(each.try_inline(status("a"), &tx).is_none());
    }

    #[test]
    fn a_stopping_engine_takes_nothing_inline() {
        let shared = shared();
        let (tx, _rx) = bounded::<Inbound>(4);
        shared
            .slot
            .lock()
            .as_mut()
            .unwrap()
            .on_control(Control::Shutdown {
                cancel_open: false,
                grace: Duration::from_secs(1),
            })
            .unwrap();
        assert!(shared.try_inline(status("a"), &tx).is_some());
        assert!(shared.try_inline_link(bids()).is_some(), "venue events too");
    }

    #[test]
    fn a_timer_set_inline_wakes_the_engine_thread_and_it_stops_when_told() {
        let shared = Arc::new(shared());
        let (desk_tx, desk_rx) = bounded::<Inbound>(4);
        let (_link_tx, link_rx) = bounded::<LinkEvent>(4);
        let (ctrl_tx, ctrl_rx) = bounded::<Control>(4);
        // A TWAP sets its slices' timers: the engine thread, parked until its own next
        // timer, must be told.
        assert!(shared.try_inline(twap("t-1"), &desk_tx).is_none());
        assert_eq!(shared.woken.len(), 1, "the engine thread was not woken");

        let engine = {
            let shared = shared.clone();
            std::thread::spawn(move || shared.run(desk_rx, link_rx, ctrl_rx))
        };
        // Requests queued while the engine thread runs are taken by it.
        desk_tx.send(status("t-1")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !desk_tx.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(desk_tx.is_empty(), "the queued request was taken");
        ctrl_tx
            .send(Control::Shutdown {
                cancel_open: true,
                grace: Duration::ZERO,
            })
            .unwrap();
        let summary = engine.join().unwrap();
        assert!(summary.fatal.is_none(), "{:?}", summary.fatal);
        assert_eq!(
            summary.cancelled_on_shutdown, 1,
            "the inline parent was open"
        );
        assert!(
            shared.try_inline(status("t-1"), &desk_tx).is_some(),
            "stopped"
        );
    }
}
