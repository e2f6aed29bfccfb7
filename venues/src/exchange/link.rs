//! The adapter for a FIX 4.4 exchange book: a QuickFIX initiator behind
//! [`VenueLink`].
//!
//! A child becomes a NewOrderSingle (limit at the child's price, IOC) whose ClOrdID is
//! `<run prefix>.<child id>`: deterministic, and unique across gateway restarts. The
//! exchange's ExecutionReports become child reports (ack, each fill with its fee from
//! Commission(12), the IOC remainder as an expiry, a reject); a cancel is an
//! OrderCancelRequest. On logon it subscribes to the symbol's market data: each book
//! snapshot (35=W) becomes the venue's [`Liquidity`] for both sides, each trade print
//! (35=X, MDEntryType 2) a [`LinkEvent::Trade`]. QuickFIX reconnects every
//! `reconnect_secs` and handles sequence gaps (ResendRequest, GapFill) itself.

use super::reconcile::{Reconciler, ReportFields};
use crate::{
    CurveShape, InlineSlot, Known, Level, LinkError, LinkEvent, LinkSink, Liquidity, Side, VenueId,
    VenueKind, VenueLink, VenueOrder, VenueReport,
};
use fix::present::Fields;
use fix::session::{EndpointConfig, Role, SessionError, SessionHost};
use quickfix::{
    ApplicationCallback, FieldMap, Group, Message, MsgFromAppError, QuickFixError, SessionId,
    send_to_target,
};
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// How to reach one exchange and what to trade there.
#[derive(Debug, Clone)]
pub struct FixBookConfig {
    /// The venue's id in the gateway.
    pub venue: VenueId,
    /// The instrument id (also the exchange symbol).
    pub instrument: String,
    /// Exchange host.
    pub host: String,
    /// Exchange port.
    pub port: u16,
    /// Our CompID towards the exchange.
    pub sender: String,
    /// The exchange's CompID.
    pub target: String,
    /// Where this session's FIX store lives.
    pub data_dir: PathBuf,
    /// Taker fee in bps, for the curve the router sees.
    pub taker_fee_bps: Decimal,
    /// Prefix of every ClOrdID (unique per gateway run).
    pub cl_ord_prefix: String,
    /// Seconds between reconnection attempts.
    pub reconnect_secs: u16,
}

struct LinkApp {
    config: FixBookConfig,
    relay: Relay,
    up: Arc<AtomicBool>,
    reconciler: Arc<parking_lot::Mutex<Reconciler>>,
}

/// Hands a link's events to the engine's queue without ever blocking a QuickFIX
/// callback.
///
/// QuickFIX runs callbacks on the session's thread and holds the session lock; the
/// engine sends orders on that session from its own thread. If a callback waited on a
/// full engine queue, the session would stop reading, the exchange would stop reading
/// our orders, the engine would block sending one, and nothing would drain the queue:
/// a deadlock across the TCP connection. So a callback only ever `try_send`s; what does
/// not fit waits, in order, in a backlog a forwarder thread feeds to the engine as it
/// drains. Book snapshots supersede each other, so while a backlog exists only the
/// latest per side is kept, and sent once the backlog is empty. `pending` counts both
/// (events in the backlog and on their way, snapshots kept and on their way): an event
/// goes straight to the engine only when it is zero, so a newer snapshot can never
/// overtake an older one still kept (it replaces it instead), and the engine's book
/// never falls back to an older snapshot.
///
/// When nothing is queued at all, the event is first offered to the engine itself
/// ([`InlineSlot`]): if the engine is free it is handled on this thread, start to
/// finish (run to completion), with no wake-up of the engine's thread. The engine is
/// only ever tried, never waited for, so the rule above still holds.
struct Relay {
    sink: LinkSink,
    inline: InlineSlot,
    backlog: crossbeam_channel::Sender<LinkEvent>,
    pending: Arc<std::sync::atomic::AtomicUsize>,
    latest: Arc<parking_lot::Mutex<Vec<Liquidity>>>,
}

impl Relay {
    fn start(sink: LinkSink, inline: InlineSlot, venue: &VenueId) -> std::io::Result<Self> {
        let (backlog, rx) = crossbeam_channel::unbounded::<LinkEvent>();
        let pending = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let latest = Arc::new(parking_lot::Mutex::new(Vec::<Liquidity>::new()));
        let (fwd_sink, fwd_pending, fwd_latest) = (sink.clone(), pending.clone(), latest.clone());
        std::thread::Builder::new()
            .name(format!("relay {venue}"))
            .spawn(move || {
                loop {
                    match rx.recv_timeout(std::time::Duration::from_millis(10)) {
                        Ok(event) => {
                            let gone = fwd_sink.send(event).is_err();
                            fwd_pending.fetch_sub(1, Ordering::AcqRel);
                            if gone {
                                return;
                            }
                        }
                        Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
                    }
                    if rx.is_empty() {
                        // Still counted in `pending` until sent: a snapshot arriving
                        // meanwhile is kept behind these, never sent ahead of them.
                        let snapshots = std::mem::take(&mut *fwd_latest.lock());
                        for liq in snapshots {
                            let gone = fwd_sink.send(LinkEvent::Liquidity(liq)).is_err();
                            fwd_pending.fetch_sub(1, Ordering::AcqRel);
                            if gone {
                                return;
                            }
                        }
                    }
                }
            })?;
        Ok(Self {
            sink,
            inline,
            backlog,
            pending,
            latest,
        })
    }

    /// Hands an event to the engine, in order, without waiting: at once if the engine
    /// is free and nothing is queued ahead, else through its queue.
    fn emit(&self, event: LinkEvent) {
        if self.pending.load(Ordering::Acquire) == 0 {
            // Nothing of this venue's is in the backlog or the engine's queue (only
            // this thread adds to either while the backlog is empty): handling the
            // event now keeps the venue's order.
            let event = if self.sink.is_empty() {
                match self.inline.try_handle(event) {
                    None => return,
                    Some(event) => event,
                }
            } else {
                event
            };
            match self.sink.try_send(event) {
                Ok(()) => {}
                Err(crossbeam_channel::TrySendError::Full(event)) => self.to_backlog(event),
                // The gateway is stopping; nothing is left to tell.
                Err(crossbeam_channel::TrySendError::Disconnected(_)) => {}
            }
        } else {
            self.to_backlog(event);
        }
    }

    fn to_backlog(&self, event: LinkEvent) {
        if let LinkEvent::Liquidity(liq) = event {
            let mut latest = self.latest.lock();
            match latest.iter_mut().find(|l| l.side == liq.side) {
                Some(kept) => *kept = liq,
                None => {
                    latest.push(liq);
                    self.pending.fetch_add(1, Ordering::AcqRel);
                }
            }
            return;
        }
        self.pending.fetch_add(1, Ordering::AcqRel);
        if self.backlog.send(event).is_err() {
            self.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// A FIX exchange behind [`VenueLink`].
#[derive(Debug)]
pub struct FixBookLink {
    venue: VenueId,
    instrument: String,
    sender: String,
    target: String,
    prefix: String,
    up: Arc<AtomicBool>,
    reconciler: Arc<parking_lot::Mutex<Reconciler>>,
    host: Option<SessionHost>,
}

impl FixBookLink {
    /// Starts the initiator; it connects, logs on and subscribes in the background,
    /// reporting [`LinkEvent::Connection`] as it goes.
    ///
    /// Its events go to `sink`, or to the handler `inline` holds (once set) when the
    /// engine can take them on the session's thread.
    pub fn start(
        config: FixBookConfig,
        sink: LinkSink,
        inline: InlineSlot,
    ) -> Result<Self, SessionError> {
        let up = Arc::new(AtomicBool::new(false));
        let endpoint = EndpointConfig {
            name: format!("venue {}", config.venue),
            role: Role::Initiator {
                host: config.host.clone(),
                port: config.port,
                reconnect_secs: config.reconnect_secs,
            },
            sender: config.sender.clone(),
            targets: vec![config.target.clone()],
            data_dir: config.data_dir.clone(),
            heartbeat_secs: 30,
            threaded: true,
            persist_messages: true,
        };
        let relay =
            Relay::start(sink, inline, &config.venue).map_err(|source| SessionError::DataDir {
                path: PathBuf::from("<relay thread>"),
                source,
            })?;
        let reconciler = Arc::new(parking_lot::Mutex::new(Reconciler::new(
            config.taker_fee_bps,
        )));
        let app = LinkApp {
            config: config.clone(),
            relay,
            up: up.clone(),
            reconciler: reconciler.clone(),
        };
        let host = SessionHost::start(endpoint, move || app)?;
        Ok(Self {
            venue: config.venue,
            instrument: config.instrument,
            sender: config.sender,
            target: config.target,
            prefix: config.cl_ord_prefix,
            up,
            reconciler,
            host: Some(host),
        })
    }

    /// Whether the session is logged on.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    fn session(&self) -> Result<SessionId, QuickFixError> {
        SessionId::try_new("FIX.4.4", &self.sender, &self.target, "")
    }

    fn send_msg(&self, msg: Result<Message, QuickFixError>) -> Result<(), LinkError> {
        if !self.is_up() {
            return Err(LinkError::Disconnected {
                venue: self.venue.clone(),
            });
        }
        msg.and_then(|m| send_to_target(m, &self.session()?))
            .map_err(|e| {
                tracing::warn!(venue = %self.venue, "FIX send failed: {e}");
                LinkError::Disconnected {
                    venue: self.venue.clone(),
                }
            })
    }
}

impl Drop for FixBookLink {
    fn drop(&mut self) {
        if let Some(h) = self.host.take() {
            h.stop();
        }
    }
}

use fix::new_message as new_msg;

impl VenueLink for FixBookLink {
    fn id(&self) -> &VenueId {
        &self.venue
    }

    fn send(&self, order: VenueOrder) -> Result<(), LinkError> {
        let msg = (|| {
            let mut m = new_msg("D")?;
            m.set_field(11, format!("{}.{}", self.prefix, order.client_id))?;
            m.set_field(21, "1")?;
            m.set_field(55, order.instrument.as_str())?;
            m.set_field(54, if order.side == Side::Buy { "1" } else { "2" })?;
            m.set_field(38, order.qty.to_string())?;
            m.set_field(40, "2")?;
            m.set_field(44, order.limit_px.to_string())?;
            m.set_field(59, "3")?;
            m.set_field(60, fix::utc_now())?;
            Ok(m)
        })();
        self.send_msg(msg)
    }

    fn cancel(&self, client_id: &str) -> Result<(), LinkError> {
        let msg = (|| {
            let mut m = new_msg("F")?;
            m.set_field(41, format!("{}.{client_id}", self.prefix))?;
            m.set_field(11, format!("{}.{client_id}.cxl", self.prefix))?;
            m.set_field(55, self.instrument.as_str())?;
            m.set_field(54, "2")?;
            m.set_field(60, fix::utc_now())?;
            Ok(m)
        })();
        self.send_msg(msg)
    }

    fn reconcile(&self, client_id: &str, known: Known) -> Result<(), LinkError> {
        if !self
            .reconciler
            .lock()
            .track(client_id, known.filled, known.gross)
        {
            return Err(LinkError::Busy {
                venue: self.venue.clone(),
                capacity: super::reconcile::MAX_RECONCILING,
            });
        }
        // Asked now if the session is up, else as soon as it logs on (after QuickFIX
        // has asked the exchange to resend what we missed).
        if self.is_up() {
            let asked = self.reconciler.lock().take_unasked();
            for child in asked {
                if let Err(e) =
                    self.send_msg(status_request(&self.prefix, &self.instrument, &child))
                {
                    self.reconciler.lock().unask(&child);
                    tracing::warn!(venue = %self.venue, %child, "status request not sent: {e}");
                }
            }
        }
        Ok(())
    }
}

/// An OrderStatusRequest (35=H) for one child.
fn status_request(prefix: &str, instrument: &str, child: &str) -> Result<Message, QuickFixError> {
    let mut m = new_msg("H")?;
    m.set_field(11, format!("{prefix}.{child}"))?;
    m.set_field(55, instrument)?;
    m.set_field(54, "2")?;
    Ok(m)
}

fn field_dec(msg: &Fields<'_>, tag: i32) -> Option<Decimal> {
    msg.get(tag).and_then(|v| Decimal::from_str(&v).ok())
}

/// How many MDEntries (268) a market data message holds, by their first field
/// MDEntryType(269), so none is asked for past the last (see [`fix::present`]).
fn md_entries(msg: &Message) -> i32 {
    Fields::new(msg)
        .group_entries(269)
        .map_or(i32::MAX, |n| i32::try_from(n).unwrap_or(i32::MAX))
}

impl LinkApp {
    fn emit(&self, event: LinkEvent) {
        self.relay.emit(event);
    }

    fn child_of(&self, cl_ord_id: &str) -> Option<String> {
        cl_ord_id
            .strip_prefix(&self.config.cl_ord_prefix)
            .and_then(|rest| rest.strip_prefix('.'))
            .filter(|c| !c.ends_with(".cxl"))
            .map(str::to_owned)
    }

    fn on_exec_report(&self, msg: &Message) {
        let msg = &Fields::new(msg);
        // A cancel's report names the order it cancelled in OrigClOrdID(41).
        let Some(cl) = msg.get(41).or_else(|| msg.get(11)) else {
            return;
        };
        let Some(child) = self.child_of(&cl) else {
            tracing::debug!(venue = %self.config.venue, %cl, "report for an order this run did not send");
            return;
        };
        let fields = ReportFields {
            exec_type: msg.get(150).unwrap_or_default(),
            ord_status: msg.get(39).unwrap_or_default(),
            order_qty: field_dec(msg, 38),
            cum_qty: field_dec(msg, 14),
            avg_px: field_dec(msg, 6),
            last_qty: field_dec(msg, 32),
            last_px: field_dec(msg, 31),
            fee: field_dec(msg, 12),
            exec_id: msg.get(17).unwrap_or_default(),
        };
        let reconciled = self.reconciler.lock().on_report(&child, &fields);
        if let Some(reports) = reconciled {
            for report in reports {
                self.emit(LinkEvent::Report {
                    venue: self.config.venue.clone(),
                    client_id: child.clone(),
                    report,
                });
            }
            return;
        }
        let report = match msg.get(150).as_deref() {
            Some("0") => Some(VenueReport::Ack),
            Some("F") => match (field_dec(msg, 32), field_dec(msg, 31)) {
                (Some(qty), Some(px)) => Some(VenueReport::Fill {
                    qty,
                    px,
                    fee: field_dec(msg, 12).unwrap_or(Decimal::ZERO),
                    // ExecID(17): a resent or duplicated report carries the same one.
                    exec_id: msg.get(17).unwrap_or_default(),
                }),
                _ => {
                    tracing::error!(venue = %self.config.venue, %cl, "fill without LastQty/LastPx ignored");
                    None
                }
            },
            Some("4") | Some("C") => {
                let unfilled = match (field_dec(msg, 38), field_dec(msg, 14)) {
                    (Some(qty), Some(cum)) => qty - cum,
                    _ => Decimal::ZERO,
                };
                (unfilled > Decimal::ZERO).then_some(VenueReport::Expired { unfilled })
            }
            Some("8") => Some(VenueReport::Rejected {
                kind: crate::RejectKind::Invalid,
                reason: msg
                    .get(58)
                    .unwrap_or_else(|| "rejected by the exchange".into()),
            }),
            _ => None,
        };
        if let Some(report) = report {
            self.emit(LinkEvent::Report {
                venue: self.config.venue.clone(),
                client_id: child,
                report,
            });
        }
    }

    fn on_snapshot(&self, msg: &Message) {
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        let entries = md_entries(msg);
        let mut i = 1;
        while i <= entries
            && let Some((t, px, qty)) = msg.with_group(i, 268, |g| {
                (g.get_field(269), g.get_field(270), g.get_field(271))
            })
        {
            i += 1;
            let (Some(t), Some(px), Some(qty)) = (t, px, qty) else {
                continue;
            };
            let (Ok(px), Ok(qty)) = (Decimal::from_str(&px), Decimal::from_str(&qty)) else {
                continue;
            };
            match t.as_str() {
                "0" => bids.push(Level { px, qty }),
                "1" => asks.push(Level { px, qty }),
                _ => {}
            }
            if i > 10_000 {
                break;
            }
        }
        // The book's best first: bids high → low, asks low → high.
        bids.sort_by_key(|l| std::cmp::Reverse(l.px));
        asks.sort_by_key(|l| l.px);
        for (side, levels) in [(Side::Sell, bids), (Side::Buy, asks)] {
            self.emit(LinkEvent::Liquidity(Liquidity {
                venue: self.config.venue.clone(),
                kind: VenueKind::Book,
                instrument: self.config.instrument.clone(),
                side,
                shape: CurveShape::Steps(levels),
                fee_bps: self.config.taker_fee_bps,
                fixed_cost: Decimal::ZERO,
                fixed_cost_asset: "USD".to_owned(),
            }));
        }
    }

    fn on_incremental(&self, msg: &Message) {
        let entries = md_entries(msg);
        let mut i = 1;
        while i <= entries
            && let Some((t, px, qty)) = msg.with_group(i, 268, |g| {
                (g.get_field(269), g.get_field(270), g.get_field(271))
            })
        {
            i += 1;
            if t.as_deref() == Some("2")
                && let (Some(px), Some(qty)) = (px, qty)
                && let (Ok(px), Ok(qty)) = (Decimal::from_str(&px), Decimal::from_str(&qty))
            {
                self.emit(LinkEvent::Trade {
                    venue: self.config.venue.clone(),
                    px,
                    qty,
                });
            }
            if i > 10_000 {
                break;
            }
        }
    }

    fn subscribe(&self, session: &SessionId) -> Result<(), QuickFixError> {
        let mut m = new_msg("V")?;
        m.set_field(262, format!("md-{}", self.config.venue))?;
        m.set_field(263, "1")?;
        m.set_field(264, "0")?;
        m.set_field(265, "0")?;
        for t in ["0", "1", "2"] {
            let mut g = Group::try_new(267, 269)?;
            g.set_field(269, t)?;
            m.add_group(&g)?;
        }
        let mut g = Group::try_new(146, 55)?;
        g.set_field(55, self.config.instrument.as_str())?;
        m.add_group(&g)?;
        send_to_target(m, session)
    }
}

impl ApplicationCallback for LinkApp {
    fn on_logon(&self, session: &SessionId) {
        self.up.store(true, Ordering::Release);
        self.emit(LinkEvent::Connection {
            venue: self.config.venue.clone(),
            up: true,
            reason: format!("FIX session to {} logged on", self.config.target),
        });
        if let Err(e) = self.subscribe(session) {
            tracing::error!(venue = %self.config.venue, "market data request failed: {e}");
        }
        let asked = self.reconciler.lock().take_unasked();
        for child in asked {
            let sent = status_request(&self.config.cl_ord_prefix, &self.config.instrument, &child)
                .and_then(|m| send_to_target(m, session));
            if let Err(e) = sent {
                self.reconciler.lock().unask(&child);
                tracing::warn!(venue = %self.config.venue, %child, "status request not sent: {e}");
            }
        }
    }

    fn on_logout(&self, _session: &SessionId) {
        let was_up = self.up.swap(false, Ordering::AcqRel);
        if was_up {
            self.emit(LinkEvent::Connection {
                venue: self.config.venue.clone(),
                up: false,
                reason: format!("FIX session to {} logged out", self.config.target),
            });
        }
    }

    fn on_msg_from_app(&self, msg: &Message, _session: &SessionId) -> Result<(), MsgFromAppError> {
        match msg.with_header(|h| h.get_field(35)).as_deref() {
            Some("8") => self.on_exec_report(msg),
            Some("W") => self.on_snapshot(msg),
            Some("X") => self.on_incremental(msg),
            Some("9") => {
                tracing::debug!(venue = %self.config.venue, "cancel rejected: {:?}", msg.get_field(58))
            }
            Some("Y") => {
                tracing::error!(venue = %self.config.venue, "market data refused: {:?}", msg.get_field(58))
            }
            _ => return Err(MsgFromAppError::UnsupportedMessageType),
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::InlineEvents;

    /// An engine stand-in: takes events while `free`, and keeps what it took.
    struct Engine {
        free: AtomicBool,
        took: parking_lot::Mutex<Vec<LinkEvent>>,
    }

    struct Handler(Arc<Engine>);

    impl InlineEvents for Handler {
        fn try_handle(&self, event: LinkEvent) -> Option<LinkEvent> {
            if !self.0.free.load(Ordering::Acquire) {
                return Some(event);
            }
            self.0.took.lock().push(event);
            None
        }
    }

    fn up(n: usize) -> LinkEvent {
        LinkEvent::Connection {
            venue: VenueId("book-x".into()),
            up: true,
            reason: format!("event {n}"),
        }
    }

    /// A sell-side snapshot of book-x whose best price is `n` (so snapshots tell
    /// their order).
    fn snapshot(n: i64) -> LinkEvent {
        LinkEvent::Liquidity(Liquidity {
            venue: VenueId("book-x".into()),
            kind: crate::VenueKind::Book,
            instrument: "USDC/USD".into(),
            side: Side::Sell,
            shape: crate::CurveShape::Steps(vec![crate::Level {
                px: Decimal::from(n),
                qty: Decimal::ONE,
            }]),
            fee_bps: Decimal::ZERO,
            fixed_cost: Decimal::ZERO,
            fixed_cost_asset: "USD".into(),
        })
    }

    /// What reaches the engine's queue until it has been quiet for a while.
    fn drain(queue: &crossbeam_channel::Receiver<LinkEvent>) -> Vec<LinkEvent> {
        let mut got = Vec::new();
        while let Ok(event) = queue.recv_timeout(std::time::Duration::from_millis(300)) {
            got.push(event);
        }
        got
    }

    #[test]
    fn a_newer_snapshot_never_overtakes_an_older_one_kept_while_the_queue_was_full() {
        let (sink, queue) = crossbeam_channel::bounded(1);
        let relay = Relay::start(sink, InlineSlot::default(), &VenueId("book-x".into())).unwrap();
        relay.emit(up(0));
        // The engine's queue is full: these two are kept, the second replacing the first.
        relay.emit(snapshot(1));
        relay.emit(snapshot(2));
        assert_eq!(queue.recv().unwrap(), up(0));
        // Room again, but snapshot 2 is still kept: 3 must not go ahead of it (the
        // engine would then be left on 2); it replaces it.
        relay.emit(snapshot(3));
        let got = drain(&queue);
        assert_eq!(got, vec![snapshot(3)], "only the newest, once");

        // And with nothing kept, straight through again.
        relay.emit(snapshot(4));
        assert_eq!(drain(&queue), vec![snapshot(4)]);
    }

    #[test]
    fn under_a_slow_engine_snapshots_arrive_in_order_and_the_last_one_arrives() {
        let (sink, queue) = crossbeam_channel::bounded(2);
        let relay = Relay::start(sink, InlineSlot::default(), &VenueId("book-x".into())).unwrap();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            while let Ok(event) = queue.recv_timeout(std::time::Duration::from_millis(500)) {
                got.push(event);
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
            got
        });
        for n in 1..=2_000 {
            if n % 3 == 0 {
                relay.emit(up(n as usize));
            } else {
                relay.emit(snapshot(n));
            }
        }
        let got = reader.join().unwrap();
        let prices: Vec<Decimal> = got
            .iter()
            .filter_map(|e| match e {
                LinkEvent::Liquidity(l) => match &l.shape {
                    crate::CurveShape::Steps(levels) => Some(levels[0].px),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        assert!(
            prices.windows(2).all(|w| w[0] < w[1]),
            "snapshots out of order: {prices:?}"
        );
        assert_eq!(prices.last(), Some(&Decimal::from(2_000)));
        let others: Vec<&LinkEvent> = got
            .iter()
            .filter(|e| !matches!(e, LinkEvent::Liquidity(_)))
            .collect();
        let sent: Vec<LinkEvent> = (1..=2_000).filter(|n| n % 3 == 0).map(up).collect();
        assert_eq!(
            others,
            sent.iter().collect::<Vec<_>>(),
            "every other event, in order"
        );
    }

    #[test]
    fn an_event_goes_to_the_engine_directly_only_when_nothing_is_queued_ahead_of_it() {
        let (sink, queue) = crossbeam_channel::bounded(8);
        let engine = Arc::new(Engine {
            free: AtomicBool::new(true),
            took: parking_lot::Mutex::new(Vec::new()),
        });
        let slot = InlineSlot::default();
        let relay = Relay::start(sink, slot.clone(), &VenueId("book-x".into())).unwrap();

        // No handler yet: queued.
        relay.emit(up(0));
        assert_eq!(queue.try_recv().unwrap(), up(0));

        assert!(slot.set(Box::new(Handler(engine.clone()))));
        relay.emit(up(1));
        assert!(queue.is_empty(), "taken on this thread");

        // The engine is busy: queued, and what follows goes behind it, not around.
        engine.free.store(false, Ordering::Release);
        relay.emit(up(2));
        engine.free.store(true, Ordering::Release);
        relay.emit(up(3));
        assert_eq!(queue.try_recv().unwrap(), up(2));
        assert_eq!(queue.try_recv().unwrap(), up(3));
        assert_eq!(*engine.took.lock(), vec![up(1)]);

        // Queue empty again: direct once more.
        relay.emit(up(4));
        assert_eq!(*engine.took.lock(), vec![up(1), up(4)]);
    }
}
