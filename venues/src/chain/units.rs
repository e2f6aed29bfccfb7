//! Token amounts between `Decimal` (the engine's edge) and raw `uint256` units (the
//! contract's), exactly or rounded the way a guard needs.

use super::ChainError;
use alloy::primitives::U256;
use rust_decimal::Decimal;

/// Decimals of the chain's native asset (ETH and its kin): gas is paid in wei.
pub const NATIVE_DECIMALS: u32 = 18;

/// How to round an amount that is finer than the token's smallest unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Refuse it.
    Exact,
    /// Round down (a most-pay bound).
    Floor,
    /// Round up (a least-receive bound).
    Ceil,
}

/// `amount` (≥ 0) in raw units of a token with `decimals` decimals.
pub fn to_raw(amount: Decimal, decimals: u32, rounding: Rounding) -> Result<U256, ChainError> {
    let bad = |problem: &str| ChainError::Amount {
        amount: amount.to_string(),
        problem: problem.into(),
    };
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(bad("is negative"));
    }
    let n = amount.normalize();
    let mantissa = U256::from(n.mantissa().unsigned_abs());
    let scale = n.scale();
    let ten = U256::from(10u64);
    if scale <= decimals {
        let f = ten
            .checked_pow(U256::from(decimals - scale))
            .ok_or_else(|| bad("overflows uint256"))?;
        return mantissa
            .checked_mul(f)
            .ok_or_else(|| bad("overflows uint256"));
    }
    let f = ten
        .checked_pow(U256::from(scale - decimals))
        .ok_or_else(|| bad("overflows uint256"))?;
    let (q, r) = (mantissa / f, mantissa % f);
    match rounding {
        _ if r.is_zero() => Ok(q),
        Rounding::Exact => Err(bad(&format!("has more than {decimals} decimals"))),
        Rounding::Floor => Ok(q),
        Rounding::Ceil => Ok(q + U256::from(1u64)),
    }
}

/// A raw amount of a token with `decimals` decimals, as a `Decimal`.
pub fn from_raw(raw: U256, decimals: u32) -> Result<Decimal, ChainError> {
    let too_big = || ChainError::Amount {
        amount: raw.to_string(),
        problem: format!("does not fit a Decimal at {decimals} decimals"),
    };
    let v = i128::try_from(raw).map_err(|_| too_big())?;
    Decimal::try_from_i128_with_scale(v, decimals).map_err(|_| too_big())
}

/// Gas paid, `gas_used × price_wei`, in native units (e.g. ETH).
pub fn gas_cost(gas_used: u64, price_wei: u128) -> Result<Decimal, ChainError> {
    let wei = U256::from(gas_used)
        .checked_mul(U256::from(price_wei))
        .ok_or_else(|| ChainError::Amount {
            amount: format!("{gas_used} gas × {price_wei} wei"),
            problem: "overflows".into(),
        })?;
    from_raw(wei, NATIVE_DECIMALS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn exact_floor_and_ceil() {
        assert_eq!(
            to_raw(dec!(1.5), 6, Rounding::Exact).unwrap(),
            U256::from(1_500_000u64)
        );
        assert_eq!(
            to_raw(dec!(100), 18, Rounding::Exact).unwrap(),
            U256::from(100u64) * U256::from(10u64).pow(U256::from(18u64))
        );
        assert!(to_raw(dec!(0.0000001), 6, Rounding::Exact).is_err());
        assert_eq!(
            to_raw(dec!(0.0000019), 6, Rounding::Floor).unwrap(),
            U256::from(1u64)
        );
        assert_eq!(
            to_raw(dec!(0.0000011), 6, Rounding::Ceil).unwrap(),
            U256::from(2u64)
        );
        assert_eq!(to_raw(dec!(0), 6, Rounding::Exact).unwrap(), U256::ZERO);
        assert!(to_raw(dec!(-1), 6, Rounding::Floor).is_err());
    }

    #[test]
    fn raw_round_trips_and_gas_is_in_native_units() {
        let raw = U256::from(98_914_196_817_061_816_111u128);
        assert_eq!(from_raw(raw, 18).unwrap(), dec!(98.914196817061816111));
        assert_eq!(
            to_raw(from_raw(raw, 18).unwrap(), 18, Rounding::Exact).unwrap(),
            raw
        );
        assert!(from_raw(U256::MAX, 18).is_err());
        // 120 000 gas at 1.1 gwei = 0.000132 ETH
        assert_eq!(gas_cost(120_000, 1_100_000_000).unwrap(), dec!(0.000132));
    }
}
