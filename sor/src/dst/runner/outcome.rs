//! What a seed leaves behind, and the checks after a step and at the end.

use super::World;
use super::text::secs;
use crate::dst::digest::{ChildFacts, ParentFacts};
use crate::dst::faults::FaultCounts;
use crate::dst::invariants::{Invariant, Violation};
use std::fmt;
use venues::Nanos;

/// A run that could not start or went past a bound (not an invariant violation).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DstError {
    /// The scenario did not parse.
    #[error("scenario: {0}")]
    Scenario(String),
    /// The risk limits did not build a gate.
    #[error("risk_limits: {0}")]
    Gate(String),
    /// A bound was reached.
    #[error("bound reached: {0}")]
    Bound(String),
}

/// A seed that broke an invariant: where, which, and what led there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// The scenario's name.
    pub scenario: String,
    /// The step it broke at (1 is the first).
    pub step: u64,
    /// Simulated time then.
    pub at: Nanos,
    /// The broken invariant.
    pub violation: Violation,
    /// The last steps before it, oldest first.
    pub recent: Vec<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed={}, scenario={}, step={}, t={}, {}",
            self.seed,
            self.scenario,
            self.step,
            secs(self.at),
            self.violation
        )?;
        writeln!(f, "last events:")?;
        for line in &self.recent {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

/// What one seed did.
#[derive(Debug, Clone)]
pub struct SeedOutcome {
    /// The seed.
    pub seed: u64,
    /// The scenario's name.
    pub scenario: String,
    /// Steps run.
    pub steps: u64,
    /// Whether it ran until nothing was pending (else it stopped at the step bound).
    pub quiet: bool,
    /// Simulated time at the last step.
    pub sim_time: Nanos,
    /// Faults injected.
    pub faults: FaultCounts,
    /// Crashes.
    pub crashes: u64,
    /// Restarts whose replayed state equalled the state before the crash.
    pub recoveries: u64,
    /// Reports the engine got from reconciliation (after a reconnect or a restart).
    pub reconciled: u64,
    /// Live reports dropped because a status answer on its way covered them.
    pub superseded: u64,
    /// Duplicate fills the engine ignored by their execution id.
    pub duplicate_fills: u64,
    /// Duplicate acks and ends the engine refused.
    pub refused_duplicates: u64,
    /// Parents the engine held at the end.
    pub parents: usize,
    /// Children sent.
    pub children: usize,
    /// Fills the venues made (all reported to the desk once when the run is clean).
    pub venue_fills: usize,
    /// Journal records.
    pub journal_records: usize,
    /// The broken invariant, if one broke.
    pub failure: Option<Failure>,
}

impl World {
    /// After a step: no overfill, terminal orders unchanged.
    pub(super) fn check_state(&mut self) -> Result<(), Violation> {
        let Some(engine) = self.engine.as_ref() else {
            return Ok(());
        };
        self.checker.on_state(
            engine
                .parents()
                .iter()
                .map(|(id, r)| (id, ParentFacts::of(r))),
            engine
                .children()
                .iter()
                .map(|(id, c)| (id, ChildFacts::of(c))),
        )
    }
    /// When nothing is left to happen: every order ended, every venue fill told.
    pub(super) fn check_quiet(&self) -> Result<(), Violation> {
        let Some(engine) = self.engine.as_ref() else {
            return Err(Violation::new(
                Invariant::EveryOrderEnds,
                "the run ended with the process down",
            ));
        };
        if let Some((id, rec)) = engine
            .parents()
            .iter()
            .find(|(_, r)| !r.order.status().is_terminal())
        {
            return Err(Violation::new(
                Invariant::EveryOrderEnds,
                format!(
                    "nothing left to happen but parent {id} is {} ({} filled, {} working)",
                    rec.order.status().name(),
                    rec.order.filled(),
                    rec.order.working()
                ),
            ));
        }
        if let Some((id, c)) = engine
            .children()
            .iter()
            .find(|(_, c)| !c.status().is_terminal())
        {
            return Err(Violation::new(
                Invariant::EveryOrderEnds,
                format!(
                    "nothing left to happen but child {id} at {} is {}",
                    c.venue,
                    c.status().name()
                ),
            ));
        }
        self.checker.on_quiet(
            self.venues
                .iter()
                .flat_map(|v| v.fills().map(|(c, f)| (c, f.exec_id.as_str()))),
        )
    }
    pub(super) fn outcome(self, quiet: bool, failure: Option<Violation>) -> SeedOutcome {
        let (parents, children, duplicate_fills) = self.engine.as_ref().map_or((0, 0, 0), |e| {
            (e.parents().len(), e.children().len(), e.duplicate_fills())
        });
        SeedOutcome {
            seed: self.seed,
            scenario: self.scenario.clone(),
            steps: self.step,
            quiet,
            sim_time: self.now,
            faults: self.dice.counts,
            crashes: self.crashes,
            recoveries: self.recoveries,
            reconciled: self.reconciled,
            superseded: self.superseded,
            duplicate_fills,
            refused_duplicates: self.refused_dups,
            parents,
            children,
            venue_fills: self.venues.iter().map(|v| v.fills().count()).sum(),
            journal_records: self.journal.len(),
            failure: failure.map(|violation| Failure {
                seed: self.seed,
                scenario: self.scenario.clone(),
                step: self.step,
                at: self.now,
                violation,
                recent: self.recent.iter().cloned().collect(),
            }),
        }
    }
}
