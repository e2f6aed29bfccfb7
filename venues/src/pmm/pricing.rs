//! `PMMPricing`: target adjustment (step 0), the R-state cases of a sell, and the mid price.

use super::decimal_math::{self, ONE};
use super::dodo_math::{general_integrate, solve_for_target, solve_for_trade};
use super::revert::Revert;
use super::safe_math::{add, div, mul, sub};
use super::types::{MathVersion, PmmState, RState};
use ruint::aliases::U256;

/// Step 0 of every quote (`adjustedTarget`): re-derive the target the R state makes stale.
///
/// BELOW_ONE rewrites `q0` from `(q, b - b0)`; ABOVE_ONE rewrites `b0` from
/// `(b, q - q0)` at the floored reciprocal price; ONE changes nothing. Idempotent.
pub fn adjusted_state(state: &PmmState, version: MathVersion) -> Result<PmmState, Revert> {
    let mut s = *state;
    match s.r {
        RState::One => {}
        RState::BelowOne => {
            let delta = sub(s.b, s.b0)?;
            s.q0 = solve_for_target(s.q, delta, s.i, s.k, version)?;
        }
        RState::AboveOne => {
            let delta = sub(s.q, s.q0)?;
            let price = decimal_math::reciprocal_floor(s.i)?;
            s.b0 = solve_for_target(s.b, delta, price, s.k, version)?;
        }
    }
    Ok(s)
}

/// `sellBaseToken` on an already adjusted state: gross quote out and the R after the trade.
pub fn sell_base_token(
    s: &PmmState,
    pay: U256,
    version: MathVersion,
) -> Result<(U256, RState), Revert> {
    match s.r {
        RState::One => Ok((
            solve_for_trade(s.q0, s.q0, pay, s.i, s.k, version)?,
            RState::BelowOne,
        )),
        RState::AboveOne => {
            let back_to_one_pay = sub(s.b0, s.b)?;
            let back_to_one_receive = sub(s.q, s.q0)?;
            if pay < back_to_one_pay {
                let out = general_integrate(s.b0, add(s.b, pay)?, s.b, s.i, s.k)?;
                Ok((out.min(back_to_one_receive), RState::AboveOne))
            } else if pay == back_to_one_pay {
                Ok((back_to_one_receive, RState::One))
            } else {
                let rest = solve_for_trade(s.q0, s.q0, pay - back_to_one_pay, s.i, s.k, version)?;
                Ok((add(back_to_one_receive, rest)?, RState::BelowOne))
            }
        }
        RState::BelowOne => Ok((
            solve_for_trade(s.q0, s.q, pay, s.i, s.k, version)?,
            RState::BelowOne,
        )),
    }
}

/// `sellQuoteToken` on an already adjusted state: gross base out and the R after the trade.
///
/// The price used is `reciprocalFloor(i)`, not an exact `1/i`.
pub fn sell_quote_token(
    s: &PmmState,
    pay: U256,
    version: MathVersion,
) -> Result<(U256, RState), Revert> {
    match s.r {
        RState::One => {
            let price = decimal_math::reciprocal_floor(s.i)?;
            Ok((
                solve_for_trade(s.b0, s.b0, pay, price, s.k, version)?,
                RState::AboveOne,
            ))
        }
        RState::AboveOne => {
            let price = decimal_math::reciprocal_floor(s.i)?;
            Ok((
                solve_for_trade(s.b0, s.b, pay, price, s.k, version)?,
                RState::AboveOne,
            ))
        }
        RState::BelowOne => {
            let back_to_one_pay = sub(s.q0, s.q)?;
            let back_to_one_receive = sub(s.b, s.b0)?;
            if pay < back_to_one_pay {
                let v1 = add(s.q, pay)?;
                let price = decimal_math::reciprocal_floor(s.i)?;
                let out = general_integrate(s.q0, v1, s.q, price, s.k)?;
                Ok((out.min(back_to_one_receive), RState::BelowOne))
            } else if pay == back_to_one_pay {
                Ok((back_to_one_receive, RState::One))
            } else {
                let price = decimal_math::reciprocal_floor(s.i)?;
                let rest = solve_for_trade(s.b0, s.b0, pay - back_to_one_pay, price, s.k, version)?;
                Ok((add(back_to_one_receive, rest)?, RState::AboveOne))
            }
        }
    }
}

/// `getMidPrice`: the marginal price (quote per base, 1e18) on the adjusted state.
pub fn mid_price(state: &PmmState, version: MathVersion) -> Result<U256, Revert> {
    let s = adjusted_state(state, version)?;
    let (target, reserve) = match s.r {
        RState::BelowOne => (s.q0, s.q),
        RState::One | RState::AboveOne => (s.b0, s.b),
    };
    let r = decimal_math::div_floor(div(mul(target, target)?, reserve)?, reserve)?;
    // `mulFloor(K, r)` is the argument, evaluated before `1e18 - K`.
    let penalty = decimal_math::mul_floor(s.k, r)?;
    let m = add(sub(ONE, s.k)?, penalty)?;
    match s.r {
        RState::BelowOne => decimal_math::div_floor(s.i, m),
        RState::One | RState::AboveOne => decimal_math::mul_floor(s.i, m),
    }
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

    fn state(i: U256, k: U256, b: u128, q: u128, b0: u128, q0: u128, r: RState) -> PmmState {
        PmmState {
            i,
            k,
            b: u(b),
            q: u(q),
            b0: u(b0),
            q0: u(q0),
            r,
        }
    }

    #[test]
    fn adjustment_rewrites_only_the_stale_target() {
        // K = 0 makes the targets easy: ABOVE_ONE, B0 := B + mulFloor(1e36/i, Q - Q0)
        let s = state(e18(2), u(0), 100, 300, 999, 200, RState::AboveOne);
        let a = adjusted_state(&s, V).unwrap();
        assert_eq!(a.b0, u(150));
        assert_eq!((a.b, a.q, a.q0, a.r), (s.b, s.q, s.q0, s.r));
        // BELOW_ONE, Q0 := Q + mulFloor(i, B - B0)
        let s = state(e18(2), u(0), 300, 100, 200, 1, RState::BelowOne);
        let a = adjusted_state(&s, V).unwrap();
        assert_eq!(a.q0, u(300));
        assert_eq!(a.b0, u(200));
        // ONE: untouched
        let s = state(ONE, ONE / u(10), 5, 6, 7, 8, RState::One);
        assert_eq!(adjusted_state(&s, V), Ok(s));
    }

    #[test]
    fn adjustment_is_idempotent() {
        let s = state(
            ONE,
            ONE / u(10),
            901_085_803_182_938_183_889,
            1_100_000_000_000_000_000_000,
            1,
            1_000_000_000_000_000_000_000,
            RState::AboveOne,
        );
        let a = adjusted_state(&s, V).unwrap();
        assert_eq!(adjusted_state(&a, V), Ok(a));
    }

    #[test]
    fn adjustment_reverts() {
        // stale BELOW_ONE with B < B0
        let s = state(ONE, ONE / u(10), 1, 10, 2, 10, RState::BelowOne);
        assert_eq!(adjusted_state(&s, V), Err(Revert::SubError));
        let s = state(ONE, ONE / u(10), 10, 1, 10, 2, RState::AboveOne);
        assert_eq!(adjusted_state(&s, V), Err(Revert::SubError));
        // Q - Q0 is computed before reciprocalFloor(0)
        let s = state(u(0), ONE / u(10), 10, 1, 10, 2, RState::AboveOne);
        assert_eq!(adjusted_state(&s, V), Err(Revert::SubError));
        let s = state(u(0), ONE / u(10), 10, 3, 10, 2, RState::AboveOne);
        assert_eq!(adjusted_state(&s, V), Err(Revert::DividingError));
    }

    #[test]
    fn sell_base_r_one_is_anchored_on_q0() {
        // K = 0, i = 2: pays mulFloor(2, 10) = 20 capped at V1 = Q0 = 15, not at Q = 1000
        let s = state(e18(2), u(0), 1000, 1000, 1000, 15, RState::One);
        assert_eq!(sell_base_token(&s, u(10), V), Ok((u(15), RState::BelowOne)));
        let s = state(e18(2), u(0), 1000, 10, 1000, 1000, RState::One);
        assert_eq!(sell_base_token(&s, u(10), V), Ok((u(20), RState::BelowOne)));
        // zero amount still moves R
        assert_eq!(sell_base_token(&s, u(0), V), Ok((u(0), RState::BelowOne)));
    }

    #[test]
    fn sell_base_above_one_three_cases() {
        // K = 0, i = 1: B0 - B = 10, Q - Q0 = 10
        let s = state(ONE, u(0), 90, 110, 100, 100, RState::AboveOne);
        assert_eq!(sell_base_token(&s, u(4), V), Ok((u(4), RState::AboveOne)));
        assert_eq!(sell_base_token(&s, u(10), V), Ok((u(10), RState::One)));
        // 10 back to one, then trade(Q0, Q0, 5) = 5
        assert_eq!(sell_base_token(&s, u(15), V), Ok((u(15), RState::BelowOne)));
    }

    #[test]
    fn sell_base_above_one_boundary_pays_exactly_q_minus_q0() {
        // General K: the boundary pays Q - Q0 with no integral at all.
        let s = state(ONE, ONE / u(2), 80, 130, 100, 100, RState::AboveOne);
        assert_eq!(sell_base_token(&s, u(20), V), Ok((u(30), RState::One)));
        // one wei less goes through the integral and stays ABOVE_ONE
        let (out, r) = sell_base_token(&s, u(19), V).unwrap();
        assert_eq!(r, RState::AboveOne);
        // integral(100, 99, 80, 1, 0.5): r = divFloor(10000/99 = 101, 80) = 1.2625e18,
        // pen = 0.63125e18, (0.5e18 + pen) * 19e18 / 1e36 = 21.49375 -> 21
        assert_eq!(out, u(21));
    }

    #[test]
    fn sell_base_above_one_cap_applies() {
        // Stored numbers where the integral is worth more than Q - Q0 (not a reachable state,
        // but the cap is part of the contract).
        let s = state(ONE, u(0), 90, 103, 100, 100, RState::AboveOne);
        assert_eq!(sell_base_token(&s, u(5), V), Ok((u(3), RState::AboveOne)));
    }

    #[test]
    fn sell_base_below_one_uses_q() {
        // K = 0, i = 3: min(30, Q = 25)
        let s = state(e18(3), u(0), 120, 25, 100, 80, RState::BelowOne);
        assert_eq!(sell_base_token(&s, u(10), V), Ok((u(25), RState::BelowOne)));
    }

    #[test]
    fn sell_quote_r_cases() {
        // i = 2: the quote-side price is reciprocalFloor(2e18) = 0.5e18
        let s = state(e18(2), u(0), 1000, 1000, 7, 1000, RState::One);
        // anchored on B0 = 7: mulFloor(0.5, 20) = 10, capped at 7
        assert_eq!(sell_quote_token(&s, u(20), V), Ok((u(7), RState::AboveOne)));
        assert_eq!(sell_quote_token(&s, u(0), V), Ok((u(0), RState::AboveOne)));
        let s = state(e18(2), u(0), 100, 1000, 200, 800, RState::AboveOne);
        assert_eq!(
            sell_quote_token(&s, u(21), V),
            Ok((u(10), RState::AboveOne))
        );
        // BELOW_ONE: Q0 - Q = 20, B - B0 = 10
        let s = state(e18(2), u(0), 110, 80, 100, 100, RState::BelowOne);
        assert_eq!(sell_quote_token(&s, u(9), V), Ok((u(4), RState::BelowOne)));
        assert_eq!(sell_quote_token(&s, u(20), V), Ok((u(10), RState::One)));
        // 10 back to one, then trade(B0 = 100, B0, 6, 0.5) = 3
        assert_eq!(
            sell_quote_token(&s, u(26), V),
            Ok((u(13), RState::AboveOne))
        );
    }

    #[test]
    fn sell_quote_uses_the_floored_reciprocal() {
        // i = 3e18: reciprocalFloor = 333333333333333333, so 3e18 quote buys
        // mulFloor(333333333333333333, 3e18) = 999999999999999999 base, not 1e18.
        let s = state(e18(3), u(0), 0, 0, 10u128.pow(30), 1, RState::One);
        assert_eq!(
            sell_quote_token(&s, e18(3), V),
            Ok((u(999_999_999_999_999_999), RState::AboveOne))
        );
    }

    #[test]
    fn sell_reverts() {
        // ABOVE_ONE with B > B0 (only reachable with a hand-made state)
        let s = state(ONE, u(0), 101, 110, 100, 100, RState::AboveOne);
        assert_eq!(sell_base_token(&s, u(1), V), Err(Revert::SubError));
        // BELOW_ONE with Q > Q0
        let s = state(ONE, u(0), 110, 101, 100, 100, RState::BelowOne);
        assert_eq!(sell_quote_token(&s, u(1), V), Err(Revert::SubError));
        // R = ONE with a zero target: TARGET_IS_ZERO even for a zero amount
        let s = state(ONE, ONE / u(10), 10, 10, 10, 0, RState::One);
        assert_eq!(sell_base_token(&s, u(0), V), Err(Revert::TargetIsZero));
        // i = 0: reciprocalFloor reverts before the solver sees V0 = 0
        let s = state(u(0), ONE / u(10), 10, 10, 0, 10, RState::One);
        assert_eq!(sell_quote_token(&s, u(1), V), Err(Revert::DividingError));
        // (B + pay and Q + pay cannot overflow: pay is below B0 - B, resp. Q0 - Q.)
    }

    #[test]
    fn mid_price_by_hand() {
        // balanced: i exactly
        let s = state(ONE, ONE / u(10), 100, 100, 100, 100, RState::One);
        assert_eq!(mid_price(&s, V), Ok(ONE));
        // ABOVE_ONE with K = 0: still i
        let s = state(e18(2), u(0), 50, 300, 0, 200, RState::AboveOne);
        assert_eq!(mid_price(&s, V), Ok(e18(2)));
        // ONE with B0 = 2B, K = 0.5: r = 4e18, m = 0.5 + 2 = 2.5, price = 2.5 * i
        let s = state(ONE, ONE / u(2), 50, 100, 100, 100, RState::One);
        assert_eq!(mid_price(&s, V), Ok(u(25) * ONE / u(10)));
        // BELOW_ONE: r from the adjusted Q0, m = 0.5 + floor(r / 2), price = divFloor(i, m)
        let s = state(ONE, ONE / u(2), 150, 50, 100, 0, RState::BelowOne);
        // adjusted Q0 = solveTarget(50, 50, 1, 0.5)
        let a = adjusted_state(&s, V).unwrap();
        let r = (a.q0 * a.q0 / a.q) * ONE / a.q;
        let m = ONE / u(2) + r / u(2);
        assert_eq!(mid_price(&s, V), Ok(ONE * ONE / m));
    }

    #[test]
    fn mid_price_revert_order() {
        // K > 1e18 with a huge r: mulFloor(K, r) overflows before 1e18 - K
        let s = PmmState {
            i: ONE,
            k: e18(2),
            b: u(1),
            q: u(1),
            b0: U256::from(1u64) << 90,
            q0: u(1),
            r: RState::One,
        };
        assert_eq!(mid_price(&s, V), Err(Revert::MulError));
        let s = PmmState { b0: u(1), ..s };
        assert_eq!(mid_price(&s, V), Err(Revert::SubError));
        // zero reserve
        let s = state(ONE, ONE / u(10), 0, 1, 1, 1, RState::One);
        assert_eq!(mid_price(&s, V), Err(Revert::DividingError));
    }
}
