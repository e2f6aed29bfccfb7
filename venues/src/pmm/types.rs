//! The values a PMM quote works on: pool state, R state, fee rates, math revision, result.

use ruint::aliases::U256;
use std::fmt;
use std::str::FromStr;

/// Where the pool stands against its targets (`_RState_`, stored as `uint32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RState {
    /// `0`: reserves at their targets.
    One,
    /// `1`: base short (`B < B0`), quote long.
    AboveOne,
    /// `2`: quote short (`Q < Q0`), base long.
    BelowOne,
}

impl RState {
    /// The contract's enum name: `"ONE"`, `"ABOVE_ONE"` or `"BELOW_ONE"`.
    pub fn name(self) -> &'static str {
        match self {
            RState::One => "ONE",
            RState::AboveOne => "ABOVE_ONE",
            RState::BelowOne => "BELOW_ONE",
        }
    }

    /// The stored `uint32` value: 0, 1 or 2.
    pub fn code(self) -> u32 {
        match self {
            RState::One => 0,
            RState::AboveOne => 1,
            RState::BelowOne => 2,
        }
    }

    /// The state for a stored `uint32` value, `None` above 2.
    pub fn from_code(code: u32) -> Option<RState> {
        match code {
            0 => Some(RState::One),
            1 => Some(RState::AboveOne),
            2 => Some(RState::BelowOne),
            _ => None,
        }
    }
}

impl fmt::Display for RState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Text that is not one of `ONE`, `ABOVE_ONE`, `BELOW_ONE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown R state {0:?} (expected ONE, ABOVE_ONE or BELOW_ONE)")]
pub struct ParseRStateError(pub String);

impl FromStr for RState {
    type Err = ParseRStateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ONE" => Ok(RState::One),
            "ABOVE_ONE" => Ok(RState::AboveOne),
            "BELOW_ONE" => Ok(RState::BelowOne),
            other => Err(ParseRStateError(other.to_owned())),
        }
    }
}

/// A pool's PMM state as `getPMMState` reads it: `(i, K, B, Q, B0, Q0, R)`.
///
/// All values are raw `uint256`s: `i` and `k` on the 1e18 scale, reserves and targets in raw
/// token units. A DVM pool is `b0 = q0 = 0`, `r = AboveOne`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PmmState {
    /// Price of one raw base unit in raw quote units, times 1e18.
    pub i: U256,
    /// Curve parameter `K` in `[0, 1e18]`.
    pub k: U256,
    /// Base reserve.
    pub b: U256,
    /// Quote reserve.
    pub q: U256,
    /// Base target.
    pub b0: U256,
    /// Quote target.
    pub q0: U256,
    /// R state.
    pub r: RState,
}

/// The two fee rates a trader pays, on the 1e18 scale, both charged on the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeRates {
    /// The pool's `_LP_FEE_RATE_`.
    pub lp_fee_rate: U256,
    /// The maintainer fee rate for this trader (`_MT_FEE_RATE_MODEL_.getFeeRate(trader)`).
    pub mt_fee_rate: U256,
}

/// What `querySellBase` / `querySellQuote` return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SellQuote {
    /// Output the trader receives, net of both fees.
    pub receive: U256,
    /// Maintainer fee, in the output token (it leaves the pool too).
    pub mt_fee: U256,
    /// R after the trade.
    pub new_r: RState,
    /// Adjusted target of the input side: `B0` for a base sell, `Q0` for a quote sell.
    pub new_target: U256,
}

/// Which revision of `DODOMath` a pool runs (the template it was cloned from).
///
/// They differ only in `solveTarget` with `V1 = 0` and the trade solver's `num = 0` case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MathVersion {
    /// contractV2 `211b5e0` (2021-01-15): `solveTarget(V1 = 0)` is 0 even at `K = 0`;
    /// `num = 0` pays out all of `V1`.
    V2021_01,
    /// `53b8719` (2021-12-30): `solveTarget(V1 = 0)` divides by zero unless `K = 0`;
    /// `num = 0` pays out all of `V1`.
    V2021_12,
    /// `9c90b8e` (2022-04-24): `solveTarget(V1 = 0)` is `V1 + i*delta` at `K = 0`, else 0;
    /// `num = 0` pays out all of `V1`.
    V2022_04,
    /// `10a496d` (2024-01-14), the default: as 2022-04, but `num = 0` reverts.
    #[default]
    V2024_01,
}

impl MathVersion {
    /// Every supported version, oldest first.
    pub const ALL: [MathVersion; 4] = [
        MathVersion::V2021_01,
        MathVersion::V2021_12,
        MathVersion::V2022_04,
        MathVersion::V2024_01,
    ];

    /// The version's name as the spec writes it: `"2021-01"`, ..., `"2024-01"`.
    pub fn name(self) -> &'static str {
        match self {
            MathVersion::V2021_01 => "2021-01",
            MathVersion::V2021_12 => "2021-12",
            MathVersion::V2022_04 => "2022-04",
            MathVersion::V2024_01 => "2024-01",
        }
    }
}

impl fmt::Display for MathVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Text that is not the name of a supported math version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown DODO math version {0:?} (expected 2021-01, 2021-12, 2022-04 or 2024-01)")]
pub struct ParseMathVersionError(pub String);

impl FromStr for MathVersion {
    type Err = ParseMathVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MathVersion::ALL
            .into_iter()
            .find(|v| v.name() == s)
            .ok_or_else(|| ParseMathVersionError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_state_names_round_trip() {
        for r in [RState::One, RState::AboveOne, RState::BelowOne] {
            assert_eq!(r.name().parse::<RState>(), Ok(r));
            assert_eq!(RState::from_code(r.code()), Some(r));
            assert_eq!(r.to_string(), r.name());
        }
        assert_eq!(RState::AboveOne.name(), "ABOVE_ONE");
        assert!("one".parse::<RState>().is_err());
        assert_eq!(RState::from_code(3), None);
    }

    #[test]
    fn math_version_names_round_trip() {
        for v in MathVersion::ALL {
            assert_eq!(v.name().parse::<MathVersion>(), Ok(v));
        }
        assert_eq!(MathVersion::default(), MathVersion::V2024_01);
        assert!("gsp".parse::<MathVersion>().is_err());
    }
}
