//! `querySellBase` / `querySellQuote` of DSP/DPP/DVM: step 0, the R-state sell, then fees.

use super::decimal_math;
use super::pricing::{adjusted_state, sell_base_token, sell_quote_token};
use super::revert::Revert;
use super::safe_math::sub;
use super::types::{FeeRates, MathVersion, PmmState, RState, SellQuote};
use ruint::aliases::U256;

/// Quote selling `amount` base for quote, as `querySellBase` returns it.
///
/// `new_target` is the adjusted base target `B0`. A DVM pool is quoted by passing its
/// state as `b0 = q0 = 0`, `r = AboveOne` (its `newTarget` and `newR` are then ignored).
pub fn query_sell_base(
    state: &PmmState,
    fees: &FeeRates,
    amount: U256,
    version: MathVersion,
) -> Result<SellQuote, Revert> {
    let s = adjusted_state(state, version)?;
    let (gross, new_r) = sell_base_token(&s, amount, version)?;
    finish(gross, new_r, s.b0, fees)
}

/// Quote selling `amount` quote for base, as `querySellQuote` returns it.
///
/// `new_target` is the adjusted quote target `Q0`.
pub fn query_sell_quote(
    state: &PmmState,
    fees: &FeeRates,
    amount: U256,
    version: MathVersion,
) -> Result<SellQuote, Revert> {
    let s = adjusted_state(state, version)?;
    let (gross, new_r) = sell_quote_token(&s, amount, version)?;
    finish(gross, new_r, s.q0, fees)
}

/// Fees on the gross output in the contract's order: maintainer fee first, then LP fee,
/// both floored; `receive = gross - lpFee - mtFee`.
fn finish(
    gross: U256,
    new_r: RState,
    new_target: U256,
    fees: &FeeRates,
) -> Result<SellQuote, Revert> {
    let mt_fee = decimal_math::mul_floor(gross, fees.mt_fee_rate)?;
    let lp_fee = decimal_math::mul_floor(gross, fees.lp_fee_rate)?;
    let receive = sub(sub(gross, lp_fee)?, mt_fee)?;
    Ok(SellQuote {
        receive,
        mt_fee,
        new_r,
        new_target,
    })
}

#[cfg(test)]
mod tests {
    use super::super::decimal_math::ONE;
    use super::*;

    fn u(x: u128) -> U256 {
        U256::from(x)
    }

    fn pool(b: u128, q: u128) -> PmmState {
        PmmState {
            i: ONE,
            k: u(0),
            b: u(b),
            q: u(q),
            b0: u(b),
            q0: u(q),
            r: RState::One,
        }
    }

    #[test]
    fn fees_are_floored_and_mt_fee_reported() {
        // K = 0, i = 1: gross = 999. mtFee = floor(999 * 0.001) = 0, lpFee = floor(999 * 0.003) = 2
        let fees = FeeRates {
            lp_fee_rate: u(3) * ONE / u(1000),
            mt_fee_rate: ONE / u(1000),
        };
        let q =
            query_sell_base(&pool(10_000, 10_000), &fees, u(999), MathVersion::V2024_01).unwrap();
        assert_eq!((q.receive, q.mt_fee), (u(997), u(0)));
        // gross = 1000: mtFee = 1, lpFee = 3
        let q =
            query_sell_quote(&pool(10_000, 10_000), &fees, u(1000), MathVersion::V2024_01).unwrap();
        assert_eq!((q.receive, q.mt_fee), (u(996), u(1)));
        assert_eq!(q.new_r, RState::AboveOne);
        assert_eq!(q.new_target, u(10_000));
    }

    #[test]
    fn fees_floor_separately_not_on_the_sum() {
        // gross = 7, both rates 0.25: each fee floor(1.75) = 1, receive 5 (a summed rate would give 4)
        let fees = FeeRates {
            lp_fee_rate: ONE / u(4),
            mt_fee_rate: ONE / u(4),
        };
        let q = query_sell_base(&pool(100, 100), &fees, u(7), MathVersion::V2024_01).unwrap();
        assert_eq!((q.receive, q.mt_fee), (u(5), u(1)));
    }

    #[test]
    fn fee_rates_above_one_revert_sub_error() {
        let fees = FeeRates {
            lp_fee_rate: ONE,
            mt_fee_rate: ONE / u(2),
        };
        assert_eq!(
            query_sell_base(&pool(100, 100), &fees, u(10), MathVersion::V2024_01),
            Err(Revert::SubError)
        );
        // lp alone above one fails in the first subtraction
        let fees = FeeRates {
            lp_fee_rate: u(2) * ONE,
            mt_fee_rate: u(0),
        };
        assert_eq!(
            query_sell_base(&pool(100, 100), &fees, u(10), MathVersion::V2024_01),
            Err(Revert::SubError)
        );
        // a fee-rate product that overflows reverts MUL_ERROR (mtFee first)
        let fees = FeeRates {
            lp_fee_rate: u(0),
            mt_fee_rate: U256::MAX,
        };
        assert_eq!(
            query_sell_base(&pool(100, 100), &fees, u(10), MathVersion::V2024_01),
            Err(Revert::MulError)
        );
    }

    #[test]
    fn zero_amount_at_one_reports_the_new_r() {
        let fees = FeeRates {
            lp_fee_rate: u(0),
            mt_fee_rate: u(0),
        };
        let s = pool(100, 100);
        let q = query_sell_base(&s, &fees, u(0), MathVersion::V2024_01).unwrap();
        assert_eq!((q.receive, q.new_r), (u(0), RState::BelowOne));
        let q = query_sell_quote(&s, &fees, u(0), MathVersion::V2024_01).unwrap();
        assert_eq!((q.receive, q.new_r), (u(0), RState::AboveOne));
    }
}
