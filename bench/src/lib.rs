//! Benchmark fixtures shared by the criterion benches.
