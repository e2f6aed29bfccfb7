//! `SafeMath` of the 0.6.9 contracts: checked 256-bit operations that revert with the
//! contract's strings, and its Babylonian square root (with the `sqrt(2) = 2` quirk).

use super::revert::Revert;
use ruint::aliases::U256;

/// `a + b`, reverting `ADD_ERROR` on overflow.
pub fn add(a: U256, b: U256) -> Result<U256, Revert> {
    a.checked_add(b).ok_or(Revert::AddError)
}

/// `a - b`, reverting `SUB_ERROR` when `b > a`.
pub fn sub(a: U256, b: U256) -> Result<U256, Revert> {
    a.checked_sub(b).ok_or(Revert::SubError)
}

/// `a * b`, reverting `MUL_ERROR` on overflow.
pub fn mul(a: U256, b: U256) -> Result<U256, Revert> {
    a.checked_mul(b).ok_or(Revert::MulError)
}

/// `a / b` (floor), reverting `DIVIDING_ERROR` when `b = 0`.
pub fn div(a: U256, b: U256) -> Result<U256, Revert> {
    a.checked_div(b).ok_or(Revert::DividingError)
}

/// `ceil(a / b)`, reverting `DIVIDING_ERROR` when `b = 0`.
pub fn div_ceil(a: U256, b: U256) -> Result<U256, Revert> {
    let quotient = div(a, b)?;
    // `a - quotient * b` is the remainder; it cannot wrap since quotient * b <= a.
    if a.wrapping_sub(quotient.wrapping_mul(b)).is_zero() {
        Ok(quotient)
    } else {
        add(quotient, U256::from(1u64))
    }
}

/// `SafeMath.sqrt`: Babylonian iteration from `x / 2 + 1`, exactly as the 0.6.9 code runs it.
///
/// This is `floor(sqrt(x))` for every `x` except `2`, where the loop never runs and the
/// answer is `2`.
pub fn sqrt(x: U256) -> U256 {
    let two = U256::from(2u64);
    let mut z = x / two + U256::from(1u64);
    let mut y = x;
    while z < y {
        y = z;
        // Unchecked in the contract; it cannot wrap here, wrapping_add mirrors it anyway.
        z = (x / z).wrapping_add(z) / two;
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(x: u128) -> U256 {
        U256::from(x)
    }

    #[test]
    fn checked_ops_revert_with_the_contract_strings() {
        assert_eq!(add(U256::MAX, u(1)), Err(Revert::AddError));
        assert_eq!(add(u(2), u(3)), Ok(u(5)));
        assert_eq!(sub(u(2), u(3)), Err(Revert::SubError));
        assert_eq!(sub(u(3), u(3)), Ok(u(0)));
        assert_eq!(mul(U256::MAX, u(2)), Err(Revert::MulError));
        assert_eq!(mul(u(0), U256::MAX), Ok(u(0)));
        assert_eq!(div(u(7), u(0)), Err(Revert::DividingError));
        assert_eq!(div(u(7), u(2)), Ok(u(3)));
        assert_eq!(div_ceil(u(7), u(2)), Ok(u(4)));
        assert_eq!(div_ceil(u(8), u(2)), Ok(u(4)));
        assert_eq!(div_ceil(u(0), u(5)), Ok(u(0)));
        assert_eq!(div_ceil(u(1), u(0)), Err(Revert::DividingError));
        assert_eq!(div_ceil(U256::MAX, u(2)), Ok(U256::MAX / u(2) + u(1)));
    }

    #[test]
    fn sqrt_matches_floor_sqrt_except_two() {
        assert_eq!(sqrt(u(0)), u(0));
        assert_eq!(sqrt(u(1)), u(1));
        assert_eq!(sqrt(u(2)), u(2));
        assert_eq!(sqrt(u(3)), u(1));
        assert_eq!(sqrt(u(4)), u(2));
        assert_eq!(sqrt(u(8)), u(2));
        assert_eq!(sqrt(u(9)), u(3));
        for x in 3u128..2000 {
            assert_eq!(sqrt(u(x)), u(x).root(2), "x = {x}");
        }
        assert_eq!(sqrt(U256::MAX), U256::MAX.root(2));
        let ten36 = u(10u128.pow(36));
        assert_eq!(sqrt(ten36), u(10u128.pow(18)));
        assert_eq!(sqrt(ten36 - u(1)), u(10u128.pow(18) - 1));
    }

    proptest::proptest! {
        #[test]
        fn sqrt_is_floor_sqrt(limbs in proptest::array::uniform4(proptest::num::u64::ANY), shift in 0usize..256) {
            let x = U256::from_limbs(limbs) >> shift;
            proptest::prop_assume!(x != u(2));
            proptest::prop_assert_eq!(sqrt(x), x.root(2));
        }
    }
}
