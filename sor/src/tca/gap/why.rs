//! Why the router fell behind the ex-post optimum, said from what happened in the run:
//! the venues' refusals (last look, expired quotes, reverted swaps, no quote within the
//! limit), children a venue filled only in part, risk denials, what later routing rounds
//! paid, the TWAP slices that fell furthest behind their own optimum, and where the
//! optimum placed differently from the router.

use crate::domain::{ChildId, ChildStatus};
use crate::engine::ParentRecord;
use crate::report::px;
use crate::sim::RunOutcome;
use crate::tca::run::ParentFill;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use venues::{Nanos, RejectKind, Side};

/// Most venue differences named.
const MAX_VENUE_LINES: usize = 3;
/// Most slices named.
const MAX_SLICE_LINES: usize = 3;

/// Quantity and all-in value at one venue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VenueTally {
    /// Quantity, parent units.
    pub qty: Decimal,
    /// All-in value (received for a sell, paid for a buy), parent quote currency.
    pub value: Decimal,
}

/// One decision's router and optimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceGap {
    /// Index among the parent's decisions (0 is the arrival).
    pub decision: usize,
    /// Time after the parent's arrival.
    pub at: Nanos,
    /// The quantity measured.
    pub qty: Decimal,
    /// What the router realised, all-in value.
    pub router_value: Decimal,
    /// What the optimum would have, all-in value.
    pub optimal_value: Decimal,
}

/// Everything the reasons are computed from.
pub struct Evidence<'a> {
    /// The run.
    pub run: &'a RunOutcome,
    /// The parent.
    pub rec: &'a ParentRecord,
    /// Its side.
    pub side: Side,
    /// The quantity compared.
    pub quantity: Decimal,
    /// The router's all-in price.
    pub router_px: Option<Decimal>,
    /// The optimum's all-in price.
    pub optimal_px: Option<Decimal>,
    /// The router's fills per venue.
    pub router_venue: BTreeMap<String, VenueTally>,
    /// The optimum's allocation per venue.
    pub optimal_venue: BTreeMap<String, VenueTally>,
    /// Per decision measured.
    pub slices: Vec<SliceGap>,
    /// Which decision each child belongs to.
    pub child_decision: &'a BTreeMap<&'a ChildId, usize>,
    /// Per decision: when its first child was sent.
    pub first_send: Vec<Option<Nanos>>,
    /// The parent's fills in its own terms.
    pub fills: &'a [ParentFill],
}

fn ms(n: Nanos) -> Decimal {
    Decimal::from(n) / Decimal::from(1_000_000)
}

fn q(d: Decimal) -> Decimal {
    d.round_dp(8).normalize()
}

fn p(d: Decimal) -> Decimal {
    px(d).normalize()
}

/// `s · (a − b) / b` in bps, two places, for the text.
fn bps(side: Side, a: Decimal, b: Decimal) -> Option<Decimal> {
    if b.is_zero() {
        return None;
    }
    let s = Decimal::from(side.sign());
    Some((s * (a - b) / b * Decimal::from(10_000)).round_dp(2))
}

/// The reasons, most concrete first; never empty.
pub fn explain(e: &Evidence<'_>) -> Vec<String> {
    let mut out = Vec::new();
    refusals(e, &mut out);
    partial_children(e, &mut out);
    if e.rec.risk_denial_count > 0 {
        out.push(format!(
            "risk denied {} children (first: {})",
            e.rec.risk_denial_count,
            e.rec.risk_denials.first().map_or("-", String::as_str)
        ));
    }
    later_rounds(e, &mut out);
    slices(e, &mut out);
    venues(e, &mut out);
    if out.is_empty() {
        out.push(format!(
            "the router's all-in {} against the optimum's {} on the same {}: no refusal, \
             re-route or allocation difference accounts for it",
            e.router_px
                .map_or("-".to_owned(), |x| x.normalize().to_string()),
            e.optimal_px
                .map_or("-".to_owned(), |x| x.normalize().to_string()),
            q(e.quantity)
        ));
    }
    out
}

/// One venue's refusals of one kind.
#[derive(Default)]
struct Refusals {
    count: usize,
    qty: Decimal,
    first_px: Decimal,
    times: Vec<Nanos>,
}

/// Venue refusals of the parent's children, per venue and kind.
fn refusals(e: &Evidence<'_>, out: &mut Vec<String>) {
    let arrived = e.rec.order.arrived;
    let mut groups: BTreeMap<(String, &'static str), Refusals> = BTreeMap::new();
    for r in &e.run.record.rejects {
        if !e.child_decision.contains_key(&r.child) {
            continue;
        }
        let what = match r.kind {
            RejectKind::LastLook => "last look declined",
            RejectKind::QuoteExpired => "let its quote expire on",
            RejectKind::Revert => "reverted",
            RejectKind::NoLiquidity | RejectKind::QuoteOffLimit => {
                "had no quote within the limit for"
            }
            RejectKind::Invalid | RejectKind::Unreachable => "refused",
        };
        let g = groups.entry((r.venue.0.clone(), what)).or_default();
        g.count += 1;
        g.qty += r.qty;
        if g.count == 1 {
            g.first_px = r.limit_px;
        }
        g.times.push(r.at.saturating_sub(arrived));
    }
    for ((venue, what), g) in groups {
        let Refusals {
            count: n,
            qty,
            first_px,
            times,
        } = g;
        let when = times
            .iter()
            .take(3)
            .map(|t| format!("{} ms", ms(*t).normalize()))
            .collect::<Vec<_>>()
            .join(", ");
        let more = if times.len() > 3 { ", …" } else { "" };
        let tail = if what == "reverted" {
            "; gas paid, nothing filled".to_owned()
        } else {
            "; that size was routed again".to_owned()
        };
        out.push(format!(
            "{venue} {what} {n} {} ({} in all, the first at {}) at {when}{more} after arrival{tail}",
            if n == 1 { "child" } else { "children" },
            q(qty),
            p(first_px),
        ));
    }
}

/// Children a venue filled only in part (an IOC remainder expired).
fn partial_children(e: &Evidence<'_>, out: &mut Vec<String>) {
    let mut per: BTreeMap<String, (usize, Decimal, Decimal)> = BTreeMap::new();
    for cid in &e.rec.children {
        let Some(c) = e.run.engine.children().get(cid) else {
            continue;
        };
        if c.status() == ChildStatus::Expired && c.filled() < c.qty {
            let g = per.entry(c.venue.0.clone()).or_default();
            g.0 += 1;
            g.1 += c.qty;
            g.2 += c.filled();
        }
    }
    for (venue, (n, sent, filled)) in per {
        out.push(format!(
            "{venue} filled {} of the {} sent in {n} {}: its depth had moved by the time the \
             child arrived",
            q(filled),
            q(sent),
            if n == 1 { "child" } else { "children" }
        ));
    }
}

/// What the children sent after each decision's first instant filled, against the
/// first round.
fn later_rounds(e: &Evidence<'_>, out: &mut Vec<String>) {
    let s = Decimal::from(e.side.sign());
    let (mut first, mut later) = (
        (Decimal::ZERO, Decimal::ZERO),
        (Decimal::ZERO, Decimal::ZERO),
    );
    let mut later_children = std::collections::BTreeSet::new();
    for f in e.fills {
        let j = e.child_decision.get(&f.child).copied().unwrap_or(0);
        let sent = e.run.record.sends.get(&f.child).map(|x| x.at);
        let value = f.fill.px * f.fill.qty + s * f.fill.fee;
        let is_later =
            matches!((sent, e.first_send.get(j).copied().flatten()), (Some(a), Some(b)) if a > b);
        if is_later {
            later_children.insert(f.child.clone());
            later.0 += f.fill.qty;
            later.1 += value;
        } else {
            first.0 += f.fill.qty;
            first.1 += value;
        }
    }
    if later.0.is_zero() {
        return;
    }
    let later_px = later.1 / later.0;
    let first_px = (!first.0.is_zero()).then(|| first.1 / first.0);
    out.push(format!(
        "later routing rounds ({} children after the first round of their decision) filled {} \
         at an all-in {}{}",
        later_children.len(),
        q(later.0),
        p(later_px),
        first_px.map_or(String::new(), |f| {
            let b = bps(e.side, later_px, f).unwrap_or_default();
            let (n, word) = if b < Decimal::ZERO {
                (-b, "better")
            } else {
                (b, "worse")
            };
            format!(" against {} in the first rounds ({n} bps {word})", p(f))
        })
    ));
}

/// The TWAP slices furthest behind their own optimum.
fn slices(e: &Evidence<'_>, out: &mut Vec<String>) {
    if e.slices.len() < 2 {
        return;
    }
    let mut behind: Vec<(Decimal, &SliceGap)> = e
        .slices
        .iter()
        .filter_map(|g| {
            let b = bps(e.side, g.router_value / g.qty, g.optimal_value / g.qty)?;
            (b > Decimal::ZERO).then_some((b, g))
        })
        .collect();
    behind.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.decision.cmp(&b.1.decision)));
    for (b, g) in behind.into_iter().take(MAX_SLICE_LINES) {
        out.push(format!(
            "slice {} (at {} s): {b} bps behind that slice's optimum on {}",
            g.decision,
            (ms(g.at) / Decimal::from(1000)).round_dp(3).normalize(),
            q(g.qty)
        ));
    }
}

/// Where the optimum placed differently, or at a better price on the same venue.
fn venues(e: &Evidence<'_>, out: &mut Vec<String>) {
    let names: std::collections::BTreeSet<&String> = e
        .router_venue
        .keys()
        .chain(e.optimal_venue.keys())
        .collect();
    let mut diffs: Vec<(Decimal, String)> = Vec::new();
    for name in names {
        let r = e.router_venue.get(name).copied().unwrap_or_default();
        let o = e.optimal_venue.get(name).copied().unwrap_or_default();
        let unit = |t: VenueTally| (!t.qty.is_zero()).then(|| t.value / t.qty);
        let dq = o.qty - r.qty;
        if !dq.is_zero() {
            let text = match (unit(o), unit(r)) {
                (Some(op), Some(rp)) => format!(
                    "the optimum put {} on {name} at an all-in {}, the router filled {} there at {}",
                    q(o.qty),
                    p(op),
                    q(r.qty),
                    p(rp)
                ),
                (Some(op), None) => format!(
                    "the optimum put {} on {name} at an all-in {}, where the router filled nothing",
                    q(o.qty),
                    p(op)
                ),
                (None, Some(rp)) => format!(
                    "the router filled {} on {name} at an all-in {}, which the optimum left out",
                    q(r.qty),
                    p(rp)
                ),
                (None, None) => continue,
            };
            diffs.push((dq.abs(), text));
        } else if let (Some(op), Some(rp)) = (unit(o), unit(r))
            && let Some(b) = bps(e.side, rp, op)
            && b > Decimal::new(1, 1)
        {
            diffs.push((
                b * r.qty / Decimal::from(10_000),
                format!(
                    "{name}: the router's {} filled at an all-in {}, {b} bps worse than the \
                     decision's curve offered ({})",
                    q(r.qty),
                    p(rp),
                    p(op)
                ),
            ));
        }
    }
    diffs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    out.extend(diffs.into_iter().take(MAX_VENUE_LINES).map(|(_, t)| t));
}
