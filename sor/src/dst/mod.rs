//! Deterministic simulation testing: the engine over a scenario's simulated venues on
//! a simulated clock, under seeded random faults (venue disconnects, rejects, partial
//! fills, fills crossing cancels, duplicate reports, expiring quotes, chain reverts,
//! latency spikes, process crashes with replay from the journal and reconciliation),
//! with every invariant checked after every step.
//!
//! A seed decides everything (the venues' draws and the faults), so a failing seed
//! reproduces exactly: `sor sim SCENARIO --seed S --faults PROFILE`. What the harness
//! models and checks is written up in `docs/dst.md`.

pub mod cli;
pub mod digest;
pub mod faults;
pub mod invariants;
pub mod reconcile;
pub mod replay;
pub mod runner;
mod venue;

pub use faults::{FaultCounts, FaultKind, FaultProfile, FaultSpecError};
pub use invariants::{Invariant, Violation};
pub use runner::{DstError, Failure, SeedOutcome, run_seed, run_seed_traced};

/// A scenario to simulate: its name (for messages) and its TOML text.
#[derive(Debug, Clone)]
pub struct ScenarioText {
    /// The name to print (the file's path).
    pub name: String,
    /// The scenario file's contents.
    pub text: String,
}

/// The scenario seed `seed` runs when seeds are spread over `count` scenarios.
pub fn scenario_for(seed: u64, count: usize) -> usize {
    if count == 0 {
        return 0;
    }
    (seed % count as u64) as usize
}

/// Many seeds' figures added up.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Seeds run.
    pub seeds: u64,
    /// Seeds that ran until nothing was pending.
    pub quiet: u64,
    /// Steps, all seeds.
    pub steps: u64,
    /// Faults injected, by kind.
    pub faults: FaultCounts,
    /// Crashes.
    pub crashes: u64,
    /// Restarts whose state equalled the state before the crash.
    pub recoveries: u64,
    /// Reports fed from venue status answers.
    pub reconciled: u64,
    /// Live reports dropped because a status answer covered them.
    pub superseded: u64,
    /// Duplicate fills ignored by execution id.
    pub duplicate_fills: u64,
    /// Duplicate acks and ends refused.
    pub refused_duplicates: u64,
    /// Parents.
    pub parents: u64,
    /// Children sent.
    pub children: u64,
    /// Venue fills.
    pub venue_fills: u64,
    /// Journal records.
    pub journal_records: u64,
    /// The seeds that broke an invariant.
    pub failures: Vec<Failure>,
    /// Seeds that stopped at the step bound (the first [`MAX_LISTED`]).
    pub bounded: Vec<u64>,
}

/// Most seeds listed as stopped at the step bound.
pub const MAX_LISTED: usize = 20;

impl Summary {
    /// Adds one seed's outcome.
    pub fn add(&mut self, o: &SeedOutcome) {
        self.seeds += 1;
        self.quiet += u64::from(o.quiet);
        self.steps += o.steps;
        self.faults.merge(&o.faults);
        self.crashes += o.crashes;
        self.recoveries += o.recoveries;
        self.reconciled += o.reconciled;
        self.superseded += o.superseded;
        self.duplicate_fills += o.duplicate_fills;
        self.refused_duplicates += o.refused_duplicates;
        self.parents += o.parents as u64;
        self.children += o.children as u64;
        self.venue_fills += o.venue_fills as u64;
        self.journal_records += o.journal_records as u64;
        if let Some(f) = &o.failure {
            self.failures.push(f.clone());
        }
        if !o.quiet && o.failure.is_none() && self.bounded.len() < MAX_LISTED {
            self.bounded.push(o.seed);
        }
    }
}

#[cfg(test)]
mod tests;
