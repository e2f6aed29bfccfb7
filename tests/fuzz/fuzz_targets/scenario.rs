//! Fuzz target `scenario`: the body is `tests::fuzz_bodies::scenario` (also run over
//! `tests/fuzz/corpus/scenario/` by the stable test suite). See docs/fuzzing.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tests::fuzz_bodies::scenario(data));
