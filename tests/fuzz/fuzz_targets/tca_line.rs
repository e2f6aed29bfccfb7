//! Fuzz target `tca_line`: the body is `tests::fuzz_bodies::tca_line` (also run over
//! `tests/fuzz/corpus/tca_line/` by the stable test suite). See docs/fuzzing.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tests::fuzz_bodies::tca_line(data));
