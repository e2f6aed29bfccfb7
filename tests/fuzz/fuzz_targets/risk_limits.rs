//! Fuzz target `risk_limits`: the body is `tests::fuzz_bodies::risk_limits` (also run over
//! `tests/fuzz/corpus/risk_limits/` by the stable test suite). See docs/fuzzing.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tests::fuzz_bodies::risk_limits(data));
