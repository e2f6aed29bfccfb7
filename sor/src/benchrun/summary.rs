//! The benchmark's report (`report.json`): per scenario and algorithm, the spread over
//! seeds of what the router's executions cost and how far they were from the ex-post
//! optimum and the two baselines; whether the router was never worse than either
//! baseline; the per-hop latency; and every seed's per-parent figures.
//!
//! Decimals are strings, as in every other report; latencies are integer nanoseconds.

use super::collect::{ParentFigures, SeedRun};
use super::latency::{HopRow, Latency};
use super::stats::Dist;
use serde::Serialize;
use std::collections::BTreeMap;

/// Places of a figure in bps.
const BPS_DP: u32 = 6;
/// Places of a ratio.
const RATIO_DP: u32 = 10;

/// The file names of the charts, relative to the report directory.
pub const CHARTS: [(&str, &str); 3] = [
    ("slippage", "slippage.svg"),
    ("latency", "latency.svg"),
    ("fill_progress", "fill_progress.svg"),
];

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// The command that reproduces it.
    pub command: String,
    /// The first seed.
    pub first_seed: u64,
    /// Seeds per scenario.
    pub seeds: u32,
    /// How the percentiles over seeds are taken.
    pub percentiles: &'static str,
    /// Sign convention of every figure in bps.
    pub sign: &'static str,
    /// Every parent of every seed against both baselines.
    pub never_worse_than_either_baseline: NeverWorse,
    /// Per scenario, in the order given.
    pub scenarios: Vec<ScenarioSummary>,
    /// Chart name → file.
    pub charts: BTreeMap<&'static str, &'static str>,
}

/// Whether the router did no worse than the best single venue and pro rata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NeverWorse {
    /// Parents where it held.
    pub held: usize,
    /// Parents compared (both baselines measured).
    pub compared: usize,
    /// Parents without both comparisons (no fills, no gap analysis).
    pub not_measured: usize,
    /// Where it did not hold.
    pub exceptions: Vec<Exception>,
}

/// A parent where the router did worse than a baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exception {
    /// Scenario.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Parent.
    pub parent: String,
    /// Router against the best single venue, bps (positive = worse).
    pub vs_best_single_venue_bps: Option<rust_decimal::Decimal>,
    /// Router against pro rata, bps (positive = worse).
    pub vs_pro_rata_bps: Option<rust_decimal::Decimal>,
    /// The gap analysis's reasons.
    pub why: Vec<String>,
}

/// One scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioSummary {
    /// The scenario's name.
    pub scenario: String,
    /// Its file, as given.
    pub file: String,
    /// Per algorithm of its parents.
    pub strategies: Vec<StrategySummary>,
    /// Per hop, merged over the seeds.
    pub latency: Vec<HopRow>,
}

/// The strategies compared on each parent, each priced all-in against the arrival mid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VsArrival {
    /// What the router did.
    pub router: Dist,
    /// The ex-post optimum.
    pub optimal: Dist,
    /// The best single venue.
    pub best_single_venue: Dist,
    /// Pro rata to displayed size.
    pub pro_rata: Dist,
}

/// The parents of one algorithm in one scenario, over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct StrategySummary {
    /// `sweep` or `twap`.
    pub strategy: &'static str,
    /// Parent executions measured (seeds × parents of this algorithm).
    pub parents: usize,
    /// The router's all-in slippage against the arrival mid.
    pub all_in_vs_arrival_bps: Dist,
    /// The router's all-in slippage against the reference rate.
    pub all_in_vs_reference_bps: Dist,
    /// The router's gap to the ex-post optimum.
    pub gap_to_optimal_bps: Dist,
    /// The router against the best single venue.
    pub vs_best_single_venue_bps: Dist,
    /// The router against pro rata to displayed size.
    pub vs_pro_rata_bps: Dist,
    /// Fill rate.
    pub fill_rate: Dist,
    /// Implementation shortfall.
    pub shortfall_bps: Dist,
    /// Router, optimum and baselines side by side (all-in vs arrival, bps).
    pub all_in_vs_arrival_by_strategy_bps: VsArrival,
    /// Parents where the router did no worse than either baseline, of those compared.
    pub never_worse: NeverWorseCount,
    /// The seed whose router all-in slippage vs arrival is the median (its fill
    /// progress is charted).
    pub representative_seed: Option<u64>,
    /// Every seed's figures.
    pub seeds: Vec<ParentFigures>,
}

/// A count of parents where the router held against both baselines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NeverWorseCount {
    /// Held.
    pub held: usize,
    /// Compared.
    pub compared: usize,
}

/// One scenario's runs, as the runner collected them.
#[derive(Debug, Clone)]
pub struct ScenarioRuns {
    /// The scenario's name.
    pub name: String,
    /// Its file, as given.
    pub file: String,
    /// Per seed, in seed order.
    pub seeds: Vec<SeedRun>,
    /// Hops merged over the seeds.
    pub latency: Latency,
}

impl ScenarioRuns {
    /// The algorithms of its parents, in the order first seen.
    pub fn strategies(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for p in self.seeds.iter().flat_map(|s| &s.parents) {
            if !out.contains(&p.strategy) {
                out.push(p.strategy);
            }
        }
        out
    }

    /// Every parent of the algorithm, over the seeds.
    pub fn parents_of(&self, strategy: &str) -> Vec<&ParentFigures> {
        self.seeds
            .iter()
            .flat_map(|s| &s.parents)
            .filter(|p| p.strategy == strategy)
            .collect()
    }
}

fn dist<'a>(
    ps: &[&'a ParentFigures],
    f: impl Fn(&'a ParentFigures) -> Option<rust_decimal::Decimal>,
    dp: u32,
) -> Dist {
    Dist::of(ps.iter().map(|p| f(p)), dp)
}

/// The seed whose router all-in slippage vs arrival is the median (nearest rank) of
/// `ps`; the first seed when none has the figure.
pub fn representative(ps: &[&ParentFigures]) -> Option<u64> {
    let mut with: Vec<(rust_decimal::Decimal, u64)> = ps
        .iter()
        .filter_map(|p| p.all_in_vs_arrival_bps.map(|v| (v, p.seed)))
        .collect();
    with.sort();
    super::stats::nearest_rank(&with, 50)
        .map(|(_, seed)| seed)
        .or_else(|| ps.first().map(|p| p.seed))
}

fn strategy_summary(strategy: &'static str, ps: Vec<&ParentFigures>) -> StrategySummary {
    let compared: Vec<bool> = ps.iter().filter_map(|p| p.never_worse()).collect();
    StrategySummary {
        strategy,
        parents: ps.len(),
        all_in_vs_arrival_bps: dist(&ps, |p| p.all_in_vs_arrival_bps, BPS_DP),
        all_in_vs_reference_bps: dist(&ps, |p| p.all_in_vs_reference_bps, BPS_DP),
        gap_to_optimal_bps: dist(&ps, |p| p.gap_to_optimal_bps, BPS_DP),
        vs_best_single_venue_bps: dist(&ps, |p| p.vs_best_single_venue_bps, BPS_DP),
        vs_pro_rata_bps: dist(&ps, |p| p.vs_pro_rata_bps, BPS_DP),
        fill_rate: dist(&ps, |p| p.fill_rate, RATIO_DP),
        shortfall_bps: dist(&ps, |p| p.shortfall_bps, BPS_DP),
        all_in_vs_arrival_by_strategy_bps: VsArrival {
            router: dist(&ps, |p| p.all_in_vs_arrival_bps, BPS_DP),
            optimal: dist(&ps, |p| p.optimal_vs_arrival_bps, BPS_DP),
            best_single_venue: dist(&ps, |p| p.best_single_venue_vs_arrival_bps, BPS_DP),
            pro_rata: dist(&ps, |p| p.pro_rata_vs_arrival_bps, BPS_DP),
        },
        never_worse: NeverWorseCount {
            held: compared.iter().filter(|&&h| h).count(),
            compared: compared.len(),
        },
        representative_seed: representative(&ps),
        seeds: ps.into_iter().cloned().collect(),
    }
}

impl BenchReport {
    /// The report of every scenario's runs.
    pub fn new(command: String, first_seed: u64, seeds: u32, runs: &[ScenarioRuns]) -> Self {
        let mut never = NeverWorse::default();
        let mut scenarios = Vec::with_capacity(runs.len());
        for sc in runs {
            for p in sc.seeds.iter().flat_map(|s| &s.parents) {
                match p.never_worse() {
                    Some(true) => {
                        never.held += 1;
                        never.compared += 1;
                    }
                    Some(false) => {
                        never.compared += 1;
                        never.exceptions.push(Exception {
                            scenario: sc.name.clone(),
                            seed: p.seed,
                            parent: p.parent.clone(),
                            vs_best_single_venue_bps: p.vs_best_single_venue_bps,
                            vs_pro_rata_bps: p.vs_pro_rata_bps,
                            why: p.why.clone(),
                        });
                    }
                    None => never.not_measured += 1,
                }
            }
            let strategies = sc
                .strategies()
                .into_iter()
                .map(|s| strategy_summary(s, sc.parents_of(s)))
                .collect();
            scenarios.push(ScenarioSummary {
                scenario: sc.name.clone(),
                file: sc.file.clone(),
                strategies,
                latency: sc.latency.rows(),
            });
        }
        Self {
            command,
            first_seed,
            seeds,
            percentiles: "nearest rank over the parents of all seeds: the p-th percentile of n values is the ceil(p*n/100)-th smallest",
            sign: "positive = a cost to the desk (slippage, shortfall) or the router worse (gap to optimal, vs a baseline)",
            never_worse_than_either_baseline: never,
            scenarios,
            charts: CHARTS.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn parent(seed: u64, single: Option<Decimal>, pro_rata: Option<Decimal>) -> ParentFigures {
        ParentFigures {
            seed,
            parent: "P1".into(),
            strategy: "sweep",
            status: "Filled",
            fill_rate: Some(dec!(1)),
            all_in_vs_arrival_bps: Some(Decimal::from(seed)),
            all_in_vs_reference_bps: None,
            shortfall_bps: None,
            gap_to_optimal_bps: Some(dec!(0.7)),
            vs_best_single_venue_bps: single,
            vs_pro_rata_bps: pro_rata,
            optimal_vs_arrival_bps: None,
            best_single_venue_vs_arrival_bps: None,
            pro_rata_vs_arrival_bps: None,
            why: if pro_rata > Some(Decimal::ZERO) {
                vec!["dealer-a declined 1 child (last look)".into()]
            } else {
                Vec::new()
            },
        }
    }

    use rust_decimal::Decimal;

    #[test]
    fn a_parent_worse_than_a_baseline_is_listed_with_the_gap_analysis_reasons() {
        let seeds = vec![
            (1, Some(dec!(-1)), Some(dec!(0))),
            (2, Some(dec!(-1)), Some(dec!(0.3))),
            (3, None, None),
        ];
        let runs = vec![ScenarioRuns {
            name: "corridor".into(),
            file: "scenarios/corridor.toml".into(),
            seeds: seeds
                .into_iter()
                .map(|(seed, a, b)| SeedRun {
                    seed,
                    parents: vec![parent(seed, a, b)],
                    progress: Vec::new(),
                })
                .collect(),
            latency: Latency::default(),
        }];
        let r = BenchReport::new("sor bench x".into(), 1, 3, &runs);
        let nw = &r.never_worse_than_either_baseline;
        assert_eq!((nw.held, nw.compared, nw.not_measured), (1, 2, 1));
        assert_eq!(nw.exceptions.len(), 1);
        assert_eq!(nw.exceptions[0].seed, 2);
        let st = &r.scenarios[0].strategies[0];
        assert_eq!((st.never_worse.held, st.never_worse.compared), (1, 2));
        // Median of the slippages 1, 2, 3 is seed 2's.
        assert_eq!(st.representative_seed, Some(2));
        let md = super::super::markdown::render(&r);
        assert!(
            md.contains("held on 1 of 2 parents (1 not measured"),
            "{md}"
        );
        assert!(
            md.contains(
                "- corridor seed 2 P1: router vs best single venue -1 bps, vs pro rata 0.3 bps"
            ),
            "{md}"
        );
        assert!(
            md.contains("  - dealer-a declined 1 child (last look)"),
            "{md}"
        );
    }
}
