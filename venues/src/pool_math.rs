//! Pool quote math behind one interface, so the exact DODO V2 math can replace the
//! approximation without touching the router or the simulator.
//!
//! [`ApproxPmm`] is the core's stand-in: the PMM integral `i·Δ·(1 − k + k·B0²/(B·(B+Δ)))`
//! in decimal arithmetic, floored to the token's decimals, with the LP fee taken from the
//! output. It has the shape of the real curve (price `i` near target, worse with size,
//! steeper with `k`) but not its exact rounding or R-state logic.

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
        let one = Decimal::ONE;
        let denom = v.checked_mul(v + delta).ok_or(PoolError::Overflow)?;
        if denom.is_zero() {
            return Err(PoolError::InvalidAmount(delta));
        }
        let ratio = v0.checked_mul(v0).ok_or(PoolError::Overflow)? / denom;
        let factor = one - self.k + self.k * ratio;
        scale
            .checked_mul(delta)
            .and_then(|x| x.checked_mul(factor))
            .ok_or(PoolError::Overflow)
    }

    fn quote_for_base(&self, amount: Decimal) -> Result<Decimal, PoolError> {
        Self::check_amount(amount, self.base_decimals)?;
        let gross = self.integrate(self.i, amount, self.base_reserve, self.base_target)?;
        let net = floor(
            gross * (Decimal::ONE - self.lp_fee_rate),
            self.quote_decimals,
        );
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
        let gross = self.integrate(
            Decimal::ONE / self.i,
            amount,
            self.quote_reserve,
            self.quote_target,
        )?;
        let net = floor(
            gross * (Decimal::ONE - self.lp_fee_rate),
            self.base_decimals,
        );
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
        self.base_reserve += amount;
        self.quote_reserve -= out;
        Ok(out)
    }

    fn sell_quote(&mut self, amount: Decimal) -> Result<Decimal, PoolError> {
        let out = self.base_for_quote(amount)?;
        self.quote_reserve += amount;
        self.base_reserve -= out;
        Ok(out)
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
    use rust_decimal_macros::dec;

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
    fn draining_the_reserve_is_an_error() {
        assert!(matches!(
            pool().query_sell_base(dec!(10000000)),
            Err(PoolError::InsufficientReserve { .. })
        ));
    }
}
