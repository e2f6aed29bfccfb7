//! The fuzz targets' checks on stable Rust, for CI: every body of
//! `tests::fuzz_bodies` over its committed seed corpus (`tests/fuzz/corpus/<target>/`:
//! hand-made inputs and what the fuzzer found), then over random inputs (seeds with
//! random edits, and plain random bytes). The fuzzer itself needs nightly flags; see
//! docs/fuzzing.md.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use std::path::PathBuf;
use tests::fuzz_bodies::{Body, TARGETS, reframed};

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// The committed inputs of `target`, sorted by file name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

fn body(target: &str) -> Body {
    TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, body)| *body)
        .unwrap()
}

#[test]
fn every_target_has_a_seed_corpus() {
    for (target, _) in TARGETS {
        assert!(!seeds(target).is_empty(), "no seeds for {target}");
    }
}

#[test]
fn every_seed_passes_its_target() {
    let mut total = 0;
    for (target, body) in TARGETS {
        for (name, data) in seeds(target) {
            let outcome = std::panic::catch_unwind(|| body(&data));
            assert!(outcome.is_ok(), "{target}: seed {name} fails (see above)");
            total += 1;
        }
    }
    assert!(total >= TARGETS.len());
}

#[test]
fn reframing_repairs_only_a_desk_message_frame() {
    let read = |name: &str| {
        String::from_utf8(std::fs::read(corpus_dir("desk_fix").join(name)).unwrap()).unwrap()
    };
    let good = read("seed-nos-market-sweep");
    assert_eq!(reframed(&good), good);
    assert_eq!(reframed(&read("seed-bad-checksum")), good);
    assert!(reframed("35=D").ends_with('\u{1}'));
}

/// Fragments that matter to the parsers, for the random edits to insert.
const TOKENS: &[&str] = &[
    "\"",
    "=",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\n",
    "\u{1}",
    "-1",
    "0",
    "1e400",
    "1.5",
    "\"99999999999999999999999999999999\"",
    "\"-0.0000000000000000000000000001\"",
    "18446744073709551616",
    "null",
    "[[",
    "]]",
    "=\"\"",
    "10=",
    "35=D",
];

/// A seed of `target` with a few random edits: byte inserts, deletes, overwrites,
/// and inserted tokens.
fn edited(target: &str) -> impl Strategy<Value = Vec<u8>> {
    let seeds: Vec<Vec<u8>> = seeds(target).into_iter().map(|(_, d)| d).collect();
    let n = seeds.len();
    (
        0..n,
        prop::collection::vec((0u8..4, any::<u16>(), any::<u8>()), 0..6),
    )
        .prop_map(move |(i, edits)| {
            let mut v = seeds[i].clone();
            for (op, pos, byte) in edits {
                let at = usize::from(pos) % (v.len() + 1);
                match op {
                    0 => v.insert(at, byte),
                    1 if at < v.len() => {
                        v.remove(at);
                    }
                    2 if at < v.len() => v[at] = byte,
                    _ => {
                        let token = TOKENS[usize::from(byte) % TOKENS.len()].as_bytes();
                        v.splice(at..at, token.iter().copied());
                    }
                }
            }
            v
        })
}

fn inputs(target: &str) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => edited(target),
        1 => prop::collection::vec(any::<u8>(), 0..300),
    ]
}

macro_rules! random_inputs {
    ($($test:ident: $target:literal,)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]
            $(
                #[test]
                fn $test(data in inputs($target)) {
                    body($target)(&data);
                }
            )*
        }
    };
}

random_inputs! {
    random_desk_fix: "desk_fix",
    random_desk_fix_fields: "desk_fix_fields",
    random_scenario: "scenario",
    random_gateway_config: "gateway_config",
    random_risk_limits: "risk_limits",
    random_pool_math: "pool_math",
    random_tca_line: "tca_line",
}
