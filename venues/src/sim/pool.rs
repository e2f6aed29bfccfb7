//! An on-chain PMM pool venue: quotes from the pool math, a min-receive guard, and gas
//! paid on every swap, whether it fills or reverts.

use super::VenueSim;
use crate::pool_math::{PoolError, PoolMath};
use crate::{
    CurveShape, Liquidity, Nanos, Point, RejectKind, Side, VenueId, VenueKind, VenueOrder,
    VenueReport,
};
use rust_decimal::{Decimal, RoundingStrategy};

/// How a pool venue is set up.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// The venue id.
    pub id: VenueId,
    /// The instrument id (base/quote of the pool).
    pub instrument: String,
    /// Gas cost of one swap, in `gas_asset` (gas units × gas price × native token price).
    pub gas_cost: Decimal,
    /// The asset the gas cost is stated in (e.g. `USD`).
    pub gas_asset: String,
    /// How many points of the curve the router is shown.
    pub samples: usize,
}

/// A simulated pool.
#[derive(Debug, Clone)]
pub struct PoolSim<M> {
    config: PoolConfig,
    math: M,
}

/// Largest number of bisection steps for an exact-output buy.
const MAX_BISECT: usize = 128;

/// The smallest input (at `decimals` places) for which `output(input)` is at least
/// `qty`, by bisection. An input the pool refuses (it would pay out more than it
/// holds) counts as too much, so every size a curve shows is reachable.
pub(crate) fn least_input_for(
    qty: Decimal,
    decimals: u32,
    output: impl Fn(Decimal) -> Result<Decimal, PoolError>,
) -> Result<Decimal, PoolError> {
    let step = Decimal::new(1, decimals);
    let enough = |pay: Decimal| match output(pay) {
        Ok(out) => out >= qty,
        Err(_) => true,
    };
    let mut lo = Decimal::ZERO;
    let mut hi = qty.max(Decimal::ONE);
    let mut grown = 0;
    while !enough(hi) {
        lo = hi;
        hi = hi
            .checked_mul(Decimal::from(2))
            .ok_or(PoolError::Overflow)?;
        grown += 1;
        if grown > 64 {
            return Err(PoolError::Overflow);
        }
    }
    for _ in 0..MAX_BISECT {
        if hi - lo <= step {
            break;
        }
        let mid = ((lo + hi) / Decimal::from(2))
            .round_dp_with_strategy(decimals, RoundingStrategy::ToZero);
        let mid = if mid <= lo { lo + step } else { mid };
        if enough(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    // `hi` is enough; it must also be an input the pool accepts.
    let out = output(hi)?;
    if out < qty {
        return Err(PoolError::InsufficientReserve {
            needed: qty,
            reserve: out,
        });
    }
    Ok(hi)
}

/// What a venue reports for an on-chain swap that went through: the whole size at the
/// received amount, then the gas. `exec_id` names the swap (a transaction hash on a
/// real chain).
pub(crate) fn swap_filled(
    qty: Decimal,
    amount: Decimal,
    gas: Decimal,
    exec_id: String,
) -> Vec<VenueReport> {
    vec![
        VenueReport::Ack,
        VenueReport::Fill {
            qty,
            px: amount / qty,
            fee: Decimal::ZERO,
            exec_id,
        },
        VenueReport::FixedCost { amount: gas },
    ]
}

/// What a venue reports for a reverted swap: the gas was paid, nothing traded.
pub(crate) fn swap_reverted(reason: String, gas: Decimal) -> Vec<VenueReport> {
    vec![
        VenueReport::FixedCost { amount: gas },
        VenueReport::Rejected {
            kind: RejectKind::Revert,
            reason,
        },
    ]
}

/// Whole-token sizes growing by half each step (1, 2, 3, 5, 8, 12, …), at most `n` of
/// them: fine where a pool's price moves most, coarse in the tail.
pub(crate) fn sample_sizes(n: usize) -> impl Iterator<Item = Decimal> {
    let mut x = Decimal::ONE;
    let mut last = Decimal::ZERO;
    std::iter::from_fn(move || {
        loop {
            let size = x.round_dp_with_strategy(0, RoundingStrategy::AwayFromZero);
            x = x.checked_mul(Decimal::new(15, 1))?;
            if size > last {
                last = size;
                return Some(size);
            }
        }
    })
    .take(n)
}

impl<M: PoolMath> PoolSim<M> {
    /// A pool venue over `math`.
    pub fn new(config: PoolConfig, math: M) -> Self {
        Self { config, math }
    }

    /// The pool's math (its current state).
    pub fn math(&self) -> &M {
        &self.math
    }

    fn sizes(&self) -> impl Iterator<Item = Decimal> {
        sample_sizes(self.config.samples)
    }

    fn sell_curve(&self) -> Vec<Point> {
        let mut points = Vec::with_capacity(self.config.samples);
        for qty in self.sizes() {
            match self.math.query_sell_base(qty) {
                Ok(amount) => points.push(Point { qty, amount }),
                Err(_) => break,
            }
        }
        points
    }

    fn buy_curve(&self) -> Vec<Point> {
        let mut points = Vec::with_capacity(self.config.samples);
        for pay in self.sizes() {
            match self.math.query_sell_quote(pay) {
                Ok(base) if base > Decimal::ZERO => points.push(Point {
                    qty: base,
                    amount: pay,
                }),
                _ => break,
            }
        }
        points
    }

    /// The smallest quote payment that buys at least `qty` base.
    fn quote_needed_for(&self, qty: Decimal) -> Result<Decimal, PoolError> {
        least_input_for(qty, self.math.quote_decimals(), |pay| {
            self.math.query_sell_quote(pay)
        })
    }

    /// One swap per child: the venue and the child's id name it.
    fn filled(&self, order: &VenueOrder, qty: Decimal, amount: Decimal) -> Vec<VenueReport> {
        let exec_id = format!("{}-swap-{}", self.config.id, order.client_id);
        swap_filled(qty, amount, self.config.gas_cost, exec_id)
    }

    fn revert(&self, reason: String) -> Vec<VenueReport> {
        swap_reverted(reason, self.config.gas_cost)
    }
}

impl<M: PoolMath + Send> VenueSim for PoolSim<M> {
    fn id(&self) -> &VenueId {
        &self.config.id
    }

    fn chain_pool(&self) -> Option<(&PoolConfig, crate::pool_math::ExactPmm)> {
        self.math.exact().map(|m| (&self.config, m))
    }

    fn kind(&self) -> VenueKind {
        VenueKind::Pool
    }

    fn instrument(&self) -> &str {
        &self.config.instrument
    }

    fn liquidity(&mut self, side: Side, _now: Nanos) -> Liquidity {
        let points = match side {
            Side::Sell => self.sell_curve(),
            Side::Buy => self.buy_curve(),
        };
        Liquidity {
            venue: self.config.id.clone(),
            kind: VenueKind::Pool,
            instrument: self.config.instrument.clone(),
            side,
            shape: CurveShape::Smooth(points),
            fee_bps: Decimal::ZERO,
            fixed_cost: self.config.gas_cost,
            fixed_cost_asset: self.config.gas_asset.clone(),
        }
    }

    /// Swaps the child's size with a guard: receive at least `qty × limit_px` (sell) or
    /// pay at most `qty × limit_px` (buy). A guard breach or a math error reverts; a
    /// revert pays gas and fills nothing.
    fn execute(&mut self, order: &VenueOrder, _now: Nanos) -> Vec<VenueReport> {
        if order.instrument != self.config.instrument {
            return vec![VenueReport::Rejected {
                kind: RejectKind::Invalid,
                reason: format!("pool does not trade {}", order.instrument),
            }];
        }
        let guard = order.qty * order.limit_px;
        match order.side {
            Side::Sell => match self.math.query_sell_base(order.qty) {
                Ok(out) if out >= guard => match self.math.sell_base(order.qty) {
                    Ok(out) => self.filled(order, order.qty, out),
                    Err(e) => self.revert(e.to_string()),
                },
                Ok(out) => self.revert(format!("min receive {guard} not met: {out}")),
                Err(e) => self.revert(e.to_string()),
            },
            Side::Buy => match self.quote_needed_for(order.qty) {
                Ok(pay) if pay <= guard => match self.math.sell_quote(pay) {
                    // Exact-output is emulated by paying the least that buys at least
                    // `qty`; dust above `qty` stays in the wallet and is not counted.
                    Ok(_got) => self.filled(order, order.qty, pay),
                    Err(e) => self.revert(e.to_string()),
                },
                Ok(pay) => self.revert(format!("max pay {guard} exceeded: {pay}")),
                Err(e) => self.revert(e.to_string()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool_math::ApproxPmm;
    use rust_decimal_macros::dec;

    fn pool() -> PoolSim<ApproxPmm> {
        PoolSim::new(
            PoolConfig {
                id: VenueId("pool".into()),
                instrument: "cWUSDC/USDC".into(),
                gas_cost: dec!(0.05),
                gas_asset: "USD".into(),
                samples: 16,
            },
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
            },
        )
    }

    fn order(side: Side, qty: Decimal, limit: Decimal) -> VenueOrder {
        VenueOrder {
            client_id: "c".into(),
            instrument: "cWUSDC/USDC".into(),
            side,
            qty,
            limit_px: limit,
        }
    }

    #[test]
    fn sell_curve_is_concave() {
        let CurveShape::Smooth(points) = pool().liquidity(Side::Sell, 0).shape else {
            panic!()
        };
        assert!(points.len() >= 10);
        let mut prev = (Decimal::ZERO, Decimal::ZERO, Decimal::MAX);
        for p in points {
            let marginal = (p.amount - prev.1) / (p.qty - prev.0);
            assert!(marginal <= prev.2);
            prev = (p.qty, p.amount, marginal);
        }
    }

    #[test]
    fn guard_breach_reverts_pays_gas_and_fills_nothing() {
        let r = pool().execute(&order(Side::Sell, dec!(100), dec!(1.0)), 0);
        assert!(matches!(
            r.last(),
            Some(VenueReport::Rejected {
                kind: RejectKind::Revert,
                ..
            })
        ));
        assert_eq!(r[0], VenueReport::FixedCost { amount: dec!(0.05) });
        assert!(!r.iter().any(|x| matches!(x, VenueReport::Fill { .. })));
    }

    #[test]
    fn every_size_the_buy_curve_shows_can_be_bought() {
        let mut tiny = pool();
        tiny.math.base_reserve = dec!(433);
        tiny.math.quote_reserve = dec!(433);
        tiny.math.base_target = dec!(433);
        tiny.math.quote_target = dec!(433);
        let CurveShape::Smooth(points) = tiny.liquidity(Side::Buy, 0).shape else {
            panic!()
        };
        for p in points {
            let qty = p.qty.round_dp_with_strategy(6, RoundingStrategy::ToZero);
            let mut fresh = tiny.clone();
            let r = fresh.execute(&order(Side::Buy, qty, dec!(10)), 0);
            assert!(matches!(r[1], VenueReport::Fill { .. }), "{qty}: {r:?}");
        }
    }

    #[test]
    fn buy_gets_at_least_the_quantity() {
        let r = pool().execute(&order(Side::Buy, dec!(100), dec!(1.01)), 0);
        assert!(
            matches!(r[1], VenueReport::Fill { qty, .. } if qty == dec!(100)),
            "{r:?}"
        );
    }
}
