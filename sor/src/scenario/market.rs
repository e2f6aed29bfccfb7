//! The simulated market around a scenario's venues and the benchmark its parents are
//! measured against: when simulated time 0 is on the calendar, the trade prints other
//! participants publish at each venue, and the reference-rate parameters of
//! ../shared/specs/benchmark.md (constituent venues, window, partitions).
//!
//! ```toml
//! [market]
//! start_ms = 1736953200000          # simulated time 0 as UTC ms (default 2025-01-15 15:00Z)
//!
//! [benchmark]
//! constituents = ["book-x", "book-y"]   # default: every book venue
//! partitions = 12                       # k
//! window_secs = 3600                    # τ, at least; see docs/tca.md
//! # effective_ms = 3600000              # a fixing: every parent's window ends here
//!
//! [[venues]]
//! id = "book-x"
//! prints = { per_min = "6", min_qty = "10000", max_qty = "250000" }
//! ```

use super::Dec;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeSet;
use venues::VenueKind;

/// Simulated time 0 when a scenario does not say: 2025-01-15 15:00:00 UTC (London is
/// on UTC then, so the spec's default 16:00 London window would be its first hour).
pub const DEFAULT_START_MS: i64 = 1_736_953_200_000;
/// Most prints a minute one venue may publish (bounds the tape of a long run).
pub const MAX_PRINTS_PER_MIN: u32 = 120;
/// Most partitions a run's benchmark may use.
pub const MAX_PARTITIONS: u64 = 1_000;

/// `[market]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MarketFile {
    start_ms: Option<i64>,
}

/// `[benchmark]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BenchmarkFile {
    constituents: Option<Vec<String>>,
    partitions: Option<u64>,
    window_secs: Option<u64>,
    effective_ms: Option<i64>,
}

/// A venue's `prints = {…}` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PrintsFile {
    per_min: Dec,
    #[serde(default)]
    min_qty: Option<Dec>,
    #[serde(default)]
    max_qty: Option<Dec>,
}

/// The trades other participants make at one venue: Poisson arrivals at `per_min`
/// a minute, each a buy or a sell (even odds) at the venue's undisturbed touch (the
/// ask for a buyer, the bid for a seller, as the venue showed them at time 0), of a
/// size drawn uniformly from `[min_qty, max_qty]` at the instrument's precision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintProcess {
    /// Mean prints a minute; zero publishes none.
    pub per_min: Decimal,
    /// Smallest print, venue base units.
    pub min_qty: Decimal,
    /// Largest print, venue base units.
    pub max_qty: Decimal,
}

impl PrintProcess {
    /// What a venue of `kind` prints when the scenario does not say: an exchange book
    /// six prints a minute of 10,000 to 250,000; a pool one swap a minute of 1 to 100;
    /// an OTC dealer and a multi-hop route none (dealers publish no trades, and a route
    /// is a path through pools that print on their own).
    pub fn default_for(kind: VenueKind, is_route: bool) -> Self {
        let (per_min, min_qty, max_qty) = match kind {
            VenueKind::Book => (6, 10_000, 250_000),
            VenueKind::Pool if !is_route => (1, 1, 100),
            VenueKind::Pool | VenueKind::Rfq => (0, 1, 1),
        };
        Self {
            per_min: Decimal::from(per_min),
            min_qty: Decimal::from(min_qty),
            max_qty: Decimal::from(max_qty),
        }
    }
}

/// The simulated market of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketConfig {
    /// Simulated time 0 on the calendar, UTC milliseconds.
    pub start_ms: i64,
    /// Per venue, in the scenario's venue order: its print process.
    pub prints: Vec<PrintProcess>,
    /// Per venue, in the scenario's venue order: decimal places of a quantity there.
    pub qty_scales: Vec<u32>,
    /// Per venue, in the scenario's venue order: decimal places of a price there.
    pub price_scales: Vec<u32>,
}

/// The reference-rate parameters every parent of a run is measured with
/// (benchmark.md section 2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchmarkConfig {
    /// The constituent venues `C`.
    pub constituents: BTreeSet<String>,
    /// `k`, the number of partitions.
    pub partitions: u64,
    /// `τ`, the window length in ms (a multiple of `k`); a parent's window is at least
    /// this long.
    pub window_ms: i64,
    /// A fixing: the effective time `T` as simulated ms, the same for every parent.
    /// `None`: each parent's window ends when the parent ended.
    pub effective_ms: Option<i64>,
}

/// Checks `[market]`.
pub(super) fn market_start(file: &MarketFile) -> Result<i64, String> {
    let start = file.start_ms.unwrap_or(DEFAULT_START_MS);
    // Up to the year 9999, so every simulated instant stays a valid UTC millisecond.
    if !(0..=253_402_300_799_999).contains(&start) {
        return Err(format!(
            "market.start_ms: {start} must be a UTC millisecond from 1970 to 9999"
        ));
    }
    Ok(start)
}

/// Checks one venue's `prints`, or gives its kind's default.
pub(super) fn prints(
    field: &str,
    file: Option<&PrintsFile>,
    kind: VenueKind,
    is_route: bool,
    qty_scale: u32,
) -> Result<PrintProcess, String> {
    let default = PrintProcess::default_for(kind, is_route);
    let Some(f) = file else {
        return Ok(default);
    };
    let per_min = f.per_min.0;
    if per_min < Decimal::ZERO || per_min > Decimal::from(MAX_PRINTS_PER_MIN) {
        return Err(format!(
            "{field}.prints.per_min: {per_min} must be between 0 and {MAX_PRINTS_PER_MIN}"
        ));
    }
    let min_qty = f.min_qty.map_or(default.min_qty, |d| d.0);
    let max_qty = f.max_qty.map_or(default.max_qty.max(min_qty), |d| d.0);
    for (name, q) in [("min_qty", min_qty), ("max_qty", max_qty)] {
        if q <= Decimal::ZERO || q.normalize().scale() > qty_scale {
            return Err(format!(
                "{field}.prints.{name}: {q} must be greater than 0 with at most {qty_scale} \
                 decimal places"
            ));
        }
    }
    if max_qty < min_qty {
        return Err(format!(
            "{field}.prints.max_qty: {max_qty} is below min_qty {min_qty}"
        ));
    }
    Ok(PrintProcess {
        per_min,
        min_qty,
        max_qty,
    })
}

/// Checks `[benchmark]` against the scenario's venues (`(id, kind)` in order).
pub(super) fn benchmark(
    file: &BenchmarkFile,
    venues: &[(String, VenueKind)],
) -> Result<BenchmarkConfig, String> {
    let constituents = match &file.constituents {
        Some(list) => {
            let mut set = BTreeSet::new();
            for (i, id) in list.iter().enumerate() {
                if !venues.iter().any(|(v, _)| v == id) {
                    return Err(format!(
                        "benchmark.constituents[{i}]: no venue has id {id:?}"
                    ));
                }
                set.insert(id.clone());
            }
            set
        }
        None => venues
            .iter()
            .filter(|(_, k)| *k == VenueKind::Book)
            .map(|(v, _)| v.clone())
            .collect(),
    };
    let partitions = file.partitions.unwrap_or(12);
    if partitions == 0 || partitions > MAX_PARTITIONS {
        return Err(format!(
            "benchmark.partitions: {partitions} must be between 1 and {MAX_PARTITIONS}"
        ));
    }
    let secs = file.window_secs.unwrap_or(3600);
    // At most 31 days, so every window stays well inside i64 milliseconds.
    if secs == 0 || secs > 31 * 86_400 {
        return Err(format!(
            "benchmark.window_secs: {secs} must be between 1 and {}",
            31 * 86_400
        ));
    }
    let window_ms = i64::try_from(secs * 1000).map_err(|_| "benchmark.window_secs: too large")?;
    let k = i64::try_from(partitions).map_err(|_| "benchmark.partitions: too large")?;
    if window_ms % k != 0 {
        return Err(format!(
            "benchmark.partitions: a window of {window_ms} ms in {partitions} partitions is \
             not a whole number of ms a partition (invalid_window)"
        ));
    }
    if let Some(t) = file.effective_ms
        && !(0..=100 * 365 * 86_400_000).contains(&t)
    {
        return Err(format!(
            "benchmark.effective_ms: {t} must be a simulated time from 0 to 100 years"
        ));
    }
    Ok(BenchmarkConfig {
        constituents,
        partitions,
        window_ms,
        effective_ms: file.effective_ms,
    })
}
