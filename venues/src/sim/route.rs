//! A multi-hop on-chain route (e.g. cWUSDT → cWUSDC → USDC): several pool swaps in one
//! transaction, one gas cost, one min-receive guard on the final output. The pools are
//! shared with their own venues, so a swap through the route moves them.

use super::VenueSim;
use super::pool::{least_input_for, sample_sizes, swap_filled, swap_reverted};
use crate::pool_math::{PoolError, PoolMath, SharedPool};
use crate::{
    CurveShape, Liquidity, Nanos, Point, RejectKind, Side, VenueId, VenueKind, VenueOrder,
    VenueReport,
};
use rust_decimal::Decimal;

/// One swap of a route: the pool and which of its tokens goes in.
#[derive(Debug, Clone)]
pub struct Hop {
    /// The pool.
    pub pool: SharedPool,
    /// Whether the hop sells the pool's base token (else its quote token).
    pub sell_base: bool,
}

impl Hop {
    fn query(&self, amount: Decimal, forward: bool) -> Result<Decimal, PoolError> {
        // Backwards, a hop runs the other way through the same pool.
        if self.sell_base == forward {
            self.pool.query_sell_base(amount)
        } else {
            self.pool.query_sell_quote(amount)
        }
    }

    fn swap(&mut self, amount: Decimal, forward: bool) -> Result<Decimal, PoolError> {
        if self.sell_base == forward {
            self.pool.sell_base(amount)
        } else {
            self.pool.sell_quote(amount)
        }
    }

    fn input_decimals(&self, forward: bool) -> u32 {
        if self.sell_base == forward {
            self.pool.base_decimals()
        } else {
            self.pool.quote_decimals()
        }
    }
}

/// How a route venue is set up.
#[derive(Debug, Clone)]
pub struct RouteConfig {
    /// The venue id.
    pub id: VenueId,
    /// The route's instrument: the first hop's input token / the last hop's output.
    pub instrument: String,
    /// The swaps, in order for a seller of the instrument's base.
    pub hops: Vec<Hop>,
    /// Gas cost of the whole transaction, in `gas_asset`.
    pub gas_cost: Decimal,
    /// The asset the gas cost is stated in.
    pub gas_asset: String,
    /// How many points of the curve the router is shown.
    pub samples: usize,
}

/// A simulated multi-hop route.
#[derive(Debug, Clone)]
pub struct RouteSim {
    config: RouteConfig,
}

impl RouteSim {
    /// A route over `config.hops`.
    pub fn new(config: RouteConfig) -> Self {
        Self { config }
    }

    /// What `amount` in yields at the end, selling the base (`forward`) or buying it.
    fn through(&self, amount: Decimal, forward: bool) -> Result<Decimal, PoolError> {
        let mut x = amount;
        let hops: Box<dyn Iterator<Item = &Hop>> = if forward {
            Box::new(self.config.hops.iter())
        } else {
            Box::new(self.config.hops.iter().rev())
        };
        for hop in hops {
            let dp = hop.input_decimals(forward);
            x = x.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::ToZero);
            x = hop.query(x, forward)?;
        }
        Ok(x)
    }

    fn swap_through(&mut self, amount: Decimal, forward: bool) -> Result<Decimal, PoolError> {
        let mut x = amount;
        let n = self.config.hops.len();
        for k in 0..n {
            let hop = if forward {
                &mut self.config.hops[k]
            } else {
                &mut self.config.hops[n - 1 - k]
            };
            let dp = hop.input_decimals(forward);
            x = x.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::ToZero);
            x = hop.swap(x, forward)?;
        }
        Ok(x)
    }

    fn revert(&self, reason: String) -> Vec<VenueReport> {
        swap_reverted(reason, self.config.gas_cost)
    }

    /// One transaction per child: the venue and the child's id name it.
    fn filled(&self, order: &VenueOrder, qty: Decimal, amount: Decimal) -> Vec<VenueReport> {
        let exec_id = format!("{}-swap-{}", self.config.id, order.client_id);
        swap_filled(qty, amount, self.config.gas_cost, exec_id)
    }
}

impl VenueSim for RouteSim {
    fn id(&self) -> &VenueId {
        &self.config.id
    }

    fn kind(&self) -> VenueKind {
        VenueKind::Pool
    }

    fn instrument(&self) -> &str {
        &self.config.instrument
    }

    fn liquidity(&mut self, side: Side, _now: Nanos) -> Liquidity {
        let mut points = Vec::with_capacity(self.config.samples);
        for size in sample_sizes(self.config.samples) {
            match (side, self.through(size, side == Side::Sell)) {
                (Side::Sell, Ok(out)) if out > Decimal::ZERO => points.push(Point {
                    qty: size,
                    amount: out,
                }),
                (Side::Buy, Ok(out)) if out > Decimal::ZERO => points.push(Point {
                    qty: out,
                    amount: size,
                }),
                _ => break,
            }
        }
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

    /// All hops in one transaction: quoted first, then swapped only if the final output
    /// meets the guard, so a revert leaves every pool as it was (and pays gas).
    fn execute(&mut self, order: &VenueOrder, _now: Nanos) -> Vec<VenueReport> {
        if order.instrument != self.config.instrument || order.qty <= Decimal::ZERO {
            return vec![VenueReport::Rejected {
                kind: RejectKind::Invalid,
                reason: format!("route does not trade {} {}", order.qty, order.instrument),
            }];
        }
        let guard = order.qty * order.limit_px;
        match order.side {
            Side::Sell => match self.through(order.qty, true) {
                Ok(out) if out >= guard => match self.swap_through(order.qty, true) {
                    Ok(out) => self.filled(order, order.qty, out),
                    Err(e) => self.revert(e.to_string()),
                },
                Ok(out) => self.revert(format!("min receive {guard} not met: {out}")),
                Err(e) => self.revert(e.to_string()),
            },
            Side::Buy => {
                let dp = self
                    .config
                    .hops
                    .last()
                    .map_or(0, |h| h.input_decimals(false));
                match least_input_for(order.qty, dp, |pay| self.through(pay, false)) {
                    Ok(pay) if pay <= guard => match self.swap_through(pay, false) {
                        Ok(_) => self.filled(order, order.qty, pay),
                        Err(e) => self.revert(e.to_string()),
                    },
                    Ok(pay) => self.revert(format!("max pay {guard} exceeded: {pay}")),
                    Err(e) => self.revert(e.to_string()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool_math::ApproxPmm;
    use crate::sim::{PoolConfig, PoolSim};
    use rust_decimal_macros::dec;

    fn pmm(depth: Decimal) -> ApproxPmm {
        ApproxPmm {
            i: dec!(1),
            k: dec!(0.5),
            base_reserve: depth,
            quote_reserve: depth,
            base_target: depth,
            quote_target: depth,
            lp_fee_rate: dec!(0.0003),
            base_decimals: 6,
            quote_decimals: 6,
        }
    }

    fn route(first: &SharedPool, second: &SharedPool) -> RouteSim {
        RouteSim::new(RouteConfig {
            id: VenueId("route".into()),
            instrument: "A/C".into(),
            hops: vec![
                Hop {
                    pool: first.clone(),
                    sell_base: true,
                },
                Hop {
                    pool: second.clone(),
                    sell_base: true,
                },
            ],
            gas_cost: dec!(0.02),
            gas_asset: "USD".into(),
            samples: 20,
        })
    }

    fn sell(qty: Decimal, limit: Decimal) -> VenueOrder {
        VenueOrder {
            client_id: "c".into(),
            instrument: "A/C".into(),
            side: Side::Sell,
            qty,
            limit_px: limit,
        }
    }

    #[test]
    fn a_route_pays_what_its_hops_pay_and_moves_the_shared_pool() {
        let (ab, bc) = (
            SharedPool::new(pmm(dec!(1000))),
            SharedPool::new(pmm(dec!(5000))),
        );
        let mut r = route(&ab, &bc);
        let expected = bc
            .query_sell_base(ab.query_sell_base(dec!(10)).unwrap())
            .unwrap();
        let reports = r.execute(&sell(dec!(10), dec!(0.99)), 0);
        assert!(
            matches!(reports[1], VenueReport::Fill { qty, px, .. } if qty == dec!(10) && px == expected / dec!(10)),
            "{reports:?}"
        );
        // The B/C pool's own venue sees the route's swap.
        let mut direct = PoolSim::new(
            PoolConfig {
                id: VenueId("bc".into()),
                instrument: "B/C".into(),
                gas_cost: dec!(0.01),
                gas_asset: "USD".into(),
                samples: 8,
            },
            bc.clone(),
        );
        let after = direct.math().query_sell_base(dec!(10)).unwrap();
        assert!(
            after
                < SharedPool::new(pmm(dec!(5000)))
                    .query_sell_base(dec!(10))
                    .unwrap()
        );
        let _ = direct.liquidity(Side::Sell, 0);
    }

    #[test]
    fn a_guard_breach_reverts_every_hop_and_pays_gas() {
        let (ab, bc) = (
            SharedPool::new(pmm(dec!(1000))),
            SharedPool::new(pmm(dec!(5000))),
        );
        let before = bc.query_sell_base(dec!(1)).unwrap();
        let mut r = route(&ab, &bc);
        let reports = r.execute(&sell(dec!(10), dec!(1.0)), 0);
        assert_eq!(reports[0], VenueReport::FixedCost { amount: dec!(0.02) });
        assert!(matches!(
            reports[1],
            VenueReport::Rejected {
                kind: RejectKind::Revert,
                ..
            }
        ));
        assert_eq!(
            bc.query_sell_base(dec!(1)).unwrap(),
            before,
            "nothing moved"
        );
    }

    #[test]
    fn the_route_curve_is_concave_and_buys_reach_it() {
        let (ab, bc) = (
            SharedPool::new(pmm(dec!(1000))),
            SharedPool::new(pmm(dec!(5000))),
        );
        let mut r = route(&ab, &bc);
        let CurveShape::Smooth(points) = r.liquidity(Side::Sell, 0).shape else {
            panic!()
        };
        assert!(points.len() >= 10);
        let mut prev = (Decimal::ZERO, Decimal::ZERO, Decimal::MAX);
        for p in &points {
            let marginal = (p.amount - prev.1) / (p.qty - prev.0);
            assert!(marginal <= prev.2);
            prev = (p.qty, p.amount, marginal);
        }
        let buy = VenueOrder {
            client_id: "b".into(),
            instrument: "A/C".into(),
            side: Side::Buy,
            qty: dec!(5),
            limit_px: dec!(1.1),
        };
        assert!(matches!(r.execute(&buy, 0)[1], VenueReport::Fill { qty, .. } if qty == dec!(5)));
    }
}
