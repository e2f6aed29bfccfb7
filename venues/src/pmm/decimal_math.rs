//! `DecimalMath`: 1e18 fixed point on top of the checked operations, with the contract's
//! rounding (floor everywhere except `div_ceil`).

use super::revert::Revert;
use super::safe_math;
use ruint::aliases::U256;

/// `1e18`, the fixed-point one.
pub const ONE: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

/// `1e36`, one squared.
pub const ONE2: U256 = U256::from_limbs([0xb34b_9f10_0000_0000, 0x00c0_97ce_7bc9_0715, 0, 0]);

/// `mulFloor(a, b) = a * b / 1e18`, floored; the product reverts `MUL_ERROR` on overflow.
pub fn mul_floor(a: U256, b: U256) -> Result<U256, Revert> {
    Ok(safe_math::mul(a, b)? / ONE)
}

/// `divFloor(a, b) = a * 1e18 / b`, floored; `MUL_ERROR` then `DIVIDING_ERROR`.
pub fn div_floor(a: U256, b: U256) -> Result<U256, Revert> {
    safe_math::div(safe_math::mul(a, ONE)?, b)
}

/// `divCeil(a, b) = ceil(a * 1e18 / b)`; `MUL_ERROR` then `DIVIDING_ERROR`.
pub fn div_ceil(a: U256, b: U256) -> Result<U256, Revert> {
    safe_math::div_ceil(safe_math::mul(a, ONE)?, b)
}

/// `reciprocalFloor(a) = 1e36 / a`, floored; `DIVIDING_ERROR` when `a = 0`.
pub fn reciprocal_floor(a: U256) -> Result<U256, Revert> {
    safe_math::div(ONE2, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(x: u128) -> U256 {
        U256::from(x)
    }

    #[test]
    fn constants() {
        assert_eq!(ONE, u(10u128.pow(18)));
        assert_eq!(ONE2, u(10u128.pow(36)));
    }

    #[test]
    fn rounding_directions() {
        // 1.5 * 1.5 = 2.25; 3 wei * 0.5 = 1.5 wei -> 1
        assert_eq!(mul_floor(u(3), ONE / u(2)), Ok(u(1)));
        // 1 wei / 3 in fixed point: 1e18/3 floored / ceiled
        assert_eq!(div_floor(u(1), u(3)), Ok(u(333_333_333_333_333_333)));
        assert_eq!(div_ceil(u(1), u(3)), Ok(u(333_333_333_333_333_334)));
        assert_eq!(div_ceil(u(3), u(3)), Ok(ONE));
        // reciprocalFloor(3e18) = floor(1e18 / 3)
        assert_eq!(reciprocal_floor(u(3) * ONE), Ok(u(333_333_333_333_333_333)));
        assert_eq!(reciprocal_floor(u(7)), Ok(ONE2 / u(7)));
    }

    #[test]
    fn reverts_and_their_order() {
        assert_eq!(mul_floor(U256::MAX, u(2)), Err(Revert::MulError));
        assert_eq!(div_floor(u(1), u(0)), Err(Revert::DividingError));
        // a * 1e18 overflows before the zero divisor is looked at
        assert_eq!(div_floor(U256::MAX, u(0)), Err(Revert::MulError));
        assert_eq!(div_ceil(U256::MAX, u(0)), Err(Revert::MulError));
        assert_eq!(div_ceil(u(1), u(0)), Err(Revert::DividingError));
        assert_eq!(reciprocal_floor(u(0)), Err(Revert::DividingError));
    }
}
