//! Seeds run in CI (a bounded number over every scenario and profile), and planted
//! bugs the invariants must catch.

use super::runner::{Sabotage, run_with};
use super::*;

/// Seeds CI runs per scenario and profile (keep `cargo test` short).
const CI_SEEDS: u64 = 8;

fn scenario(name: &str) -> String {
    let path = format!("{}/../scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap()
}

fn run(name: &str, seeds: std::ops::Range<u64>, profile: &str) -> Summary {
    let text = scenario(name);
    let profile = FaultProfile::parse(profile).unwrap();
    let mut sum = Summary::default();
    for seed in seeds {
        let o = run_seed(&text, seed, &profile, 200_000).unwrap();
        if let Some(f) = &o.failure {
            panic!("{name}: {f}");
        }
        assert!(o.quiet, "{name} seed {seed} stopped at the step bound");
        sum.add(&o);
    }
    sum
}

#[test]
fn corridor_seeds_hold_every_invariant_under_faults() {
    let s = run("corridor.toml", 0..CI_SEEDS, "default");
    assert!(s.venue_fills > 0);
    assert!(s.faults.total() > 0);
}

#[test]
fn corridor_seeds_hold_under_heavy_faults_with_crashes() {
    let s = run("corridor.toml", 0..CI_SEEDS, "heavy");
    assert!(s.crashes > 0, "heavy faults crash the process");
    assert_eq!(s.recoveries, s.crashes);
}

#[test]
fn canary_seeds_hold_with_the_full_risk_layer() {
    let s = run("canary.toml", 0..CI_SEEDS, "default,crash=0.02");
    assert!(s.crashes > 0);
}

#[test]
fn twap_seeds_hold_across_slices_and_restarts() {
    let s = run("corridor-twap.toml", 0..CI_SEEDS / 2, "default,crash=0.01");
    assert!(s.steps > 0);
}

#[test]
fn without_faults_a_seed_is_the_plain_run_and_ends_clean() {
    let s = run("corridor.toml", 0..2, "none");
    assert_eq!(s.faults.total(), 0);
    assert_eq!(s.crashes, 0);
    assert_eq!(s.reconciled, 0);
}

#[test]
fn a_seed_reproduces_exactly() {
    let text = scenario("corridor.toml");
    let profile = FaultProfile::heavy();
    let a = run_seed(&text, 42, &profile, 200_000).unwrap();
    let b = run_seed(&text, 42, &profile, 200_000).unwrap();
    assert_eq!(
        (
            a.steps,
            a.faults,
            a.crashes,
            a.venue_fills,
            a.journal_records
        ),
        (
            b.steps,
            b.faults,
            b.crashes,
            b.venue_fills,
            b.journal_records
        )
    );
}

/// Runs seeds with `sabotage` planted until one fails; returns its invariant.
fn first_caught(sabotage: Sabotage, profile: &str) -> Invariant {
    let text = scenario("corridor.toml");
    let profile = FaultProfile::parse(profile).unwrap();
    for seed in 0..20 {
        let o = run_with(&text, seed, &profile, 200_000, &mut |_| {}, sabotage).unwrap();
        if let Some(f) = o.failure {
            assert!(!f.recent.is_empty());
            eprintln!("{sabotage:?} caught at seed {seed}: {}", f.violation);
            return f.violation.invariant;
        }
    }
    panic!("{sabotage:?} went unnoticed for 20 seeds");
}

#[test]
fn ignoring_status_answers_loses_fills_and_is_caught() {
    let caught = first_caught(Sabotage::IgnoreStatusAnswers, "heavy,crash=0.03");
    assert!(
        matches!(
            caught,
            Invariant::EveryOrderEnds | Invariant::FillReportedOnce
        ),
        "{caught:?}"
    );
}

#[test]
fn a_duplicate_fill_without_its_exec_id_is_caught() {
    let caught = first_caught(Sabotage::StripDuplicateExecIds, "heavy,duplicate=0.5");
    assert!(
        matches!(
            caught,
            Invariant::FillReportedOnce | Invariant::Overfill | Invariant::EngineRefused
        ),
        "{caught:?}"
    );
}

#[test]
fn a_journal_that_loses_a_record_fails_the_recovery_check() {
    let caught = first_caught(Sabotage::LoseLastVenueRecord, "heavy,crash=0.03");
    assert_eq!(caught, Invariant::Recovery);
}

#[test]
fn resending_replayed_reports_to_the_desk_is_caught() {
    let caught = first_caught(Sabotage::ResendReplayedDeskReports, "heavy,crash=0.03");
    assert!(
        matches!(
            caught,
            Invariant::DeskConsistent | Invariant::TerminalFinal | Invariant::FillReportedOnce
        ),
        "{caught:?}"
    );
}

#[test]
fn scenarios_spread_over_seeds() {
    assert_eq!(scenario_for(7, 3), 1);
    assert_eq!(scenario_for(7, 1), 0);
    assert_eq!(scenario_for(7, 0), 0);
}
