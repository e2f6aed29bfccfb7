//! The in-process simulation runner: the engine, the scenario's simulated venues and a
//! discrete-event clock.
//!
//! Every action that takes time is an event at a simulated instant: a child reaches
//! its venue after the venue's one-way latency, the venue's reports and a fresh snapshot
//! of its liquidity come back after the same, and TWAP slices fall when the engine
//! asked. Events at the same instant keep the order they were scheduled in, so a run
//! is a pure function of the scenario and its seed.
//!
//! Beside the engine's state the run keeps a [`record::RunRecord`] (each fill with its
//! time, the mid when each child was sent, the liquidity of every decision) for the
//! benchmark and the gap analysis, and the market the scenario describes
//! ([`prints`]: other participants' trade prints).

pub mod hops;
pub mod prints;
pub mod record;

use crate::clock::{Clock, SimClock, SystemClock};
use crate::engine::{Command, DeskReport, Engine, EngineLoop, Event};
use crate::gate::AnyGate;
use crate::scenario::{BenchmarkConfig, MarketConfig, Scenario, ScenarioVenue};
use hdrhistogram::Histogram;
use hops::{SimHops, TimedGate};
use indicatif::{ProgressBar, ProgressStyle};
use record::{
    CostRecord, Decision, DecisionKind, FillRecord, MidTracker, RejectRecord, RunRecord, SendRecord,
};
use risk::{Gate, MinimalGate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};
use venues::{Liquidity, Nanos, Side, VenueOrder, VenueReport};

/// Most simulated events in one run; past it the run stops with an error.
pub const MAX_EVENTS: u64 = 50_000_000;
/// Most events waiting at once.
pub const MAX_PENDING: usize = 1_000_000;
/// Bound of the engine's input queue.
pub const QUEUE_CAPACITY: usize = 65_536;

/// A run that could not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// The engine refused an event it should have accepted.
    #[error("engine: {0}")]
    Engine(String),
    /// A bound was reached.
    #[error("bound reached: {0}")]
    Bound(String),
}

/// How fast simulated time runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// As fast as possible.
    Instant,
    /// Wall time follows simulated time, `speed` times faster (with a progress bar).
    RealTime {
        /// Simulated seconds per wall second.
        speed: f64,
    },
}

enum What {
    Engine(Event),
    Arrive { venue: usize, order: VenueOrder },
}

struct Scheduled {
    at: Nanos,
    seq: u64,
    what: What,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// What a finished run leaves behind.
pub struct RunOutcome {
    /// The engine with every parent and child.
    pub engine: Engine<AnyGate>,
    /// Every report sent to a desk, in order.
    pub desk_reports: Vec<DeskReport>,
    /// Simulated time at the last event.
    pub elapsed: Nanos,
    /// Events processed.
    pub events: u64,
    /// Children sent.
    pub children_sent: u64,
    /// Wall-clock nanoseconds the engine spent per event.
    pub engine_ns: Histogram<u64>,
    /// Fills with their times, mids, decisions and their liquidity.
    pub record: RunRecord,
    /// The scenario's market: calendar start and trade prints.
    pub market: MarketConfig,
    /// The reference-rate parameters.
    pub benchmark: BenchmarkConfig,
    /// The seed of the run (the prints' draws come from it too).
    pub seed: u64,
    /// Per-hop latency: the risk check's wall time and each child's simulated hops.
    pub hops: SimHops,
}

struct Runner {
    heap: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    venues: Vec<ScenarioVenue>,
    index: HashMap<String, usize>,
    mids: MidTracker,
    record: RunRecord,
    hops: SimHops,
}

impl Runner {
    fn push(&mut self, at: Nanos, what: What) -> Result<(), SimError> {
        if self.heap.len() >= MAX_PENDING {
            return Err(SimError::Bound(format!(
                "more than {MAX_PENDING} pending events"
            )));
        }
        self.seq += 1;
        self.heap.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            what,
        }));
        Ok(())
    }

    /// Gives the engine every venue's liquidity at `at`; returns what it was given.
    fn snapshot_all(
        &mut self,
        at: Nanos,
        lp: &EngineLoop<AnyGate, SimClock>,
    ) -> Result<Vec<Liquidity>, SimError> {
        let mut all = Vec::with_capacity(self.venues.len() * 2);
        for v in &mut self.venues {
            for side in [Side::Sell, Side::Buy] {
                let liq = v.sim.liquidity(side, at);
                self.mids.update(&liq);
                all.push(liq.clone());
                lp.submit(Event::Liquidity(liq))
                    .map_err(|e| SimError::Bound(e.to_string()))?;
            }
        }
        Ok(all)
    }

    /// Keeps what a venue answered a child with, at the instant the venue decided.
    fn record_reports(
        &mut self,
        order: &VenueOrder,
        venue: usize,
        at: Nanos,
        reports: &[VenueReport],
    ) {
        let child = crate::domain::ChildId(order.client_id.clone());
        let id = self.venues[venue].sim.id().clone();
        for report in reports {
            match report {
                VenueReport::Fill { qty, px, fee, .. } => self.record.fills.push(FillRecord {
                    child: child.clone(),
                    venue: id.clone(),
                    at,
                    qty: *qty,
                    px: *px,
                    fee: *fee,
                }),
                VenueReport::FixedCost { amount } => self.record.costs.push(CostRecord {
                    child: child.clone(),
                    amount: *amount,
                }),
                VenueReport::Rejected { kind, .. } => self.record.rejects.push(RejectRecord {
                    child: child.clone(),
                    venue: id.clone(),
                    at,
                    kind: *kind,
                    qty: order.qty,
                    limit_px: order.limit_px,
                }),
                VenueReport::Ack | VenueReport::Expired { .. } => {}
            }
        }
    }
}

/// Runs a scenario to the end.
pub fn run(scenario: Scenario, pace: Pace) -> Result<RunOutcome, SimError> {
    let Scenario {
        engine: config,
        risk,
        risk_limits,
        venues,
        parents,
        market,
        benchmark,
        seed,
        ..
    } = scenario;
    let total_qty: Decimal = parents.iter().map(|p| p.order.qty).sum();
    let gate = match risk_limits {
        Some(limits) => AnyGate::Full(
            Gate::new(limits).map_err(|e| SimError::Engine(format!("risk_limits: {e}")))?,
        ),
        None => AnyGate::Minimal(MinimalGate::new(risk)),
    };
    let gate = AnyGate::Timed(TimedGate::new(gate));
    let engine = Engine::new(config, gate);
    let clock = SimClock::new();
    let mut lp = EngineLoop::new(engine, clock.clone(), QUEUE_CAPACITY);
    let index = venues
        .iter()
        .enumerate()
        .map(|(i, v)| (v.sim.id().0.clone(), i))
        .collect();
    let mut runner = Runner {
        heap: BinaryHeap::new(),
        seq: 0,
        venues,
        index,
        mids: MidTracker::default(),
        record: RunRecord::default(),
        hops: SimHops::default(),
    };
    for p in parents {
        runner.push(p.at, What::Engine(Event::NewParent(p.order)))?;
    }
    runner.record.initial = runner.snapshot_all(0, &lp)?;

    let mut engine_ns = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)
        .map_err(|e| SimError::Bound(e.to_string()))?;
    let mut desk_reports = Vec::new();
    let mut out = Vec::new();
    let mut events = 0u64;
    let mut children_sent = 0u64;
    let mut elapsed = 0;
    let wall = SystemClock::new();
    let bar = match pace {
        Pace::RealTime { .. } => {
            let bar = ProgressBar::new(total_qty.to_u64().unwrap_or(0));
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} filled {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            Some(bar)
        }
        Pace::Instant => None,
    };
    let mut filled_by_parent: HashMap<String, Decimal> = HashMap::new();

    loop {
        // Engine first: drain what is queued at the current instant.
        let started = Instant::now();
        let n = lp
            .drain(&mut out)
            .map_err(|e| SimError::Engine(e.to_string()))?;
        if n > 0 {
            let per = (started.elapsed().as_nanos() / n as u128).max(1);
            let _ = engine_ns.record_n(u64::try_from(per).unwrap_or(u64::MAX), n as u64);
            events += n as u64;
        }
        let now = clock.now();
        for cmd in out.drain(..) {
            match cmd {
                Command::Send {
                    venue,
                    order,
                    approval,
                } => {
                    if !approval.covers(venue.as_str(), order.qty) {
                        return Err(SimError::Engine(format!(
                            "child {} sent beyond its approval",
                            order.client_id
                        )));
                    }
                    let v = *runner
                        .index
                        .get(venue.as_str())
                        .ok_or_else(|| SimError::Engine(format!("unknown venue {venue}")))?;
                    let at = now + runner.venues[v].one_way;
                    children_sent += 1;
                    let child = crate::domain::ChildId(order.client_id.clone());
                    let mid = lp
                        .engine()
                        .children()
                        .get(&child)
                        .and_then(|c| lp.engine().parents().get(&c.parent))
                        .and_then(|p| runner.mids.mid(&p.order.instrument));
                    runner
                        .record
                        .sends
                        .insert(child, SendRecord { at: now, mid });
                    runner.push(at, What::Arrive { venue: v, order })?;
                }
                Command::Cancel { venue, child } => {
                    // In-process venues execute on arrival (IOC, FOK, swap), so a cancel
                    // always finds the child done; its own reports end it.
                    tracing::debug!(%venue, %child, "cancel: child already executed at the venue");
                }
                Command::Schedule { at, event } => runner.push(at.max(now), What::Engine(event))?,
                Command::Desk(report) => {
                    runner.hops.desk_report(&report.parent, now);
                    if report.status.is_terminal() {
                        let mid = lp
                            .engine()
                            .parents()
                            .get(&report.parent)
                            .and_then(|p| runner.mids.mid(&p.order.instrument));
                        runner.record.end_mids.insert(report.parent.clone(), mid);
                    }
                    if let Some(bar) = &bar {
                        filled_by_parent.insert(report.parent.0.clone(), report.cum_qty);
                        let sum: Decimal = filled_by_parent.values().copied().sum();
                        bar.set_position(sum.to_u64().unwrap_or(0));
                        bar.set_message(format!("{} {:?}", report.parent, report.status));
                    }
                    desk_reports.push(report);
                }
            }
        }
        let Some(Reverse(next)) = runner.heap.pop() else {
            break;
        };
        if events > MAX_EVENTS {
            return Err(SimError::Bound(format!("more than {MAX_EVENTS} events")));
        }
        if let Pace::RealTime { speed } = pace {
            let due = Duration::from_secs_f64(next.at as f64 / 1e9 / speed.max(1e-9));
            let now_wall = Duration::from_nanos(wall.now());
            if due > now_wall {
                std::thread::sleep(due - now_wall);
            }
        }
        clock.set(next.at);
        elapsed = next.at;
        match next.what {
            What::Engine(event) => {
                // Slices and new parents route on fresh liquidity (books replenish).
                let decision = match &event {
                    Event::NewParent(p) => Some(DecisionKind::Arrival {
                        desk: p.desk.clone(),
                        client_id: p.client_id.clone(),
                        venues: p.venues.clone(),
                    }),
                    Event::SliceDue { parent, slice } => Some(DecisionKind::Slice {
                        parent: parent.clone(),
                        slice: *slice,
                    }),
                    _ => None,
                };
                if let Some(kind) = decision {
                    let liquidity = runner.snapshot_all(next.at, &lp)?;
                    runner.record.decisions.push(Decision {
                        at: next.at,
                        kind,
                        liquidity,
                    });
                }
                if let Event::Liquidity(liq) = &event {
                    runner.mids.update(liq);
                }
                if let Event::Venue { child, report } = &event {
                    match report {
                        VenueReport::Ack | VenueReport::Rejected { .. } => {
                            runner.hops.answered(&child.0, next.at);
                        }
                        VenueReport::Fill { .. } => {
                            let parent = lp.engine().children().get(child).map(|c| &c.parent);
                            runner.hops.filled(&child.0, parent, next.at);
                        }
                        _ => {}
                    }
                }
                lp.submit(event)
                    .map_err(|e| SimError::Bound(e.to_string()))?;
            }
            What::Arrive { venue, order } => {
                let sent = runner
                    .record
                    .sends
                    .get(&crate::domain::ChildId(order.client_id.clone()))
                    .map(|s| s.at);
                runner.hops.arrived(&order.client_id, sent, next.at);
                let one_way = runner.venues[venue].one_way;
                let sim = &mut runner.venues[venue].sim;
                let reports = sim.execute(&order, next.at);
                let decided = next.at + sim.processing_delay();
                let back = decided + one_way;
                let snapshots = [
                    sim.liquidity(Side::Sell, back),
                    sim.liquidity(Side::Buy, back),
                ];
                runner.record_reports(&order, venue, decided, &reports);
                for s in snapshots {
                    runner.push(back, What::Engine(Event::Liquidity(s)))?;
                }
                for report in reports {
                    runner.push(
                        back,
                        What::Engine(Event::Venue {
                            child: crate::domain::ChildId(order.client_id.clone()),
                            report,
                        }),
                    )?;
                }
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish();
    }
    let mut hops = runner.hops;
    hops.finish();
    if let AnyGate::Timed(g) = lp.engine().gate() {
        hops.risk_check = g.admit_ns().clone();
    }
    Ok(RunOutcome {
        engine: lp.into_engine(),
        desk_reports,
        elapsed,
        events,
        children_sent,
        engine_ns,
        record: runner.record,
        market,
        benchmark,
        seed,
        hops,
    })
}
