//! End-to-end tests live in `tests/tests/`. The library holds what is shared with
//! the cargo-fuzz project in `tests/fuzz/`: the fuzz targets' bodies.

pub mod fuzz_bodies;
