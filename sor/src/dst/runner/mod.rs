//! One seed's run: the engine, the scenario's venues behind faulty links, the desk,
//! crashes and restarts, all on one simulated clock, with every invariant checked
//! after every step.
//!
//! Who remembers what across a crash decides what a crash costs:
//! - the process (lost): the engine, its timers, reports and market data on their way
//!   in, reconciliation answers, cancels waiting for a link;
//! - the journal (kept): every event the engine was handed;
//! - the world (kept): the venues and what they did, orders and cancels already on the
//!   wire toward a venue, the desk and what it was told, its orders not yet received.

mod outcome;
mod queue;
mod recovery;
mod text;

pub use outcome::{DstError, Failure, SeedOutcome};
pub use text::secs_text;
use text::{event_line, secs};

use super::digest::StateDigest;
use super::faults::{Dice, FaultKind, FaultProfile};
use super::invariants::{Cause, Checker, Invariant, Violation};
use super::reconcile::StatusAnswer;
use super::replay::MemJournal;
use super::venue::{Executed, SimVenue};
use crate::domain::{ChildId, ParentId, Strategy};
use crate::engine::{Command, DeskEvent, Engine, EngineConfig, Event, NewParent};
use crate::gate::AnyGate;
use crate::scenario::Scenario;
use queue::{Item, Queue};
use risk::{Gate, Limits, MinimalGate, MinimalLimits};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use venues::{Nanos, RejectKind, VenueReport};

const MS: Nanos = 1_000_000;
const SEC: Nanos = 1_000_000_000;
/// Most events waiting at once.
const MAX_PENDING: usize = 1_000_000;
/// Events kept for a failure's "last events".
const RECENT: usize = 16;

/// A bug planted on purpose in the harness's gateway side, to show that the
/// invariants catch it (the tests plant them; a run never does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum Sabotage {
    /// None: the harness as it is.
    None,
    /// Status answers are thrown away (fills the engine missed stay missed).
    IgnoreStatusAnswers,
    /// A duplicated fill loses its execution id (the engine cannot tell it apart).
    StripDuplicateExecIds,
    /// The journal loses its last venue report before a replay.
    LoseLastVenueRecord,
    /// After a restart the desk is sent again what the replay produced.
    ResendReplayedDeskReports,
}

/// The gate to build again after a crash.
enum GateSpec {
    Minimal(MinimalLimits),
    Full(Box<Limits>),
}

impl GateSpec {
    fn build(&self) -> Result<AnyGate, DstError> {
        match self {
            GateSpec::Minimal(l) => Ok(AnyGate::Minimal(MinimalGate::new(l.clone()))),
            GateSpec::Full(l) => Gate::new((**l).clone())
                .map(AnyGate::Full)
                .map_err(|e| DstError::Gate(e.to_string())),
        }
    }
}
/// Where an event handed to the engine came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Desk,
    Timer,
    Market,
    Venue,
    /// A second delivery of a venue report.
    Duplicate,
    /// The adapter (a child it could not send).
    Adapter,
    /// A report rebuilt from a venue's status answer.
    Reconcile,
}

/// One seed's world.
struct World {
    seed: u64,
    scenario: String,
    config: EngineConfig,
    gate: GateSpec,
    engine: Option<Engine<AnyGate>>,
    journal: MemJournal,
    refused: Vec<usize>,
    venues: Vec<SimVenue>,
    index: BTreeMap<String, usize>,
    queue: Queue,
    now: Nanos,
    epoch: u32,
    recovering: bool,
    awaiting: BTreeSet<usize>,
    held: Vec<Item>,
    pending_cancels: Vec<Vec<String>>,
    /// Children whose venue status was asked and not yet answered: (venue, child).
    reconciling: BTreeSet<(usize, String)>,
    /// Reports dropped because a status answer on its way supersedes them.
    superseded: u64,
    dice: Dice,
    checker: Checker,
    crash_digest: Option<StateDigest>,
    crashes: u64,
    recoveries: u64,
    disconnects: u32,
    reconciled: u64,
    refused_dups: u64,
    recent: VecDeque<String>,
    step: u64,
    sabotage: Sabotage,
}

/// Runs one seed of `text` (a scenario) under `profile`, for at most `max_steps` steps.
pub fn run_seed(
    text: &str,
    seed: u64,
    profile: &FaultProfile,
    max_steps: u64,
) -> Result<SeedOutcome, DstError> {
    run_seed_traced(text, seed, profile, max_steps, &mut |_| {})
}

/// [`run_seed`], handing `trace` a line for every step.
pub fn run_seed_traced(
    text: &str,
    seed: u64,
    profile: &FaultProfile,
    max_steps: u64,
    trace: &mut dyn FnMut(&str),
) -> Result<SeedOutcome, DstError> {
    run_with(text, seed, profile, max_steps, trace, Sabotage::None)
}

/// [`run_seed_traced`] with a planted bug.
pub(crate) fn run_with(
    text: &str,
    seed: u64,
    profile: &FaultProfile,
    max_steps: u64,
    trace: &mut dyn FnMut(&str),
    sabotage: Sabotage,
) -> Result<SeedOutcome, DstError> {
    let scenario = Scenario::parse(text, Some(seed)).map_err(|e| DstError::Scenario(e.0))?;
    let mut world = World::new(scenario, seed, profile.clone())?;
    world.sabotage = sabotage;
    let mut quiet = false;
    let mut failure = world.start().err();
    while failure.is_none() {
        let Some(next) = world.queue.pop() else {
            quiet = true;
            break;
        };
        if world.step >= max_steps {
            break;
        }
        world.step += 1;
        world.now = next.at;
        world.remember(&next.item);
        if let Some(line) = world.recent.back() {
            trace(line);
        }
        let result = world.handle(next.item).and_then(|()| world.check_state());
        if let Err(v) = result {
            failure = Some(v);
            break;
        }
        for item in world.inject() {
            world.remember(&item);
            if let Some(line) = world.recent.back() {
                trace(line);
            }
            if let Err(v) = world.handle(item).and_then(|()| world.check_state()) {
                failure = Some(v);
                break;
            }
        }
    }
    if quiet && failure.is_none() {
        failure = world.check_quiet().err();
    }
    Ok(world.outcome(quiet, failure))
}
impl World {
    fn new(scenario: Scenario, seed: u64, profile: FaultProfile) -> Result<Self, DstError> {
        let Scenario {
            name,
            engine: config,
            risk,
            risk_limits,
            venues,
            parents,
            ..
        } = scenario;
        let gate = match risk_limits {
            Some(l) => GateSpec::Full(Box::new(l)),
            None => GateSpec::Minimal(risk),
        };
        let engine = Engine::new(config.clone(), gate.build()?);
        let venues: Vec<SimVenue> = venues.into_iter().map(SimVenue::new).collect();
        let index = venues
            .iter()
            .enumerate()
            .map(|(i, v)| (v.id.0.clone(), i))
            .collect();
        let n = venues.len();
        let mut world = Self {
            seed,
            scenario: name,
            config,
            gate,
            engine: Some(engine),
            journal: MemJournal::new(),
            refused: Vec::new(),
            venues,
            index,
            queue: Queue::default(),
            now: 0,
            epoch: 0,
            recovering: false,
            awaiting: BTreeSet::new(),
            held: Vec::new(),
            pending_cancels: vec![Vec::new(); n],
            reconciling: BTreeSet::new(),
            superseded: 0,
            dice: Dice::new(seed, profile),
            checker: Checker::new(),
            crash_digest: None,
            crashes: 0,
            recoveries: 0,
            disconnects: 0,
            reconciled: 0,
            refused_dups: 0,
            recent: VecDeque::with_capacity(RECENT),
            step: 0,
            sabotage: Sabotage::None,
        };
        let orders: Vec<(Nanos, NewParent)> =
            parents.into_iter().map(|p| (p.at, p.order)).collect();
        world
            .plan_desk(orders)
            .map_err(|v| DstError::Bound(v.message))?;
        Ok(world)
    }

    /// The desk's parents: the scenario's, and extra ones of random size.
    fn plan_desk(&mut self, orders: Vec<(Nanos, NewParent)>) -> Result<(), Violation> {
        let extra = self
            .dice
            .between(0, u64::from(self.dice.profile.extra_parents));
        let mut ids: Vec<String> = orders.iter().map(|(_, o)| o.client_id.clone()).collect();
        let mut all = orders.clone();
        for k in 0..extra {
            if orders.is_empty() {
                break;
            }
            self.dice.counts.add(FaultKind::ExtraParent);
            let (_, base) = &orders[self.dice.index(orders.len())];
            let mut p = base.clone();
            let fraction = Decimal::try_from(self.dice.unit_in(0.001, 0.5)).unwrap_or(Decimal::ONE);
            p.qty = (base.qty * fraction).round_dp(0).max(Decimal::ONE);
            // Now and then the desk reuses a ClOrdID: the engine must refuse it.
            p.client_id = if self.dice.unit_in(0.0, 1.0) < 0.1 {
                ids[self.dice.index(ids.len())].clone()
            } else {
                format!("dst-{k}")
            };
            if self.dice.unit_in(0.0, 1.0) < 0.5 {
                p.strategy = Strategy::Sweep;
            }
            ids.push(p.client_id.clone());
            all.push((self.dice.between(0, 30 * SEC), p));
        }
        for (at, p) in all {
            self.queue.push(at, Item::Desk(Event::NewParent(p)))?;
        }
        Ok(())
    }

    /// The first market data, before any parent.
    fn start(&mut self) -> Result<(), Violation> {
        self.snapshot_all()
    }

    fn remember(&mut self, item: &Item) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        let line = format!(
            "#{} t={} {}",
            self.step,
            secs(self.now),
            self.describe(item)
        );
        self.recent.push_back(line);
    }

    fn handle(&mut self, item: Item) -> Result<(), Violation> {
        match item {
            Item::Desk(event) => {
                if self.engine.is_none() || self.recovering {
                    self.held.push(Item::Desk(event));
                    return Ok(());
                }
                if matches!(event, Event::NewParent(_)) {
                    self.snapshot_all()?;
                }
                self.feed(event, Origin::Desk)
            }
            Item::Timer(event) => {
                if self.engine.is_none() {
                    return Ok(());
                }
                if self.recovering {
                    self.held.push(Item::Timer(event));
                    return Ok(());
                }
                if matches!(event, Event::SliceDue { .. }) {
                    self.snapshot_all()?;
                }
                self.feed(event, Origin::Timer)
            }
            Item::Deliver {
                venue,
                child,
                report,
                dup,
            } => {
                if self.engine.is_none() || !self.venues[venue].up {
                    return Ok(());
                }
                if self.reconciling.contains(&(venue, child.0.clone())) {
                    // The venue sent it before it answered our status query (the link
                    // keeps its order), so the answer on its way covers it.
                    self.superseded += 1;
                    return Ok(());
                }
                let origin = if dup {
                    Origin::Duplicate
                } else {
                    Origin::Venue
                };
                let mut report = report;
                if dup
                    && self.sabotage == Sabotage::StripDuplicateExecIds
                    && let VenueReport::Fill { exec_id, .. } = &mut report
                {
                    exec_id.clear();
                }
                self.feed(Event::Venue { child, report }, origin)
            }
            Item::Local { child, report } => {
                if self.engine.is_none() {
                    return Ok(());
                }
                self.feed(Event::Venue { child, report }, Origin::Adapter)
            }
            Item::Market { venue, liq } => {
                if self.engine.is_none() || !self.venues[venue].up {
                    return Ok(());
                }
                self.feed(Event::Liquidity(*liq), Origin::Market)
            }
            Item::Arrive { venue, order } => {
                let id = order.client_id.clone();
                let sent_at = self.now + self.venues[venue].processing_delay();
                let done = self.venues[venue].arrive(order, self.now, &mut self.dice);
                self.venue_sends(venue, &id, done, sent_at)
            }
            Item::CancelArrive { venue, child } => {
                let done = self.venues[venue].cancel(&child, self.now, &mut self.dice);
                self.venue_sends(venue, &child, done, self.now)
            }
            Item::Work { venue, child } => {
                let done = self.venues[venue].work(&child, self.now);
                self.venue_sends(venue, &child, done, self.now)
            }
            Item::Query {
                venue,
                epoch,
                children,
            } => {
                let answers: Vec<(String, StatusAnswer)> = children
                    .into_iter()
                    .map(|c| {
                        let a = self.venues[venue].status(&c);
                        (c, a)
                    })
                    .collect();
                if self.engine.is_some() && self.venues[venue].up && epoch == self.epoch {
                    let extra = self.spike();
                    let at = self.venues[venue].inbound(self.now, extra);
                    self.queue.push(
                        at,
                        Item::Answer {
                            venue,
                            epoch,
                            answers,
                        },
                    )?;
                }
                Ok(())
            }
            Item::Answer {
                venue,
                epoch,
                answers,
            } => self.on_answer(venue, epoch, answers),
            Item::LinkDown { venue } => {
                if !self.venues[venue].up {
                    return Ok(());
                }
                self.venues[venue].up = false;
                self.queue.retain(|i| !i.on_link(venue));
                self.reconciling.retain(|(v, _)| *v != venue);
                let back = self.now + self.dice.between(100 * MS, 10 * SEC);
                self.queue.push(back, Item::LinkUp { venue })
            }
            Item::LinkUp { venue } => {
                self.venues[venue].up = true;
                if self.engine.is_none() {
                    return Ok(());
                }
                for child in std::mem::take(&mut self.pending_cancels[venue]) {
                    self.send_cancel(venue, child)?;
                }
                for liq in self.venues[venue].snapshot(self.now) {
                    self.feed(Event::Liquidity(liq), Origin::Market)?;
                }
                self.reconcile(venue)
            }
            Item::Crash => self.crash(),
            Item::Restart => self.restart(),
        }
    }

    /// A latency spike, when the dice say so.
    fn spike(&mut self) -> Nanos {
        let p = self.dice.profile.slow;
        if self.dice.roll(p, FaultKind::Slow) {
            self.dice.between(50 * MS, 2 * SEC)
        } else {
            0
        }
    }

    /// The venue sends `done`'s reports (from `sent_at`) and its fresh liquidity; a
    /// resting child is worked later. Reports go nowhere while the link or the
    /// process is down (the venue's truth keeps them).
    fn venue_sends(
        &mut self,
        venue: usize,
        child: &str,
        done: Executed,
        sent_at: Nanos,
    ) -> Result<(), Violation> {
        if let Some(at) = done.rest_until {
            self.queue.push(
                at,
                Item::Work {
                    venue,
                    child: child.to_owned(),
                },
            )?;
        }
        if self.engine.is_none() || !self.venues[venue].up || done.reports.is_empty() {
            return Ok(());
        }
        let mut last = sent_at;
        for report in done.reports {
            let extra = self.spike();
            let at = self.venues[venue].inbound(sent_at, extra);
            last = at;
            let again = !matches!(report, VenueReport::FixedCost { .. }) && {
                let p = self.dice.profile.duplicate;
                self.dice.roll(p, FaultKind::Duplicate)
            };
            self.queue.push(
                at,
                Item::Deliver {
                    venue,
                    child: ChildId(child.to_owned()),
                    report: report.clone(),
                    dup: false,
                },
            )?;
            if again {
                let later = self.dice.between(0, 50 * MS);
                let at = self.venues[venue].inbound(at, later);
                self.queue.push(
                    at,
                    Item::Deliver {
                        venue,
                        child: ChildId(child.to_owned()),
                        report,
                        dup: true,
                    },
                )?;
            }
        }
        for liq in self.venues[venue].snapshot(last) {
            let at = self.venues[venue].inbound(last, 0);
            self.queue.push(
                at,
                Item::Market {
                    venue,
                    liq: Box::new(liq),
                },
            )?;
        }
        Ok(())
    }

    /// Fresh liquidity of every connected venue, handed to the engine now.
    fn snapshot_all(&mut self) -> Result<(), Violation> {
        for v in 0..self.venues.len() {
            if !self.venues[v].up {
                continue;
            }
            for liq in self.venues[v].snapshot(self.now) {
                self.feed(Event::Liquidity(liq), Origin::Market)?;
            }
        }
        Ok(())
    }

    /// Journals `event`, hands it to the engine, checks and carries out the commands.
    fn feed(&mut self, event: Event, origin: Origin) -> Result<(), Violation> {
        let now = self.now;
        let Some(engine) = self.engine.as_mut() else {
            return Ok(());
        };
        self.journal
            .append(now, &event)
            .map_err(|e| Violation::new(Invariant::Recovery, e.to_string()))?;
        let index = self.journal.len() - 1;
        let fill = match &event {
            Event::Venue {
                child,
                report: VenueReport::Fill { exec_id, .. },
            } => Some((child.clone(), exec_id.clone())),
            _ => None,
        };
        let expect_refusal = origin == Origin::Duplicate && fill.is_none();
        let before = expect_refusal.then(|| StateDigest::of(engine));
        let line = event_line(&event);
        let mut out = Vec::new();
        let result = engine.handle(now, event, &mut out);
        match (result, before) {
            (Err(e), Some(before)) => {
                self.refused.push(index);
                self.refused_dups += 1;
                if let Some(d) = before.first_difference(&StateDigest::of(engine)) {
                    return Err(Violation::new(
                        Invariant::TerminalFinal,
                        format!("refused duplicate {line} ({e}) still changed the state: {d}"),
                    ));
                }
            }
            (Err(e), None) => {
                self.refused.push(index);
                return Err(Violation::new(
                    Invariant::EngineRefused,
                    format!("engine refused {line} from {origin:?}: {e}"),
                ));
            }
            (Ok(()), Some(_)) => {
                return Err(Violation::new(
                    Invariant::TerminalFinal,
                    format!("a duplicate {line} was applied"),
                ));
            }
            (Ok(()), None) => {}
        }
        if origin == Origin::Reconcile {
            self.reconciled += 1;
        }
        self.checker.begin_event();
        self.dispatch(out, fill)
    }

    /// Checks every command, then carries it out.
    fn dispatch(
        &mut self,
        out: Vec<Command>,
        fill: Option<(ChildId, String)>,
    ) -> Result<(), Violation> {
        for cmd in out {
            let Some(engine) = self.engine.as_ref() else {
                return Ok(());
            };
            match cmd {
                Command::Send {
                    venue,
                    order,
                    approval,
                } => {
                    let held = engine.children().get(&ChildId(order.client_id.clone()));
                    self.checker
                        .on_send(&venue, &order, &approval, self.now, held)?;
                    let v = self.venue_index(venue.as_str())?;
                    if self.venues[v].up {
                        let extra = self.spike();
                        let at = self.venues[v].outbound(self.now, extra);
                        self.queue.push(at, Item::Arrive { venue: v, order })?;
                    } else {
                        self.queue.push(
                            self.now,
                            Item::Local {
                                child: ChildId(order.client_id),
                                report: VenueReport::Rejected {
                                    kind: RejectKind::Unreachable,
                                    reason: format!("{venue}: link down"),
                                },
                            },
                        )?;
                    }
                }
                Command::Cancel { venue, child } => {
                    let v = self.venue_index(venue.as_str())?;
                    self.send_cancel(v, child.0)?;
                }
                Command::Schedule { at, event } => {
                    self.queue.push(at.max(self.now), Item::Timer(event))?;
                }
                Command::Desk(report) => {
                    let Some(rec) = engine.parents().get(&report.parent) else {
                        return Err(Violation::new(
                            Invariant::DeskConsistent,
                            format!(
                                "desk report for {} that the engine does not hold",
                                report.parent
                            ),
                        ));
                    };
                    let parent_qty = rec.order.qty;
                    let cancel_within = match rec.order.strategy {
                        Strategy::Sweep => 3 * SEC,
                        Strategy::Twap { duration, .. } => duration,
                    };
                    let cause = match &fill {
                        Some((child, exec_id)) => {
                            let held = engine.children().get(child);
                            let qty_rate = held.map_or(Decimal::ONE, |c| c.conversion.qty_rate);
                            let venue_fill = held
                                .and_then(|c| self.index.get(c.venue.as_str()))
                                .and_then(|v| self.venues[*v].fill(&child.0, exec_id));
                            Cause::VenueFill {
                                child,
                                exec_id,
                                qty_rate,
                                venue_fill,
                            }
                        }
                        None => Cause::Other,
                    };
                    self.checker.on_desk(&report, parent_qty, &cause)?;
                    if report.event == DeskEvent::Ack {
                        self.maybe_desk_cancel(report.parent.clone(), cancel_within)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn venue_index(&self, venue: &str) -> Result<usize, Violation> {
        self.index.get(venue).copied().ok_or_else(|| {
            Violation::new(
                Invariant::EngineRefused,
                format!("engine addressed unknown venue {venue}"),
            )
        })
    }

    /// The desk may cancel a parent it saw acknowledged, some time later.
    fn maybe_desk_cancel(&mut self, parent: ParentId, within: Nanos) -> Result<(), Violation> {
        let p = self.dice.profile.desk_cancel;
        if self.dice.roll(p, FaultKind::DeskCancel) {
            let at = self.now + self.dice.between(0, within.max(MS));
            self.queue
                .push(at, Item::Desk(Event::CancelParent { parent }))?;
        }
        Ok(())
    }

    /// Sends a cancel on the venue's link, or keeps it until the link is back.
    fn send_cancel(&mut self, venue: usize, child: String) -> Result<(), Violation> {
        if self.venues[venue].up {
            let extra = self.spike();
            let at = self.venues[venue].outbound(self.now, extra);
            self.queue.push(at, Item::CancelArrive { venue, child })
        } else {
            self.pending_cancels[venue].push(child);
            Ok(())
        }
    }

    /// Crashes and link drops, when the dice say so.
    /// What goes wrong right after this step (handled at once, before anything else).
    fn inject(&mut self) -> Vec<Item> {
        let mut now = Vec::new();
        if self.engine.is_none() {
            return now;
        }
        let p = self.dice.profile.clone();
        if self.crashes < u64::from(p.max_crashes) && self.dice.roll(p.crash, FaultKind::Crash) {
            now.push(Item::Crash);
        }
        if self.disconnects < p.max_disconnects {
            let up: Vec<usize> = (0..self.venues.len())
                .filter(|v| self.venues[*v].up)
                .collect();
            if !up.is_empty() && self.dice.roll(p.disconnect, FaultKind::Disconnect) {
                self.disconnects += 1;
                let venue = up[self.dice.index(up.len())];
                now.push(Item::LinkDown { venue });
            }
        }
        now
    }
}
