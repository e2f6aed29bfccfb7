//! Fuzz target `desk_fix_fields`: the body is `tests::fuzz_bodies::desk_fix_fields` (also run over
//! `tests/fuzz/corpus/desk_fix_fields/` by the stable test suite). See docs/fuzzing.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tests::fuzz_bodies::desk_fix_fields(data));
