//! Fuzz target `desk_fix`: the body is `tests::fuzz_bodies::desk_fix` (also run over
//! `tests/fuzz/corpus/desk_fix/` by the stable test suite). See docs/fuzzing.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tests::fuzz_bodies::desk_fix(data));
