//! Pool quote math behind one interface, so the exact DODO V2 math can replace the
//! approximation without touching the router or the simulator.
//!
//! - [`ExactPmm`] is the DODO V2 contract math ([`crate::pmm`]), bit for bit, on the
//!   pool's raw integer state; amounts cross this interface as token amounts
//!   (`Decimal`) at the tokens' decimals.
//! - [`ApproxPmm`] is the core's stand-in: the PMM integral
//!   `i·Δ·(1 − k + k·B0²/(B·(B+Δ)))` in decimal arithmetic, floored to the token's
//!   decimals, with the LP fee taken from the output. It has the shape of the real curve
//!   but not its exact rounding or R-state logic; scenarios may still use it.

use crate::pmm::{self, FeeRates, MathVersion, PmmState, U256};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;

/// Why a pool cannot quote a trade.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The trade would take more than the pool's reserve of the output token.
    #[error("insufficient reserve: {needed} needed, {reserve} held")]
    InsufficientReserve {
        /// Output the trade needs.
        needed: Decimal,
        /// Output the pool holds.
        reserve: Decimal,
    },
    /// The input amount is zero, negative, or off the token's decimals.
    #[error("invalid amount {0}")]
    InvalidAmount(Decimal),
    /// Arithmetic overflowed.
    #[error("arithmetic overflow")]
    Overflow,
    /// The pool contract would revert, with its reason.
    #[error("revert: {0}")]
    Revert(pmm::Revert),
}

/// A pool's quote math: what a trader receives, and the state change of a trade.
pub trait PoolMath {
    /// Quote received for selling `amount` of base, after the pool's fees.
    fn query_sell_base(&self, amount: Decimal) -> Result<Decimal, PoolError>;
    /// Base received for selling `amount` of quote, after the pool's fees.
    fn query_sell_quote(&self, amount: Decimal) -> Result<Decimal, PoolError>;
    /// Executes a base sale: updates the reserves and returns what was received.
    fn sell_base(&mut self, amount: Decimal) -> Result<Decimal, PoolError>;
    /// Executes a quote sale: updates the reserves and returns what was received.
    fn sell_quote(&mut self, amount: Decimal) -> Result<Decimal, PoolError>;
    /// Decimals of the base token.
    fn base_decimals(&self) -> u32;
    /// Decimals of the quote token.
    fn quote_decimals(&self) -> u32;

    /// The pool's exact DODO V2 state, when this math is the contract's own (so the
    /// same pool can be served by a chain simulator); `None` for an approximation.
    fn exact(&self) -> Option<ExactPmm> {
        None
    }
}

/// State of an approximate PMM pool, in token units (not wei).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproxPmm {
    /// Oracle price `i`: quote per base at target.
    #[serde(with = "rust_decimal::serde::str")]
    pub i: Decimal,
    /// Curvature `k` in [0, 1].
    #[serde(with = "rust_decimal::serde::str")]
    pub k: Decimal,
    /// Base reserve.
    #[serde(with = "rust_decimal::serde::str")]
    pub base_reserve: Decimal,
    /// Quote reserve.
    #[serde(with = "rust_decimal::serde::str")]
    pub quote_reserve: Decimal,
    /// Base target `B0`.
    #[serde(with = "rust_decimal::serde::str")]
    pub base_target: Decimal,
    /// Quote target `Q0`.
    #[serde(with = "rust_decimal::serde::str")]
    pub quote_target: Decimal,
    /// LP fee rate (e.g. 0.0003 for 3 bps).
    #[serde(with = "rust_decimal::serde::str")]
    pub lp_fee_rate: Decimal,
    /// Base token decimals.
    pub base_decimals: u32,
    /// Quote token decimals.
    pub quote_decimals: u32,
}

fn floor(v: Decimal, dp: u32) -> Decimal {
    v.round_dp_with_strategy(dp, RoundingStrategy::ToZero)
}

impl ApproxPmm {
    fn check_amount(amount: Decimal, dp: u32) -> Result<(), PoolError> {
        if amount <= Decimal::ZERO || amount.normalize().scale() > dp {
            return Err(PoolError::InvalidAmount(amount));
        }
        Ok(())
    }

    /// `scale·Δ·(1 − k + k·V0²/(V·(V+Δ)))`: the PMM integral from `V` to `V+Δ`.
    fn integrate(
        &self,
        scale: Decimal,
        delta: Decimal,
        v: Decimal,
        v0: Decimal,
    ) -> Result<Decimal, PoolError> {
        // Every step checked: reserves and amounts come from files and desks.
        let denom = v
            .checked_add(delta)
            .and_then(|after| v.checked_mul(after))
            .ok_or(PoolError::Overflow)?;
        if denom.is_zero() {
            return Err(PoolError::InvalidAmount(delta));
        }
        let ratio = v0
            .checked_mul(v0)
            .and_then(|sq| sq.checked_div(denom))
            .ok_or(PoolError::Overflow)?;
        let factor = Decimal::ONE
            .checked_sub(self.k)
            .zip(self.k.checked_mul(ratio))
            .and_then(|(flat, curve)| flat.checked_add(curve))
            .ok_or(PoolError::Overflow)?;
        scale
            .checked_mul(delta)
            .and_then(|x| x.checked_mul(factor))
            .ok_or(PoolError::Overflow)
    }

    /// `gross` less the LP fee.
    fn less_fee(&self, gross: Decimal) -> Result<Decimal, PoolError> {
        Decimal::ONE
            .checked_sub(self.lp_fee_rate)
            .and_then(|keep| gross.checked_mul(keep))
            .ok_or(PoolError::Overflow)
    }

    /// Moves the reserves by a sale of `paid` for `out`; both are checked before
    /// either is written, so a sale that fails moves nothing.
    fn settle(&mut self, base_in: bool, paid: Decimal, out: Decimal) -> Result<(), PoolError> {
        let (input, output) = if base_in {
            (&mut self.base_reserve, &mut self.quote_reserve)
        } else {
            (&mut self.quote_reserve, &mut self.base_reserve)
        };
        let new_input = input.checked_add(paid).ok_or(PoolError::Overflow)?;
        let new_output = output.checked_sub(out).ok_or(PoolError::Overflow)?;
        *input = new_input;
        *output = new_output;
        Ok(())
    }

    fn quote_for_base(&self, amount: Decimal) -> Result<Decimal, PoolError> {
        Self::check_amount(amount, self.base_decimals)?;
        let gross = self.integrate(self.i, amount, self.base_reserve, self.base_target)?;
        let net = floor(self.less_fee(gross)?, self.quote_decimals);
        if net >= self.quote_reserve {
            return Err(PoolError::InsufficientReserve {
                needed: net,
                reserve: self.quote_reserve,
            });
        }
        Ok(net)
    }

    fn base_for_quote(&self, amount: Decimal) -> Result<Decimal, PoolError> {
        Self::check_amount(amount, self.quote_decimals)?;
        if self.i.is_zero() {
            return Err(PoolError::InvalidAmount(amount));
        }
        let price = Decimal::ONE
            .checked_div(self.i)
            .ok_or(PoolError::Overflow)?;
        let gross = self.integrate(price, amount, self.quote_reserve, self.quote_target)?;
        let net = floor(self.less_fee(gross)?, self.base_decimals);
        if net >= self.base_reserve {
            return Err(PoolError::InsufficientReserve {
                needed: net,
                reserve: self.base_reserve,
            });
        }
        Ok(net)
    }
}

impl PoolMath for ApproxPmm {
    fn query_sell_base(&self, amount: Decimal) -> Result<Decimal, PoolError> {
        self.quote_for_base(amount)
    }

    fn query_sell_quote(&self, amount: Decimal) -> Result<Decimal, PoolError> {
        self.base_for_quote(amount)
    }

    fn sell_base(&mut self, amount: Decimal) -> Result<Decimal, PoolError> {
        let out = self.quote_for_base(amount)?;
        self.settle(true, amount, out)?;
        Ok(out)
    }

    fn sell_quote(&mut self, amount: Decimal) -> Result<Decimal, PoolError> {
        let out = self.base_for_quote(amount)?;
        self.settle(false, amount, out)?;
        Ok(out)
    }

    fn base_decimals(&self) -> u32 {
        self.base_decimals
    }

    fn quote_decimals(&self) -> u32 {
        self.quote_decimals
    }
}

/// One pool's math shared by every venue that trades through it (the pool itself and
/// the multi-hop routes over it), so a swap by one is seen by the others.
#[derive(Clone)]
pub struct SharedPool(std::sync::Arc<parking_lot::Mutex<dyn PoolMath + Send>>);

impl SharedPool {
    /// Shares `math`.
    pub fn new<M: PoolMath + Send + 'static>(math: M) -> Self {
        Self(std::sync::Arc::new(parking_lot::Mutex::new(math)))
    }
}

impl std::fmt::Debug for SharedPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedPool")
    }
}

impl PoolMath for SharedPool {
    fn query_sell_base(&self, amount: Decimal) -> Result<Decimal, PoolError> {
        self.0.lock().query_sell_base(amount)
    }
    fn query_sell_quote(&self, amount: Decimal) -> Result<Decimal, PoolError> {
        self.0.lock().query_sell_quote(amount)
    }
    fn sell_base(&mut self, amount: Decimal) -> Result<Decimal, PoolError> {
        self.0.lock().sell_base(amount)
    }
    fn sell_quote(&mut self, amount: Decimal) -> Result<Decimal, PoolError> {
        self.0.lock().sell_quote(amount)
    }
    fn base_decimals(&self) -> u32 {
        self.0.lock().base_decimals()
    }
    fn quote_decimals(&self) -> u32 {
        self.0.lock().quote_decimals()
    }
    fn exact(&self) -> Option<ExactPmm> {
        self.0.lock().exact()
    }
}

/// A DODO V2 pool quoted with the contract's exact math.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactPmm {
    /// The pool state in raw units, as `getPMMState` returns it or storage holds it.
    pub state: PmmState,
    /// LP and maintainer fee rates (1e18 = 100%).
    pub fees: FeeRates,
    /// The pool template's math revision.
    pub version: MathVersion,
    /// Base token decimals.
    pub base_decimals: u32,
    /// Quote token decimals.
    pub quote_decimals: u32,
}

/// A token amount in the token's smallest unit; it must be positive and on the token's
/// decimals.
fn to_raw(amount: Decimal, decimals: u32) -> Result<U256, PoolError> {
    let n = amount.normalize();
    if n <= Decimal::ZERO || n.scale() > decimals {
        return Err(PoolError::InvalidAmount(amount));
    }
    let mantissa = u128::try_from(n.mantissa()).map_err(|_| PoolError::InvalidAmount(amount))?;
    let scale = U256::from(10u64)
        .checked_pow(U256::from(decimals - n.scale()))
        .ok_or(PoolError::Overflow)?;
    U256::from(mantissa)
        .checked_mul(scale)
        .ok_or(PoolError::Overflow)
}

/// A raw amount as a token amount.
fn from_raw(raw: U256, decimals: u32) -> Result<Decimal, PoolError> {
    let v = i128::try_from(raw).map_err(|_| PoolError::Overflow)?;
    Decimal::try_from_i128_with_scale(v, decimals).map_err(|_| PoolError::Overflow)
}

impl ExactPmm {
    fn quote(&self, base_in: bool, amount: Decimal) -> Result<(U256, pmm::SellQuote), PoolError> {
        let decimals = if base_in {
            self.base_decimals
        } else {
            self.quote_decimals
        };
        let raw = to_raw(amount, decimals)?;
        let q = if base_in {
            pmm::query_sell_base(&self.state, &self.fees, raw, self.version)
        } else {
            pmm::query_sell_quote(&self.state, &self.fees, raw, self.version)
        }
        .map_err(PoolError::Revert)?;
        Ok((raw, q))
    }

    /// Applies an executed sell the way the contract does: the input reserve grows by
    /// what was paid, the output reserve falls by what was received plus the maintainer
    /// fee, and only a change of R rewrites R and the input side's target.
    fn apply(&mut self, base_in: bool, paid: U256, q: &pmm::SellQuote) -> Result<(), PoolError> {
        let out = q.receive.checked_add(q.mt_fee).ok_or(PoolError::Overflow)?;
        let s = &mut self.state;
        let (input, output, target) = if base_in {
            (&mut s.b, &mut s.q, &mut s.b0)
        } else {
            (&mut s.q, &mut s.b, &mut s.q0)
        };
        // Both checked before either is written: a sale that fails moves nothing.
        let new_input = input.checked_add(paid).ok_or(PoolError::Overflow)?;
        let new_output = output
            .checked_sub(out)
            .ok_or(PoolError::InsufficientReserve {
                needed: Decimal::ZERO,
                reserve: Decimal::ZERO,
            })?;
        *input = new_input;
        *output = new_output;
        if q.new_r != s.r {
            *target = q.new_target;
            s.r = q.new_r;
        }
        Ok(())
    }
}

impl PoolMath for ExactPmm {
    fn exact(&self) -> Option<ExactPmm> {
        Some(self.clone())
    }

    fn query_sell_base(&self, amount: Decimal) -> Result<Decimal, PoolError> {
        let (_, q) = self.quote(true, amount)?;
        from_raw(q.receive, self.quote_decimals)
    }

    fn query_sell_quote(&self, amount: Decimal) -> Result<Decimal, PoolError> {
        let (_, q) = self.quote(false, amount)?;
        from_raw(q.receive, self.base_decimals)
    }

    fn sell_base(&mut self, amount: Decimal) -> Result<Decimal, PoolError> {
        let (raw, q) = self.quote(true, amount)?;
        let got = from_raw(q.receive, self.quote_decimals)?;
        self.apply(true, raw, &q)?;
        Ok(got)
    }

    fn sell_quote(&mut self, amount: Decimal) -> Result<Decimal, PoolError> {
        let (raw, q) = self.quote(false, amount)?;
        let got = from_raw(q.receive, self.base_decimals)?;
        self.apply(false, raw, &q)?;
        Ok(got)
    }

    fn base_decimals(&self) -> u32 {
        self.base_decimals
    }

    fn quote_decimals(&self) -> u32 {
        self.quote_decimals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pmm::RState;
    use rust_decimal_macros::dec;

    fn exact() -> ExactPmm {
        let e18 = U256::from(10u64).pow(U256::from(18u64));
        ExactPmm {
            state: PmmState {
                i: e18,
                k: e18 / U256::from(10u64),
                b: U256::from(1000u64) * e18,
                q: U256::from(1000u64) * e18,
                b0: U256::from(1000u64) * e18,
                q0: U256::from(1000u64) * e18,
                r: RState::One,
            },
            fees: FeeRates {
                lp_fee_rate: U256::ZERO,
                mt_fee_rate: U256::ZERO,
            },
            version: MathVersion::V2024_01,
            base_decimals: 18,
            quote_decimals: 18,
        }
    }

    #[test]
    fn exact_math_through_the_token_interface() {
        // DODO's DSP test: selling 100 quote buys 98.914196817061816111 base.
        let mut p = exact();
        assert_eq!(
            p.query_sell_quote(dec!(100)),
            Ok(dec!(98.914196817061816111))
        );
        let got = p.sell_quote(dec!(100)).unwrap();
        assert_eq!(got, dec!(98.914196817061816111));
        assert_eq!(p.state.r, RState::AboveOne);
        assert_eq!(
            p.state.q,
            U256::from(1100u64) * U256::from(10u64).pow(U256::from(18u64))
        );
        // Selling it back returns the 100 within dust: the target re-derivation's floors
        // leave B0 - B two wei short of what was bought, so the sale crosses R = ONE.
        let back = p.query_sell_base(got).unwrap();
        assert!((back - dec!(100)).abs() < dec!(0.000000001), "{back}");
    }

    #[test]
    fn amounts_off_the_token_decimals_or_reverts_are_errors() {
        let mut six = exact();
        six.base_decimals = 6;
        assert!(matches!(
            six.query_sell_base(dec!(0.0000001)),
            Err(PoolError::InvalidAmount(_))
        ));
        assert!(matches!(
            six.query_sell_base(dec!(0)),
            Err(PoolError::InvalidAmount(_))
        ));
        let mut stale = exact();
        stale.state.r = RState::BelowOne;
        stale.state.b = U256::from(1u64);
        assert_eq!(
            stale.query_sell_base(dec!(1)),
            Err(PoolError::Revert(pmm::Revert::SubError))
        );
    }

    #[test]
    fn a_sale_the_reserve_cannot_pay_leaves_the_pool_unchanged() {
        // At R = ONE a quote sale is priced on B0, not B: with B far below B0 the
        // contract math pays out more base than the pool holds. Found by fuzzing
        // (tests/fuzz, pool_math): the quote reserve used to grow anyway.
        let mut p = exact();
        p.state.b = U256::from(1_000_000u64);
        let before = p.clone();
        assert!(matches!(
            p.sell_quote(dec!(100)),
            Err(PoolError::InsufficientReserve { .. })
        ));
        assert_eq!(p, before);
    }

    pub(crate) fn pool() -> ApproxPmm {
        ApproxPmm {
            i: dec!(1),
            k: dec!(0.5),
            base_reserve: dec!(42000),
            quote_reserve: dec!(42000),
            base_target: dec!(42000),
            quote_target: dec!(42000),
            lp_fee_rate: dec!(0.0003),
            base_decimals: 6,
            quote_decimals: 6,
        }
    }

    #[test]
    fn small_sale_is_near_the_oracle_price_less_the_fee() {
        let out = pool().query_sell_base(dec!(1)).unwrap();
        assert!(out < dec!(0.9997) && out > dec!(0.9996), "{out}");
    }

    #[test]
    fn average_price_worsens_with_size() {
        let p = pool();
        let mut last = Decimal::MAX;
        for q in [dec!(10), dec!(100), dec!(1000), dec!(10000)] {
            let avg = p.query_sell_base(q).unwrap() / q;
            assert!(avg < last, "{q}: {avg} !< {last}");
            last = avg;
        }
    }

    #[test]
    fn amounts_off_the_token_decimals_are_refused() {
        assert_eq!(
            pool().query_sell_base(dec!(0.0000001)),
            Err(PoolError::InvalidAmount(dec!(0.0000001)))
        );
        assert!(pool().query_sell_base(dec!(-1)).is_err());
    }

    #[test]
    fn a_sale_moves_the_reserves_by_what_was_paid() {
        let mut p = pool();
        let out = p.sell_base(dec!(100)).unwrap();
        assert_eq!(p.base_reserve, dec!(42100));
        assert_eq!(p.quote_reserve, dec!(42000) - out);
        assert!(p.query_sell_base(dec!(100)).unwrap() < out);
    }

    #[test]
    fn huge_reserves_and_amounts_are_overflow_errors_not_panics() {
        // Found by fuzzing (tests/fuzz, pool_math): V0²/(V·(V+Δ)), V + Δ and the
        // reserve update were unchecked and panicked on decimal overflow.
        let mut p = pool();
        p.base_reserve = Decimal::MAX;
        assert_eq!(p.query_sell_base(dec!(1)), Err(PoolError::Overflow));
        let mut tiny = pool();
        tiny.base_reserve = dec!(0.0000000000001);
        tiny.base_target = dec!(100000000000000);
        assert_eq!(tiny.query_sell_base(dec!(1)), Err(PoolError::Overflow));
        tiny.base_target = Decimal::MAX;
        assert_eq!(tiny.query_sell_base(dec!(1)), Err(PoolError::Overflow));
        let mut full = pool();
        full.quote_reserve = Decimal::MAX;
        let before = full.clone();
        assert_eq!(full.sell_quote(Decimal::MAX), Err(PoolError::Overflow));
        assert_eq!(full, before);
    }

    #[test]
    fn draining_the_reserve_is_an_error() {
        assert!(matches!(
            pool().query_sell_base(dec!(10000000)),
            Err(PoolError::InsufficientReserve { .. })
        ));
    }
}
