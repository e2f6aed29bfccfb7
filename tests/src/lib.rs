//! End-to-end tests live in `tests/tests/`. The library holds what they share
//! (`fixtures`) and what is shared with the cargo-fuzz project in `tests/fuzz/`: the
//! fuzz targets' bodies.

pub mod fixtures;
pub mod fuzz_bodies;
