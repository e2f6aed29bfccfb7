//! [`RfqLink`]: one OTC dealer over HTTP/WebSocket behind the engine's [`VenueLink`].
//!
//! `send` spawns, on the tokio runtime given at start, the quote → accept flow for that
//! one dealer ([`Auction`] over a single dealer, limit = the child's limit) and reports
//! on the [`LinkSink`]: `Ack` then `Fill` for a confirmed trade, or `Rejected` with the
//! reason (last look, expired quote, quote off limit, no liquidity, invalid). A child
//! cancelled while still quoting ends `Expired` with its whole quantity; once the
//! acceptance is out, cancel is `Unsupported` (fill-or-kill: nothing to cancel).
//!
//! An acceptance whose fate is unknown after its retries is reconciled with trade
//! lookups (`GET /v1/trades/{id}`) for up to `reconcile_for`; nothing is reported until
//! the dealer answers. If it never does, the link logs an error and reports the dealer
//! down (`Connection{up: false}`) naming the order, never a fill or a reject it does
//! not know.
//!
//! The ladder stream becomes `LinkEvent::Liquidity` for both sides (tiers, as the
//! in-process [`crate::sim::RfqDealerSim`] shows them) whenever it changes, and its
//! state becomes `LinkEvent::Connection`.

use super::auction::{Auction, AuctionConfig, AuctionRequest, AuctionResult, reject_kind_of};
use super::client::{ClientError, DealerClient, DealerConfig};
use super::stream::LadderEvent;
use super::wire::{OrderResult, Tier};
use crate::{
    CurveShape, Known, Level, LinkError, LinkEvent, LinkSink, Liquidity, RejectKind, Side, VenueId,
    VenueKind, VenueLink, VenueOrder, VenueReport,
};
use parking_lot::Mutex;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

/// How an [`RfqLink`] trades with its dealer.
#[derive(Debug, Clone)]
pub struct RfqLinkConfig {
    /// The dealer: URL, key, instrument, fee, timeouts, retries.
    pub dealer: DealerConfig,
    /// Quote deadline, safety margin, re-quote rounds and acceptances per child.
    pub auction: AuctionConfig,
    /// Whether to stream the ladder (and report it as liquidity).
    pub stream_ladder: bool,
    /// Children in flight at most; more are refused with `LinkError::Busy`.
    pub max_in_flight: usize,
    /// How long to keep looking up an unresolved acceptance.
    pub reconcile_for: Duration,
    /// Pause between those lookups.
    pub reconcile_every: Duration,
    /// Prefix of every order id sent to the dealer (`<prefix>.<child>.<round>.<dealer>`):
    /// the gateway run's, kept across restarts by the journal, so a child id reused by a
    /// later run can never collide with an old order at the dealer (orders are
    /// idempotent by id there). Empty: no prefix.
    pub order_prefix: String,
}

impl RfqLinkConfig {
    /// The dealer with default auction bounds, the ladder streamed, 64 children in
    /// flight, and 60 s of reconciliation, one lookup every 500 ms.
    pub fn new(dealer: DealerConfig) -> Self {
        Self {
            dealer,
            auction: AuctionConfig::default(),
            stream_ladder: true,
            max_in_flight: 64,
            reconcile_for: Duration::from_secs(60),
            reconcile_every: Duration::from_millis(500),
            order_prefix: String::new(),
        }
    }

    /// The request id (order id stem) of `child` at the dealer.
    fn request_id(&self, child: &str) -> String {
        if self.order_prefix.is_empty() {
            child.to_owned()
        } else {
            format!("{}.{child}", self.order_prefix)
        }
    }
}

/// Where a child is in its flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChildState {
    /// Asking for a quote: can still be cancelled.
    Quoting,
    /// An acceptance went out: fill-or-kill, no cancel.
    Accepting,
    /// Cancelled while quoting: no acceptance will go out.
    Cancelled,
}

#[derive(Debug, Default)]
struct ConnState {
    reported: Option<bool>,
    http_ok: bool,
    ws_ok: bool,
}

struct Inner {
    id: VenueId,
    client: DealerClient,
    config: RfqLinkConfig,
    sink: LinkSink,
    children: Mutex<HashMap<String, ChildState>>,
    conn: Mutex<ConnState>,
}

/// A live RFQ dealer behind [`VenueLink`].
pub struct RfqLink {
    inner: Arc<Inner>,
    runtime: Handle,
    ladder: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RfqLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RfqLink")
            .field("venue", &self.inner.id)
            .field("client", &self.inner.client)
            .finish_non_exhaustive()
    }
}

impl RfqLink {
    /// Starts the link on `runtime` (the ladder subscription begins at once if
    /// configured); events go to `sink`.
    pub fn start(
        config: RfqLinkConfig,
        runtime: Handle,
        sink: LinkSink,
    ) -> Result<Self, ClientError> {
        let client = DealerClient::new(config.dealer.clone())?;
        let inner = Arc::new(Inner {
            id: config.dealer.venue.clone(),
            client,
            config,
            sink,
            children: Mutex::new(HashMap::new()),
            conn: Mutex::new(ConnState {
                reported: None,
                http_ok: true,
                ws_ok: false,
            }),
        });
        let ladder = inner
            .config
            .stream_ladder
            .then(|| runtime.spawn(stream_ladder(inner.clone(), runtime.clone())));
        Ok(Self {
            inner,
            runtime,
            ladder,
        })
    }

    /// Children still in flight.
    pub fn in_flight(&self) -> usize {
        self.inner.children.lock().len()
    }
}

impl Drop for RfqLink {
    fn drop(&mut self) {
        if let Some(task) = self.ladder.take() {
            task.abort();
        }
    }
}

impl VenueLink for RfqLink {
    fn id(&self) -> &VenueId {
        &self.inner.id
    }

    fn send(&self, order: VenueOrder) -> Result<(), LinkError> {
        {
            let mut children = self.inner.children.lock();
            if children.len() >= self.inner.config.max_in_flight {
                return Err(LinkError::Busy {
                    venue: self.inner.id.clone(),
                    capacity: self.inner.config.max_in_flight,
                });
            }
            if children.contains_key(&order.client_id) {
                return Err(LinkError::Unsupported {
                    venue: self.inner.id.clone(),
                    what: format!("send child {} twice", order.client_id),
                });
            }
            children.insert(order.client_id.clone(), ChildState::Quoting);
        }
        self.runtime.spawn(execute(self.inner.clone(), order));
        Ok(())
    }

    fn cancel(&self, client_id: &str) -> Result<(), LinkError> {
        let mut children = self.inner.children.lock();
        match children.get_mut(client_id) {
            None => Err(LinkError::UnknownChild {
                venue: self.inner.id.clone(),
                client_id: client_id.to_owned(),
            }),
            Some(state @ ChildState::Quoting) => {
                *state = ChildState::Cancelled;
                Ok(())
            }
            Some(ChildState::Cancelled) => Ok(()),
            Some(ChildState::Accepting) => Err(LinkError::Unsupported {
                venue: self.inner.id.clone(),
                what: format!("cancel {client_id}: its fill-or-kill acceptance is out"),
            }),
        }
    }

    /// After a restart: looks the child's acceptances up at the dealer (every round it
    /// may have reached), and reports the trade, the refusal, or, when the dealer never
    /// saw one, that the child never reached it.
    fn reconcile(&self, client_id: &str, known: Known) -> Result<(), LinkError> {
        let inner = self.inner.clone();
        let child = client_id.to_owned();
        self.runtime.spawn(async move {
            let reports = reconcile_after_restart(&inner, &child, known.filled).await;
            for r in reports {
                emit(&inner.sink, inner.report(&child, r)).await;
            }
        });
        Ok(())
    }
}

/// What the dealer did with `child`'s acceptances, by lookup of each round's order id.
async fn reconcile_after_restart(
    inner: &Arc<Inner>,
    child: &str,
    known_filled: Decimal,
) -> Vec<VenueReport> {
    let stem = inner.config.request_id(child);
    let fee_bps = inner.client.config().fee_bps;
    let mut refused = None;
    for round in 1..=inner.config.auction.max_rounds.max(1) {
        let order_id = format!("{stem}.{round}.{}", inner.id);
        match inner.client.trade(&order_id).await {
            Ok(Some(OrderResult::Filled(trade))) => {
                tracing::info!(dealer = %inner.id, %child, order = %order_id, "rfq child reconciled after restart: filled");
                if known_filled >= trade.quantity {
                    return Vec::new();
                }
                let fee = trade.price * trade.quantity * fee_bps / Decimal::from(10_000);
                return vec![
                    VenueReport::Ack,
                    VenueReport::Fill {
                        qty: trade.quantity,
                        px: trade.price,
                        fee,
                        exec_id: trade.trade_id,
                    },
                ];
            }
            Ok(Some(OrderResult::Rejected(r))) => {
                refused = Some(reject(reject_kind_of(r.reason), r.message));
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(dealer = %inner.id, %child, order = %order_id, error = %e,
                    "rfq trade lookup after restart failed: check this child with the dealer");
                return Vec::new();
            }
        }
    }
    vec![refused.unwrap_or_else(|| {
        reject(
            RejectKind::Unreachable,
            "the dealer has no order for this child: it never reached the dealer before the restart".into(),
        )
    })]
}

impl Inner {
    /// Quoting → Accepting; false if the child was cancelled.
    fn begin_accept(&self, client_id: &str) -> bool {
        let mut children = self.children.lock();
        match children.get_mut(client_id) {
            Some(state @ ChildState::Quoting) => {
                *state = ChildState::Accepting;
                true
            }
            Some(ChildState::Accepting) => true,
            Some(ChildState::Cancelled) | None => false,
        }
    }

    /// Updates the connection state; the event to push if the link went up or down.
    fn connection(&self, change: impl FnOnce(&mut ConnState), reason: &str) -> Option<LinkEvent> {
        let mut c = self.conn.lock();
        change(&mut c);
        let up = c.http_ok && (c.ws_ok || !self.config.stream_ladder);
        if c.reported == Some(up) {
            return None;
        }
        c.reported = Some(up);
        Some(LinkEvent::Connection {
            venue: self.id.clone(),
            up,
            reason: reason.to_owned(),
        })
    }

    fn report(&self, client_id: &str, report: VenueReport) -> LinkEvent {
        LinkEvent::Report {
            venue: self.id.clone(),
            client_id: client_id.to_owned(),
            report,
        }
    }
}

/// Puts an event on the engine's bounded queue; when it is full, waits on a blocking
/// thread (back-pressure) rather than stall a runtime worker or drop the event.
async fn emit(sink: &LinkSink, event: LinkEvent) {
    match sink.try_send(event) {
        Ok(()) => {}
        Err(crossbeam_channel::TrySendError::Full(event)) => {
            let sink = sink.clone();
            let sent = tokio::task::spawn_blocking(move || sink.send(event).is_ok()).await;
            if !matches!(sent, Ok(true)) {
                tracing::warn!("rfq link: the engine's queue is gone; event dropped");
            }
        }
        Err(crossbeam_channel::TrySendError::Disconnected(_)) => {
            tracing::warn!("rfq link: the engine's queue is gone; event dropped");
        }
    }
}

fn reject(kind: RejectKind, reason: String) -> VenueReport {
    VenueReport::Rejected { kind, reason }
}

/// One child: validate, quote and accept, report; reconcile if the acceptance's fate
/// is unknown.
async fn execute(inner: Arc<Inner>, order: VenueOrder) {
    let reports = run_child(&inner, &order).await;
    inner.children.lock().remove(&order.client_id);
    for r in reports {
        emit(&inner.sink, inner.report(&order.client_id, r)).await;
    }
}

async fn run_child(inner: &Arc<Inner>, order: &VenueOrder) -> Vec<VenueReport> {
    let dealer = inner.client.config();
    if order.instrument != dealer.instrument {
        return vec![reject(
            RejectKind::Invalid,
            format!("dealer {} does not quote {}", inner.id, order.instrument),
        )];
    }
    if order.qty <= Decimal::ZERO || order.limit_px <= Decimal::ZERO {
        return vec![reject(
            RejectKind::Invalid,
            format!(
                "quantity {} and limit {} must be positive",
                order.qty, order.limit_px
            ),
        )];
    }
    let auction = Auction::new(vec![inner.client.clone()], inner.config.auction.clone());
    let request = AuctionRequest {
        request_id: inner.config.request_id(&order.client_id),
        instrument: order.instrument.clone(),
        side: order.side,
        quantity: order.qty,
        limit: Some(order.limit_px),
    };
    let gate_inner = inner.clone();
    let client_id = order.client_id.clone();
    let gate = move || gate_inner.begin_accept(&client_id);
    let outcome = auction.run_gated(&request, &gate).await;

    // The dealer's HTTP side is down only if every call this child made was refused at
    // connect.
    let all_down = outcome.attempts.iter().all(|a| {
        matches!(
            a.quote,
            super::auction::QuoteOutcome::Skipped {
                reason: super::auction::SkipReason::Down,
                ..
            }
        )
    });
    let reason = if all_down {
        "http: dealer refused connections"
    } else {
        "http: dealer answering"
    };
    if let Some(ev) = inner.connection(|c| c.http_ok = !all_down, reason) {
        emit(&inner.sink, ev).await;
    }

    match outcome.result {
        AuctionResult::Filled { trade, fee, .. } => vec![
            VenueReport::Ack,
            VenueReport::Fill {
                qty: trade.quantity,
                px: trade.price,
                fee,
                exec_id: trade.trade_id,
            },
        ],
        AuctionResult::NotFilled => {
            let (kind, reason) = outcome.reject_kind();
            vec![reject(kind, reason)]
        }
        AuctionResult::Cancelled => vec![VenueReport::Expired {
            unfilled: order.qty,
        }],
        AuctionResult::Unresolved {
            client_order_id, ..
        } => reconcile(inner, order, &client_order_id).await,
    }
}

/// Looks an unresolved acceptance up until the dealer answers or time runs out.
async fn reconcile(
    inner: &Arc<Inner>,
    order: &VenueOrder,
    client_order_id: &str,
) -> Vec<VenueReport> {
    let until = tokio::time::Instant::now() + inner.config.reconcile_for;
    let fee_bps = inner.client.config().fee_bps;
    loop {
        match inner.client.trade(client_order_id).await {
            Ok(Some(OrderResult::Filled(trade))) => {
                tracing::info!(dealer = %inner.id, order = %client_order_id, trade = %trade.trade_id, "rfq order reconciled: filled");
                let fee = trade.price * trade.quantity * fee_bps / Decimal::from(10_000);
                return vec![
                    VenueReport::Ack,
                    VenueReport::Fill {
                        qty: trade.quantity,
                        px: trade.price,
                        fee,
                        exec_id: trade.trade_id,
                    },
                ];
            }
            Ok(Some(OrderResult::Rejected(r))) => {
                tracing::info!(dealer = %inner.id, order = %client_order_id, reason = %r.reason, "rfq order reconciled: rejected");
                return vec![reject(reject_kind_of(r.reason), r.message)];
            }
            Ok(None) => {
                tracing::warn!(dealer = %inner.id, order = %client_order_id, "rfq order unknown to the dealer yet; looking again");
            }
            Err(e) => {
                tracing::warn!(dealer = %inner.id, order = %client_order_id, error = %e, "rfq trade lookup failed; looking again");
            }
        }
        if tokio::time::Instant::now() + inner.config.reconcile_every > until {
            break;
        }
        tokio::time::sleep(inner.config.reconcile_every).await;
    }
    tracing::error!(
        dealer = %inner.id, child = %order.client_id, order = %client_order_id,
        "rfq order still unresolved; reconcile by hand before trading with this dealer"
    );
    let reason = format!("order {client_order_id} unresolved: reconcile by hand");
    let down = inner.connection(|c| c.http_ok = false, &reason);
    let ev = down.unwrap_or(LinkEvent::Connection {
        venue: inner.id.clone(),
        up: false,
        reason,
    });
    emit(&inner.sink, ev).await;
    Vec::new()
}

/// Turns a streamed ladder into the two liquidity snapshots the router reads, shaped
/// as [`crate::sim::RfqDealerSim`] shows them: a taker selling sees the bids, a taker
/// buying sees the asks, each as tiers smallest first (a rung that repeats the next
/// rung's price adds nothing and is merged into it).
pub fn ladder_liquidity(
    venue: &VenueId,
    instrument: &str,
    fee_bps: Decimal,
    tiers: &[Tier],
) -> [Liquidity; 2] {
    let side_of = |side: Side| {
        let mut levels: Vec<Level> = Vec::with_capacity(tiers.len());
        for t in tiers {
            let px = match side {
                Side::Sell => t.bid,
                Side::Buy => t.ask,
            };
            let Some(px) = px else { continue };
            if t.quantity <= Decimal::ZERO || px <= Decimal::ZERO {
                continue;
            }
            match levels.last_mut() {
                Some(last) if last.qty >= t.quantity => continue,
                Some(last) if last.px == px => last.qty = t.quantity,
                _ => levels.push(Level {
                    px,
                    qty: t.quantity,
                }),
            }
        }
        Liquidity {
            venue: venue.clone(),
            kind: VenueKind::Rfq,
            instrument: instrument.to_owned(),
            side,
            shape: CurveShape::Tiers(levels),
            fee_bps,
            fixed_cost: Decimal::ZERO,
            fixed_cost_asset: "USD".to_owned(),
        }
    };
    [side_of(Side::Sell), side_of(Side::Buy)]
}

async fn stream_ladder(inner: Arc<Inner>, runtime: Handle) {
    let mut sub = inner.client.subscribe_ladder(&runtime);
    let dealer = inner.client.config();
    let mut last: Option<Vec<Tier>> = None;
    while let Some(event) = sub.next().await {
        match event {
            LadderEvent::Up => {
                if let Some(ev) = inner.connection(|c| c.ws_ok = true, "ladder stream up") {
                    emit(&inner.sink, ev).await;
                }
            }
            LadderEvent::Down { reason } => {
                last = None;
                if let Some(ev) = inner.connection(|c| c.ws_ok = false, &reason) {
                    emit(&inner.sink, ev).await;
                }
            }
            LadderEvent::Ladder { tiers, .. } => {
                if last.as_ref() == Some(&tiers) {
                    continue;
                }
                let [sell, buy] =
                    ladder_liquidity(&inner.id, &dealer.instrument, dealer.fee_bps, &tiers);
                emit(&inner.sink, LinkEvent::Liquidity(sell)).await;
                emit(&inner.sink, LinkEvent::Liquidity(buy)).await;
                last = Some(tiers);
            }
        }
    }
}
