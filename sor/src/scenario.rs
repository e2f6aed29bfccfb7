//! Scenario files: the venues, their liquidity, the risk limits and the parent orders
//! of one `sor run`.
//!
//! Every error names the field it is about (`venues[2].taker_fee_bps: …`) and, for a
//! parse error, the line. Decimal values are TOML strings (`"0.9999"`), never floats,
//! so what is written is exactly what is used.

use crate::domain::{Instrument, Instruments, Strategy, Valuation};
use crate::engine::{EngineConfig, NewParent, VenueSpec};
use risk::MinimalLimits;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;
use venues::pmm::{self, FeeRates, MathVersion, PmmState, RState, U256};
use venues::pool_math::{ApproxPmm, ExactPmm, SharedPool};
use venues::sim::{
    BookConfig, BookSim, Hop, PoolConfig, PoolSim, RfqConfig, RfqDealerSim, RouteConfig, RouteSim,
    VenueSim,
};
use venues::{Level, Nanos, Side, VenueId, VenueKind};

mod market;

pub use market::{
    BenchmarkConfig, DEFAULT_START_MS, MAX_PRINTS_PER_MIN, MarketConfig, PrintProcess,
};

const MS: Nanos = 1_000_000;
const SEC: Nanos = 1_000_000_000;
/// Most levels a generated book side may have.
const MAX_LEVELS: u32 = 1_000;
/// Most TWAP slices a parent may ask for.
const MAX_SLICES: u32 = 10_000;

/// A scenario that cannot be used, with the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScenarioError(pub String);

fn err<T>(field: impl fmt::Display, msg: impl fmt::Display) -> Result<T, ScenarioError> {
    Err(ScenarioError(format!("{field}: {msg}")))
}

/// A decimal written as a TOML string (or an integer), never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dec(pub Decimal);

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal as a string, e.g. \"0.9999\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Dec, E> {
                let ok = !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
                    && !s.starts_with('.')
                    && !s.ends_with('.');
                if !ok {
                    return Err(E::custom(format!(
                        "{s:?} is not a plain decimal like \"0.9999\""
                    )));
                }
                Decimal::from_str(s)
                    .map(Dec)
                    .map_err(|e| E::custom(format!("{s:?} is not a decimal: {e}")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dec, E> {
                Ok(Dec(Decimal::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dec, E> {
                Ok(Dec(Decimal::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dec, E> {
                Err(E::custom(format!(
                    "{v} is a float; write decimals as strings, e.g. \"{v}\""
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: Option<String>,
    #[serde(default)]
    seed: u64,
    valuation: ValuationFile,
    #[serde(default)]
    instruments: Vec<InstrumentFile>,
    #[serde(default)]
    risk: RiskFile,
    /// The full risk layer's limits, in the limits-file schema (risk/examples/limits.toml).
    risk_limits: Option<toml::Table>,
    #[serde(default)]
    engine: EngineFile,
    venues: Vec<VenueFile>,
    #[serde(default)]
    parents: Vec<ParentFile>,
    #[serde(default)]
    market: market::MarketFile,
    #[serde(default)]
    benchmark: market::BenchmarkFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ValuationFile {
    currency: String,
    #[serde(default)]
    references: BTreeMap<String, Dec>,
    #[serde(default)]
    assets: BTreeMap<String, AssetFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssetFile {
    #[serde(rename = "as")]
    as_asset: String,
    rate: Dec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InstrumentFile {
    id: String,
    price_scale: u32,
    qty_scale: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskFile {
    max_parent_notional: Option<Dec>,
    #[serde(default)]
    max_clip: BTreeMap<String, Dec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EngineFile {
    #[serde(default = "default_rounds")]
    max_rounds: u32,
}

fn default_rounds() -> u32 {
    8
}

impl Default for EngineFile {
    fn default() -> Self {
        Self {
            max_rounds: default_rounds(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DepthFile {
    mid: Dec,
    half_spread: Dec,
    tick: Dec,
    levels: u32,
    first_qty: Dec,
    #[serde(default)]
    qty_step: Option<Dec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolFile {
    i: Dec,
    k: Dec,
    base_reserve: Dec,
    quote_reserve: Dec,
    base_target: Dec,
    quote_target: Dec,
    lp_fee_rate: Dec,
    base_decimals: u32,
    quote_decimals: u32,
}

/// What one swap transaction burns: gas units at a gas price, paid in the chain's
/// native token (valued at its reference price).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GasFile {
    units: u64,
    price_gwei: Dec,
    #[serde(default = "default_native")]
    native: String,
}

fn default_native() -> String {
    "ETH".into()
}

/// The fixed cost per swap and its asset: `gas = { units, price_gwei, native }`
/// (units × price × 1e-9 native tokens) or `gas_cost` in `gas_asset` (USD by default).
fn gas_of(
    field: &str,
    v: &VenueFile,
    valuation: &Valuation,
) -> Result<(Decimal, String), ScenarioError> {
    let (cost, asset) = match (&v.gas, v.gas_cost) {
        (Some(_), Some(_)) => {
            return err(
                format!("{field}.gas"),
                "give either gas or gas_cost, not both",
            );
        }
        (Some(g), None) => {
            if v.gas_asset.is_some() {
                return err(
                    format!("{field}.gas_asset"),
                    "with gas = {…} the asset is gas.native",
                );
            }
            if g.units == 0 || g.price_gwei.0 < Decimal::ZERO {
                return err(
                    format!("{field}.gas"),
                    "units must be greater than 0 and price_gwei at least 0",
                );
            }
            let native = Decimal::from(g.units)
                .checked_mul(g.price_gwei.0)
                .map(|x| x / Decimal::from(1_000_000_000u64))
                .ok_or_else(|| {
                    ScenarioError(format!("{field}.gas: units × price_gwei overflows"))
                })?;
            (native, g.native.clone())
        }
        (None, c) => (
            c.map_or(Decimal::ZERO, |c| c.0),
            v.gas_asset.clone().unwrap_or_else(|| "USD".into()),
        ),
    };
    if cost < Decimal::ZERO {
        return err(format!("{field}.gas_cost"), "must be ≥ 0");
    }
    if !cost.is_zero()
        && let Err(e) = valuation.reference(&asset)
    {
        return err(
            format!("{field}.gas"),
            format!("the cost cannot be valued: {e} (add it under [valuation.references])"),
        );
    }
    Ok((cost, asset))
}

/// An unsigned integer of up to 256 bits, written as a string of decimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawUint(pub U256);

impl<'de> Deserialize<'de> for RawUint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() || s.len() > 78 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(de::Error::custom(format!(
                "{s:?} is not an unsigned integer in decimal digits"
            )));
        }
        U256::from_str_radix(&s, 10)
            .map(RawUint)
            .map_err(|_| de::Error::custom(format!("{s} does not fit in 256 bits")))
    }
}

/// A DODO V2 pool's state as the contract holds it (raw units, 1e18-scaled rates).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PmmFile {
    i: RawUint,
    k: RawUint,
    b: RawUint,
    q: RawUint,
    b0: RawUint,
    q0: RawUint,
    r: String,
    lp_fee_rate: RawUint,
    #[serde(default)]
    mt_fee_rate: Option<RawUint>,
    base_decimals: u32,
    quote_decimals: u32,
    #[serde(default)]
    math: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
enum KindFile {
    Book,
    Rfq,
    Pool,
    Route,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VenueFile {
    id: String,
    kind: KindFile,
    instrument: String,
    #[serde(default)]
    latency_ms: u64,
    // book
    taker_fee_bps: Option<Dec>,
    replenish_per_sec: Option<Dec>,
    depth: Option<DepthFile>,
    // book levels or rfq tiers: [price, qty]
    bids: Option<Vec<(Dec, Dec)>>,
    asks: Option<Vec<(Dec, Dec)>>,
    // rfq
    quote_validity_ms: Option<u64>,
    accept_delay_ms: Option<u64>,
    last_look_reject: Option<f64>,
    capacity: Option<Dec>,
    // pool
    pool: Option<PoolFile>,
    pmm: Option<PmmFile>,
    gas_cost: Option<Dec>,
    gas_asset: Option<String>,
    gas: Option<GasFile>,
    samples: Option<usize>,
    // route
    hops: Option<Vec<String>>,
    // any kind: other participants' trade prints
    prints: Option<market::PrintsFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
enum StrategyFile {
    Sweep,
    Twap,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParentFile {
    desk: String,
    #[serde(default)]
    account: Option<String>,
    client_id: String,
    instrument: String,
    side: Side,
    qty: Dec,
    #[serde(default)]
    limit: Option<Dec>,
    #[serde(default = "default_strategy")]
    strategy: StrategyFile,
    #[serde(default)]
    at_ms: u64,
    duration_secs: Option<u64>,
    slices: Option<u32>,
    min_spacing_secs: Option<u64>,
    max_clip: Option<Dec>,
    venues: Option<Vec<String>>,
}

fn default_strategy() -> StrategyFile {
    StrategyFile::Sweep
}

/// One simulated venue of a scenario.
pub struct ScenarioVenue {
    /// The venue's logic.
    pub sim: Box<dyn VenueSim>,
    /// One-way latency between the gateway and the venue.
    pub one_way: Nanos,
}

/// A parent order of a scenario and when it arrives.
#[derive(Debug, Clone)]
pub struct ScenarioParent {
    /// Arrival time from the start of the run.
    pub at: Nanos,
    /// The order.
    pub order: NewParent,
}

/// A validated scenario, ready to run.
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// The seed of every random draw.
    pub seed: u64,
    /// The engine's configuration.
    pub engine: EngineConfig,
    /// The risk limits of the minimal gate (`[risk]`).
    pub risk: MinimalLimits,
    /// The full risk layer's limits (`[risk_limits]`), which replace the minimal gate.
    pub risk_limits: Option<risk::Limits>,
    /// The venues.
    pub venues: Vec<ScenarioVenue>,
    /// The parents, in arrival order.
    pub parents: Vec<ScenarioParent>,
    /// The simulated market around the venues: calendar start and trade prints.
    pub market: MarketConfig,
    /// The reference-rate parameters the parents are measured with.
    pub benchmark: BenchmarkConfig,
}

/// Where in the text a byte offset is (1-based line).
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Scenario {
    /// Parses and validates a scenario; `seed` overrides the file's.
    pub fn parse(text: &str, seed: Option<u64>) -> Result<Self, ScenarioError> {
        Self::parse_with(text, seed, true)
    }

    /// Parses a market file: a scenario whose parents are optional (the gateway's
    /// desks send the parents).
    pub fn parse_market(text: &str) -> Result<Self, ScenarioError> {
        Self::parse_with(text, None, false)
    }

    fn parse_with(
        text: &str,
        seed: Option<u64>,
        need_parents: bool,
    ) -> Result<Self, ScenarioError> {
        let de = toml::Deserializer::new(text);
        let file: File = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let line = inner
                .span()
                .map(|s| format!(" (line {})", line_of(text, s.start)));
            let msg = inner
                .message()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if path == "." || path.is_empty() {
                ScenarioError(format!("{msg}{}", line.unwrap_or_default()))
            } else {
                ScenarioError(format!("{path}: {msg}{}", line.unwrap_or_default()))
            }
        })?;
        build(file, seed, need_parents)
    }
}

fn build(file: File, seed: Option<u64>, need_parents: bool) -> Result<Scenario, ScenarioError> {
    let seed = seed.unwrap_or(file.seed);
    // Instruments: the corridor plus any the file adds or overrides.
    let mut instruments = Instruments::corridor();
    for (n, i) in file.instruments.iter().enumerate() {
        let field = format!("instruments[{n}]");
        if i.price_scale > 18 || i.qty_scale > 18 {
            return err(field, "price_scale and qty_scale must be at most 18");
        }
        let inst = Instrument::new(&i.id, i.price_scale, i.qty_scale)
            .map_err(|e| ScenarioError(format!("{field}.id: {e}")))?;
        instruments.insert(inst);
    }

    let mut valuation = Valuation::new(&file.valuation.currency);
    for (asset, px) in &file.valuation.references {
        if px.0 <= Decimal::ZERO {
            return err(
                format!("valuation.references.{asset}"),
                "must be greater than 0",
            );
        }
        valuation.set_reference(asset, px.0);
    }
    for (asset, a) in &file.valuation.assets {
        if a.rate.0 <= Decimal::ZERO {
            return err(
                format!("valuation.assets.{asset}.rate"),
                "must be greater than 0",
            );
        }
        valuation.set_equivalent(asset, &a.as_asset, a.rate.0);
    }

    if file.engine.max_rounds == 0 || file.engine.max_rounds > 1000 {
        return err("engine.max_rounds", "must be between 1 and 1000");
    }

    let start_ms = market::market_start(&file.market).map_err(ScenarioError)?;
    let mut prints = Vec::new();
    let mut qty_scales = Vec::new();
    let mut price_scales = Vec::new();
    let mut venues = Vec::new();
    let mut specs = Vec::new();
    let mut pools: HashMap<String, (Instrument, SharedPool)> = HashMap::new();
    let mut ids = BTreeSet::new();
    for (n, v) in file.venues.into_iter().enumerate() {
        let field = format!("venues[{n}]");
        if !ids.insert(v.id.clone()) {
            return err(
                format!("{field}.id"),
                format!("duplicate venue id {:?}", v.id),
            );
        }
        let inst = instruments
            .get(&format!("{field}.instrument"), &v.instrument)
            .map_err(|e| ScenarioError(e.to_string()))?
            .clone();
        let (kind, sim) = build_venue(
            &field,
            v.id.clone(),
            &inst,
            &v,
            seed.wrapping_add(n as u64),
            &mut pools,
            &valuation,
        )?;
        prints.push(
            market::prints(
                &field,
                v.prints.as_ref(),
                kind,
                v.kind == KindFile::Route,
                inst.qty_scale,
            )
            .map_err(ScenarioError)?,
        );
        qty_scales.push(inst.qty_scale);
        price_scales.push(inst.price_scale);
        specs.push(VenueSpec {
            id: VenueId(v.id.clone()),
            kind,
            instrument: v.instrument.clone(),
        });
        venues.push(ScenarioVenue {
            sim,
            one_way: v.latency_ms * MS / 2,
        });
    }

    let risk_limits = match file.risk_limits {
        None => None,
        Some(table) => {
            if file.risk.max_parent_notional.is_some() || !file.risk.max_clip.is_empty() {
                return err(
                    "risk_limits",
                    "give either [risk] (the minimal gate) or [risk_limits], not both",
                );
            }
            let text =
                toml::to_string(&table).map_err(|e| ScenarioError(format!("risk_limits: {e}")))?;
            // Line numbers would count in the re-serialized table, not the file: drop them.
            let limits = risk::Limits::from_toml_str(&text).map_err(|e| {
                let msg = e.to_string();
                let msg = msg.split(" (line ").next().unwrap_or(&msg).to_owned();
                ScenarioError(format!("risk_limits.{msg}"))
            })?;
            Some(limits)
        }
    };
    let mut risk = MinimalLimits {
        max_parent_notional: None,
        max_clip: HashMap::new(),
    };
    if let Some(n) = file.risk.max_parent_notional {
        if n.0 <= Decimal::ZERO {
            return err("risk.max_parent_notional", "must be greater than 0");
        }
        risk.max_parent_notional = Some(n.0);
    }
    for (venue, clip) in file.risk.max_clip {
        if !ids.contains(&venue) {
            return err(format!("risk.max_clip.{venue}"), "no venue has that id");
        }
        if clip.0 <= Decimal::ZERO {
            return err(format!("risk.max_clip.{venue}"), "must be greater than 0");
        }
        risk.max_clip.insert(venue, clip.0);
    }

    let mut parents = Vec::new();
    for (n, p) in file.parents.into_iter().enumerate() {
        let field = format!("parents[{n}]");
        let inst = instruments
            .get(&format!("{field}.instrument"), &p.instrument)
            .map_err(|e| ScenarioError(e.to_string()))?;
        let qty = inst
            .qty(&format!("{field}.qty"), p.qty.0)
            .map_err(|e| ScenarioError(e.to_string()))?;
        let limit = match p.limit {
            Some(l) => Some(
                inst.px(&format!("{field}.limit"), l.0)
                    .map_err(|e| ScenarioError(e.to_string()))?,
            ),
            None => None,
        };
        let max_clip = match p.max_clip {
            Some(c) => Some(
                inst.qty(&format!("{field}.max_clip"), c.0)
                    .map_err(|e| ScenarioError(e.to_string()))?,
            ),
            None => None,
        };
        if let Some(list) = &p.venues {
            for (k, v) in list.iter().enumerate() {
                if !ids.contains(v) {
                    return err(
                        format!("{field}.venues[{k}]"),
                        format!("no venue has id {v:?}"),
                    );
                }
            }
        }
        let strategy = match p.strategy {
            StrategyFile::Sweep => {
                for (name, set) in [
                    ("duration_secs", p.duration_secs.is_some()),
                    ("slices", p.slices.is_some()),
                    ("min_spacing_secs", p.min_spacing_secs.is_some()),
                ] {
                    if set {
                        return err(
                            format!("{field}.{name}"),
                            "only applies to strategy = \"twap\"",
                        );
                    }
                }
                Strategy::Sweep
            }
            StrategyFile::Twap => {
                let Some(duration) = p.duration_secs.filter(|d| *d > 0) else {
                    return err(
                        format!("{field}.duration_secs"),
                        "a TWAP needs a duration greater than 0",
                    );
                };
                let slices = p
                    .slices
                    .unwrap_or(u32::try_from((duration / 60).max(1)).unwrap_or(MAX_SLICES));
                if slices == 0 || slices > MAX_SLICES {
                    return err(
                        format!("{field}.slices"),
                        format!("must be between 1 and {MAX_SLICES}"),
                    );
                }
                Strategy::Twap {
                    duration: duration.saturating_mul(SEC),
                    slices,
                    min_spacing: p.min_spacing_secs.unwrap_or(1).saturating_mul(SEC),
                }
            }
        };
        if p.desk.is_empty() {
            return err(format!("{field}.desk"), "must not be empty");
        }
        parents.push(ScenarioParent {
            at: p.at_ms.saturating_mul(MS),
            order: NewParent {
                desk: p.desk,
                account: p.account,
                client_id: p.client_id,
                instrument: p.instrument,
                side: p.side,
                qty,
                limit,
                strategy,
                max_clip,
                venues: p.venues,
            },
        });
    }
    if need_parents && parents.is_empty() {
        return err("parents", "a scenario needs at least one parent");
    }
    parents.sort_by_key(|p| p.at);
    let kinds: Vec<(String, VenueKind)> = specs.iter().map(|s| (s.id.0.clone(), s.kind)).collect();
    let benchmark = market::benchmark(&file.benchmark, &kinds).map_err(ScenarioError)?;

    Ok(Scenario {
        name: file.name.unwrap_or_else(|| "scenario".into()),
        seed,
        engine: EngineConfig {
            instruments,
            valuation,
            venues: specs,
            max_rounds: file.engine.max_rounds,
        },
        risk,
        risk_limits,
        venues,
        parents,
        market: MarketConfig {
            start_ms,
            prints,
            qty_scales,
            price_scales,
        },
        benchmark,
    })
}

fn levels(
    field: &str,
    inst: &Instrument,
    list: &[(Dec, Dec)],
    better: Side,
) -> Result<Vec<Level>, ScenarioError> {
    let mut out = Vec::with_capacity(list.len());
    for (k, (px, qty)) in list.iter().enumerate() {
        let px = inst
            .px(&format!("{field}[{k}][0]"), px.0)
            .map_err(|e| ScenarioError(e.to_string()))?;
        let qty = inst
            .qty(&format!("{field}[{k}][1]"), qty.0)
            .map_err(|e| ScenarioError(e.to_string()))?;
        if let Some(prev) = out.last().map(|l: &Level| l.px)
            && !better.at_least_as_good(prev, px)
        {
            return err(
                format!("{field}[{k}][0]"),
                format!("{px} is better than the level before it ({prev}); list best first"),
            );
        }
        out.push(Level { px, qty });
    }
    Ok(out)
}

fn generated(
    field: &str,
    inst: &Instrument,
    d: &DepthFile,
) -> Result<(Vec<Level>, Vec<Level>), ScenarioError> {
    if d.levels == 0 || d.levels > MAX_LEVELS {
        return err(
            format!("{field}.depth.levels"),
            format!("must be between 1 and {MAX_LEVELS}"),
        );
    }
    let mid = inst
        .px(&format!("{field}.depth.mid"), d.mid.0)
        .map_err(|e| ScenarioError(e.to_string()))?;
    let tick = inst
        .px(&format!("{field}.depth.tick"), d.tick.0)
        .map_err(|e| ScenarioError(e.to_string()))?;
    if d.half_spread.0 < Decimal::ZERO || d.half_spread.0.normalize().scale() > inst.price_scale {
        return err(
            format!("{field}.depth.half_spread"),
            format!(
                "must be ≥ 0 with at most {} decimal places",
                inst.price_scale
            ),
        );
    }
    let first = inst
        .qty(&format!("{field}.depth.first_qty"), d.first_qty.0)
        .map_err(|e| ScenarioError(e.to_string()))?;
    let step = d.qty_step.map_or(Decimal::ZERO, |s| s.0);
    if step < Decimal::ZERO || step.normalize().scale() > inst.qty_scale {
        return err(
            format!("{field}.depth.qty_step"),
            format!("must be ≥ 0 with at most {} decimal places", inst.qty_scale),
        );
    }
    let mut bids = Vec::new();
    let mut asks = Vec::new();
    for j in 0..d.levels {
        let off = d.half_spread.0 + tick * Decimal::from(j);
        let qty = first + step * Decimal::from(j);
        if mid - off > Decimal::ZERO {
            bids.push(Level { px: mid - off, qty });
        }
        asks.push(Level { px: mid + off, qty });
    }
    Ok((bids, asks))
}

/// Refuses a field the venue's kind does not use: every optional venue field with the
/// kinds it applies to, in one place.
fn check_fields(field: &str, v: &VenueFile) -> Result<(), ScenarioError> {
    use KindFile::{Book, Pool, Rfq, Route};
    let (kind, name) = match v.kind {
        Book => (Book, "book"),
        Rfq => (Rfq, "rfq"),
        Pool => (Pool, "pool"),
        Route => (Route, "route"),
    };
    let fields: [(&str, bool, &[KindFile]); 16] = [
        ("taker_fee_bps", v.taker_fee_bps.is_some(), &[Book]),
        ("replenish_per_sec", v.replenish_per_sec.is_some(), &[Book]),
        ("depth", v.depth.is_some(), &[Book]),
        ("bids", v.bids.is_some(), &[Book, Rfq]),
        ("asks", v.asks.is_some(), &[Book, Rfq]),
        ("quote_validity_ms", v.quote_validity_ms.is_some(), &[Rfq]),
        ("accept_delay_ms", v.accept_delay_ms.is_some(), &[Rfq]),
        ("last_look_reject", v.last_look_reject.is_some(), &[Rfq]),
        ("capacity", v.capacity.is_some(), &[Rfq]),
        ("pool", v.pool.is_some(), &[Pool]),
        ("pmm", v.pmm.is_some(), &[Pool]),
        ("gas_cost", v.gas_cost.is_some(), &[Pool, Route]),
        ("gas", v.gas.is_some(), &[Pool, Route]),
        ("gas_asset", v.gas_asset.is_some(), &[Pool, Route]),
        ("samples", v.samples.is_some(), &[Pool, Route]),
        ("hops", v.hops.is_some(), &[Route]),
    ];
    for (f, set, applies) in fields {
        if set && !applies.contains(&kind) {
            return err(
                format!("{field}.{f}"),
                format!("does not apply to a {name} venue"),
            );
        }
    }
    Ok(())
}

fn build_venue(
    field: &str,
    id: String,
    inst: &Instrument,
    v: &VenueFile,
    seed: u64,
    pools: &mut HashMap<String, (Instrument, SharedPool)>,
    valuation: &Valuation,
) -> Result<(VenueKind, Box<dyn VenueSim>), ScenarioError> {
    if !matches!(v.kind, KindFile::Route) && v.hops.is_some() {
        return err(format!("{field}.hops"), "only a route venue has hops");
    }
    check_fields(field, v)?;
    let fee = |name: &str, d: Option<Dec>| -> Result<Decimal, ScenarioError> {
        let x = d.map_or(Decimal::ZERO, |d| d.0);
        if x < Decimal::ZERO || x >= Decimal::from(10_000) {
            return err(format!("{field}.{name}"), "must be between 0 and 10000 bps");
        }
        Ok(x)
    };
    match v.kind {
        KindFile::Book => {
            let (bids, asks) = match (&v.depth, &v.bids, &v.asks) {
                (Some(d), None, None) => generated(field, inst, d)?,
                (None, b, a) => (
                    levels(
                        &format!("{field}.bids"),
                        inst,
                        b.as_deref().unwrap_or(&[]),
                        Side::Sell,
                    )?,
                    levels(
                        &format!("{field}.asks"),
                        inst,
                        a.as_deref().unwrap_or(&[]),
                        Side::Buy,
                    )?,
                ),
                (Some(_), _, _) => {
                    return err(
                        format!("{field}.depth"),
                        "give either depth or bids/asks, not both",
                    );
                }
            };
            let replenish = v.replenish_per_sec.map_or(Decimal::ZERO, |r| r.0);
            if replenish < Decimal::ZERO || replenish > Decimal::ONE {
                return err(
                    format!("{field}.replenish_per_sec"),
                    "must be between 0 and 1",
                );
            }
            Ok((
                VenueKind::Book,
                Box::new(BookSim::new(BookConfig {
                    id: VenueId(id),
                    instrument: inst.id.clone(),
                    bids,
                    asks,
                    taker_fee_bps: fee("taker_fee_bps", v.taker_fee_bps)?,
                    replenish_per_sec: replenish,
                })),
            ))
        }
        KindFile::Rfq => {
            let tiers = |name: &str,
                         list: &Option<Vec<(Dec, Dec)>>,
                         side: Side|
             -> Result<Vec<Level>, ScenarioError> {
                let t = levels(
                    &format!("{field}.{name}"),
                    inst,
                    list.as_deref().unwrap_or(&[]),
                    side,
                )?;
                for k in 1..t.len() {
                    if t[k].qty <= t[k - 1].qty {
                        return err(
                            format!("{field}.{name}[{k}][1]"),
                            "tier sizes must grow (each is the largest size at its price)",
                        );
                    }
                }
                Ok(t)
            };
            let reject = v.last_look_reject.unwrap_or(0.0);
            if !(0.0..=1.0).contains(&reject) {
                return err(
                    format!("{field}.last_look_reject"),
                    "must be a probability between 0 and 1",
                );
            }
            let validity = v.quote_validity_ms.unwrap_or(1000);
            if validity == 0 {
                return err(
                    format!("{field}.quote_validity_ms"),
                    "must be greater than 0",
                );
            }
            let capacity = match v.capacity {
                Some(c) => Some(
                    inst.qty(&format!("{field}.capacity"), c.0)
                        .map_err(|e| ScenarioError(e.to_string()))?,
                ),
                None => None,
            };
            Ok((
                VenueKind::Rfq,
                Box::new(RfqDealerSim::new(RfqConfig {
                    id: VenueId(id),
                    instrument: inst.id.clone(),
                    bid_ladder: tiers("bids", &v.bids, Side::Sell)?,
                    ask_ladder: tiers("asks", &v.asks, Side::Buy)?,
                    quote_validity: validity * MS,
                    accept_delay: v.accept_delay_ms.unwrap_or(0) * MS,
                    last_look_reject: reject,
                    capacity,
                    seed,
                })),
            ))
        }
        KindFile::Pool => {
            let (gas, gas_asset) = gas_of(field, v, valuation)?;
            let samples = v.samples.unwrap_or(40);
            if !(2..=256).contains(&samples) {
                return err(format!("{field}.samples"), "must be between 2 and 256");
            }
            let config = PoolConfig {
                id: VenueId(id),
                instrument: inst.id.clone(),
                gas_cost: gas,
                gas_asset,
                samples,
            };
            let shared = match (&v.pool, &v.pmm) {
                (Some(p), None) => SharedPool::new(approx_pool(field, inst, p)?),
                (None, Some(p)) => SharedPool::new(exact_pool(field, inst, p)?),
                (Some(_), Some(_)) => {
                    return err(
                        format!("{field}.pmm"),
                        "give either pmm (exact) or pool (approximate), not both",
                    );
                }
                (None, None) => {
                    return err(
                        format!("{field}.pmm"),
                        "a pool venue needs its state: pmm (exact contract state) or pool (approximate)",
                    );
                }
            };
            pools.insert(v.id.clone(), (inst.clone(), shared.clone()));
            Ok((VenueKind::Pool, Box::new(PoolSim::new(config, shared))))
        }
        KindFile::Route => build_route(field, id, inst, v, pools, valuation),
    }
}

/// A multi-hop route over pools declared before it: each hop sells the token the
/// previous hop delivered, starting from the route's base and ending in its quote.
fn build_route(
    field: &str,
    id: String,
    inst: &Instrument,
    v: &VenueFile,
    pools: &HashMap<String, (Instrument, SharedPool)>,
    valuation: &Valuation,
) -> Result<(VenueKind, Box<dyn VenueSim>), ScenarioError> {
    let Some(names) = v.hops.as_ref().filter(|h| h.len() >= 2) else {
        return err(
            format!("{field}.hops"),
            "a route needs at least two pools, in order",
        );
    };
    if names.len() > 4 {
        return err(format!("{field}.hops"), "a route has at most 4 hops");
    }
    let mut asset = inst.base.clone();
    let mut hops = Vec::with_capacity(names.len());
    for (k, name) in names.iter().enumerate() {
        let Some((pool_inst, pool)) = pools.get(name) else {
            return err(
                format!("{field}.hops[{k}]"),
                format!("{name:?} is not a pool venue declared before this route"),
            );
        };
        let sell_base = if asset == pool_inst.base {
            true
        } else if asset == pool_inst.quote {
            false
        } else {
            return err(
                format!("{field}.hops[{k}]"),
                format!("pool {name} ({}) does not trade {asset}", pool_inst.id),
            );
        };
        asset = if sell_base {
            pool_inst.quote.clone()
        } else {
            pool_inst.base.clone()
        };
        hops.push(Hop {
            pool: pool.clone(),
            sell_base,
        });
    }
    if asset != inst.quote {
        return err(
            format!("{field}.hops"),
            format!(
                "the route ends in {asset}, not in {} ({})",
                inst.quote, inst.id
            ),
        );
    }
    let (gas, gas_asset) = gas_of(field, v, valuation)?;
    let samples = v.samples.unwrap_or(40);
    if !(2..=256).contains(&samples) {
        return err(format!("{field}.samples"), "must be between 2 and 256");
    }
    Ok((
        VenueKind::Pool,
        Box::new(RouteSim::new(RouteConfig {
            id: VenueId(id),
            instrument: inst.id.clone(),
            hops,
            gas_cost: gas,
            gas_asset,
            samples,
        })),
    ))
}

/// The approximate pool of a `pool = {…}` table.
fn approx_pool(field: &str, inst: &Instrument, p: &PoolFile) -> Result<ApproxPmm, ScenarioError> {
    let pos = |name: &str, d: Dec| -> Result<Decimal, ScenarioError> {
        if d.0 <= Decimal::ZERO {
            return err(format!("{field}.pool.{name}"), "must be greater than 0");
        }
        Ok(d.0)
    };
    if p.k.0 < Decimal::ZERO || p.k.0 > Decimal::ONE {
        return err(format!("{field}.pool.k"), "must be between 0 and 1");
    }
    if p.lp_fee_rate.0 < Decimal::ZERO || p.lp_fee_rate.0 >= Decimal::ONE {
        return err(
            format!("{field}.pool.lp_fee_rate"),
            "must be between 0 and 1 (0.0003 is 3 bps)",
        );
    }
    if p.base_decimals > 18 || p.quote_decimals > 18 {
        return err(format!("{field}.pool"), "token decimals must be at most 18");
    }
    if p.base_decimals < inst.qty_scale {
        return err(
            format!("{field}.pool.base_decimals"),
            format!(
                "{} is fewer than the {} decimal places of a {} quantity",
                p.base_decimals, inst.qty_scale, inst.id
            ),
        );
    }
    let math = ApproxPmm {
        i: pos("i", p.i)?,
        k: p.k.0,
        base_reserve: pos("base_reserve", p.base_reserve)?,
        quote_reserve: pos("quote_reserve", p.quote_reserve)?,
        base_target: pos("base_target", p.base_target)?,
        quote_target: pos("quote_target", p.quote_target)?,
        lp_fee_rate: p.lp_fee_rate.0,
        base_decimals: p.base_decimals,
        quote_decimals: p.quote_decimals,
    };
    Ok(math)
}

/// The exact pool of a `pmm = {…}` table: the contract's state, checked the way the
/// contract would accept it.
fn exact_pool(field: &str, inst: &Instrument, p: &PmmFile) -> Result<ExactPmm, ScenarioError> {
    let f = |name: &str| format!("{field}.pmm.{name}");
    let e18 = U256::from(10u64).pow(U256::from(18u64));
    if p.i.0.is_zero() || p.i.0 > e18 * e18 {
        return err(f("i"), "must be greater than 0 and at most 1e36");
    }
    if p.k.0 > e18 {
        return err(f("k"), "must be at most 1e18 (1.0)");
    }
    let mt = p.mt_fee_rate.map_or(U256::ZERO, |m| m.0);
    if p.lp_fee_rate.0.saturating_add(mt) > e18 {
        return err(
            f("lp_fee_rate"),
            "lp_fee_rate + mt_fee_rate must be at most 1e18",
        );
    }
    let max112 = (U256::from(1u64) << 112) - U256::from(1u64);
    for (name, v) in [("b", p.b.0), ("q", p.q.0), ("b0", p.b0.0), ("q0", p.q0.0)] {
        if v > max112 {
            return err(f(name), "must fit in 112 bits, as the contract stores it");
        }
    }
    if p.base_decimals > 36 || p.quote_decimals > 36 {
        return err(
            field.to_owned() + ".pmm",
            "token decimals must be at most 36",
        );
    }
    if p.base_decimals < inst.qty_scale {
        return err(
            f("base_decimals"),
            format!(
                "{} is fewer than the {} decimal places of a {} quantity",
                p.base_decimals, inst.qty_scale, inst.id
            ),
        );
    }
    let r = p.r.parse::<RState>().map_err(|_| {
        ScenarioError(format!(
            "{}: {:?} is not ONE, ABOVE_ONE or BELOW_ONE",
            f("r"),
            p.r
        ))
    })?;
    let version = match p.math.as_deref() {
        None => MathVersion::V2024_01,
        Some(m) => m.parse::<MathVersion>().map_err(|_| {
            ScenarioError(format!(
                "{}: {m:?} is not 2021-01, 2021-12, 2022-04 or 2024-01",
                f("math")
            ))
        })?,
    };
    let state = PmmState {
        i: p.i.0,
        k: p.k.0,
        b: p.b.0,
        q: p.q.0,
        b0: p.b0.0,
        q0: p.q0.0,
        r,
    };
    if let Err(revert) = pmm::adjusted_state(&state, version) {
        return err(
            field.to_owned() + ".pmm",
            format!("this state makes every quote revert ({revert})"),
        );
    }
    Ok(ExactPmm {
        state,
        fees: FeeRates {
            lp_fee_rate: p.lp_fee_rate.0,
            mt_fee_rate: mt,
        },
        version,
        base_decimals: p.base_decimals,
        quote_decimals: p.quote_decimals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
seed = 1
[valuation]
currency = "USD"
references = { USDC = "1" }

[[venues]]
id = "book"
kind = "book"
instrument = "USDC/USD"
taker_fee_bps = "2"
bids = [["0.9999", "100"], ["0.9998", "100"]]

[[parents]]
desk = "DESK1"
client_id = "a"
instrument = "USDC/USD"
side = "sell"
qty = "150"
"#;

    fn parse(text: &str) -> Result<Scenario, String> {
        Scenario::parse(text, None).map_err(|e| e.0)
    }

    fn error_of(from: &str, to: &str) -> String {
        assert!(BASE.contains(from), "{from}");
        match parse(&BASE.replacen(from, to, 1)) {
            Ok(_) => panic!("{to} should not parse"),
            Err(e) => {
                assert!(!e.contains('\n'), "one line: {e}");
                e
            }
        }
    }

    #[test]
    fn the_base_scenario_parses() {
        let s = parse(BASE).unwrap();
        assert_eq!(s.seed, 1);
        assert_eq!(s.venues.len(), 1);
        assert_eq!(s.parents[0].order.qty, Decimal::from(150));
        assert_eq!(Scenario::parse(BASE, Some(9)).unwrap().seed, 9);
    }

    #[test]
    fn a_float_is_refused_naming_the_field_and_line() {
        let e = error_of("qty = \"150\"", "qty = 150.5");
        assert!(e.starts_with("parents[0].qty: 150.5 is a float"), "{e}");
        assert!(e.contains("(line "), "{e}");
    }

    #[test]
    fn a_missing_field_is_named() {
        let e = error_of("client_id = \"a\"\n", "");
        assert!(e.contains("parents[0]") && e.contains("client_id"), "{e}");
    }

    #[test]
    fn an_unknown_field_is_named() {
        let e = error_of("taker_fee_bps = \"2\"", "taker_fee = \"2\"");
        assert!(e.contains("venues[0]") && e.contains("taker_fee"), "{e}");
    }

    #[test]
    fn values_off_precision_are_refused_not_rounded() {
        let e = error_of("qty = \"150\"", "qty = \"150.0000001\"");
        assert_eq!(
            e,
            "parents[0].qty: 150.0000001 has more than 6 decimal places allowed for USDC/USD"
        );
        let e = error_of("[\"0.9999\", \"100\"]", "[\"0.999999999\", \"100\"]");
        assert!(
            e.starts_with("venues[0].bids[0][0]: 0.999999999 has more than 8"),
            "{e}"
        );
    }

    #[test]
    fn semantic_errors_name_the_field() {
        let cases = [
            ("side = \"sell\"", "side = \"short\"", "parents[0].side"),
            (
                "instrument = \"USDC/USD\"\nside",
                "instrument = \"EUR/USD\"\nside",
                "parents[0].instrument: unknown instrument \"EUR/USD\"",
            ),
            (
                "qty = \"150\"",
                "qty = \"0\"",
                "parents[0].qty: must be greater than 0",
            ),
            (
                "qty = \"150\"",
                "qty = \"150\"\nlimit = \"-1\"",
                "parents[0].limit: must be greater than 0",
            ),
            (
                "qty = \"150\"",
                "qty = \"150\"\nstrategy = \"twap\"",
                "parents[0].duration_secs: a TWAP needs a duration",
            ),
            (
                "qty = \"150\"",
                "qty = \"150\"\nduration_secs = 60",
                "parents[0].duration_secs: only applies to strategy = \"twap\"",
            ),
            (
                "qty = \"150\"",
                "qty = \"150\"\nvenues = [\"nope\"]",
                "parents[0].venues[0]: no venue has id \"nope\"",
            ),
            (
                "taker_fee_bps = \"2\"",
                "taker_fee_bps = \"-2\"",
                "venues[0].taker_fee_bps: must be between 0 and 10000 bps",
            ),
            (
                "taker_fee_bps = \"2\"",
                "taker_fee_bps = \"2\"\ngas_cost = \"1\"",
                "venues[0].gas_cost: does not apply to a book venue",
            ),
            (
                "[\"0.9998\", \"100\"]",
                "[\"1.0001\", \"100\"]",
                "venues[0].bids[1][0]: 1.0001 is better than the level before it",
            ),
            (
                "kind = \"book\"",
                "kind = \"rfq\"\nquote_validity_ms = 0",
                "venues[0].taker_fee_bps: does not apply to a rfq venue",
            ),
            (
                "kind = \"book\"",
                "kind = \"pool\"",
                "venues[0].taker_fee_bps: does not apply to a pool venue",
            ),
            (
                "references = { USDC = \"1\" }",
                "references = { USDC = \"0\" }",
                "valuation.references.USDC: must be greater than 0",
            ),
            (
                "seed = 1",
                "seed = 1\n[engine]\nmax_rounds = 0",
                "engine.max_rounds: must be between 1 and 1000",
            ),
            (
                "seed = 1",
                "seed = 1\n[risk]\nmax_clip = { other = \"1\" }",
                "risk.max_clip.other: no venue has that id",
            ),
            (
                "seed = 1",
                "seed = 1\n[[instruments]]\nid = \"EURUSD\"\nprice_scale = 4\nqty_scale = 2",
                "instruments[0].id",
            ),
        ];
        for (from, to, want) in cases {
            let e = error_of(from, to);
            assert!(e.starts_with(want), "{to:?}: got {e:?}, want {want:?}");
        }
    }

    #[test]
    fn rfq_tiers_must_grow_and_probabilities_be_probabilities() {
        let rfq = BASE
            .replacen("kind = \"book\"", "kind = \"rfq\"", 1)
            .replacen("taker_fee_bps = \"2\"\n", "last_look_reject = 0.1\n", 1);
        assert!(parse(&rfq).is_err(), "tiers of 100 then 100 do not grow");
        let ok = rfq.replacen("[\"0.9998\", \"100\"]", "[\"0.9998\", \"200\"]", 1);
        assert!(parse(&ok).is_ok(), "{:?}", parse(&ok).err());
        let bad = ok.replacen("last_look_reject = 0.1", "last_look_reject = 1.5", 1);
        assert_eq!(
            parse(&bad).err().unwrap(),
            "venues[0].last_look_reject: must be a probability between 0 and 1"
        );
    }

    #[test]
    fn pool_tokens_must_carry_the_instruments_precision() {
        let pool = BASE
            .replacen("kind = \"book\"", "kind = \"pool\"", 1)
            .replacen("taker_fee_bps = \"2\"\n", "", 1)
            .replacen(
                "bids = [[\"0.9999\", \"100\"], [\"0.9998\", \"100\"]]",
                "pool = { i = \"1\", k = \"0.5\", base_reserve = \"100\", quote_reserve = \"100\", \
                 base_target = \"100\", quote_target = \"100\", lp_fee_rate = \"0.0003\", \
                 base_decimals = 2, quote_decimals = 6 }",
                1,
            );
        let e = parse(&pool).err().unwrap();
        assert!(
            e.starts_with("venues[0].pool.base_decimals: 2 is fewer than the 6"),
            "{e}"
        );
        assert!(parse(&pool.replacen("base_decimals = 2", "base_decimals = 6", 1)).is_ok());
    }

    const PMM: &str = r#"pmm = { i = "1000000000000000000", k = "500000000000000000", b = "1000000000", q = "1000000000", b0 = "1000000000", q0 = "1000000000", r = "ONE", lp_fee_rate = "300000000000000", base_decimals = 6, quote_decimals = 6 }"#;

    fn exact_pool(pmm: &str) -> Result<Scenario, String> {
        parse(
            &BASE
                .replacen("kind = \"book\"", "kind = \"pool\"\ngas_cost = \"0.01\"", 1)
                .replacen("taker_fee_bps = \"2\"\n", "", 1)
                .replacen(
                    "bids = [[\"0.9999\", \"100\"], [\"0.9998\", \"100\"]]",
                    pmm,
                    1,
                ),
        )
    }

    #[test]
    fn an_exact_pool_state_is_checked_as_the_contract_would() {
        assert!(exact_pool(PMM).is_ok(), "{:?}", exact_pool(PMM).err());
        let cases = [
            (
                r#"k = "500000000000000000""#,
                r#"k = "2000000000000000000""#,
                "venues[0].pmm.k: must be at most 1e18",
            ),
            (
                r#"r = "ONE""#,
                r#"r = "TWO""#,
                "venues[0].pmm.r: \"TWO\" is not ONE",
            ),
            (
                r#"i = "1000000000000000000""#,
                r#"i = "0""#,
                "venues[0].pmm.i: must be greater than 0",
            ),
            (
                r#"i = "1000000000000000000""#,
                r#"i = "1e18""#,
                "venues[0].pmm.i: \"1e18\" is not an unsigned integer",
            ),
            (
                r#"r = "ONE""#,
                r#"r = "BELOW_ONE""#,
                "venues[0].pmm: this state makes every quote revert (SUB_ERROR)",
            ),
            (
                r#"lp_fee_rate = "300000000000000""#,
                r#"lp_fee_rate = "300000000000000", math = "1999""#,
                "venues[0].pmm.math",
            ),
        ];
        for (from, to, want) in cases {
            let pmm = if want.contains("SUB_ERROR") {
                PMM.replace(from, to)
                    .replacen(r#"b = "1000000000""#, r#"b = "999""#, 1)
            } else {
                PMM.replace(from, to)
            };
            let e = exact_pool(&pmm).err().unwrap_or_default();
            assert!(e.starts_with(want), "{to}: got {e:?}");
        }
        let both = format!(
            "{PMM}\npool = {{ i = \"1\", k = \"0.5\", base_reserve = \"1\", quote_reserve = \"1\", base_target = \"1\", quote_target = \"1\", lp_fee_rate = \"0\", base_decimals = 6, quote_decimals = 6 }}"
        );
        assert!(
            exact_pool(&both)
                .err()
                .unwrap_or_default()
                .contains("not both")
        );
        assert!(
            exact_pool("")
                .err()
                .unwrap_or_default()
                .starts_with("venues[0].pmm: a pool venue needs its state")
        );
    }

    #[test]
    fn a_route_must_chain_declared_pools_from_its_base_to_its_quote() {
        let text = include_str!("../../scenarios/corridor.toml");
        assert!(parse(text).is_ok());
        let hops = r#"hops = ["pool-cwusdt-cwusdc", "pool-cwusdc"]"#;
        let cases = [
            (
                r#"hops = ["pool-cwusdt-cwusdc"]"#,
                "venues[8].hops: a route needs at least two pools",
            ),
            (
                r#"hops = ["pool-cwusdt-cwusdc", "nope"]"#,
                "venues[8].hops[1]: \"nope\" is not a pool venue declared before",
            ),
            (
                r#"hops = ["pool-cwusdc", "pool-cwusdt-cwusdc"]"#,
                "venues[8].hops[0]: pool pool-cwusdc (cWUSDC/USDC) does not trade cWUSDT",
            ),
            (
                r#"hops = ["pool-cwusdt-cwusdc", "dealer-a"]"#,
                "venues[8].hops[1]: \"dealer-a\" is not a pool venue",
            ),
            (
                r#"hops = ["pool-cwusdt", "pool-cwusdt-cwusdc"]"#,
                "venues[8].hops[1]: pool pool-cwusdt-cwusdc (cWUSDT/cWUSDC) does not trade USDT",
            ),
        ];
        for (to, want) in cases {
            let e = parse(&text.replacen(hops, to, 1)).err().unwrap_or_default();
            assert!(e.starts_with(want), "{to}: got {e:?}");
        }
        let ends_wrong = text.replacen(
            r#"instrument = "cWUSDT/USDC"
latency_ms = 2000"#,
            r#"instrument = "cWUSDT/cWUSDC"
latency_ms = 2000"#,
            1,
        );
        let e = parse(&ends_wrong).err().unwrap_or_default();
        assert!(
            e.starts_with("venues[8].hops: the route ends in USDC, not in cWUSDC"),
            "{e}"
        );
        let stray = text.replacen(
            "taker_fee_bps = \"2\"",
            "taker_fee_bps = \"2\"\nhops = [\"a\", \"b\"]",
            1,
        );
        assert!(
            parse(&stray)
                .err()
                .unwrap_or_default()
                .starts_with("venues[3].hops: only a route venue")
        );
    }

    #[test]
    fn gas_is_units_times_price_in_a_valued_native_token() {
        let text = include_str!("../../scenarios/corridor.toml");
        let no_eth = text.replacen("ETH = \"2800\"", "", 1);
        let e = parse(&no_eth).err().unwrap_or_default();
        assert!(
            e.starts_with("venues[5].gas: the cost cannot be valued: no reference price for ETH"),
            "{e}"
        );
        let both = text.replacen(
            "instrument = \"cWUSDC/USDC\"\n",
            "instrument = \"cWUSDC/USDC\"\ngas_cost = \"0.01\"\n",
            1,
        );
        assert!(
            parse(&both)
                .err()
                .unwrap_or_default()
                .starts_with("venues[5].gas: give either gas or gas_cost")
        );
        let zero = text.replacen("units = 150000", "units = 0", 1);
        assert!(
            parse(&zero)
                .err()
                .unwrap_or_default()
                .starts_with("venues[5].gas: units must be greater than 0")
        );
    }

    #[test]
    fn garbage_is_one_clear_line() {
        let e = parse("this is = = not toml").err().unwrap();
        assert!(!e.contains('\n') && e.contains("line 1"), "{e}");
        let e = parse("").err().unwrap();
        assert!(e.contains("valuation"), "{e}");
    }

    #[test]
    fn the_market_and_benchmark_default_to_book_constituents_and_a_12_partition_hour() {
        let s = parse(BASE).unwrap();
        assert_eq!(s.market.start_ms, DEFAULT_START_MS);
        assert_eq!(s.market.prints.len(), 1);
        assert_eq!(s.market.prints[0].per_min, Decimal::from(6));
        assert_eq!(s.benchmark.partitions, 12);
        assert_eq!(s.benchmark.window_ms, 3_600_000);
        assert_eq!(s.benchmark.effective_ms, None);
        assert!(s.benchmark.constituents.contains("book"));
        let quiet = BASE.replace(
            "taker_fee_bps = \"2\"",
            "taker_fee_bps = \"2\"\nprints = { per_min = \"0\" }",
        );
        assert!(parse(&quiet).unwrap().market.prints[0].per_min.is_zero());
    }

    #[test]
    fn market_and_benchmark_errors_name_the_field() {
        let with = |extra: &str| {
            parse(&format!("{BASE}\n{extra}\n"))
                .err()
                .unwrap_or_default()
        };
        let e = with("[benchmark]\nconstituents = [\"nope\"]");
        assert!(e.starts_with("benchmark.constituents[0]: "), "{e}");
        let e = with("[benchmark]\npartitions = 7");
        assert!(
            e.starts_with("benchmark.partitions: ") && e.contains("invalid_window"),
            "{e}"
        );
        let e = with("[benchmark]\nwindow_secs = 0");
        assert!(e.starts_with("benchmark.window_secs: "), "{e}");
        let e = with("[market]\nstart_ms = -5");
        assert!(e.starts_with("market.start_ms: "), "{e}");
        let e = with("[market]\nbogus = 1");
        assert!(e.contains("bogus"), "{e}");
        let e = error_of(
            "taker_fee_bps = \"2\"",
            "taker_fee_bps = \"2\"\nprints = { per_min = \"1000\" }",
        );
        assert!(e.starts_with("venues[0].prints.per_min: "), "{e}");
        let e = error_of(
            "taker_fee_bps = \"2\"",
            "taker_fee_bps = \"2\"\nprints = { per_min = \"1\", min_qty = \"5\", max_qty = \"2\" }",
        );
        assert!(e.starts_with("venues[0].prints.max_qty: "), "{e}");
    }

    #[test]
    fn the_shipped_corridor_parses() {
        let text = include_str!("../../scenarios/corridor.toml");
        let s = parse(text).unwrap();
        assert_eq!(s.venues.len(), 9);
        assert_eq!(s.parents[0].order.qty, Decimal::from(17_780_000));
    }
}
