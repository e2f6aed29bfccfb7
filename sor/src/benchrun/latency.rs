//! The per-hop latency of a scenario over all its seeds: the engine's and the risk
//! check's wall time, and the simulated hops of every child (`crate::sim::hops`),
//! merged into one histogram per hop.

use crate::sim::RunOutcome;
use crate::sim::hops::hop_histogram;
use hdrhistogram::Histogram;
use serde::Serialize;

/// Which clock a hop is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Wall time on this machine (varies run to run).
    Wall,
    /// Simulated time from the scenario's venue model (the same for the same seed).
    Simulated,
}

/// A hop: its name, its clock, and what one sample is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    /// Short name, as in the tables and the chart's legend.
    pub name: &'static str,
    /// Which clock.
    pub clock: ClockKind,
    /// What one sample measures.
    pub per: &'static str,
}

/// Every hop, in the order of a child's life.
pub const HOPS: [Hop; 6] = [
    Hop {
        name: "engine decision",
        clock: ClockKind::Wall,
        per: "engine event (Engine::handle, averaged over each drain of the queue)",
    },
    Hop {
        name: "risk check",
        clock: ClockKind::Wall,
        per: "child approval (PreTradeGate::admit, approved or denied)",
    },
    Hop {
        name: "engine → venue",
        clock: ClockKind::Simulated,
        per: "child: sent → arrives at the venue",
    },
    Hop {
        name: "venue → ack",
        clock: ClockKind::Simulated,
        per: "child: arrives at the venue → its ack or refusal reaches the engine",
    },
    Hop {
        name: "ack → fill",
        clock: ClockKind::Simulated,
        per: "fill: the child's ack reaches the engine → the fill does",
    },
    Hop {
        name: "fill → desk report",
        clock: ClockKind::Simulated,
        per: "fill: reaches the engine → the desk report carrying it leaves",
    },
];

/// One hop's histogram merged over runs.
#[derive(Debug, Clone)]
pub struct HopLatency {
    /// Which hop.
    pub hop: Hop,
    /// Every sample, ns.
    pub hist: Histogram<u64>,
}

/// The hops of one scenario, merged over its seeds.
#[derive(Debug, Clone)]
pub struct Latency {
    /// In [`HOPS`] order.
    pub hops: Vec<HopLatency>,
}

impl Default for Latency {
    fn default() -> Self {
        Self {
            hops: HOPS
                .iter()
                .map(|&hop| HopLatency {
                    hop,
                    hist: hop_histogram(),
                })
                .collect(),
        }
    }
}

impl Latency {
    /// Adds one run's samples.
    pub fn add(&mut self, run: &RunOutcome) {
        let h = &run.hops;
        let sources = [
            &run.engine_ns,
            &h.risk_check,
            &h.engine_to_venue,
            &h.venue_to_ack,
            &h.ack_to_fill,
            &h.fill_to_desk,
        ];
        for (acc, src) in self.hops.iter_mut().zip(sources) {
            // Every source's range lies within the accumulator's (1 ns to 1 h).
            let _ = acc.hist.add(src);
        }
    }

    /// The table: count and percentiles per hop, ns.
    pub fn rows(&self) -> Vec<HopRow> {
        self.hops
            .iter()
            .map(|h| HopRow {
                hop: h.hop.name,
                clock: h.hop.clock,
                per: h.hop.per,
                count: h.hist.len(),
                p50_ns: h.hist.value_at_quantile(0.5),
                p90_ns: h.hist.value_at_quantile(0.9),
                p99_ns: h.hist.value_at_quantile(0.99),
                p99_9_ns: h.hist.value_at_quantile(0.999),
                max_ns: h.hist.max(),
            })
            .collect()
    }
}

/// One row of the latency table (ns; hdrhistogram's values, 3 significant figures).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HopRow {
    /// The hop.
    pub hop: &'static str,
    /// Its clock.
    pub clock: ClockKind,
    /// What one sample is.
    pub per: &'static str,
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p99_9_ns: u64,
    /// Largest.
    pub max_ns: u64,
}
