//! The benchmark and transaction-cost figures of each parent of a simulated run,
//! computed with the same code as `sor tca compute` ([`reference_rate`],
//! [`order_figures`]) from what the run recorded.
//!
//! - The market: the venues' trade prints ([`crate::sim::prints`]) and the desk's own
//!   fills, each a print at the venue and instant it traded (benchmark.md 2.2: own
//!   fills on constituent venues count).
//! - The window: `k` partitions ending at the effective time `T`. By default `T` is the
//!   first millisecond after the parent ended and the window is at least `τ` long and
//!   covers the whole parent (partitions of whole minutes when it has to grow); a
//!   scenario's `effective_ms` makes it a fixing, the same window for every parent.
//! - The constituents: the configured ones that trade the parent's instrument.
//! - The order: side, quantity, the arrival mid as `P_arr` (when no book showed both
//!   sides, the scenario's valuation reference price, said in `notes`), the consolidated
//!   mid when it ended as `P_end`, `[t_start, t_end)` from its arrival to the millisecond after
//!   its end, and every fill in the parent's terms with its taker fee and the gas of
//!   its child as its fee, and the mid when its child was sent.
//!
//! Per venue, the venue's fills are figured as an order of the size they filled (so a
//! venue's fill rate is 1 and its shortfall has no opportunity cost); see docs/tca.md.

use super::batch::ReferenceAnswer;
use super::error::TcaError;
use super::figures::{OrderFigures, order_figures};
use super::reference::reference_rate;
use super::types::{Fill, Order, Trade, Window};
use crate::domain::{ChildId, ParentId};
use crate::engine::{Engine, ParentRecord};
use crate::report::px;
use crate::sim::RunOutcome;
use crate::sim::prints::{PrintError, tape};
use crate::sim::record::RunRecord;
use risk::PreTradeGate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use venues::Nanos;

const NS_PER_MS: Nanos = 1_000_000;
const MINUTE_MS: i64 = 60_000;

/// A parent's benchmark window as used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowLine {
    /// `W0`, UTC ms.
    pub start_ms: i64,
    /// `W1 = T`, UTC ms.
    pub end_ms: i64,
    /// `k`.
    pub partitions: u64,
    /// The constituent venues that count for this parent.
    pub constituents: Vec<String>,
}

/// One venue's figures within a parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VenueTca {
    /// The venue.
    pub venue: String,
    /// Its fills figured as an order of the size they filled (appendix `order`).
    pub order: OrderFigures,
}

/// One parent's benchmark and TCA, in the appendix's names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParentTca {
    /// The reference-rate window.
    pub window: WindowLine,
    /// `t_start`, UTC ms.
    pub start_ms: i64,
    /// `t_end`, UTC ms (the first millisecond after the parent ended).
    pub end_ms: i64,
    /// `P_arr`: the consolidated mid at arrival, 10 dp.
    pub arrival_px: Option<Decimal>,
    /// `P_end`: the consolidated mid when the parent ended, 10 dp.
    pub end_px: Option<Decimal>,
    /// The appendix's `reference` object.
    pub reference: ReferenceAnswer,
    /// The appendix's `order` object; absent when it cannot be computed (see `error`).
    pub order: Option<OrderFigures>,
    /// Why `order` is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Where an input did not come from its first source (e.g. no mid at arrival).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Per venue with fills, in configuration order.
    pub venues: Vec<VenueTca>,
}

/// The TCA of a run could not be computed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunTcaError {
    /// The market tape is too long.
    #[error("market: {0}")]
    Prints(#[from] PrintError),
}

/// The calendar millisecond of a simulated instant.
pub fn calendar_ms(start_ms: i64, at: Nanos) -> i64 {
    start_ms.saturating_add(i64::try_from(at / NS_PER_MS).unwrap_or(i64::MAX))
}

/// A fill of a parent in the parent's own terms, with the child it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentFill {
    /// The child.
    pub child: ChildId,
    /// The fill: parent quantity, price in parent terms, fee (taker fee and the child's
    /// gas) in parent quote currency, the mid when the child was sent.
    pub fill: Fill,
}

/// Every fill of `parent`, in the order its children were sent and the venues filled
/// them, in the parent's terms. The gas of a child is the fee of its first fill; the gas
/// of a child that never filled (a reverted swap) goes on the parent's first fill at the
/// same venue, or else its first fill (a parent with no fill at all has no figure to
/// carry it: benchmark.md has fees only on fills).
pub fn parent_fills<G: PreTradeGate>(
    engine: &Engine<G>,
    record: &RunRecord,
    start_ms: i64,
    parent: &ParentRecord,
) -> Vec<ParentFill> {
    let mut by_child: BTreeMap<&ChildId, Vec<usize>> = BTreeMap::new();
    for (i, f) in record.fills.iter().enumerate() {
        by_child.entry(&f.child).or_default().push(i);
    }
    let mut gas: BTreeMap<&ChildId, Decimal> = BTreeMap::new();
    for c in &record.costs {
        *gas.entry(&c.child).or_default() += c.amount;
    }
    let mut out: Vec<ParentFill> = Vec::new();
    let mut orphan_gas: Vec<(String, Decimal)> = Vec::new();
    for cid in &parent.children {
        let Some(child) = engine.children().get(cid) else {
            continue;
        };
        let conv = child.conversion;
        let child_gas = gas.get(cid).copied().unwrap_or_default() * child.fixed_cost_value;
        let mid = record.sends.get(cid).and_then(|s| s.mid);
        let fills = by_child.get(cid).map(Vec::as_slice).unwrap_or_default();
        if fills.is_empty() && !child_gas.is_zero() {
            orphan_gas.push((child.venue.0.clone(), child_gas));
        }
        for (n, &i) in fills.iter().enumerate() {
            let f = &record.fills[i];
            let extra = if n == 0 { child_gas } else { Decimal::ZERO };
            out.push(ParentFill {
                child: cid.clone(),
                fill: Fill {
                    ts_ms: calendar_ms(start_ms, f.at),
                    venue: f.venue.0.clone(),
                    px: conv.px_to_parent(f.px),
                    qty: f.qty * conv.qty_rate,
                    fee: f.fee * conv.quote_value + extra,
                    mid,
                },
            });
        }
    }
    for (venue, amount) in orphan_gas {
        let target = out
            .iter()
            .position(|f| f.fill.venue == venue)
            .or(if out.is_empty() { None } else { Some(0) });
        if let Some(i) = target {
            out[i].fill.fee += amount;
        }
    }
    out
}

/// `t_start` and `t_end` of a parent, UTC ms: arrival, and the millisecond after it
/// ended (or after the run's last event, if it never ended).
pub fn order_interval(start_ms: i64, parent: &ParentRecord, run_end: Nanos) -> (i64, i64) {
    let end = parent.finished_at.unwrap_or(run_end);
    (
        calendar_ms(start_ms, parent.order.arrived),
        calendar_ms(start_ms, end).saturating_add(1),
    )
}

/// The benchmark window of an order interval (see the module doc).
fn window_of(run: &RunOutcome, t_start: i64, t_end: i64) -> Result<Window, TcaError> {
    let b = &run.benchmark;
    let k = i64::try_from(b.partitions).unwrap_or(1).max(1);
    let (w0, w1) = match b.effective_ms {
        Some(t) => {
            let w1 = run.market.start_ms.saturating_add(t);
            (w1.saturating_sub(b.window_ms), w1)
        }
        None => {
            let base = b.window_ms / k;
            let duration = t_end.saturating_sub(t_start).max(0);
            let grown = (duration + k * MINUTE_MS - 1) / (k * MINUTE_MS) * MINUTE_MS;
            let len = base.max(grown);
            (t_end.saturating_sub(len.saturating_mul(k)), t_end)
        }
    };
    Window::new(w0, w1, b.partitions)
}

/// The constituents that count for a parent in `instrument`.
fn constituents_for(run: &RunOutcome, instrument: &str) -> BTreeSet<String> {
    run.engine
        .config()
        .venues
        .iter()
        .filter(|v| v.instrument == instrument && run.benchmark.constituents.contains(&v.id.0))
        .map(|v| v.id.0.clone())
        .collect()
}

/// The whole market of a run over `[from_ms, to_ms)`: the prints of other participants
/// and every fill of the desk, as trades at their venue, in time order.
pub fn market_tape(run: &RunOutcome, from_ms: i64, to_ms: i64) -> Result<Vec<Trade>, RunTcaError> {
    let ids: Vec<_> = run
        .engine
        .config()
        .venues
        .iter()
        .map(|v| v.id.clone())
        .collect();
    let mut trades = tape(
        &run.market,
        &ids,
        &run.record.initial,
        run.seed,
        from_ms,
        to_ms,
    )?;
    trades.extend(run.record.fills.iter().map(|f| Trade {
        ts_ms: calendar_ms(run.market.start_ms, f.at),
        venue: f.venue.0.clone(),
        px: f.px,
        qty: f.qty,
    }));
    trades.sort_by_key(|t| t.ts_ms);
    Ok(trades)
}

/// The benchmark and TCA of every parent of `run`, by parent id.
pub fn run_tca(run: &RunOutcome) -> Result<BTreeMap<ParentId, ParentTca>, RunTcaError> {
    let start = run.market.start_ms;
    let mut spans = Vec::new();
    for rec in run.engine.parents().values() {
        let (t0, t1) = order_interval(start, rec, run.elapsed);
        let window = window_of(run, t0, t1).ok();
        spans.push((rec, t0, t1, window));
    }
    let from = spans
        .iter()
        .map(|(_, t0, _, w)| w.map_or(*t0, |w| w.start_ms().min(*t0)))
        .min()
        .unwrap_or(start);
    let to = spans
        .iter()
        .map(|(_, _, t1, w)| w.map_or(*t1, |w| w.end_ms().max(*t1)))
        .max()
        .unwrap_or(start);
    let trades = market_tape(run, from, to)?;
    let mut out = BTreeMap::new();
    for (rec, t0, t1, window) in spans {
        out.insert(
            rec.order.id.clone(),
            parent_tca(run, &trades, rec, t0, t1, window),
        );
    }
    Ok(out)
}

fn parent_tca(
    run: &RunOutcome,
    trades: &[Trade],
    rec: &ParentRecord,
    t_start: i64,
    t_end: i64,
    window: Option<Window>,
) -> ParentTca {
    let constituents = constituents_for(run, &rec.order.instrument);
    let mut notes = Vec::new();
    let arrival = match (rec.arrival_mid, rec.reference) {
        (Some(mid), _) => Some(px(mid)),
        (None, Some(reference)) => {
            notes.push(
                "arrival_px: no book in the parent's instrument showed both sides at arrival; \
                 the scenario's valuation reference price is the decision price"
                    .to_owned(),
            );
            Some(px(reference))
        }
        (None, None) => None,
    };
    let end = match run.record.end_mids.get(&rec.order.id).copied().flatten() {
        Some(mid) => Some(px(mid)),
        None => {
            if arrival.is_some() {
                notes.push(
                    "end_px: no mid when the parent ended; the arrival price stands in".to_owned(),
                );
            }
            arrival
        }
    };
    let (window_line, reference) = match window {
        Some(w) => (
            WindowLine {
                start_ms: w.start_ms(),
                end_ms: w.end_ms(),
                partitions: run.benchmark.partitions,
                constituents: constituents.iter().cloned().collect(),
            },
            ReferenceAnswer::from_rate(reference_rate(&w, &constituents, trades)),
        ),
        None => (
            WindowLine {
                start_ms: t_start,
                end_ms: t_end,
                partitions: run.benchmark.partitions,
                constituents: constituents.iter().cloned().collect(),
            },
            Ok(ReferenceAnswer::Error {
                error: "no_eligible_trades",
            }),
        ),
    };
    let mut error = None;
    let reference = reference.unwrap_or_else(|e| {
        error = Some(e.to_string());
        ReferenceAnswer::Error {
            error: "no_eligible_trades",
        }
    });
    let rate = reference.rate();
    let fills: Vec<Fill> = parent_fills(&run.engine, &run.record, run.market.start_ms, rec)
        .into_iter()
        .map(|f| f.fill)
        .collect();
    let mut tca = ParentTca {
        window: window_line,
        start_ms: t_start,
        end_ms: t_end,
        arrival_px: arrival,
        end_px: end,
        reference,
        order: None,
        error,
        notes,
        venues: Vec::new(),
    };
    let (Some(arrival_px), Some(end_px)) = (arrival, end) else {
        tca.error = Some(
            "arrival_px: no book in the parent's instrument showed both sides at arrival \
             and there is no reference price"
                .to_owned(),
        );
        return tca;
    };
    let order = |qty: Decimal, fills: Vec<Fill>| Order {
        side: rec.order.side,
        qty,
        arrival_px,
        end_px,
        start_ms: t_start,
        end_ms: t_end,
        fills,
    };
    match order_figures(
        &order(rec.order.qty, fills.clone()),
        rate,
        &constituents,
        trades,
    ) {
        Ok(f) => tca.order = Some(f),
        Err(e) => tca.error = Some(e.to_string()),
    }
    for spec in &run.engine.config().venues {
        let mine: Vec<Fill> = fills
            .iter()
            .filter(|f| f.venue == spec.id.0)
            .cloned()
            .collect();
        let qty: Decimal = mine.iter().map(|f| f.qty).sum();
        if qty.is_zero() {
            continue;
        }
        if let Ok(f) = order_figures(&order(qty, mine), rate, &constituents, trades) {
            tca.venues.push(VenueTca {
                venue: spec.id.0.clone(),
                order: f,
            });
        }
    }
    tca
}
