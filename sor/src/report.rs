//! The run report: per parent, where it went, what it filled, what it cost.
//!
//! Figures follow ../shared/specs/benchmark.md sections 1 and 3: the fills' VWAP is
//! `Σ p·q / Q` with fees *not* folded into `p`; every explicit cost (taker fees, gas) is
//! a fee `F`; the all-in price is `(Σ p·q + s·F) / Q`; slippage is
//! `s · (E − B) / B · 10⁴`, positive when it cost the desk money, computed from the
//! published (rounded) figures. Prices are published to 10 decimal places, money and
//! quantities to 8, basis points to 6, each rounded once, half-to-even, and written
//! with exactly that many places. A venue in another instrument is shown in the
//! parent's terms (its price times the value of its quote asset).
//!
//! The desk's AvgPx (net of taker fees, not of gas, as its ExecutionReports say) is
//! reported beside them as `avg_px`.

use crate::domain::{ChildStatus, ParentStatus, Strategy};
use crate::engine::Engine;
use crate::sim::RunOutcome;
use risk::PreTradeGate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use venues::{Nanos, Side, VenueKind};

/// A figure as published: rounded once, half-to-even, to `dp` decimal places and
/// written with exactly `dp` places (a zero is never written `-0.00…`).
pub fn round(v: Decimal, dp: u32) -> Decimal {
    let mut r = v.round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven);
    r.rescale(dp);
    if r.is_zero() {
        r.set_sign_positive(true);
    }
    r
}

/// A price as published: 10 decimal places.
pub fn px(v: Decimal) -> Decimal {
    round(v, 10)
}

/// Money or a quantity as published: 8 decimal places.
pub fn money(v: Decimal) -> Decimal {
    round(v, 8)
}

/// A ratio as published: 10 decimal places.
pub fn ratio(v: Decimal) -> Decimal {
    round(v, 10)
}

/// Basis points as published: 6 decimal places.
pub fn bps(v: Decimal) -> Decimal {
    round(v, 6)
}

/// Slippage in bps of `price` against `benchmark` (both published first), positive
/// when it cost the desk money; `None` without a benchmark (or with one that publishes
/// as zero, or when the figure would leave the decimal range).
///
/// The example of benchmark.md 3.2: sell 3,000,000 at 0.9998 and 2,000,000 at 0.9996
/// against a reference rate of 0.9999:
///
/// ```
/// use rust_decimal::Decimal;
/// use sor::report::slippage_bps;
/// use venues::Side;
/// let vwap = (Decimal::new(9998, 4) * Decimal::from(3) + Decimal::new(9996, 4) * Decimal::from(2))
///     / Decimal::from(5);
/// let bps = slippage_bps(Side::Sell, vwap, Some(Decimal::new(9999, 4))).unwrap();
/// assert_eq!(bps.to_string(), "1.800180");
/// ```
pub fn slippage_bps(side: Side, price: Decimal, benchmark: Option<Decimal>) -> Option<Decimal> {
    let b = px(benchmark?);
    if b.is_zero() {
        return None;
    }
    let s = Decimal::from(side.sign());
    let diff = s.checked_mul(px(price).checked_sub(b)?)?;
    Some(bps(diff
        .checked_div(b)?
        .checked_mul(Decimal::from(10_000))?))
}

/// Slippage of one price against the arrival mid and the reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slippage {
    /// Against the mid of the books at arrival.
    pub vs_arrival: Option<Decimal>,
    /// Against the reference price.
    pub vs_reference: Option<Decimal>,
}

/// One venue's part in a parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VenueLine {
    /// Venue id.
    pub venue: String,
    /// Venue kind.
    pub kind: VenueKind,
    /// The venue's instrument.
    pub instrument: String,
    /// Children sent.
    pub children: usize,
    /// Children the venue rejected.
    pub rejected: usize,
    /// Quantity sent, parent units.
    pub sent: Decimal,
    /// Quantity filled, parent units.
    pub filled: Decimal,
    /// VWAP of the fills in the venue's own terms (its instrument's price), no fees.
    pub venue_vwap: Option<Decimal>,
    /// VWAP in the parent's terms, no fees.
    pub vwap: Option<Decimal>,
    /// All-in price in the parent's terms: fees and gas included.
    pub all_in_px: Option<Decimal>,
    /// Taker and dealer fees, parent quote currency.
    pub fees: Decimal,
    /// Fixed costs (gas), parent quote currency.
    pub fixed_costs: Decimal,
    /// Slippage of the VWAP.
    pub slippage_bps: Slippage,
}

/// One parent's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParentLine {
    /// Order id.
    pub id: String,
    /// The desk's ClOrdID.
    pub client_id: String,
    /// Desk.
    pub desk: String,
    /// Instrument.
    pub instrument: String,
    /// Side.
    pub side: Side,
    /// Strategy.
    pub strategy: Strategy,
    /// Quantity.
    pub qty: Decimal,
    /// Limit, if any.
    pub limit: Option<Decimal>,
    /// Final status.
    pub status: ParentStatus,
    /// Why it ended short or was refused.
    pub reason: Option<String>,
    /// CumQty.
    pub filled: Decimal,
    /// Quantity never filled.
    pub unfilled: Decimal,
    /// The fills' VWAP, fees not included.
    pub vwap: Option<Decimal>,
    /// All-in price: `(Σ p·q + s·F) / Q`, fees and gas included.
    pub all_in_px: Option<Decimal>,
    /// The desk's AvgPx: net of taker fees (not of gas), as its reports say.
    pub avg_px: Option<Decimal>,
    /// Fill rate `Q / S`.
    pub fill_rate: Decimal,
    /// Taker and dealer fees, quote currency.
    pub fees: Decimal,
    /// Fixed costs (gas), quote currency.
    pub fixed_costs: Decimal,
    /// All explicit costs `F`: fees plus fixed costs.
    pub fees_total: Decimal,
    /// Mid at arrival.
    pub arrival_mid: Option<Decimal>,
    /// Reference price at arrival.
    pub reference: Option<Decimal>,
    /// Slippage of the VWAP.
    pub slippage_bps: Slippage,
    /// Slippage of the all-in price.
    pub all_in_slippage_bps: Slippage,
    /// Simulated time from arrival to the end, ms.
    pub elapsed_ms: Option<Decimal>,
    /// Routing rounds.
    pub rounds: u32,
    /// Risk denials.
    pub risk_denials: Vec<String>,
    /// Per venue, in configuration order.
    pub venues: Vec<VenueLine>,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Simulated time at the last event, ms.
    pub elapsed_ms: Decimal,
    /// Events the engine applied.
    pub events: u64,
    /// Children sent.
    pub children_sent: u64,
    /// Engine wall time per event, ns: p50, p99, max.
    pub engine_ns_per_event: BTreeMap<String, u64>,
    /// Parents, in arrival order.
    pub parents: Vec<ParentLine>,
    /// Ramp stage moves the risk gate made, in order.
    pub stage_changes: Vec<String>,
}

fn ms(n: Nanos) -> Decimal {
    Decimal::from(n) / Decimal::from(1_000_000)
}

/// Builds the per-parent lines from an engine's state.
pub fn parent_lines<G: PreTradeGate>(engine: &Engine<G>) -> Vec<ParentLine> {
    let mut out = Vec::new();
    for rec in engine.parents().values() {
        let o = &rec.order;
        let mut venues: Vec<VenueLine> = engine
            .config()
            .venues
            .iter()
            .map(|v| VenueLine {
                venue: v.id.0.clone(),
                kind: v.kind,
                instrument: v.instrument.clone(),
                children: 0,
                rejected: 0,
                sent: Decimal::ZERO,
                filled: Decimal::ZERO,
                venue_vwap: None,
                vwap: None,
                all_in_px: None,
                fees: Decimal::ZERO,
                fixed_costs: Decimal::ZERO,
                slippage_bps: Slippage {
                    vs_arrival: None,
                    vs_reference: None,
                },
            })
            .collect();
        // Per venue: venue qty, venue amount (Σ p·q in venue terms), amount in parent terms.
        let mut sums = vec![(Decimal::ZERO, Decimal::ZERO, Decimal::ZERO); venues.len()];
        let sign = Decimal::from(o.side.sign());
        for cid in &rec.children {
            let Some(c) = engine.children().get(cid) else {
                continue;
            };
            let Some(i) = venues.iter().position(|v| v.venue == c.venue.0) else {
                continue;
            };
            let conv = c.conversion;
            let line = &mut venues[i];
            line.children += 1;
            if c.status() == ChildStatus::Rejected {
                line.rejected += 1;
            }
            line.sent += c.qty * conv.qty_rate;
            line.filled += c.filled() * conv.qty_rate;
            line.fees += c.fees() * conv.quote_value;
            line.fixed_costs += c.fixed_cost() * c.fixed_cost_value;
            sums[i].0 += c.filled();
            sums[i].1 += c.gross_amount();
            sums[i].2 += c.gross_amount() * conv.quote_value;
        }
        let (mut q_all, mut amount_all) = (Decimal::ZERO, Decimal::ZERO);
        for (line, (vq, va, pa)) in venues.iter_mut().zip(sums) {
            if !vq.is_zero() {
                line.venue_vwap = Some(px(va / vq));
                let vwap = pa / line.filled;
                let all_in = (pa + sign * (line.fees + line.fixed_costs)) / line.filled;
                line.vwap = Some(px(vwap));
                line.all_in_px = Some(px(all_in));
                line.slippage_bps = Slippage {
                    vs_arrival: slippage_bps(o.side, vwap, rec.arrival_mid),
                    vs_reference: slippage_bps(o.side, vwap, rec.reference),
                };
                q_all += line.filled;
                amount_all += pa;
            }
            line.sent = money(line.sent);
            line.filled = money(line.filled);
            line.fees = money(line.fees);
            line.fixed_costs = money(line.fixed_costs);
        }
        let filled = o.filled();
        debug_assert_eq!(q_all, filled, "venue fills add up to the parent's");
        let fees_total = rec.fees + rec.fixed_costs;
        let vwap = (!filled.is_zero()).then(|| amount_all / filled);
        let all_in = vwap.map(|_| (amount_all + sign * fees_total) / filled);
        let slip = |p: Option<Decimal>| Slippage {
            vs_arrival: p.and_then(|p| slippage_bps(o.side, p, rec.arrival_mid)),
            vs_reference: p.and_then(|p| slippage_bps(o.side, p, rec.reference)),
        };
        out.push(ParentLine {
            id: o.id.0.clone(),
            client_id: rec.client_id.clone(),
            desk: o.desk.clone(),
            instrument: o.instrument.clone(),
            side: o.side,
            strategy: o.strategy.clone(),
            qty: o.qty,
            limit: o.limit,
            status: o.status(),
            reason: rec.reason.clone(),
            filled: money(filled),
            unfilled: money(o.qty - filled),
            vwap: vwap.map(px),
            all_in_px: all_in.map(px),
            avg_px: (!filled.is_zero()).then(|| px(o.avg_px())),
            fill_rate: ratio(filled / o.qty),
            fees: money(rec.fees),
            fixed_costs: money(rec.fixed_costs),
            fees_total: money(fees_total),
            arrival_mid: rec.arrival_mid.map(px),
            reference: rec.reference.map(px),
            slippage_bps: slip(vwap),
            all_in_slippage_bps: slip(all_in),
            elapsed_ms: rec.finished_at.map(|f| ms(f.saturating_sub(o.arrived))),
            rounds: rec.rounds,
            risk_denials: rec.risk_denials.clone(),
            venues,
        });
    }
    out
}

impl RunReport {
    /// The report of a finished run.
    pub fn new(name: &str, seed: u64, run: &RunOutcome) -> Self {
        let h = &run.engine_ns;
        let engine_ns_per_event = BTreeMap::from([
            ("p50".to_owned(), h.value_at_quantile(0.5)),
            ("p99".to_owned(), h.value_at_quantile(0.99)),
            ("max".to_owned(), h.max()),
        ]);
        Self {
            scenario: name.to_owned(),
            seed,
            elapsed_ms: ms(run.elapsed),
            events: run.events,
            children_sent: run.children_sent,
            engine_ns_per_event,
            parents: parent_lines(&run.engine),
            stage_changes: run.engine.stage_changes().to_vec(),
        }
    }

    /// The report as text for a terminal.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let opt = |v: Option<Decimal>| v.map_or("-".to_owned(), |v| v.normalize().to_string());
        let _ = writeln!(
            s,
            "scenario {}  seed {}  simulated {} ms  {} events  {} children",
            self.scenario, self.seed, self.elapsed_ms, self.events, self.children_sent
        );
        for p in &self.parents {
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "{} ({}/{})  {} {} {}  limit {}  {}  -> {:?}",
                p.id,
                p.desk,
                p.client_id,
                p.side,
                p.qty,
                p.instrument,
                opt(p.limit),
                p.strategy,
                p.status
            );
            if let Some(r) = &p.reason {
                let _ = writeln!(s, "  reason: {r}");
            }
            let _ = writeln!(
                s,
                "  {:<20} {:<5} {:<13} {:>9} {:>18} {:>18} {:>14} {:>14} {:>12} {:>10} {:>11}",
                "venue",
                "kind",
                "instrument",
                "children",
                "sent",
                "filled",
                "venue vwap",
                "vwap",
                "fees",
                "gas",
                "slip ref bp"
            );
            for v in &p.venues {
                let _ = writeln!(
                    s,
                    "  {:<20} {:<5} {:<13} {:>9} {:>18} {:>18} {:>14} {:>14} {:>12} {:>10} {:>11}",
                    v.venue,
                    format!("{:?}", v.kind).to_lowercase(),
                    v.instrument,
                    format!(
                        "{}{}",
                        v.children,
                        if v.rejected > 0 {
                            format!(" ({}r)", v.rejected)
                        } else {
                            String::new()
                        }
                    ),
                    v.sent.normalize(),
                    v.filled.normalize(),
                    opt(v.venue_vwap),
                    opt(v.vwap),
                    v.fees.normalize(),
                    v.fixed_costs.normalize(),
                    opt(v.slippage_bps.vs_reference),
                );
            }
            let sum: Decimal = p.venues.iter().map(|v| v.filled).sum();
            let _ = writeln!(
                s,
                "  filled {} + unfilled {} = {} (qty {})",
                sum.normalize(),
                p.unfilled.normalize(),
                (sum + p.unfilled).normalize(),
                p.qty.normalize()
            );
            let _ = writeln!(
                s,
                "  vwap {}  all-in {}  desk avg px {}  fees {}  gas {}  arrival mid {}  reference {}",
                opt(p.vwap),
                opt(p.all_in_px),
                opt(p.avg_px),
                p.fees.normalize(),
                p.fixed_costs.normalize(),
                opt(p.arrival_mid),
                opt(p.reference)
            );
            let _ = writeln!(
                s,
                "  slippage bps: vs arrival {}  vs reference {}  all-in vs arrival {}  all-in vs reference {}",
                opt(p.slippage_bps.vs_arrival),
                opt(p.slippage_bps.vs_reference),
                opt(p.all_in_slippage_bps.vs_arrival),
                opt(p.all_in_slippage_bps.vs_reference)
            );
            let _ = writeln!(
                s,
                "  elapsed {} ms simulated, {} routing rounds, {} risk denials",
                opt(p.elapsed_ms),
                p.rounds,
                p.risk_denials.len()
            );
            for d in &p.risk_denials {
                let _ = writeln!(s, "    {d}");
            }
        }
        if !self.stage_changes.is_empty() {
            let _ = writeln!(s, "\nramp stages:");
            for c in &self.stage_changes {
                let _ = writeln!(s, "  {c}");
            }
        }
        let _ = writeln!(
            s,
            "\nengine wall time per event: p50 {} ns, p99 {} ns, max {} ns",
            self.engine_ns_per_event.get("p50").copied().unwrap_or(0),
            self.engine_ns_per_event.get("p99").copied().unwrap_or(0),
            self.engine_ns_per_event.get("max").copied().unwrap_or(0)
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn slippage_is_positive_when_it_cost_money_on_both_sides() {
        assert_eq!(
            slippage_bps(Side::Sell, dec!(0.9990), Some(dec!(1.0))),
            Some(dec!(10))
        );
        assert_eq!(
            slippage_bps(Side::Buy, dec!(1.0010), Some(dec!(1.0))),
            Some(dec!(10))
        );
        assert_eq!(
            slippage_bps(Side::Sell, dec!(1.0010), Some(dec!(1.0))),
            Some(dec!(-10))
        );
        assert_eq!(slippage_bps(Side::Buy, dec!(1), None), None);
    }

    #[test]
    fn published_figures_round_half_to_even_once() {
        assert_eq!(px(dec!(0.99999999995)), dec!(1.0000000000));
        assert_eq!(px(dec!(0.99999999985)), dec!(0.9999999998));
        assert_eq!(
            slippage_bps(Side::Sell, dec!(0.99999999995), Some(dec!(1))),
            Some(dec!(0))
        );
    }
}
