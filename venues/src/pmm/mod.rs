//! DODO V2 PMM pool math, bit for bit with the contracts (DSP, DPP, DPPOracle, DVM).
//!
//! Quotes are computed on 256-bit integers with the contracts' rounding at every step and
//! the same revert reasons in the same order (see `shared/specs/pmm.md`). A quote runs:
//!
//! 1. [`adjusted_state`]: re-derive the target that the R state makes stale;
//! 2. the R-state case of the sell (integral, trade solver, or the exact boundary);
//! 3. fees on the gross output, maintainer fee first, both floored.
//!
//! ```
//! use venues::pmm::{query_sell_quote, FeeRates, MathVersion, PmmState, RState, U256};
//! let e18 = U256::from(10u64).pow(U256::from(18u64));
//! let state = PmmState {
//!     i: e18,
//!     k: e18 / U256::from(10u64),
//!     b: U256::from(1000u64) * e18,
//!     q: U256::from(1000u64) * e18,
//!     b0: U256::from(1000u64) * e18,
//!     q0: U256::from(1000u64) * e18,
//!     r: RState::One,
//! };
//! let no_fees = FeeRates { lp_fee_rate: U256::ZERO, mt_fee_rate: U256::ZERO };
//! let q = query_sell_quote(&state, &no_fees, U256::from(100u64) * e18, MathVersion::V2024_01)?;
//! assert_eq!(q.receive.to_string(), "98914196817061816111");
//! assert_eq!(q.new_r, RState::AboveOne);
//! # Ok::<(), venues::pmm::Revert>(())
//! ```

mod decimal_math;
mod dodo_math;
mod pricing;
mod query;
mod revert;
mod safe_math;
mod types;

#[cfg(test)]
mod tests;

pub use pricing::{adjusted_state, mid_price};
pub use query::{query_sell_base, query_sell_quote};
pub use revert::Revert;
pub use ruint::aliases::U256;
pub use types::{
    FeeRates, MathVersion, ParseMathVersionError, ParseRStateError, PmmState, RState, SellQuote,
};
