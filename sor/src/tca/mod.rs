//! The benchmark and transaction-cost calculator of ../shared/specs/benchmark.md,
//! driven in batch by `sor tca compute` (../shared/specs/cli-contract.md).
//!
//! - [`reference`]: the reference rate, modelled on the CME CF Bitcoin Reference Rate:
//!   constituent venues' trades in the half-open window `[W0, W1)`, `k` partitions of a
//!   whole number of milliseconds (a boundary print goes to the later partition), a
//!   volume-weighted median per partition (the first price where `2·C_m ≥ V`, so a tie
//!   takes the lower price), and the plain mean of the non-empty partitions' medians.
//! - [`figures`]: an order's VWAP, all-in price, fees, market volume and VWAP over the
//!   order interval, participation, fill rate, slippages, effective spread and
//!   implementation shortfall.
//! - [`parse`] reads and validates one input line; [`batch`] answers it and runs the
//!   line loop.
//! - [`run`]: the same figures for every parent of a simulated run, from the prints of
//!   its market and its own fills.
//! - [`gap`]: each parent of a run against the ex-post optimal allocation and two
//!   baselines on the liquidity that was really there.
//!
//! All arithmetic is exact `rust_decimal::Decimal`; every published figure is rounded
//! once, half-to-even, and written with exactly its published number of places (the
//! helpers in [`crate::report`]). Figures derived from published figures use the
//! published values.
//!
//! ```
//! use sor::tca::batch::answer_line;
//! let line = r#"{"window_start_ms": 0, "window_end_ms": 3600000, "partitions": 12,
//!   "constituents": ["a"], "trades": [[0, "a", "1.0001", "5"]]}"#;
//! let out = serde_json::to_string(&answer_line(&line.replace('\n', ""))).unwrap();
//! assert!(out.starts_with(r#"{"reference":{"rate":"1.0001000000","nonempty_partitions":1,"#));
//! ```

mod arith;
pub mod batch;
pub mod error;
pub mod figures;
pub mod gap;
pub mod parse;
pub mod reference;
pub mod run;
pub mod types;

pub use error::{Overflow, TcaError};
pub use figures::{OrderFigures, Shortfall, Slippages, order_figures};
pub use reference::{Partition, RateError, ReferenceRate, reference_rate, weighted_median};
pub use types::{Fill, Order, Trade, Window};
