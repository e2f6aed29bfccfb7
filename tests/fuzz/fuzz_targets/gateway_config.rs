//! Fuzz target `gateway_config`: the body is `tests::fuzz_bodies::gateway_config` (also run over
//! `tests/fuzz/corpus/gateway_config/` by the stable test suite). See docs/fuzzing.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tests::fuzz_bodies::gateway_config(data));
