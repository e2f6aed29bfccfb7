//! `sor sim` as a user runs it: seeds over the scenarios, the figures, a reproducible
//! single seed, and errors that name what is wrong.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use std::path::PathBuf;
use std::process::{Command, Output};

fn sor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sor"))
        .args(args)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The number after `label` on its line of the summary.
fn figure(text: &str, label: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} in {text}"));
    line[label.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn seeds_over_every_scenario_print_their_figures_and_no_violation() {
    let o = sor(&["sim", "--seeds", "6", "--faults", "heavy"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("scenarios/corridor.toml, scenarios/"), "{out}");
    assert_eq!(figure(&out, "seeds"), 6);
    assert!(figure(&out, "steps") > 0);
    assert!(figure(&out, "faults injected") > 0);
    assert_eq!(figure(&out, "invariant violations"), 0);
    for kind in ["disconnect", "duplicate", "crash", "partial"] {
        assert!(out.contains(&format!("  {kind}")), "{kind}: {out}");
    }
}

#[test]
fn one_seed_runs_alone_and_the_same_way_twice() {
    let args = [
        "sim",
        "scenarios/corridor.toml",
        "--seed",
        "11",
        "--faults",
        "heavy",
    ];
    let a = stdout(&sor(&args));
    let b = stdout(&sor(&args));
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("wall time"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&a), strip(&b));
    assert!(a.contains("seed 11 (corridor)"), "{a}");
    assert_eq!(figure(&a, "seeds"), 1);
}

#[test]
fn a_bad_fault_profile_or_scenario_exits_2_naming_it() {
    let o = sor(&["sim", "--faults", "default,crash=7"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("faults.crash"),
        "{:?}",
        o
    );
    let o = sor(&["sim", "scenarios/nope.toml", "--seeds", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("scenarios/nope.toml"));
    let o = sor(&["sim", "--seeds", "2", "--seed", "3"]);
    assert_eq!(o.status.code(), Some(2));
}
