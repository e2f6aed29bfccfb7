//! Fuzz target `pool_math`: the body is `tests::fuzz_bodies::pool_math` (also run over
//! `tests/fuzz/corpus/pool_math/` by the stable test suite). See docs/fuzzing.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tests::fuzz_bodies::pool_math(data));
