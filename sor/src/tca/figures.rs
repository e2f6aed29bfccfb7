//! An order's transaction-cost figures (benchmark.md section 3): VWAP, all-in price,
//! fees, the market's volume and VWAP over the order interval, participation, fill
//! rate, slippages, effective spread and implementation shortfall.
//!
//! Every figure is computed exactly and rounded once, half-to-even, to its published
//! precision. A figure computed from another published figure uses the published value:
//! slippages use the 10-dp prices, the shortfall's total is the sum of its published
//! parts and its bps are computed from that total.

use super::arith::{self, ten_thousand};
use super::error::{Overflow, TcaError};
use super::types::{Order, Trade};
use crate::report::{bps, money, px, ratio, slippage_bps};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeSet;

/// Slippage in bps of the order's prices against each benchmark; positive is a cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slippages {
    /// VWAP against the reference rate.
    pub vs_reference_rate: Option<Decimal>,
    /// VWAP against the arrival price.
    pub vs_arrival: Option<Decimal>,
    /// VWAP against the market VWAP over the order interval.
    pub vs_market_vwap: Option<Decimal>,
    /// All-in price against the reference rate.
    pub all_in_vs_reference_rate: Option<Decimal>,
    /// All-in price against the arrival price.
    pub all_in_vs_arrival: Option<Decimal>,
}

/// Perold's implementation shortfall against a paper portfolio that traded all of `S`
/// at the arrival price, in quote currency; positive is a cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortfall {
    /// `s · (Σ p_i·q_i − Q·P_arr)`, 8 dp.
    pub execution_cost: Decimal,
    /// `s · (S − Q) · (P_end − P_arr)`, 8 dp.
    pub opportunity_cost: Decimal,
    /// `F`, 8 dp.
    pub fees: Decimal,
    /// The sum of the three published parts, 8 dp.
    pub total: Decimal,
    /// `total / (S · P_arr) · 10^4`, 6 dp.
    pub bps: Decimal,
}

/// Every published figure of one order, named as in benchmark.md's appendix; `None`
/// is an absent figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderFigures {
    /// `Q = Σ q_i`, 8 dp.
    pub filled_qty: Decimal,
    /// `Q / S`, 10 dp.
    pub fill_rate: Decimal,
    /// `F = Σ fee_i`, 8 dp.
    pub fees_total: Decimal,
    /// `V_mkt`: size of constituent trades in `[t_start, t_end)`, 8 dp.
    pub market_volume: Decimal,
    /// VWAP of those trades, 10 dp; absent without any.
    pub market_vwap: Option<Decimal>,
    /// `Q_lit / V_mkt`, 10 dp; absent when `V_mkt = 0`.
    pub participation_rate: Option<Decimal>,
    /// `Σ p_i·q_i / Q`, 10 dp; absent without fills.
    pub vwap: Option<Decimal>,
    /// `(Σ p_i·q_i + s·F) / Q`, 10 dp; absent without fills.
    pub all_in_px: Option<Decimal>,
    /// Slippages of the VWAP and the all-in price, 6 dp.
    pub slippage_bps: Slippages,
    /// Quantity-weighted mean effective spread of the fills with a mid, 6 dp.
    pub effective_spread_bps: Option<Decimal>,
    /// Implementation shortfall and its parts.
    pub implementation_shortfall: Shortfall,
}

fn overflow(_: Overflow) -> TcaError {
    TcaError::InvalidOrder("order: a figure leaves the exact decimal range".to_owned())
}

/// The figures of `order`, with the published reference rate `rate` (if there is
/// one) and the market `trades` on `constituents` venues. Inputs must be valid (prices
/// and quantities `> 0`); fills whose total exceeds the order quantity are
/// `invalid_order`.
pub fn order_figures(
    order: &Order,
    rate: Option<Decimal>,
    constituents: &BTreeSet<String>,
    trades: &[Trade],
) -> Result<OrderFigures, TcaError> {
    let filled = arith::sum(order.fills.iter().map(|f| f.qty)).map_err(overflow)?;
    if filled > order.qty {
        return Err(TcaError::InvalidOrder(format!(
            "order.fills: filled quantity {filled} exceeds order.qty {}",
            order.qty
        )));
    }
    compute(order, rate, constituents, trades, filled).map_err(overflow)
}

fn compute(
    order: &Order,
    rate: Option<Decimal>,
    constituents: &BTreeSet<String>,
    trades: &[Trade],
    filled: Decimal,
) -> Result<OrderFigures, Overflow> {
    let s = Decimal::from(order.side.sign());
    let fees = arith::sum(order.fills.iter().map(|f| f.fee))?;
    let amount = arith::sum(
        order
            .fills
            .iter()
            .map(|f| arith::mul(f.px, f.qty))
            .collect::<Result<Vec<_>, _>>()?,
    )?;

    // Fill prices.
    let (vwap, all_in_px) = if filled.is_zero() {
        (None, None)
    } else {
        let all_in = arith::div(arith::add(amount, arith::mul(s, fees)?)?, filled)?;
        (Some(px(arith::div(amount, filled)?)), Some(px(all_in)))
    };

    // The market over the order interval: constituent venues, [t_start, t_end).
    let in_interval = |t: &&Trade| {
        constituents.contains(&t.venue) && order.start_ms <= t.ts_ms && t.ts_ms < order.end_ms
    };
    let market_volume = arith::sum(trades.iter().filter(in_interval).map(|t| t.qty))?;
    let market_amount = arith::sum(
        trades
            .iter()
            .filter(in_interval)
            .map(|t| arith::mul(t.px, t.qty))
            .collect::<Result<Vec<_>, _>>()?,
    )?;
    let lit = arith::sum(
        order
            .fills
            .iter()
            .filter(|f| constituents.contains(&f.venue))
            .map(|f| f.qty),
    )?;
    let (market_vwap, participation_rate) = if market_volume.is_zero() {
        (None, None)
    } else {
        (
            Some(px(arith::div(market_amount, market_volume)?)),
            Some(ratio(arith::div(lit, market_volume)?)),
        )
    };

    // Slippages, each from the published 10-dp prices.
    let slip =
        |e: Option<Decimal>, b: Option<Decimal>| e.and_then(|e| slippage_bps(order.side, e, b));
    let arrival = Some(order.arrival_px);
    let slippage = Slippages {
        vs_reference_rate: slip(vwap, rate),
        vs_arrival: slip(vwap, arrival),
        vs_market_vwap: slip(vwap, market_vwap),
        all_in_vs_reference_rate: slip(all_in_px, rate),
        all_in_vs_arrival: slip(all_in_px, arrival),
    };

    // Effective spread: Σ q_i·ES_i / Σ q_i over fills with a mid.
    let (mut weighted, mut weight) = (Decimal::ZERO, Decimal::ZERO);
    for fill in &order.fills {
        let Some(mid) = fill.mid else { continue };
        let away = arith::mul(Decimal::TWO, arith::mul(s, arith::sub(fill.px, mid)?)?)?;
        let es = arith::mul(arith::div(away, mid)?, ten_thousand())?;
        weighted = arith::add(weighted, arith::mul(fill.qty, es)?)?;
        weight = arith::add(weight, fill.qty)?;
    }
    let effective_spread_bps = if weight.is_zero() {
        None
    } else {
        Some(bps(arith::div(weighted, weight)?))
    };

    // Implementation shortfall.
    let execution_cost = money(arith::mul(
        s,
        arith::sub(amount, arith::mul(filled, order.arrival_px)?)?,
    )?);
    let opportunity_cost = money(arith::mul(
        arith::mul(s, arith::sub(order.qty, filled)?)?,
        arith::sub(order.end_px, order.arrival_px)?,
    )?);
    let fees_total = money(fees);
    let total = money(arith::add(
        arith::add(execution_cost, opportunity_cost)?,
        fees_total,
    )?);
    let paper = arith::mul(order.qty, order.arrival_px)?;
    let shortfall_bps = bps(arith::mul(arith::div(total, paper)?, ten_thousand())?);

    Ok(OrderFigures {
        filled_qty: money(filled),
        fill_rate: ratio(arith::div(filled, order.qty)?),
        fees_total,
        market_volume: money(market_volume),
        market_vwap,
        participation_rate,
        vwap,
        all_in_px,
        slippage_bps: slippage,
        effective_spread_bps,
        implementation_shortfall: Shortfall {
            execution_cost,
            opportunity_cost,
            fees: fees_total,
            total,
            bps: shortfall_bps,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tca::types::Fill;
    use rust_decimal_macros::dec;
    use venues::Side;

    fn fill(venue: &str, px: Decimal, qty: Decimal, fee: Decimal, mid: Option<Decimal>) -> Fill {
        Fill {
            ts_ms: 10,
            venue: venue.to_owned(),
            px,
            qty,
            fee,
            mid,
        }
    }

    fn order(side: Side, qty: Decimal, arrival: Decimal, end: Decimal, fills: Vec<Fill>) -> Order {
        Order {
            side,
            qty,
            arrival_px: arrival,
            end_px: end,
            start_ms: 0,
            end_ms: 1_000,
            fills,
        }
    }

    fn venues(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    fn s(d: Option<Decimal>) -> Option<String> {
        d.map(|d| d.to_string())
    }

    #[test]
    fn the_specs_vwap_and_slippage_example() {
        let o = order(
            Side::Sell,
            dec!(5000000),
            dec!(1),
            dec!(1),
            vec![
                fill("a", dec!(0.9998), dec!(3000000), dec!(0), None),
                fill("a", dec!(0.9996), dec!(2000000), dec!(0), None),
            ],
        );
        let f = order_figures(&o, Some(dec!(0.9999000000)), &venues(&["a"]), &[]).unwrap();
        assert_eq!(s(f.vwap).as_deref(), Some("0.9997200000"));
        assert_eq!(
            s(f.slippage_bps.vs_reference_rate).as_deref(),
            Some("1.800180")
        );
        assert_eq!(f.fill_rate.to_string(), "1.0000000000");
        assert_eq!(f.filled_qty.to_string(), "5000000.00000000");
        // No fees: the all-in price is the VWAP.
        assert_eq!(f.all_in_px, f.vwap);
        // Fully filled: the shortfall's bps are the all-in slippage against arrival.
        assert_eq!(f.implementation_shortfall.opportunity_cost, dec!(0));
        assert_eq!(
            Some(f.implementation_shortfall.bps),
            f.slippage_bps.all_in_vs_arrival
        );
        assert_eq!(f.implementation_shortfall.bps.to_string(), "2.800000");
    }

    #[test]
    fn the_specs_implementation_shortfall_example() {
        let o = order(
            Side::Sell,
            dec!(5000000),
            dec!(1.0000),
            dec!(0.9990),
            vec![fill("a", dec!(0.9998), dec!(4000000), dec!(50), None)],
        );
        let f = order_figures(&o, None, &venues(&["a"]), &[]).unwrap();
        let is = &f.implementation_shortfall;
        assert_eq!(is.execution_cost.to_string(), "800.00000000");
        assert_eq!(is.opportunity_cost.to_string(), "1000.00000000");
        assert_eq!(is.fees.to_string(), "50.00000000");
        assert_eq!(is.total.to_string(), "1850.00000000");
        assert_eq!(is.bps.to_string(), "3.700000");
        assert_eq!(f.fees_total.to_string(), "50.00000000");
        // A seller's fee lowers what it received: (3,999,200 − 50) / 4,000,000.
        assert_eq!(s(f.all_in_px).as_deref(), Some("0.9997875000"));
        // No rate: every figure against it is absent, not zero.
        assert_eq!(f.slippage_bps.vs_reference_rate, None);
        assert_eq!(f.slippage_bps.all_in_vs_reference_rate, None);
        assert_eq!(f.fill_rate.to_string(), "0.8000000000");
    }

    #[test]
    fn the_specs_effective_spread_example_and_fills_without_a_mid() {
        let buy = order(
            Side::Buy,
            dec!(100),
            dec!(1),
            dec!(1),
            vec![fill(
                "a",
                dec!(1.0002),
                dec!(10),
                dec!(0),
                Some(dec!(1.0000)),
            )],
        );
        let f = order_figures(&buy, None, &venues(&[]), &[]).unwrap();
        assert_eq!(s(f.effective_spread_bps).as_deref(), Some("4.000000"));
        // Quantity-weighted over the fills with a mid only: (10·4 + 30·(−2)) / 40.
        let mixed = order(
            Side::Buy,
            dec!(100),
            dec!(1),
            dec!(1),
            vec![
                fill("a", dec!(1.0002), dec!(10), dec!(0), Some(dec!(1.0000))),
                fill("a", dec!(0.9999), dec!(30), dec!(0), Some(dec!(1.0000))),
                fill("a", dec!(2), dec!(50), dec!(0), None),
            ],
        );
        let f = order_figures(&mixed, None, &venues(&[]), &[]).unwrap();
        assert_eq!(s(f.effective_spread_bps).as_deref(), Some("-0.500000"));
        let no_mid = order(
            Side::Sell,
            dec!(100),
            dec!(1),
            dec!(1),
            vec![fill("a", dec!(1), dec!(5), dec!(0), None)],
        );
        let f = order_figures(&no_mid, None, &venues(&[]), &[]).unwrap();
        assert_eq!(f.effective_spread_bps, None);
    }

    #[test]
    fn fills_beyond_the_order_quantity_are_invalid_order() {
        let o = order(
            Side::Buy,
            dec!(10),
            dec!(1),
            dec!(1),
            vec![
                fill("a", dec!(1), dec!(6), dec!(0), None),
                fill("a", dec!(1), dec!(4.00000001), dec!(0), None),
            ],
        );
        let e = order_figures(&o, None, &venues(&["a"]), &[]).unwrap_err();
        assert_eq!(e.code(), "invalid_order");
        assert!(e.detail().starts_with("order.fills: "), "{e}");
    }

    #[test]
    fn no_fills_means_absent_prices_and_slippages_and_no_negative_zeros() {
        let o = order(Side::Sell, dec!(10), dec!(1), dec!(1), vec![]);
        let f = order_figures(&o, Some(dec!(1)), &venues(&["a"]), &[]).unwrap();
        assert_eq!((f.vwap, f.all_in_px), (None, None));
        assert_eq!(f.slippage_bps.vs_arrival, None);
        assert_eq!(f.slippage_bps.vs_reference_rate, None);
        assert_eq!(f.effective_spread_bps, None);
        assert_eq!(f.market_vwap, None);
        assert_eq!(f.participation_rate, None);
        assert_eq!(
            f.implementation_shortfall.execution_cost.to_string(),
            "0.00000000"
        );
        assert_eq!(
            f.implementation_shortfall.opportunity_cost.to_string(),
            "0.00000000"
        );
        assert_eq!(f.implementation_shortfall.bps.to_string(), "0.000000");
        assert_eq!(f.fill_rate.to_string(), "0.0000000000");
    }

    #[test]
    fn market_figures_use_constituents_in_the_half_open_order_interval() {
        let trade = |ts_ms: i64, venue: &str, px: Decimal, qty: Decimal| Trade {
            ts_ms,
            venue: venue.to_owned(),
            px,
            qty,
        };
        let trades = [
            trade(-1, "a", dec!(5), dec!(100)),
            trade(0, "a", dec!(1.0000), dec!(30)),
            trade(500, "b", dec!(1.0004), dec!(10)),
            trade(999, "a", dec!(1.0002), dec!(40)),
            trade(1_000, "a", dec!(5), dec!(100)),
            trade(10, "otc", dec!(5), dec!(100)),
        ];
        let o = order(
            Side::Buy,
            dec!(100),
            dec!(1),
            dec!(1),
            vec![
                fill("a", dec!(1.0002), dec!(20), dec!(0), None),
                fill("otc", dec!(1.0001), dec!(50), dec!(0), None),
            ],
        );
        let f = order_figures(&o, None, &venues(&["a", "b"]), &trades).unwrap();
        assert_eq!(f.market_volume.to_string(), "80.00000000");
        // (30 + 10.004 + 40.008) / 80
        assert_eq!(s(f.market_vwap).as_deref(), Some("1.0001500000"));
        // Only the constituent fill counts: 20 / 80.
        assert_eq!(s(f.participation_rate).as_deref(), Some("0.2500000000"));
        // VWAP (20·1.0002 + 50·1.0001)/70 = 1.000128571428…, published 1.0001285714.
        assert_eq!(s(f.vwap).as_deref(), Some("1.0001285714"));
        // Against the published 1.0001500000: (1.0001285714 − 1.00015)/1.00015·10^4.
        assert_eq!(
            s(f.slippage_bps.vs_market_vwap).as_deref(),
            Some("-0.214254")
        );
    }

    #[test]
    fn prices_round_half_to_even_once() {
        let two = |p2: Decimal| {
            order(
                Side::Buy,
                dec!(2),
                dec!(1),
                dec!(1),
                vec![
                    fill("a", dec!(1), dec!(1), dec!(0), None),
                    fill("a", p2, dec!(1), dec!(0), None),
                ],
            )
        };
        let vwap = |p2| {
            order_figures(&two(p2), None, &venues(&[]), &[])
                .unwrap()
                .vwap
                .map(|v| v.to_string())
        };
        assert_eq!(vwap(dec!(1.0000000001)).as_deref(), Some("1.0000000000"));
        assert_eq!(vwap(dec!(1.0000000003)).as_deref(), Some("1.0000000002"));
    }

    #[test]
    fn the_shortfall_total_is_the_sum_of_its_published_parts() {
        // Execution cost 0.000000005 and opportunity cost 0.000000005 each publish as
        // 0.00000000 (half-even), so the total is 0.00000000, not 0.00000001.
        let o = order(
            Side::Buy,
            dec!(1),
            dec!(1),
            dec!(1.00000001),
            vec![fill("a", dec!(1.00000001), dec!(0.5), dec!(0), None)],
        );
        let is = order_figures(&o, None, &venues(&[]), &[])
            .unwrap()
            .implementation_shortfall;
        assert_eq!(is.execution_cost.to_string(), "0.00000000");
        assert_eq!(is.opportunity_cost.to_string(), "0.00000000");
        assert_eq!(is.total.to_string(), "0.00000000");
        assert_eq!(is.bps.to_string(), "0.000000");
    }

    #[test]
    fn a_buyers_fees_raise_its_all_in_price_and_costs_are_positive() {
        let o = order(
            Side::Buy,
            dec!(1000),
            dec!(1.0000),
            dec!(1.0010),
            vec![fill("a", dec!(1.0001), dec!(500), dec!(0.5), None)],
        );
        let f = order_figures(&o, Some(dec!(1.0000)), &venues(&["a"]), &[]).unwrap();
        assert_eq!(s(f.all_in_px).as_deref(), Some("1.0011000000"));
        assert_eq!(s(f.slippage_bps.vs_arrival).as_deref(), Some("1.000000"));
        assert_eq!(
            s(f.slippage_bps.all_in_vs_reference_rate).as_deref(),
            Some("11.000000")
        );
        let is = &f.implementation_shortfall;
        assert_eq!(is.execution_cost.to_string(), "0.05000000");
        assert_eq!(is.opportunity_cost.to_string(), "0.50000000");
        assert_eq!(is.total.to_string(), "1.05000000");
        assert_eq!(is.bps.to_string(), "10.500000");
    }
}
