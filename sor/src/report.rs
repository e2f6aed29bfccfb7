//! The run report: per parent, where it went, what it filled, what it cost, and how far
//! that was from the best possible.
//!
//! - The allocation table (children, quantities, fees, gas per venue) comes from the
//!   engine's state.
//! - Every cost figure is the benchmark module's ([`crate::tca::run`]), computed exactly
//!   as ../shared/specs/benchmark.md section 3 says and named as its appendix: the
//!   reference rate over the parent's window, VWAP, all-in price, the five slippages,
//!   effective spread, fill rate, participation, implementation shortfall, per venue and
//!   in total (`tca`). There is no second VWAP or slippage anywhere in the report.
//! - The gap to the ex-post optimum and the two baselines ([`crate::tca::gap`]).
//!
//! Prices are published to 10 decimal places, money and quantities to 8, basis points to
//! 6, each rounded once, half-to-even, and written with exactly that many places. The
//! desk's AvgPx (net of taker fees, not of gas, as its ExecutionReports say) is reported
//! beside them as `avg_px`; `venue_vwap` is a venue's fills' VWAP in its own instrument's
//! terms (not a benchmark figure).

use crate::domain::{ChildStatus, ParentStatus, Strategy};
use crate::engine::Engine;
use crate::sim::RunOutcome;
use crate::tca::OrderFigures;
use crate::tca::batch::ReferenceAnswer;
use crate::tca::gap::{Gap, parent_gap};
use crate::tca::run::{ParentTca, run_tca};
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
    /// Taker and dealer fees, parent quote currency.
    pub fees: Decimal,
    /// Fixed costs (gas), parent quote currency.
    pub fixed_costs: Decimal,
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
    /// The desk's AvgPx: net of taker fees (not of gas), as its reports say.
    pub avg_px: Option<Decimal>,
    /// Taker and dealer fees, quote currency (with `fixed_costs`, the TCA's
    /// `fees_total`).
    pub fees: Decimal,
    /// Fixed costs (gas), quote currency.
    pub fixed_costs: Decimal,
    /// Simulated time from arrival to the end, ms.
    pub elapsed_ms: Option<Decimal>,
    /// Routing rounds.
    pub rounds: u32,
    /// Risk denials.
    pub risk_denials: Vec<String>,
    /// Per venue, in configuration order.
    pub venues: Vec<VenueLine>,
    /// The benchmark and every cost figure (benchmark.md's appendix names); absent only
    /// when the run's market could not be built (see [`RunReport::market_error`]).
    pub tca: Option<ParentTca>,
    /// The gap to the ex-post optimum and the baselines; absent without fills.
    pub gap: Option<Gap>,
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
    /// Why the run's market (its trade prints) could not be built, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market_error: Option<String>,
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
                fees: Decimal::ZERO,
                fixed_costs: Decimal::ZERO,
            })
            .collect();
        // Per venue: venue qty and venue amount (Σ p·q in venue terms).
        let mut sums = vec![(Decimal::ZERO, Decimal::ZERO); venues.len()];
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
        }
        let mut q_all = Decimal::ZERO;
        for (line, (vq, va)) in venues.iter_mut().zip(sums) {
            if !vq.is_zero() {
                line.venue_vwap = Some(px(va / vq));
                q_all += line.filled;
            }
            line.sent = money(line.sent);
            line.filled = money(line.filled);
            line.fees = money(line.fees);
            line.fixed_costs = money(line.fixed_costs);
        }
        let filled = o.filled();
        debug_assert_eq!(q_all, filled, "venue fills add up to the parent's");
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
            avg_px: (!filled.is_zero()).then(|| px(o.avg_px())),
            fees: money(rec.fees),
            fixed_costs: money(rec.fixed_costs),
            elapsed_ms: rec.finished_at.map(|f| ms(f.saturating_sub(o.arrived))),
            rounds: rec.rounds,
            risk_denials: rec.risk_denials.clone(),
            venues,
            tca: None,
            gap: None,
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
        let mut parents = parent_lines(&run.engine);
        let mut market_error = None;
        match run_tca(run) {
            Ok(mut all) => {
                for (line, rec) in parents.iter_mut().zip(run.engine.parents().values()) {
                    let Some(tca) = all.remove(&rec.order.id) else {
                        continue;
                    };
                    line.gap = parent_gap(run, rec, &tca);
                    line.tca = Some(tca);
                }
            }
            Err(e) => market_error = Some(e.to_string()),
        }
        Self {
            scenario: name.to_owned(),
            seed,
            elapsed_ms: ms(run.elapsed),
            events: run.events,
            children_sent: run.children_sent,
            engine_ns_per_event,
            parents,
            stage_changes: run.engine.stage_changes().to_vec(),
            market_error,
        }
    }

    /// The report as text for a terminal.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "scenario {}  seed {}  simulated {} ms  {} events  {} children",
            self.scenario, self.seed, self.elapsed_ms, self.events, self.children_sent
        );
        if let Some(e) = &self.market_error {
            let _ = writeln!(s, "no benchmark figures: {e}");
        }
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
            allocation_text(&mut s, p);
            if let Some(t) = &p.tca {
                tca_text(&mut s, t);
            }
            if let Some(g) = &p.gap {
                gap_text(&mut s, g);
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

/// An optional figure for the text report (`-` when absent), trailing zeros dropped.
fn opt(v: Option<Decimal>) -> String {
    v.map_or("-".to_owned(), |v| v.normalize().to_string())
}

/// Seconds from the run's start to a calendar millisecond, for the text report.
fn secs(ms_at: i64, start_ms: i64) -> Decimal {
    (Decimal::from(ms_at - start_ms) / Decimal::from(1000)).normalize()
}

/// Where the parent went: children, quantities, fees and gas per venue.
fn allocation_text(s: &mut String, p: &ParentLine) {
    let _ = writeln!(
        s,
        "  {:<20} {:<5} {:<13} {:>9} {:>18} {:>18} {:>14} {:>14} {:>10}",
        "venue", "kind", "instrument", "children", "sent", "filled", "venue vwap", "fees", "gas"
    );
    for v in &p.venues {
        let children = if v.rejected > 0 {
            format!("{} ({}r)", v.children, v.rejected)
        } else {
            v.children.to_string()
        };
        let _ = writeln!(
            s,
            "  {:<20} {:<5} {:<13} {:>9} {:>18} {:>18} {:>14} {:>14} {:>10}",
            v.venue,
            format!("{:?}", v.kind).to_lowercase(),
            v.instrument,
            children,
            v.sent.normalize(),
            v.filled.normalize(),
            opt(v.venue_vwap),
            v.fees.normalize(),
            v.fixed_costs.normalize(),
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
        "  desk avg px {}  fees {}  gas {}  elapsed {} ms simulated, {} routing rounds, {} risk denials",
        opt(p.avg_px),
        p.fees.normalize(),
        p.fixed_costs.normalize(),
        opt(p.elapsed_ms),
        p.rounds,
        p.risk_denials.len()
    );
    for d in &p.risk_denials {
        let _ = writeln!(s, "    {d}");
    }
}

/// One row of the TCA table.
fn tca_row(s: &mut String, name: &str, o: &OrderFigures) {
    let sl = &o.slippage_bps;
    let _ = writeln!(
        s,
        "  {:<20} {:>18} {:>14} {:>14} {:>14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        name,
        o.filled_qty.normalize(),
        o.fees_total.normalize(),
        opt(o.vwap),
        opt(o.all_in_px),
        opt(sl.vs_reference_rate),
        opt(sl.vs_arrival),
        opt(sl.vs_market_vwap),
        opt(sl.all_in_vs_reference_rate),
        opt(sl.all_in_vs_arrival),
        opt(o.effective_spread_bps),
    );
}

/// The benchmark and every cost figure, per venue and in total.
fn tca_text(s: &mut String, t: &ParentTca) {
    let start = t.start_ms;
    let _ = writeln!(
        s,
        "  TCA (benchmark.md): arrival mid {}  end mid {}  order interval [{}, {}) UTC ms",
        opt(t.arrival_px),
        opt(t.end_px),
        t.start_ms,
        t.end_ms
    );
    match &t.reference {
        ReferenceAnswer::Rate {
            rate,
            nonempty_partitions,
            eligible_trades,
            ..
        } => {
            let _ = writeln!(
                s,
                "  reference rate {} over [{}, {}) UTC ms ({} s to {} s from arrival), {} of {} partitions with trades, {} trades on {}",
                rate,
                t.window.start_ms,
                t.window.end_ms,
                secs(t.window.start_ms, start),
                secs(t.window.end_ms, start),
                nonempty_partitions,
                t.window.partitions,
                eligible_trades,
                t.window.constituents.join(", ")
            );
        }
        ReferenceAnswer::Error { error } => {
            let _ = writeln!(
                s,
                "  reference rate: none ({error}) over [{}, {}) UTC ms on [{}]",
                t.window.start_ms,
                t.window.end_ms,
                t.window.constituents.join(", ")
            );
        }
    }
    for n in &t.notes {
        let _ = writeln!(s, "  note: {n}");
    }
    if let Some(e) = &t.error {
        let _ = writeln!(s, "  no order figures: {e}");
    }
    let Some(o) = &t.order else {
        return;
    };
    let _ = writeln!(
        s,
        "  {:<20} {:>18} {:>14} {:>14} {:>14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "slippage bps:",
        "filled",
        "fees+gas",
        "vwap",
        "all-in",
        "vs RR",
        "vs arr",
        "vs mkt",
        "all-in RR",
        "all-in arr",
        "eff sprd"
    );
    for v in &t.venues {
        tca_row(s, &v.venue, &v.order);
    }
    tca_row(s, "total", o);
    let is = &o.implementation_shortfall;
    let _ = writeln!(
        s,
        "  market: volume {}  vwap {}  participation {}  fill rate {}",
        o.market_volume.normalize(),
        opt(o.market_vwap),
        opt(o.participation_rate),
        o.fill_rate.normalize()
    );
    let _ = writeln!(
        s,
        "  implementation shortfall: execution {} + opportunity {} + fees {} = {} ({} bps)",
        is.execution_cost.normalize(),
        is.opportunity_cost.normalize(),
        is.fees.normalize(),
        is.total.normalize(),
        is.bps.normalize()
    );
}

/// The router beside the ex-post optimum and the baselines.
fn gap_text(s: &mut String, g: &Gap) {
    let _ = writeln!(
        s,
        "  gap to the best possible ({}; {} on the liquidity really there; unplaced charged at {}{}):",
        g.basis,
        g.quantity.normalize(),
        opt(g.unplaced_charged_at),
        if g.declined.is_empty() {
            String::new()
        } else {
            format!("; declined: {}", g.declined.join(", "))
        }
    );
    let _ = writeln!(
        s,
        "  {:<34} {:>14} {:>18} {:>14} {:>14} {:>14}",
        "strategy", "all-in px", "placed", "unplaced", "vs optimal bp", "router vs bp"
    );
    let row =
        |s: &mut String, name: &str, l: &crate::tca::gap::StrategyLine, vs: Option<Decimal>| {
            let _ = writeln!(
                s,
                "  {:<34} {:>14} {:>18} {:>14} {:>14} {:>14}",
                name,
                opt(l.all_in_px),
                l.placed.normalize(),
                l.unplaced.normalize(),
                opt(l.gap_to_optimal_bps),
                opt(vs)
            );
        };
    row(s, "router", &g.router, None);
    row(s, "optimal", &g.optimal.line, None);
    let single = match &g.best_single_venue.venue {
        Some(v) => format!("best single venue ({v})"),
        None => "best single venue".to_owned(),
    };
    row(
        s,
        &single,
        &g.best_single_venue.line,
        g.best_single_venue.router_vs_bps,
    );
    row(
        s,
        "pro rata to displayed size",
        &g.pro_rata.line,
        g.pro_rata.router_vs_bps,
    );
    let alloc: Vec<String> = g
        .optimal
        .allocation
        .iter()
        .map(|a| format!("{} {}", a.venue, a.qty.normalize()))
        .collect();
    let _ = writeln!(s, "  optimal allocation: {}", alloc.join(", "));
    for w in &g.why {
        let _ = writeln!(s, "  why: {w}");
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
