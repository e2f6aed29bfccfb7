//! The engine: one deterministic state machine, `(state, event) -> commands`.
//!
//! It owns every parent and child, the latest liquidity of every venue, the router and
//! the risk gate. It does no I/O and reads no clock: [`Engine::handle`] is given the time
//! with each event and answers with [`Command`]s for the world (send a child, cancel
//! one, call back later, tell the desk). Same events and times in, same commands out.

mod event;
mod queue;
mod retired;
mod tables;

pub use event::{Command, DeskEvent, DeskReport, Event, NewParent};
pub use queue::{EngineLoop, QueueError};
pub use tables::{Children, Parents};

use crate::algo::{TwapSchedule, twap_slice_target};
use crate::domain::{
    ChildId, ChildOrder, ChildStatus, Instruments, OrderError, ParentId, ParentOrder, ParentStatus,
    Strategy, Valuation,
};
use crate::router::{RouteBook, RouteRequest, RouteVenue, Router};
use retired::Retired;
use risk::{ChildCheck, ChildDone, ChildOutcome, ParentCheck, PreTradeGate, RoomRequest};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};
use venues::{Liquidity, Nanos, RejectKind, Side, VenueId, VenueKind, VenueOrder, VenueReport};

/// Most risk denials kept per parent for its report (later ones are counted only).
const MAX_DENIALS_KEPT: usize = 64;
/// Most times one parent waits for risk cadence to allow a child.
const MAX_CADENCE_WAITS: u32 = 100_000;

/// A venue the engine may route to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueSpec {
    /// Id.
    pub id: VenueId,
    /// Kind.
    pub kind: VenueKind,
    /// Instrument it trades.
    pub instrument: String,
}

/// What the engine needs to know before the first event.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Instruments and their precision.
    pub instruments: Instruments,
    /// Reference prices and asset equivalences.
    pub valuation: Valuation,
    /// Venues, in a fixed order.
    pub venues: Vec<VenueSpec>,
    /// Most routing rounds per slice (the first plus re-routes).
    pub max_rounds: u32,
}

/// An event the engine could not apply. State is unchanged unless said otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A report for a child the engine never sent.
    #[error("unknown child {0}")]
    UnknownChild(ChildId),
    /// An event for a parent the engine does not hold.
    #[error("unknown parent {0}")]
    UnknownParent(ParentId),
    /// A venue report the child's state machine refused (e.g. a fill past its size).
    #[error("venue report refused: {0}")]
    Refused(OrderError),
    /// An internal invariant broke: a bug, and the engine must stop.
    #[error("invariant broken: {0}")]
    Invariant(String),
}

/// Everything known about one parent: the order, its children, its costs.
#[derive(Debug, Clone)]
pub struct ParentRecord {
    /// The order and its state machine.
    pub order: ParentOrder,
    /// The desk's ClOrdID.
    pub client_id: String,
    /// Mid of the parent instrument's books at arrival, if both sides were shown.
    pub arrival_mid: Option<Decimal>,
    /// Reference price of the base asset in the quote at arrival.
    pub reference: Option<Decimal>,
    /// Fees paid, parent quote currency.
    pub fees: Decimal,
    /// Fixed costs paid (gas), parent quote currency.
    pub fixed_costs: Decimal,
    /// Children, in the order they were sent.
    pub children: Vec<ChildId>,
    /// Risk denials (the first [`MAX_DENIALS_KEPT`]) and how many in all.
    pub risk_denials: Vec<String>,
    /// Count of all risk denials.
    pub risk_denial_count: usize,
    /// Routing rounds run.
    pub rounds: u32,
    /// Why it ended, when it ended short or was refused.
    pub reason: Option<String>,
    /// When it reached a terminal status.
    pub finished_at: Option<Nanos>,
    work: Work,
}

#[derive(Debug, Clone, Default)]
struct Work {
    max_clip: Option<Decimal>,
    allow: Option<BTreeSet<String>>,
    /// Venues left out of the current round (they rejected in the round before).
    excluded: BTreeSet<VenueId>,
    /// Venues that rejected (or were denied by risk) in the current round.
    rejected_now: BTreeSet<VenueId>,
    open_children: u32,
    round: u32,
    slice: u32,
    schedule: Option<TwapSchedule>,
    slice_goal: Decimal,
    /// When risk cadence next lets a venue take a child this round could not place.
    retry_at: Option<Nanos>,
    /// A cadence retry is scheduled.
    retry_pending: bool,
    /// Cadence retries used (bounded by [`MAX_CADENCE_WAITS`]).
    cadence_waits: u32,
}

/// A route book built ahead, with the snapshots it was built from.
#[derive(Debug)]
struct Prepared {
    inputs: Vec<Liquidity>,
    book: RouteBook,
}

/// One value for each side of a market, so a map keyed by instrument or venue is
/// looked up with a borrowed key (no owned `(String, Side)` built for each look-up).
#[derive(Debug)]
struct BySide<T> {
    buy: Option<T>,
    sell: Option<T>,
}

impl<T> Default for BySide<T> {
    fn default() -> Self {
        Self {
            buy: None,
            sell: None,
        }
    }
}

impl<T> BySide<T> {
    /// `value` on `side`, nothing on the other.
    fn with(side: Side, value: T) -> Self {
        let mut sides = Self::default();
        *sides.slot(side) = Some(value);
        sides
    }

    /// The value for `side`, if any.
    fn get(&self, side: Side) -> Option<&T> {
        match side {
            Side::Buy => self.buy.as_ref(),
            Side::Sell => self.sell.as_ref(),
        }
    }

    /// The slot for `side`.
    fn slot(&mut self, side: Side) -> &mut Option<T> {
        match side {
            Side::Buy => &mut self.buy,
            Side::Sell => &mut self.sell,
        }
    }

    /// The sides that hold a value.
    fn sides(&self) -> impl Iterator<Item = Side> + '_ {
        [Side::Buy, Side::Sell]
            .into_iter()
            .filter(|s| self.get(*s).is_some())
    }
}

/// The route books the engine routes on, by parent instrument and side, and the ones
/// built ahead from snapshots not yet applied (see [`Engine::prepare`]).
#[derive(Debug, Default)]
struct RouteBooks {
    /// Each book with the liquidity version it was built at.
    built: FxHashMap<String, BySide<(u64, RouteBook)>>,
    /// At most one per entry of `built`.
    prepared: FxHashMap<String, BySide<Prepared>>,
}

impl RouteBooks {
    /// How many books built ahead wait to be used.
    #[cfg(test)]
    fn prepared_count(&self) -> usize {
        self.prepared.values().map(|p| p.sides().count()).sum()
    }

    /// The route book for a parent instrument and side at liquidity `version`, rebuilt
    /// from `liquidity` when it moved (or taken from those prepared when built ahead
    /// from the same snapshots).
    fn current(
        &mut self,
        config: &EngineConfig,
        liquidity: &BTreeMap<VenueId, BySide<Liquidity>>,
        version: u64,
        instrument: &str,
        side: Side,
        retired: &mut Retired,
    ) -> Result<&RouteBook, EngineError> {
        let fresh = self
            .built
            .get(instrument)
            .and_then(|b| b.get(side))
            .is_some_and(|(v, _)| *v == version);
        if !fresh {
            let lookup = |id: &VenueId| liquidity.get(id).and_then(|l| l.get(side));
            let prepared = self
                .prepared
                .get_mut(instrument)
                .and_then(|p| p.slot(side).take());
            let ready = prepared.filter(|p| {
                let mut current = config.venues.iter().filter_map(|v| lookup(&v.id));
                p.inputs
                    .iter()
                    .all(|a| current.next().is_some_and(|b| identical(a, b)))
                    && current.next().is_none()
            });
            let book = match ready {
                Some(p) => {
                    retired.inputs(p.inputs);
                    p.book
                }
                None => build_book(config, instrument, lookup)?,
            };
            let built = (version, book);
            match self.built.get_mut(instrument) {
                Some(books) => {
                    if let Some((_, old)) = books.slot(side).replace(built) {
                        retired.book(old);
                    }
                }
                None => {
                    self.built
                        .insert(instrument.to_owned(), BySide::with(side, built));
                }
            }
        }
        self.built
            .get(instrument)
            .and_then(|b| b.get(side))
            .map(|(_, b)| b)
            .ok_or_else(|| EngineError::Invariant("route book vanished".into()))
    }
}

/// Builds the route book for a parent instrument from the snapshots `liquidity` gives
/// for each configured venue (all of one side).
fn build_book<'a>(
    config: &EngineConfig,
    instrument: &str,
    liquidity: impl Fn(&VenueId) -> Option<&'a Liquidity>,
) -> Result<RouteBook, EngineError> {
    route_book(config, instrument, liquidity)
        .ok_or_else(|| EngineError::Invariant(format!("instrument {instrument} is not configured")))
}

/// Whether two snapshots are equal down to each decimal's scale: a book built from one
/// is the book built from the other, digit for digit. Decimals are compared by their
/// bits (value and scale at once), which also makes numeric equality (a normalising
/// comparison, several times dearer) redundant; the structs are taken apart field by
/// field, so a field added to them does not compile until it is compared here.
fn identical(a: &Liquidity, b: &Liquidity) -> bool {
    let d = |x: &Decimal, y: &Decimal| x.serialize() == y.serialize();
    let levels = |x: &[venues::Level], y: &[venues::Level]| {
        x.len() == y.len()
            && x.iter().zip(y).all(|(p, q)| {
                let venues::Level { px, qty } = p;
                d(px, &q.px) && d(qty, &q.qty)
            })
    };
    let Liquidity {
        venue,
        kind,
        instrument,
        side,
        shape,
        fee_bps,
        fixed_cost,
        fixed_cost_asset,
    } = a;
    venue == &b.venue
        && kind == &b.kind
        && side == &b.side
        && d(fee_bps, &b.fee_bps)
        && d(fixed_cost, &b.fixed_cost)
        && instrument == &b.instrument
        && fixed_cost_asset == &b.fixed_cost_asset
        && match (shape, &b.shape) {
            (venues::CurveShape::Steps(x), venues::CurveShape::Steps(y))
            | (venues::CurveShape::Tiers(x), venues::CurveShape::Tiers(y)) => levels(x, y),
            (venues::CurveShape::Smooth(x), venues::CurveShape::Smooth(y)) => {
                x.len() == y.len()
                    && x.iter().zip(y).all(|(p, q)| {
                        let venues::Point { qty, amount } = p;
                        d(qty, &q.qty) && d(amount, &q.amount)
                    })
            }
            _ => false,
        }
}

/// The solver's view of every configured venue, in configuration order, from the
/// snapshots `liquidity` gives (all of one side) for a parent in `instrument`. Venues that
/// cannot be valued in the parent's terms are left out. `None` when the instrument is
/// not configured. What the engine routes on, and what TCA's best allocation replays.
pub(crate) fn route_book<'a>(
    config: &EngineConfig,
    instrument: &str,
    liquidity: impl Fn(&VenueId) -> Option<&'a Liquidity>,
) -> Option<RouteBook> {
    let parent = config.instruments.get("instrument", instrument).ok()?;
    let mut venues = Vec::new();
    for spec in &config.venues {
        let Some(liq) = liquidity(&spec.id) else {
            continue;
        };
        let Ok(vi) = config.instruments.get("venue", &spec.instrument) else {
            continue;
        };
        let Ok(conversion) = config.valuation.conversion(vi, parent) else {
            continue;
        };
        let fixed_value = if liq.fixed_cost.is_zero() {
            Decimal::ZERO
        } else {
            match config.valuation.value(&liq.fixed_cost_asset, &parent.quote) {
                Ok(v) => v,
                Err(_) => continue,
            }
        };
        venues.push(RouteVenue::from_liquidity(
            liq,
            conversion,
            fixed_value,
            vi.qty_scale,
        ));
    }
    Some(RouteBook::new(venues))
}

/// The deterministic core.
pub struct Engine<G> {
    config: EngineConfig,
    gate: G,
    router: Router,
    parents: Parents,
    children: Children,
    /// Each venue's latest snapshot of each side.
    liquidity: BTreeMap<VenueId, BySide<Liquidity>>,
    liquidity_version: u64,
    books: RouteBooks,
    /// Books and snapshots replaced on a parent's path, dropped off it.
    retired: Retired,
    /// Each desk's ClOrdIDs seen (a repeated one is refused). A tree, not a hash set:
    /// it grows all day, and a hash set's rehash as it doubles stalls one parent for as
    /// long as it takes to move every id (about a millisecond at 20,000).
    client_ids: FxHashMap<String, BTreeSet<String>>,
    next_parent: u64,
    /// What the gate approved for each working child: (approved at, notional).
    approvals: FxHashMap<ChildId, (Nanos, Decimal)>,
    /// The gate's kill-switch generation last acted on.
    kill_seen: u64,
    /// Ramp stage moves the gate reported, for the log and the report.
    stage_changes: Vec<String>,
    /// Duplicate fills ignored.
    duplicate_fills: u64,
}

impl<G: PreTradeGate> Engine<G> {
    /// An engine with no orders.
    pub fn new(config: EngineConfig, gate: G) -> Self {
        Self {
            config,
            gate,
            router: Router::new(),
            parents: Parents::default(),
            children: Children::default(),
            liquidity: BTreeMap::new(),
            liquidity_version: 0,
            books: RouteBooks::default(),
            retired: Retired::default(),
            client_ids: FxHashMap::default(),
            next_parent: 1,
            approvals: FxHashMap::default(),
            kill_seen: 0,
            stage_changes: Vec::new(),
            duplicate_fills: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Every parent, by id.
    pub fn parents(&self) -> &Parents {
        &self.parents
    }

    /// Every child, by id.
    pub fn children(&self) -> &Children {
        &self.children
    }

    /// Applies one event at time `now`, appending the resulting commands to `out`.
    pub fn handle(
        &mut self,
        now: Nanos,
        event: Event,
        out: &mut Vec<Command>,
    ) -> Result<(), EngineError> {
        self.apply_kill_switches(out);
        match event {
            Event::RetryRound { parent } => self.on_retry_round(now, &parent, out),
            Event::RiskChanged => Ok(()),
            Event::NewParent(p) => self.on_new_parent(now, p, out),
            Event::CancelParent { parent } => self.on_cancel(now, &parent, out),
            Event::Liquidity(liq) => {
                let side = liq.side;
                match self.liquidity.get_mut(&liq.venue) {
                    Some(sides) => {
                        if let Some(old) = sides.slot(side).replace(liq) {
                            self.retired.snapshot(old);
                        }
                    }
                    None => {
                        self.liquidity
                            .insert(liq.venue.clone(), BySide::with(side, liq));
                    }
                }
                self.liquidity_version += 1;
                Ok(())
            }
            Event::Venue { child, report } => self.on_venue(now, &child, report, out),
            Event::SliceDue { parent, slice } => self.on_slice_due(now, &parent, slice, out),
        }
    }

    /// Whether a fill with venue execution id `exec_id` was applied to `child` (what a
    /// reconciliation after a reconnect or a restart asks before feeding a fill).
    pub fn has_exec(&self, child: &ChildId, exec_id: &str) -> bool {
        self.children
            .get(child)
            .is_some_and(|c| c.has_exec(exec_id))
    }

    /// How many duplicate fills (a child's execution id seen before) were ignored.
    pub fn duplicate_fills(&self) -> u64 {
        self.duplicate_fills
    }

    /// The ramp stage moves the gate made, in order.
    pub fn stage_changes(&self) -> &[String] {
        &self.stage_changes
    }

    /// The risk gate (for its snapshot in reports and admin views).
    pub fn gate(&self) -> &G {
        &self.gate
    }

    /// When a kill switch moved, cancels every working child it covers.
    fn apply_kill_switches(&mut self, out: &mut Vec<Command>) {
        let generation = self.gate.kill_generation();
        if generation == self.kill_seen {
            return;
        }
        self.kill_seen = generation;
        for (id, child) in self.children.iter() {
            if child.status().is_terminal() {
                continue;
            }
            let desk = self
                .parents
                .get(&child.parent)
                .map(|p| p.order.desk.as_str())
                .unwrap_or_default();
            if self.gate.must_cancel(desk, child.venue.as_str()) {
                out.push(Command::Cancel {
                    venue: child.venue.clone(),
                    child: id.clone(),
                });
            }
        }
    }

    /// A cadence wait is over: route what the parent still wants.
    fn on_retry_round(
        &mut self,
        now: Nanos,
        id: &ParentId,
        out: &mut Vec<Command>,
    ) -> Result<(), EngineError> {
        let rec = self
            .parents
            .get_mut(id)
            .ok_or_else(|| EngineError::UnknownParent(id.clone()))?;
        rec.work.retry_pending = false;
        if rec.order.status().is_terminal() || rec.work.open_children > 0 {
            return Ok(());
        }
        self.route(now, id, out)?;
        self.maybe_round_done(now, id, out)
    }

    /// Tells the gate a child stopped working, and how.
    fn child_done(
        &mut self,
        child_id: &ChildId,
        filled_qty: Decimal,
        outcome: ChildOutcome,
        now: Nanos,
    ) {
        let Some((sent_at, notional)) = self.approvals.remove(child_id) else {
            return;
        };
        let Some(child) = self.children.get(child_id) else {
            return;
        };
        let desk = self
            .parents
            .get(&child.parent)
            .map(|p| p.order.desk.clone())
            .unwrap_or_default();
        let filled_notional = if child.qty.is_zero() {
            Decimal::ZERO
        } else {
            notional * filled_qty / child.qty
        };
        let change = self.gate.on_child_done(
            &ChildDone {
                desk: &desk,
                venue: child.venue.as_str(),
                sent_at,
                sent_notional: notional,
                filled_notional,
                outcome,
            },
            now,
        );
        if let Some(change) = change {
            let line = format!(
                "{} at {} ms: {} -> {} ({:?}, ramp {})",
                change.venue,
                change.at / 1_000_000,
                change.from,
                change.to,
                change.cause,
                change.ramp
            );
            tracing::info!(venue = %child.venue, "ramp stage: {line}");
            self.stage_changes.push(line);
        }
    }

    fn report(rec: &ParentRecord, now: Nanos, event: DeskEvent) -> Command {
        Command::Desk(DeskReport {
            parent: rec.order.id.clone(),
            client_id: rec.client_id.clone(),
            at: now,
            event,
            status: rec.order.status(),
            cum_qty: rec.order.filled(),
            leaves_qty: rec.order.leaves(),
            avg_px: rec.order.avg_px(),
        })
    }

    fn on_new_parent(
        &mut self,
        now: Nanos,
        p: NewParent,
        out: &mut Vec<Command>,
    ) -> Result<(), EngineError> {
        let id = ParentId(format!("P{}", self.next_parent));
        self.next_parent += 1;
        let reference = self.reference_px(&p.instrument);
        let arrival_mid = self.arrival_mid(&p.instrument);
        let verdict = self.validate(&p, reference, now);
        let NewParent {
            desk,
            account,
            client_id,
            instrument,
            side,
            qty,
            limit,
            strategy,
            max_clip,
            venues,
        } = p;
        let mut rec = ParentRecord {
            order: ParentOrder::new(
                id.clone(),
                desk,
                account,
                instrument,
                side,
                qty,
                limit,
                strategy,
                now,
            ),
            client_id,
            arrival_mid,
            reference,
            fees: Decimal::ZERO,
            fixed_costs: Decimal::ZERO,
            children: Vec::new(),
            risk_denials: Vec::new(),
            risk_denial_count: 0,
            rounds: 0,
            reason: None,
            finished_at: None,
            work: Work {
                max_clip,
                allow: venues.map(|v| v.into_iter().collect()),
                ..Work::default()
            },
        };
        if let Err(reason) = verdict {
            rec.order
                .reject()
                .map_err(|e| EngineError::Invariant(e.to_string()))?;
            rec.reason = Some(reason.clone());
            rec.finished_at = Some(now);
            out.push(Self::report(&rec, now, DeskEvent::Rejected { reason }));
            self.parents.insert(rec)?;
            return Ok(());
        }
        match self.client_ids.get_mut(rec.order.desk.as_str()) {
            Some(ids) => {
                ids.insert(rec.client_id.clone());
            }
            None => {
                let ids = BTreeSet::from([rec.client_id.clone()]);
                self.client_ids.insert(rec.order.desk.clone(), ids);
            }
        }
        out.push(Self::report(&rec, now, DeskEvent::Ack));
        match rec.order.strategy {
            Strategy::Sweep => {
                rec.work.slice_goal = rec.order.qty;
            }
            Strategy::Twap {
                duration,
                slices,
                min_spacing,
            } => {
                let schedule = TwapSchedule::new(duration, slices, min_spacing);
                rec.work.schedule = Some(schedule);
                for j in 1..schedule.slices {
                    out.push(Command::Schedule {
                        at: schedule.due(now, j),
                        event: Event::SliceDue {
                            parent: id.clone(),
                            slice: j,
                        },
                    });
                }
                let scale = self.qty_scale(&rec.order.instrument);
                rec.work.slice_goal = twap_slice_target(rec.order.qty, 0, schedule.slices, scale);
            }
        }
        self.parents.insert(rec)?;
        self.route(now, &id, out)?;
        self.maybe_round_done(now, &id, out)
    }

    /// Checks a new parent; the error is the desk's reject text.
    fn validate(
        &self,
        p: &NewParent,
        reference: Option<Decimal>,
        now: Nanos,
    ) -> Result<(), String> {
        let instrument = self
            .config
            .instruments
            .get("instrument", &p.instrument)
            .map_err(|e| e.to_string())?;
        instrument.qty("qty", p.qty).map_err(|e| e.to_string())?;
        if let Some(limit) = p.limit {
            instrument.px("limit", limit).map_err(|e| e.to_string())?;
        }
        if let Some(clip) = p.max_clip {
            instrument
                .qty("max_clip", clip)
                .map_err(|e| e.to_string())?;
        }
        if let Strategy::Twap { duration, .. } = p.strategy
            && duration == 0
        {
            return Err("duration: a TWAP needs a duration greater than 0".into());
        }
        if self
            .client_ids
            .get(p.desk.as_str())
            .is_some_and(|ids| ids.contains(p.client_id.as_str()))
        {
            return Err(format!(
                "client_id: duplicate {:?} for desk {}",
                p.client_id, p.desk
            ));
        }
        let px = reference.or(p.limit).unwrap_or(Decimal::ONE);
        self.gate
            .check_parent(
                &ParentCheck {
                    desk: &p.desk,
                    instrument: &p.instrument,
                    side: risk_side(p.side),
                    qty: p.qty,
                    notional: p.qty * px,
                    currency: &instrument.quote,
                    limit_px: p.limit,
                    reference_px: reference,
                },
                now,
            )
            .map_err(|e| e.to_string())
    }

    fn qty_scale(&self, instrument: &str) -> u32 {
        self.config
            .instruments
            .get("instrument", instrument)
            .map_or(0, |i| i.qty_scale)
    }

    fn reference_px(&self, instrument: &str) -> Option<Decimal> {
        let i = self.config.instruments.get("instrument", instrument).ok()?;
        self.config.valuation.value(&i.base, &i.quote).ok()
    }

    /// Mid of the best bid and ask shown by books in the instrument itself.
    fn arrival_mid(&self, instrument: &str) -> Option<Decimal> {
        let best = |side: Side| {
            self.liquidity
                .values()
                .filter_map(|l| l.get(side))
                .filter(|l| l.kind == VenueKind::Book && l.instrument == instrument)
                .filter_map(|l| match &l.shape {
                    venues::CurveShape::Steps(levels) => levels.first().map(|x| x.px),
                    _ => None,
                })
                .reduce(|a, b| {
                    if side == Side::Sell {
                        a.max(b)
                    } else {
                        a.min(b)
                    }
                })
        };
        let (bid, ask) = (best(Side::Sell)?, best(Side::Buy)?);
        Some((bid + ask) / Decimal::TWO)
    }

    /// Drops the route books and venue snapshots that earlier steps replaced (the
    /// `engine::retired` module): call it off the latency path, once a batch's
    /// messages are out. Never calling it is safe: at most a bounded few are kept.
    pub fn release_retired(&mut self) {
        self.retired.release();
    }

    /// How many replaced books, snapshots and input lists wait to be dropped.
    #[cfg(test)]
    fn retired_counts(&self) -> (usize, usize, usize) {
        self.retired.counts()
    }

    /// Builds ahead the route books that the `pending` snapshots (received, not yet
    /// applied) will make stale, for every instrument and side already routed: when
    /// they are then applied unchanged, the next parent finds its book ready instead
    /// of rebuilding it on its own path. A cache only: a prepared book is used only if
    /// built from exactly the snapshots in force, so it is the book the engine would
    /// build itself, and replay (which never prepares) decides the same.
    pub fn prepare(&mut self, pending: &BTreeMap<(VenueId, Side), Liquidity>) {
        if pending.is_empty() {
            return;
        }
        let keys: Vec<(String, Side)> = self
            .books
            .built
            .iter()
            .flat_map(|(instrument, books)| books.sides().map(|s| (instrument.clone(), s)))
            .filter(|(_, side)| pending.keys().any(|(_, s)| s == side))
            .collect();
        for (instrument, side) in keys {
            let liquidity = &self.liquidity;
            let lookup = |id: &VenueId| {
                pending
                    .get(&(id.clone(), side))
                    .or_else(|| liquidity.get(id).and_then(|l| l.get(side)))
            };
            let inputs: Vec<Liquidity> = self
                .config
                .venues
                .iter()
                .filter_map(|v| lookup(&v.id).cloned())
                .collect();
            match build_book(&self.config, &instrument, lookup) {
                Ok(book) => {
                    *self
                        .books
                        .prepared
                        .entry(instrument)
                        .or_default()
                        .slot(side) = Some(Prepared { inputs, book });
                }
                Err(_) => {
                    if let Some(prepared) = self.books.prepared.get_mut(&instrument) {
                        *prepared.slot(side) = None;
                    }
                }
            }
        }
    }

    /// Routes what the current slice still wants; returns the quantity sent.
    fn route(
        &mut self,
        now: Nanos,
        id: &ParentId,
        out: &mut Vec<Command>,
    ) -> Result<Decimal, EngineError> {
        let (side, want, limit) = {
            let rec = self
                .parents
                .get(id)
                .ok_or_else(|| EngineError::UnknownParent(id.clone()))?;
            let o = &rec.order;
            if o.status().is_terminal() || o.status() == ParentStatus::PendingCancel {
                return Ok(Decimal::ZERO);
            }
            let want = (rec.work.slice_goal - o.filled() - o.working()).min(o.unworked());
            (o.side, want, o.limit)
        };
        if want <= Decimal::ZERO {
            return Ok(Decimal::ZERO);
        }
        let Engine {
            books,
            liquidity,
            liquidity_version,
            parents,
            children,
            router,
            gate,
            config,
            approvals,
            retired,
            ..
        } = self;
        let rec = parents
            .get_mut(id)
            .ok_or_else(|| EngineError::UnknownParent(id.clone()))?;
        let book = books.current(
            config,
            liquidity,
            *liquidity_version,
            &rec.order.instrument,
            side,
            retired,
        )?;
        rec.rounds += 1;
        rec.work.retry_at = None;
        // The reference price of each venue's own instrument (for price bands).
        let venue_reference = |instrument: &str| {
            let i = config.instruments.get("venue", instrument).ok()?;
            config.valuation.value(&i.base, &i.quote).ok()
        };
        let mut retry_at: Option<Nanos> = None;
        let caps: Vec<Option<Decimal>> = book
            .venues()
            .iter()
            .map(|v| {
                let allowed = rec
                    .work
                    .allow
                    .as_ref()
                    .is_none_or(|a| a.contains(v.venue.as_str()));
                if !allowed || rec.work.excluded.contains(&v.venue) {
                    return Some(Decimal::ZERO);
                }
                let room = gate.room(
                    &RoomRequest {
                        desk: &rec.order.desk,
                        parent_instrument: &rec.order.instrument,
                        venue: v.venue.as_str(),
                        instrument: &v.instrument,
                        notional_per_unit: rec.reference.map(|r| r * v.conversion.qty_rate),
                    },
                    now,
                );
                if let Some(at) = room.next_allowed_at
                    && at > now
                {
                    // Cadence: nothing may go there before `at`.
                    retry_at = Some(retry_at.map_or(at, |r| r.min(at)));
                    return Some(Decimal::ZERO);
                }
                let room = room.max_qty.map(|r| r * v.conversion.qty_rate);
                match (room, rec.work.max_clip) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            })
            .collect();
        rec.work.retry_at = retry_at;
        let plan = router.solve(
            book,
            &RouteRequest {
                side,
                qty: want,
                limit,
                caps: &caps,
            },
        );
        let mut sent = Decimal::ZERO;
        for alloc in &plan.allocations {
            let venue = &book.venues()[alloc.venue];
            let child_id = ChildId(format!("{}.{}", id, rec.children.len() + 1));
            let request = ChildCheck {
                desk: &rec.order.desk,
                parent_instrument: &rec.order.instrument,
                venue: venue.venue.as_str(),
                instrument: &venue.instrument,
                side: risk_side(side),
                qty: alloc.venue_qty,
                notional: alloc.expected_net,
                limit_px: Some(alloc.limit_px),
                reference_px: venue_reference(&venue.instrument),
            };
            let approval = match risk::approve_child(gate, &request, now) {
                Ok(a) => a,
                Err(denied) => {
                    rec.risk_denial_count += 1;
                    if rec.risk_denials.len() < MAX_DENIALS_KEPT {
                        rec.risk_denials.push(format!("{child_id}: {denied}"));
                    }
                    rec.work.rejected_now.insert(venue.venue.clone());
                    continue;
                }
            };
            rec.order
                .reserve(alloc.qty)
                .map_err(|e| EngineError::Invariant(e.to_string()))?;
            let order = VenueOrder {
                client_id: child_id.0.clone(),
                instrument: venue.instrument.clone(),
                side,
                qty: alloc.venue_qty,
                limit_px: alloc.limit_px,
            };
            let mut child = ChildOrder::new(
                child_id.clone(),
                id.clone(),
                venue.venue.clone(),
                venue.instrument.clone(),
                side,
                alloc.venue_qty,
                alloc.limit_px,
                venue.conversion,
            );
            child.fixed_cost_value = venue.fixed_cost_value;
            approvals.insert(
                child_id.clone(),
                (approval.approved_at(), approval.notional()),
            );
            children.insert(child)?;
            rec.children.push(child_id);
            rec.work.open_children += 1;
            sent += alloc.qty;
            out.push(Command::Send {
                venue: venue.venue.clone(),
                order,
                approval,
            });
        }
        Ok(sent)
    }

    fn on_venue(
        &mut self,
        now: Nanos,
        child_id: &ChildId,
        report: VenueReport,
        out: &mut Vec<Command>,
    ) -> Result<(), EngineError> {
        if !self.children.contains_key(child_id) {
            return Err(EngineError::UnknownChild(child_id.clone()));
        }
        // A venue may report one execution twice (a resend after a reconnect, a
        // reconciliation overlapping a late report): the second changes nothing.
        if let VenueReport::Fill { exec_id, qty, .. } = &report
            && !exec_id.is_empty()
            && self.has_exec(child_id, exec_id)
        {
            self.duplicate_fills += 1;
            tracing::warn!(child = %child_id, %exec_id, %qty, "duplicate fill ignored");
            return Ok(());
        }
        let child = self
            .children
            .get_mut(child_id)
            .ok_or_else(|| EngineError::UnknownChild(child_id.clone()))?;
        let parent_id = child.parent.clone();
        let rec = self
            .parents
            .get_mut(&parent_id)
            .ok_or_else(|| EngineError::UnknownParent(parent_id.clone()))?;
        let conv = child.conversion;
        let parent_quote = |amount: Decimal| amount * conv.quote_value;
        let mut ended = false;
        let mut outcome = ChildOutcome::NoFill;
        match report {
            VenueReport::Ack => child.ack().map_err(EngineError::Refused)?,
            VenueReport::Fill {
                qty,
                px,
                fee,
                exec_id,
            } => {
                let status = child.fill(qty, px, fee).map_err(EngineError::Refused)?;
                if !exec_id.is_empty() {
                    child.note_exec(exec_id);
                }
                let venue_net = match child.side {
                    Side::Sell => qty * px - fee,
                    Side::Buy => qty * px + fee,
                };
                let parent_qty = qty * conv.qty_rate;
                let net_px = conv.px_to_parent(venue_net / qty);
                rec.order
                    .fill(parent_qty, net_px)
                    .map_err(|e| EngineError::Invariant(e.to_string()))?;
                rec.fees += parent_quote(fee);
                let venue = child.venue.clone();
                out.push(Self::report(
                    rec,
                    now,
                    DeskEvent::Fill {
                        venue,
                        qty: parent_qty,
                        px: net_px,
                    },
                ));
                ended = status == ChildStatus::Filled;
                outcome = ChildOutcome::CleanFill;
                if rec.order.status() == ParentStatus::Filled {
                    rec.finished_at = Some(now);
                    out.push(Self::report(
                        rec,
                        now,
                        DeskEvent::Done {
                            status: ParentStatus::Filled,
                            reason: String::new(),
                        },
                    ));
                }
            }
            VenueReport::FixedCost { amount } => {
                child.charge(amount);
                rec.fixed_costs += amount * child.fixed_cost_value;
            }
            VenueReport::Rejected { kind, .. } => {
                // A venue that errs (refuses, is unreachable, reverts, last-looks) is
                // an error for its ramp; a market that simply had nothing is not.
                outcome = match kind {
                    RejectKind::NoLiquidity | RejectKind::QuoteOffLimit => ChildOutcome::NoFill,
                    _ => ChildOutcome::Error,
                };
                child.reject().map_err(EngineError::Refused)?;
                rec.order
                    .release(child.qty * conv.qty_rate)
                    .map_err(|e| EngineError::Invariant(e.to_string()))?;
                rec.work.rejected_now.insert(child.venue.clone());
                ended = true;
            }
            VenueReport::Expired { unfilled } => {
                if child.filled() > Decimal::ZERO {
                    outcome = ChildOutcome::CleanFill;
                }
                let left = child.expire(unfilled).map_err(EngineError::Refused)?;
                rec.order
                    .release(left * conv.qty_rate)
                    .map_err(|e| EngineError::Invariant(e.to_string()))?;
                ended = true;
            }
        }
        if ended {
            rec.work.open_children = rec.work.open_children.checked_sub(1).ok_or_else(|| {
                EngineError::Invariant(format!("{parent_id}: open children below zero"))
            })?;
            let filled = child.filled();
            self.child_done(child_id, filled, outcome, now);
            self.maybe_round_done(now, &parent_id, out)?;
        }
        Ok(())
    }

    /// When no child of the parent is working: re-route, end the slice, or finish.
    fn maybe_round_done(
        &mut self,
        now: Nanos,
        id: &ParentId,
        out: &mut Vec<Command>,
    ) -> Result<(), EngineError> {
        let max_rounds = self.config.max_rounds;
        let rec = self
            .parents
            .get_mut(id)
            .ok_or_else(|| EngineError::UnknownParent(id.clone()))?;
        if rec.work.open_children > 0 || rec.order.status().is_terminal() {
            return Ok(());
        }
        if rec.order.status() == ParentStatus::PendingCancel {
            return Self::finish(rec, now, "cancelled by the desk".into(), out);
        }
        // Re-route what the slice still wants. A venue that rejected in the last round
        // sits out the next one; if nothing else takes the size, it is asked again.
        let mut out_of_rounds = false;
        loop {
            let rec = self
                .parents
                .get_mut(id)
                .ok_or_else(|| EngineError::UnknownParent(id.clone()))?;
            let want = rec.work.slice_goal - rec.order.filled() - rec.order.working();
            if want <= Decimal::ZERO {
                break;
            }
            if rec.work.round + 1 >= max_rounds {
                out_of_rounds = true;
                break;
            }
            rec.work.round += 1;
            let rejected = std::mem::take(&mut rec.work.rejected_now);
            let retry_excluded = rec.work.excluded.is_empty() && rejected.is_empty();
            rec.work.excluded = rejected;
            let sent = self.route(now, id, out)?;
            if sent > Decimal::ZERO {
                return Ok(());
            }
            let rec = self
                .parents
                .get_mut(id)
                .ok_or_else(|| EngineError::UnknownParent(id.clone()))?;
            if retry_excluded || rec.work.excluded.is_empty() {
                break;
            }
            // Nothing placed without the venues that rejected: give them their turn
            // (the empty attempt does not count as a round).
            rec.work.excluded.clear();
            rec.work.round -= 1;
        }
        let rec = self
            .parents
            .get_mut(id)
            .ok_or_else(|| EngineError::UnknownParent(id.clone()))?;
        // Risk cadence held a venue back: wait for it rather than end short.
        let want = rec.work.slice_goal - rec.order.filled() - rec.order.working();
        if want > Decimal::ZERO
            && let Some(at) = rec.work.retry_at
            && rec.work.cadence_waits < MAX_CADENCE_WAITS
        {
            if !rec.work.retry_pending {
                rec.work.retry_pending = true;
                rec.work.cadence_waits += 1;
                out.push(Command::Schedule {
                    at: at.max(now),
                    event: Event::RetryRound { parent: id.clone() },
                });
            }
            return Ok(());
        }
        let last_slice = rec
            .work
            .schedule
            .is_none_or(|s| rec.work.slice + 1 >= s.slices);
        if last_slice && rec.order.status() != ParentStatus::Filled {
            let unfilled = rec.order.qty - rec.order.filled();
            let why = if out_of_rounds {
                format!(
                    "{unfilled} unfilled after {} routing rounds, the most a slice may use",
                    rec.work.round + 1
                )
            } else {
                match rec.order.limit {
                    Some(l) => {
                        format!("{unfilled} unfilled: no venue could take more within limit {l}")
                    }
                    None => format!("{unfilled} unfilled: no venue could take more"),
                }
            };
            return Self::finish(rec, now, why, out);
        }
        Ok(())
    }

    fn finish(
        rec: &mut ParentRecord,
        now: Nanos,
        reason: String,
        out: &mut Vec<Command>,
    ) -> Result<(), EngineError> {
        let status = rec
            .order
            .finish()
            .map_err(|e| EngineError::Invariant(e.to_string()))?;
        rec.reason = Some(reason.clone());
        rec.finished_at = Some(now);
        out.push(Self::report(rec, now, DeskEvent::Done { status, reason }));
        Ok(())
    }

    fn on_cancel(
        &mut self,
        now: Nanos,
        id: &ParentId,
        out: &mut Vec<Command>,
    ) -> Result<(), EngineError> {
        let rec = self
            .parents
            .get_mut(id)
            .ok_or_else(|| EngineError::UnknownParent(id.clone()))?;
        if let Err(e) = rec.order.request_cancel() {
            // Too late (already done): the desk is told, nothing changes.
            out.push(Self::report(
                rec,
                now,
                DeskEvent::CancelRejected {
                    reason: format!("too late to cancel: {e}"),
                },
            ));
            return Ok(());
        }
        for child in &rec.children {
            if let Some(c) = self.children.get(child)
                && !c.status().is_terminal()
            {
                out.push(Command::Cancel {
                    venue: c.venue.clone(),
                    child: child.clone(),
                });
            }
        }
        self.maybe_round_done(now, id, out)
    }

    fn on_slice_due(
        &mut self,
        now: Nanos,
        id: &ParentId,
        slice: u32,
        out: &mut Vec<Command>,
    ) -> Result<(), EngineError> {
        let scale = {
            let rec = self
                .parents
                .get(id)
                .ok_or_else(|| EngineError::UnknownParent(id.clone()))?;
            self.qty_scale(&rec.order.instrument)
        };
        let rec = self
            .parents
            .get_mut(id)
            .ok_or_else(|| EngineError::UnknownParent(id.clone()))?;
        let status = rec.order.status();
        if status.is_terminal() || status == ParentStatus::PendingCancel {
            return Ok(());
        }
        let Some(schedule) = rec.work.schedule else {
            return Err(EngineError::Invariant(format!(
                "{id}: slice due for a parent without schedule"
            )));
        };
        let o = &rec.order;
        let target = twap_slice_target(o.unworked(), slice, schedule.slices, scale);
        rec.work.slice = slice;
        rec.work.round = 0;
        rec.work.excluded.clear();
        rec.work.rejected_now.clear();
        rec.work.slice_goal = (o.filled() + o.working() + target).min(o.qty);
        self.route(now, id, out)?;
        self.maybe_round_done(now, id, out)
    }
}

/// The risk crate's side for a venue side.
fn risk_side(side: Side) -> risk::Side {
    match side {
        Side::Buy => risk::Side::Buy,
        Side::Sell => risk::Side::Sell,
    }
}

#[cfg(test)]
mod tests;
