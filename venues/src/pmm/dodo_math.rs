//! `DODOMath`: the curve's integral, the target solver and the trade solver.
//!
//! Each step is written in the order the compiled contract runs it (for a chained
//! `x.op(y)` the argument `y` first, then the receiver `x`), so that when two operations
//! would both revert, the same reason comes out.

use super::decimal_math::{self, ONE, ONE2};
use super::revert::Revert;
use super::safe_math::{add, div, mul, sqrt, sub};
use super::types::MathVersion;
use ruint::aliases::U256;

/// `_GeneralIntegrate(V0, V1, V2, i, k)`: what moving the reserve from `V1` down to `V2`
/// (`V1 >= V2`) is worth at price `i`, `i*(V1-V2)*(1-k+k*V0^2/(V1*V2))`, rounded down.
pub fn general_integrate(v0: U256, v1: U256, v2: U256, i: U256, k: U256) -> Result<U256, Revert> {
    if v0.is_zero() {
        return Err(Revert::TargetIsZero);
    }
    let fair_amount = mul(i, sub(v1, v2)?)?;
    if k.is_zero() {
        return div(fair_amount, ONE);
    }
    let v0v0v1v2 = decimal_math::div_floor(div(mul(v0, v0)?, v1)?, v2)?;
    let penalty = decimal_math::mul_floor(k, v0v0v1v2)?;
    div(mul(add(sub(ONE, k)?, penalty)?, fair_amount)?, ONE2)
}

/// `_SolveQuadraticFunctionForTarget(V1, delta, i, k)`: the target `V0` for which the
/// integral from `V1` to `V0` is worth `delta`, rounded down.
pub fn solve_for_target(
    v1: U256,
    delta: U256,
    i: U256,
    k: U256,
    version: MathVersion,
) -> Result<U256, Revert> {
    if version == MathVersion::V2021_01 && v1.is_zero() {
        return Ok(U256::ZERO);
    }
    if k.is_zero() {
        return add(v1, decimal_math::mul_floor(i, delta)?);
    }
    if matches!(version, MathVersion::V2022_04 | MathVersion::V2024_01) && v1.is_zero() {
        return Ok(U256::ZERO);
    }
    // `4 * k` is unchecked in the contract.
    let ki = mul(k.wrapping_mul(U256::from(4u64)), i)?;
    let root = if ki.is_zero() {
        ONE
    } else {
        // Wrap-and-test: the product is unchecked, then tested for overflow by dividing back.
        let product = ki.wrapping_mul(delta);
        if product / ki == delta {
            sqrt(add(div(product, v1)?, ONE2)?)
        } else {
            // Divide first: different rounding.
            sqrt(add(mul(div(ki, v1)?, delta)?, ONE2)?)
        }
    };
    // `k * 2` is unchecked in the contract.
    let premium = add(
        decimal_math::div_floor(sub(root, ONE)?, k.wrapping_mul(U256::from(2u64)))?,
        ONE,
    )?;
    decimal_math::mul_floor(v1, premium)
}

/// `_SolveQuadraticFunctionForTrade(V0, V1, delta, i, k)`: how much of this side's
/// reserve `V1` is paid out when `delta` of the other token is sold at price `i`, moving
/// R away from one. Rounded down (the new reserve `V2` is rounded up).
pub fn solve_for_trade(
    v0: U256,
    v1: U256,
    delta: U256,
    i: U256,
    k: U256,
    version: MathVersion,
) -> Result<U256, Revert> {
    if v0.is_zero() {
        return Err(Revert::TargetIsZero);
    }
    if delta.is_zero() {
        return Ok(U256::ZERO);
    }
    if k.is_zero() {
        let fair = decimal_math::mul_floor(i, delta)?;
        return Ok(fair.min(v1));
    }
    if k == ONE {
        return trade_k_one(v0, v1, delta, i);
    }

    // b = k*V0^2/V1 - i*delta - (1-k)*V1, kept as |b| and a sign.
    let i_delta = mul(i, delta)?;
    let part2 = add(mul(div(mul(k, v0)?, v1)?, v0)?, i_delta)?;
    let part1 = mul(sub(ONE, k)?, v1)?;
    let (b_abs, b_positive) = if part1 >= part2 {
        (part1 - part2, false)
    } else {
        (part2 - part1, true)
    };
    let b_abs = div(b_abs, ONE)?;

    // 4(1-k)k*V0^2
    let four_one_minus_k = mul(sub(ONE, k)?, U256::from(4u64))?;
    let k_v0_v0 = mul(decimal_math::mul_floor(k, v0)?, v0)?;
    let c = decimal_math::mul_floor(four_one_minus_k, k_v0_v0)?;
    let root = sqrt(add(mul(b_abs, b_abs)?, c)?);

    let denominator = mul(sub(ONE, k)?, U256::from(2u64))?;
    let numerator = if b_positive {
        let n = sub(root, b_abs)?;
        if n.is_zero() && version == MathVersion::V2024_01 {
            return Err(Revert::ShouldNotBeZero);
        }
        n
    } else {
        add(b_abs, root)?
    };

    let v2 = decimal_math::div_ceil(numerator, denominator)?;
    Ok(if v2 > v1 { U256::ZERO } else { v1 - v2 })
}

/// The `k = 1e18` branch of the trade solver: `V1 * t / (t + 1)` with `t = i*delta*V1/V0^2`.
fn trade_k_one(v0: U256, v1: U256, delta: U256, i: U256) -> Result<U256, Revert> {
    let i_delta = mul(i, delta)?;
    let temp = if i_delta.is_zero() {
        U256::ZERO
    } else {
        // Wrap-and-test, as in the target solver.
        let product = i_delta.wrapping_mul(v1);
        if product / i_delta == v1 {
            div(product, mul(v0, v0)?)?
        } else {
            div(mul(div(mul(delta, v1)?, v0)?, i)?, v0)?
        }
    };
    // `temp + 1e18` is the argument, evaluated before `V1 * temp`.
    let den = add(temp, ONE)?;
    div(mul(v1, temp)?, den)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: MathVersion = MathVersion::V2024_01;

    fn u(x: u128) -> U256 {
        U256::from(x)
    }

    fn e18(x: u128) -> U256 {
        u(x) * ONE
    }

    #[test]
    fn integral_k_zero_is_price_times_amount() {
        // 10 units at price 2: 20, floored
        assert_eq!(
            general_integrate(u(100), u(60), u(50), e18(2), u(0)),
            Ok(u(20))
        );
        // 3 units at price 0.5 -> 1.5 -> 1
        assert_eq!(
            general_integrate(u(100), u(53), u(50), ONE / u(2), u(0)),
            Ok(u(1))
        );
    }

    #[test]
    fn integral_general_by_hand() {
        // V0=100, V1=100, V2=50, i=1, k=0.5:
        // r = divFloor(10000/100, 50) = 2e18, pen = 1e18, (0.5e18 + 1e18) * 50e18 / 1e36 = 75
        assert_eq!(
            general_integrate(u(100), u(100), u(50), ONE, ONE / u(2)),
            Ok(u(75))
        );
        // V0=10, V1=7, V2=3, i=1, k=0.3: r = divFloor(100/7=14, 3) = 4.666..e18
        // pen = floor(0.3 * 4666666666666666666) = 1399999999999999999
        // (0.7e18 + pen) * 4e18 / 1e36 = 8.399.. -> 8
        assert_eq!(
            general_integrate(u(10), u(7), u(3), ONE, u(3) * ONE / u(10)),
            Ok(u(8))
        );
    }

    #[test]
    fn integral_reverts() {
        assert_eq!(
            general_integrate(u(0), u(2), u(1), ONE, u(0)),
            Err(Revert::TargetIsZero)
        );
        assert_eq!(
            general_integrate(u(5), u(1), u(2), ONE, u(0)),
            Err(Revert::SubError)
        );
        assert_eq!(
            general_integrate(u(5), u(0), u(0), ONE, ONE / u(2)),
            Err(Revert::DividingError)
        );
        assert_eq!(
            general_integrate(u(5), u(5), u(0), ONE, ONE / u(2)),
            Err(Revert::DividingError)
        );
        // k > 1: the penalty is computed, then 1e18 - k fails
        assert_eq!(
            general_integrate(u(5), u(5), u(4), ONE, e18(2)),
            Err(Revert::SubError)
        );
        assert_eq!(
            general_integrate(u(5), U256::MAX, u(4), e18(1), u(0)),
            Err(Revert::MulError)
        );
    }

    #[test]
    fn target_k_zero_and_v1_zero_by_version() {
        // K = 0: V1 + mulFloor(i, delta)
        assert_eq!(solve_for_target(u(100), u(7), e18(3), u(0), V), Ok(u(121)));
        // V1 = 0
        let k = ONE / u(10);
        for (version, k0, kpos) in [
            (MathVersion::V2021_01, Ok(u(0)), Ok(u(0))),
            (MathVersion::V2021_12, Ok(u(21)), Err(Revert::DividingError)),
            (MathVersion::V2022_04, Ok(u(21)), Ok(u(0))),
            (MathVersion::V2024_01, Ok(u(21)), Ok(u(0))),
        ] {
            assert_eq!(
                solve_for_target(u(0), u(7), e18(3), u(0), version),
                k0,
                "{version}"
            );
            assert_eq!(
                solve_for_target(u(0), u(7), e18(3), k, version),
                kpos,
                "{version}"
            );
        }
    }

    #[test]
    fn target_general_by_hand() {
        // V1=1000e18, delta=100e18, i=1, k=0.1: ki = 0.4e36,
        // s = sqrt(0.4e36 * 100e18 / 1000e18 + 1e36) = sqrt(1.04e36) = 1019803902718556966
        // premium = divFloor(19803902718556966, 0.2e18) + 1e18 = 1099019513592784830
        // target = mulFloor(1000e18, premium) = 1099019513592784830000
        assert_eq!(
            solve_for_target(e18(1000), e18(100), ONE, ONE / u(10), V),
            Ok(u(1_099_019_513_592_784_830_000))
        );
        // delta = 0 gives back V1 exactly
        assert_eq!(
            solve_for_target(e18(1000), u(0), ONE, ONE / u(10), V),
            Ok(e18(1000))
        );
        // i = 0: ki = 0, sqrt = 1e18, premium = 1e18
        assert_eq!(
            solve_for_target(u(77), u(5), u(0), ONE / u(10), V),
            Ok(u(77))
        );
    }

    #[test]
    fn target_divides_first_when_ki_delta_overflows() {
        // ki = 4 * 0.5e18 * 1e18 = 2e36 (~2^120.6); delta = 2^140 overflows ki * delta.
        let k = ONE / u(2);
        let delta: U256 = U256::from(1u64) << 140;
        let v1: U256 = U256::from(3u64) << 60;
        let ki = u(2) * ONE2;
        let s = (ki / v1 * delta + ONE2).root(2);
        // 2k = 1e18, so premium = (s - 1e18) + 1e18 = s
        let expected = v1 * s / ONE;
        assert_eq!(solve_for_target(v1, delta, ONE, k, V), Ok(expected));
        // the divide-last formula (in 512 bits) would give another root
        let wide = |x: U256| ruint::aliases::U512::from(x);
        let exact = wide(ki) * wide(delta) / wide(v1) + wide(ONE2);
        assert_ne!(wide(s), exact.root(2));
    }

    #[test]
    fn target_reverts() {
        // K = 0: mulFloor overflow, then add overflow
        assert_eq!(
            solve_for_target(u(1), U256::MAX, e18(2), u(0), V),
            Err(Revert::MulError)
        );
        assert_eq!(
            solve_for_target(U256::MAX, e18(1), ONE, u(0), V),
            Err(Revert::AddError)
        );
        // ki = 4k * i overflows
        assert_eq!(
            solve_for_target(u(1), u(1), U256::MAX / u(2), ONE, V),
            Err(Revert::MulError)
        );
    }

    #[test]
    fn trade_k_zero_caps_at_reserve() {
        assert_eq!(
            solve_for_trade(u(1), u(1000), u(10), e18(3), u(0), V),
            Ok(u(30))
        );
        assert_eq!(
            solve_for_trade(u(1), u(20), u(10), e18(3), u(0), V),
            Ok(u(20))
        );
    }

    #[test]
    fn trade_k_one_by_hand() {
        // V0 = V1 = 1000, delta = 3, i = 1: idelta = 3e18, t = 3e18 * 1000 / 1e6 = 3e15,
        // V1 * t / (t + 1e18) = 3e18 / 1.003e18 = 2.99 -> 2
        assert_eq!(
            solve_for_trade(u(1000), u(1000), u(3), ONE, ONE, V),
            Ok(u(2))
        );
        // x*y=k: 1000e18 * 1000e18, sell 1000e18 -> out 500e18
        assert_eq!(
            solve_for_trade(e18(1000), e18(1000), e18(1000), ONE, ONE, V),
            Ok(e18(500))
        );
        // i = 0: temp = 0, nothing out
        assert_eq!(solve_for_trade(u(10), u(10), u(10), u(0), ONE, V), Ok(u(0)));
    }

    #[test]
    fn trade_k_one_divides_first_when_product_overflows() {
        let i = ONE;
        let delta = U256::from(1u64) << 100;
        let v1 = U256::from(1u64) << 100;
        let v0 = U256::from(1u64) << 110;
        // idelta ~ 2^159.6, * V1 = 2^259.6: overflow -> divide first
        let temp = (delta * v1 / v0) * i / v0;
        let expected = v1 * temp / (temp + ONE);
        assert_eq!(solve_for_trade(v0, v1, delta, i, ONE, V), Ok(expected));
    }

    #[test]
    fn trade_general_by_hand() {
        // DSP example leg: V0 = V1 = 1000e18, delta = 100e18 (quote, i = 1), k = 0.1
        assert_eq!(
            solve_for_trade(e18(1000), e18(1000), e18(100), ONE, ONE / u(10), V),
            Ok(u(98_914_196_817_061_816_111))
        );
    }

    #[test]
    fn trade_num_zero_by_version() {
        // V0 = 1, V1 = 1, k = 0.5, sell a lot: c = mulFloor(2e18, mulFloor(0.5e18, 1) * 1) = 0,
        // root = bAbs, num = 0.
        let k = ONE / u(2);
        let delta = e18(1000);
        assert_eq!(
            solve_for_trade(u(1), u(1), delta, ONE, k, MathVersion::V2024_01),
            Err(Revert::ShouldNotBeZero)
        );
        for version in [
            MathVersion::V2021_01,
            MathVersion::V2021_12,
            MathVersion::V2022_04,
        ] {
            assert_eq!(
                solve_for_trade(u(1), u(1), delta, ONE, k, version),
                Ok(u(1)),
                "{version}"
            );
        }
    }

    #[test]
    fn trade_reverts_in_order() {
        assert_eq!(
            solve_for_trade(u(0), u(1), u(1), ONE, ONE / u(2), V),
            Err(Revert::TargetIsZero)
        );
        // TARGET_IS_ZERO wins over delta = 0
        assert_eq!(
            solve_for_trade(u(0), u(1), u(0), ONE, ONE / u(2), V),
            Err(Revert::TargetIsZero)
        );
        // i * delta overflows before k * V0 / V1 divides by V1 = 0
        assert_eq!(
            solve_for_trade(u(1), u(0), U256::MAX, e18(2), ONE / u(2), V),
            Err(Revert::MulError)
        );
        assert_eq!(
            solve_for_trade(u(1), u(0), u(1), ONE, ONE / u(2), V),
            Err(Revert::DividingError)
        );
        // k > 1: SUB_ERROR from 1e18 - k
        assert_eq!(
            solve_for_trade(u(10), u(10), u(1), ONE, e18(2), V),
            Err(Revert::SubError)
        );
        // k = 1: temp + 1e18 overflows before V1 * temp
        // (i = 1 wei, V0 = 1: temp = V1 = MAX - 5)
        let big = U256::MAX - u(5);
        assert_eq!(
            solve_for_trade(u(1), big, u(1), u(1), ONE, V),
            Err(Revert::AddError)
        );
    }
}
