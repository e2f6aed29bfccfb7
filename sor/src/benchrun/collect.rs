//! What one seed of one scenario leaves for the benchmark: per parent, its cost
//! figures from the run's report (the TCA and the gap analysis, never recomputed), and
//! how its fill progressed in simulated time.

use crate::domain::Strategy;
use crate::report::{ParentLine, RunReport, slippage_bps};
use crate::sim::RunOutcome;
use rust_decimal::Decimal;
use serde::Serialize;
use venues::Nanos;

/// The short name of a parent's algorithm, the key its figures are grouped by.
pub fn strategy_label(s: &Strategy) -> &'static str {
    match s {
        Strategy::Sweep => "sweep",
        Strategy::Twap { .. } => "twap",
    }
}

/// One parent of one seed, in bps unless said (positive = a cost, or the router worse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParentFigures {
    /// The seed.
    pub seed: u64,
    /// The parent's order id.
    pub parent: String,
    /// Its algorithm (`sweep`, `twap`).
    pub strategy: &'static str,
    /// Its final status.
    pub status: &'static str,
    /// `Q/S`, 10 dp.
    pub fill_rate: Option<Decimal>,
    /// The router's all-in price against the arrival mid.
    pub all_in_vs_arrival_bps: Option<Decimal>,
    /// The router's all-in price against the reference rate.
    pub all_in_vs_reference_bps: Option<Decimal>,
    /// Implementation shortfall.
    pub shortfall_bps: Option<Decimal>,
    /// The router's gap to the ex-post optimum.
    pub gap_to_optimal_bps: Option<Decimal>,
    /// The router against the best single venue.
    pub vs_best_single_venue_bps: Option<Decimal>,
    /// The router against pro rata to displayed size.
    pub vs_pro_rata_bps: Option<Decimal>,
    /// The optimum's all-in price against the arrival mid.
    pub optimal_vs_arrival_bps: Option<Decimal>,
    /// The best single venue's all-in price against the arrival mid.
    pub best_single_venue_vs_arrival_bps: Option<Decimal>,
    /// Pro rata's all-in price against the arrival mid.
    pub pro_rata_vs_arrival_bps: Option<Decimal>,
    /// The gap analysis's reasons (only when the router is > 0.5 bps behind the optimum).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub why: Vec<String>,
}

impl ParentFigures {
    /// Whether the router did no worse than either baseline; `None` when a comparison
    /// is missing (no fills, no gap analysis).
    pub fn never_worse(&self) -> Option<bool> {
        let single = self.vs_best_single_venue_bps?;
        let pro_rata = self.vs_pro_rata_bps?;
        Some(single <= Decimal::ZERO && pro_rata <= Decimal::ZERO)
    }
}

/// A parent's cumulative filled fraction over simulated time since its arrival.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The parent's order id.
    pub parent: String,
    /// (seconds since arrival, filled fraction), starting at (0, 0), one point per desk
    /// report.
    pub points: Vec<(f64, f64)>,
}

/// One seed of one scenario.
#[derive(Debug, Clone)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// Per parent, in the report's order.
    pub parents: Vec<ParentFigures>,
    /// Per parent, in the same order.
    pub progress: Vec<Progress>,
}

fn figures(seed: u64, line: &ParentLine) -> ParentFigures {
    let tca = line.tca.as_ref();
    let order = tca.and_then(|t| t.order.as_ref());
    let arrival = tca.and_then(|t| t.arrival_px);
    let gap = line.gap.as_ref();
    let vs_arrival = |px: Option<Decimal>| px.and_then(|p| slippage_bps(line.side, p, arrival));
    let fill_rate = order
        .map(|o| o.fill_rate)
        .or_else(|| (!line.qty.is_zero()).then(|| crate::report::ratio(line.filled / line.qty)));
    ParentFigures {
        seed,
        parent: line.id.clone(),
        strategy: strategy_label(&line.strategy),
        status: line.status.name(),
        fill_rate,
        all_in_vs_arrival_bps: order.and_then(|o| o.slippage_bps.all_in_vs_arrival),
        all_in_vs_reference_bps: order.and_then(|o| o.slippage_bps.all_in_vs_reference_rate),
        shortfall_bps: order.map(|o| o.implementation_shortfall.bps),
        gap_to_optimal_bps: gap.and_then(|g| g.router.gap_to_optimal_bps),
        vs_best_single_venue_bps: gap.and_then(|g| g.best_single_venue.router_vs_bps),
        vs_pro_rata_bps: gap.and_then(|g| g.pro_rata.router_vs_bps),
        optimal_vs_arrival_bps: vs_arrival(gap.and_then(|g| g.optimal.line.all_in_px)),
        best_single_venue_vs_arrival_bps: vs_arrival(
            gap.and_then(|g| g.best_single_venue.line.all_in_px),
        ),
        pro_rata_vs_arrival_bps: vs_arrival(gap.and_then(|g| g.pro_rata.line.all_in_px)),
        why: gap.map(|g| g.why.clone()).unwrap_or_default(),
    }
}

fn secs(ns: Nanos) -> f64 {
    ns as f64 / 1e9
}

/// The figures and fill progress of one finished run and its report.
pub fn collect(seed: u64, run: &RunOutcome, report: &RunReport) -> SeedRun {
    let parents = report.parents.iter().map(|l| figures(seed, l)).collect();
    let progress = run
        .engine
        .parents()
        .values()
        .map(|rec| {
            let o = &rec.order;
            let mut points = vec![(0.0, 0.0)];
            for r in run.desk_reports.iter().filter(|r| r.parent == o.id) {
                let fraction = if o.qty.is_zero() {
                    0.0
                } else {
                    use rust_decimal::prelude::ToPrimitive;
                    (r.cum_qty / o.qty).to_f64().unwrap_or(0.0)
                };
                points.push((secs(r.at.saturating_sub(o.arrived)), fraction));
            }
            Progress {
                parent: o.id.0.clone(),
                points,
            }
        })
        .collect();
    SeedRun {
        seed,
        parents,
        progress,
    }
}
