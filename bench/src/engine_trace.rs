//! A recorded engine event stream for the engine benchmark: the corridor scenario's
//! venues answering a mix of parents, every event the engine was fed kept with its
//! time, so the same stream can be replayed into a fresh engine and timed alone.
//!
//! Recording drives the engine the way `sor::sim::run` does (a child reaches its
//! venue after the venue's one-way latency, the venue's reports and fresh snapshots of
//! its liquidity come back after the same; every arrival and TWAP slice routes on a
//! fresh snapshot of every venue) but keeps the events instead of a report. Each parent
//! gets freshly parsed venues (dealers' capacity does not refill), so every parent
//! meets the corridor's market as the scenario describes it.

use risk::{Gate, MinimalGate, MinimalLimits};
use rust_decimal::Decimal;
use sor::domain::Strategy;
use sor::engine::{Command, Engine, EngineConfig, Event, NewParent};
use sor::gate::AnyGate;
use sor::scenario::{Scenario, ScenarioVenue};
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use venues::{Nanos, Side, VenueOrder};

/// The corridor scenario (`scenarios/corridor.toml`), as shipped.
pub const CORRIDOR: &str = include_str!("../../scenarios/corridor.toml");

const SEC: Nanos = 1_000_000_000;
/// Quiet time between one parent's last event and the next parent's arrival.
const GAP: Nanos = 60 * SEC;
/// Most events one parent's life may take before recording gives up.
const MAX_EVENTS_PER_PARENT: usize = 100_000;

/// Why a trace could not be recorded or replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// The scenario text did not parse.
    #[error("scenario: {0}")]
    Scenario(String),
    /// The scenario's `[risk_limits]` were refused by the risk layer.
    #[error("risk_limits: {0}")]
    Limits(String),
    /// The engine refused an event.
    #[error("engine refused event {index}: {reason}")]
    Engine {
        /// Position of the event in the trace.
        index: usize,
        /// The engine's error.
        reason: String,
    },
    /// A child was sent to a venue the scenario does not have.
    #[error("child sent to unknown venue {0}")]
    UnknownVenue(String),
    /// One parent's life took more than the bound of events.
    #[error("parent {client_id} took more than {max} events")]
    Unbounded {
        /// The parent's ClOrdID.
        client_id: String,
        /// The bound.
        max: usize,
    },
    /// A replay answered with other commands than the recording.
    #[error("replay diverged: {0}")]
    Diverged(String),
}

/// The events an engine was fed, each with its time, and what it needs to start.
#[derive(Clone)]
pub struct EngineTrace {
    config: EngineConfig,
    risk: MinimalLimits,
    risk_limits: Option<risk::Limits>,
    /// The events in the order they were handled, each with its time.
    pub events: Vec<(Nanos, Event)>,
    /// Commands the recording engine answered with, in all.
    pub commands: usize,
    /// Children the recording engine sent.
    pub sends: usize,
}

/// How many events of each kind a trace holds, for the benchmark's description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventMix {
    /// Count per kind: `new_parent`, `liquidity`, `venue_ack`, `venue_fill`, ...
    pub counts: BTreeMap<&'static str, usize>,
}

impl std::fmt::Display for EventMix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .counts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

impl EngineTrace {
    /// A fresh engine (no orders, no liquidity) with the scenario's config and gate.
    pub fn engine(&self) -> Result<Engine<AnyGate>, TraceError> {
        let gate = match &self.risk_limits {
            Some(limits) => AnyGate::Full(
                Gate::new(limits.clone()).map_err(|e| TraceError::Limits(e.to_string()))?,
            ),
            None => AnyGate::Minimal(MinimalGate::new(self.risk.clone())),
        };
        Ok(Engine::new(self.config.clone(), gate))
    }

    /// Feeds the whole trace to a fresh engine and checks it answers with as many
    /// commands and sends as the recording did; returns the engine.
    pub fn replay(&self) -> Result<Engine<AnyGate>, TraceError> {
        let mut engine = self.engine()?;
        let mut out = Vec::new();
        let (mut commands, mut sends) = (0, 0);
        for (index, (at, event)) in self.events.iter().enumerate() {
            engine
                .handle(*at, event.clone(), &mut out)
                .map_err(|e| TraceError::Engine {
                    index,
                    reason: e.to_string(),
                })?;
            commands += out.len();
            sends += out
                .iter()
                .filter(|c| matches!(c, Command::Send { .. }))
                .count();
            out.clear();
        }
        if (commands, sends) != (self.commands, self.sends) {
            return Err(TraceError::Diverged(format!(
                "{commands} commands and {sends} sends, recorded {} and {}",
                self.commands, self.sends
            )));
        }
        Ok(engine)
    }

    /// How many events of each kind the trace holds.
    pub fn mix(&self) -> EventMix {
        let mut mix = EventMix::default();
        for (_, event) in &self.events {
            *mix.counts.entry(event_kind(event)).or_default() += 1;
        }
        mix
    }
}

/// The short name of an event's kind (a venue report by its report kind), for tables.
pub fn event_kind(event: &Event) -> &'static str {
    use venues::VenueReport as R;
    match event {
        Event::NewParent(_) => "new_parent",
        Event::CancelParent { .. } => "cancel_parent",
        Event::Liquidity(_) => "liquidity",
        Event::Venue { report, .. } => match report {
            R::Ack => "venue_ack",
            R::Fill { .. } => "venue_fill",
            R::FixedCost { .. } => "venue_fixed_cost",
            R::Rejected { .. } => "venue_rejected",
            R::Expired { .. } => "venue_expired",
        },
        Event::RetryRound { .. } => "retry_round",
        Event::RiskChanged => "risk_changed",
        Event::SliceDue { .. } => "slice_due",
    }
}

/// The parents the engine benchmark sends, one after the other: the corridor's own
/// 17.78M sweep first, then smaller sweeps both ways (one with a max clip, one at
/// market) and a short TWAP.
pub fn parent_mix(corridor: &NewParent) -> Vec<NewParent> {
    let order = |client_id: &str, side, qty: i64, limit: Option<Decimal>| NewParent {
        client_id: client_id.into(),
        side,
        qty: Decimal::from(qty),
        limit,
        strategy: Strategy::Sweep,
        max_clip: None,
        venues: None,
        ..corridor.clone()
    };
    let mut clipped = order(
        "mix-5m-clip",
        Side::Sell,
        5_000_000,
        Some(Decimal::new(9990, 4)),
    );
    clipped.max_clip = Some(Decimal::from(1_000_000));
    let mut twap = order(
        "mix-2m-twap",
        Side::Sell,
        2_000_000,
        Some(Decimal::new(9990, 4)),
    );
    twap.strategy = Strategy::Twap {
        duration: 600 * SEC,
        slices: 5,
        min_spacing: 60 * SEC,
    };
    vec![
        NewParent {
            client_id: "mix-corridor".into(),
            ..corridor.clone()
        },
        order("mix-1m", Side::Sell, 1_000_000, Some(Decimal::new(9995, 4))),
        order(
            "mix-3m-buy",
            Side::Buy,
            3_000_000,
            Some(Decimal::new(10005, 4)),
        ),
        order("mix-250k-market", Side::Sell, 250_000, None),
        clipped,
        twap,
    ]
}

/// Records the engine fed the corridor's venues answering [`parent_mix`], `rounds`
/// times over (each parent with its own ClOrdID).
pub fn corridor_trace(rounds: usize) -> Result<EngineTrace, TraceError> {
    let first = parse()?;
    let corridor = first
        .parents
        .first()
        .map(|p| p.order.clone())
        .ok_or_else(|| TraceError::Scenario("the corridor has no parent".into()))?;
    let mut rec = Recorder {
        trace: EngineTrace {
            config: first.engine.clone(),
            risk: first.risk.clone(),
            risk_limits: first.risk_limits.clone(),
            events: Vec::new(),
            commands: 0,
            sends: 0,
        },
        out: Vec::new(),
        engine: None,
    };
    rec.engine = Some(rec.trace.engine()?);
    let mut start: Nanos = 0;
    for round in 0..rounds {
        for mut parent in parent_mix(&corridor) {
            parent.client_id = format!("{}-{round}", parent.client_id);
            let last = rec.parent_life(parse()?.venues, start, parent)?;
            start = last + GAP;
        }
    }
    Ok(rec.trace)
}

fn parse() -> Result<Scenario, TraceError> {
    Scenario::parse(CORRIDOR, None).map_err(|e| TraceError::Scenario(e.to_string()))
}

enum What {
    Engine(Event),
    Arrive { venue: usize, order: VenueOrder },
}

struct Pending {
    at: Nanos,
    seq: u64,
    what: What,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

struct Recorder {
    trace: EngineTrace,
    out: Vec<Command>,
    engine: Option<Engine<AnyGate>>,
}

impl Recorder {
    /// Feeds one event to the engine and keeps it.
    fn feed(&mut self, at: Nanos, event: Event) -> Result<(), TraceError> {
        let index = self.trace.events.len();
        let engine = self
            .engine
            .as_mut()
            .ok_or_else(|| TraceError::Diverged("no engine".into()))?;
        engine
            .handle(at, event.clone(), &mut self.out)
            .map_err(|e| TraceError::Engine {
                index,
                reason: e.to_string(),
            })?;
        self.trace.events.push((at, event));
        Ok(())
    }

    /// Gives the engine every venue's liquidity, both sides, at `at`.
    fn snapshot_all(
        &mut self,
        venues: &mut [ScenarioVenue],
        at: Nanos,
        start: Nanos,
    ) -> Result<(), TraceError> {
        for v in venues.iter_mut() {
            for side in [Side::Sell, Side::Buy] {
                let liq = v.sim.liquidity(side, at - start);
                self.feed(at, Event::Liquidity(liq))?;
            }
        }
        Ok(())
    }

    /// One parent's whole life from `start` (the venues' time zero) to its last event;
    /// returns the time of that event.
    fn parent_life(
        &mut self,
        mut venues: Vec<ScenarioVenue>,
        start: Nanos,
        parent: NewParent,
    ) -> Result<Nanos, TraceError> {
        let index: HashMap<String, usize> = venues
            .iter()
            .enumerate()
            .map(|(i, v)| (v.sim.id().0.clone(), i))
            .collect();
        let client_id = parent.client_id.clone();
        let mut heap = BinaryHeap::new();
        let mut seq = 0u64;
        let mut push = |heap: &mut BinaryHeap<Reverse<Pending>>, at, what| {
            seq += 1;
            heap.push(Reverse(Pending { at, seq, what }));
        };
        push(&mut heap, start, What::Engine(Event::NewParent(parent)));
        let mut handled = 0usize;
        let mut last = start;
        while let Some(Reverse(next)) = heap.pop() {
            handled += 1;
            if handled > MAX_EVENTS_PER_PARENT {
                return Err(TraceError::Unbounded {
                    client_id,
                    max: MAX_EVENTS_PER_PARENT,
                });
            }
            let now = next.at;
            last = now;
            match next.what {
                What::Engine(event) => {
                    if matches!(event, Event::NewParent(_) | Event::SliceDue { .. }) {
                        self.snapshot_all(&mut venues, now, start)?;
                    }
                    self.feed(now, event)?;
                }
                What::Arrive { venue, order } => {
                    let v = &mut venues[venue];
                    let reports = v.sim.execute(&order, now - start);
                    let back = now + v.sim.processing_delay() + v.one_way;
                    for side in [Side::Sell, Side::Buy] {
                        let liq = v.sim.liquidity(side, back - start);
                        push(&mut heap, back, What::Engine(Event::Liquidity(liq)));
                    }
                    for report in reports {
                        let child = sor::domain::ChildId(order.client_id.clone());
                        push(
                            &mut heap,
                            back,
                            What::Engine(Event::Venue { child, report }),
                        );
                    }
                }
            }
            self.trace.commands += self.out.len();
            for cmd in self.out.drain(..) {
                match cmd {
                    Command::Send { venue, order, .. } => {
                        self.trace.sends += 1;
                        let v = *index
                            .get(venue.as_str())
                            .ok_or_else(|| TraceError::UnknownVenue(venue.0.clone()))?;
                        let at = now + venues[v].one_way;
                        push(&mut heap, at, What::Arrive { venue: v, order });
                    }
                    Command::Schedule { at, event } => {
                        push(&mut heap, at.max(now), What::Engine(event));
                    }
                    // In-process venues execute on arrival: a cancel finds the child done.
                    Command::Cancel { .. } | Command::Desk(_) => {}
                }
            }
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The benchmark's stream is the mix it claims: every parent arrives, children are
    /// sent and answered, and a replay into a fresh engine ends every parent the same.
    #[test]
    fn corridor_trace_replays_to_the_same_end() -> Result<(), TraceError> {
        let trace = corridor_trace(1)?;
        let mix = trace.mix();
        assert_eq!(mix.counts.get("new_parent"), Some(&6), "{mix}");
        assert!(
            mix.counts.get("venue_fill").copied().unwrap_or(0) > 6,
            "{mix}"
        );
        assert!(
            mix.counts.get("slice_due").copied().unwrap_or(0) >= 4,
            "{mix}"
        );
        assert!(
            mix.counts.get("liquidity").copied().unwrap_or(0) > 100,
            "{mix}"
        );
        let engine = trace.replay()?;
        assert_eq!(engine.parents().len(), 6);
        for p in engine.parents().values() {
            assert!(
                p.order.status().is_terminal(),
                "{} {:?}",
                p.client_id,
                p.order.status()
            );
            assert!(
                p.order.filled() > Decimal::ZERO,
                "{} filled nothing",
                p.client_id
            );
        }
        Ok(())
    }
}
