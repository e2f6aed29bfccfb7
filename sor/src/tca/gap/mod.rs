//! The gap to the best possible: for each parent of a simulated run, what the router
//! realised against the ex-post optimal allocation over the liquidity that was really
//! there, and against two naive baselines on the same liquidity.
//!
//! A *decision* is a parent's arrival (a SWEEP has only that one) or a TWAP slice. At
//! each decision the run recorded every venue's true curve as it was at that instant
//! (the same snapshot the engine routed on: a book's whole resting depth, a dealer's
//! ladder within its remaining capacity, a pool's curve from its exact math). Ex post
//! we also know what the curves did not show: which dealers' last look declined (or
//! whose quote expired) the children a decision sent them. The quantity each decision is
//! measured on is what the router filled with the children it sent from that decision
//! until the next one (re-routing rounds included).
//!
//! - **optimal**: the router's own solver ([`Router::solve`]) on the true curves, with
//!   the parent's limit and the desk's venue list, without the dealers that declined
//!   every child of the decision and filled none (hindsight: a dealer that declined once
//!   and filled a later child was there); risk clips are left out (the router works
//!   around a clip with more children).
//! - **best single venue**: the same solver on one venue at a time; the best of them at
//!   each decision. A baseline acts once, at the decision's instant, so a dealer that
//!   declined the first child the router sent it at that decision declines it too.
//! - **pro rata**: the quantity split over the allowed venues in proportion to the size
//!   each displayed within the limit (declining dealers included: they displayed it),
//!   each share executed on that venue's true curve; a declining dealer's share fails.
//!
//! What a strategy cannot place within the limit at the decision is charged at the
//! parent's limit (without a limit: at the router's worst all-in fill price), so every
//! strategy is priced on the same quantity. All prices are all-in (fees and gas), in the
//! parent's terms; the gaps are in bps, positive when worse for the desk. Where the
//! router's gap to the optimum exceeds [`EXPLAIN_ABOVE_BPS`], [`why`] says why from what
//! happened. The definitions are in docs/tca.md.

pub mod why;

use crate::domain::ChildId;
use crate::engine::{EngineConfig, ParentRecord};
use crate::report::{money, px, slippage_bps};
use crate::router::{RouteBook, RouteRequest, RouteShape, RouteVenue, Router};
use crate::sim::RunOutcome;
use crate::sim::record::{Decision, DecisionKind};
use crate::tca::run::{ParentTca, parent_fills};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use venues::{Liquidity, RejectKind, Side, VenueKind};
use why::{Evidence, SliceGap, VenueTally};

/// Above this gap to the optimum (bps) the report says why.
pub const EXPLAIN_ABOVE_BPS: Decimal = Decimal::from_parts(5, 0, 0, false, 1);

/// One strategy's result on the parent's quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StrategyLine {
    /// All-in price per parent unit (fees, gas, and the unplaced part at its charge),
    /// 10 dp.
    pub all_in_px: Option<Decimal>,
    /// Quantity placed on venues, 8 dp.
    pub placed: Decimal,
    /// Quantity it could not place within the limit, 8 dp.
    pub unplaced: Decimal,
    /// `s · (P − P_opt) / P_opt · 10⁴`: its gap to the optimum, 6 dp.
    pub gap_to_optimal_bps: Option<Decimal>,
}

/// One venue's share of the optimum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VenueShare {
    /// The venue.
    pub venue: String,
    /// Quantity, parent units, 8 dp.
    pub qty: Decimal,
    /// All-in price of that share (its fees and gas), 10 dp.
    pub all_in_px: Option<Decimal>,
}

/// The optimum and where it placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptimalLine {
    /// Its result.
    #[serde(flatten)]
    pub line: StrategyLine,
    /// Per venue, summed over the decisions, in configuration order.
    pub allocation: Vec<VenueShare>,
}

/// A baseline's result and the router against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaselineLine {
    /// Its result.
    #[serde(flatten)]
    pub line: StrategyLine,
    /// The venue it used (best single venue; per decision when they differ).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    /// `s · (P_router − P_baseline) / P_baseline · 10⁴`: positive when the router did
    /// worse than this baseline, 6 dp.
    pub router_vs_bps: Option<Decimal>,
}

/// The gap analysis of one parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// How the decisions were taken: `sweep` (arrival) or `twap` (per slice).
    pub basis: String,
    /// Decisions measured (those whose children filled something).
    pub decisions: usize,
    /// The quantity every strategy is priced on: what the router filled, 8 dp.
    pub quantity: Decimal,
    /// The price an unplaced remainder is charged at, 10 dp.
    pub unplaced_charged_at: Option<Decimal>,
    /// Dealers the optimum could not count on at some decision: they declined (last
    /// look, expired quote) every child it sent them.
    pub declined: Vec<String>,
    /// Dealers that declined the first child of some decision: the baselines, one shot
    /// at that instant, could not count on them there.
    pub declined_first_ask: Vec<String>,
    /// What the router realised (its all-in price is the TCA's `all_in_px`).
    pub router: StrategyLine,
    /// The ex-post optimum.
    pub optimal: OptimalLine,
    /// The best single venue.
    pub best_single_venue: BaselineLine,
    /// Pro rata to displayed size.
    pub pro_rata: BaselineLine,
    /// Why the router's gap to the optimum exceeds [`EXPLAIN_ABOVE_BPS`] (empty
    /// otherwise).
    pub why: Vec<String>,
}

/// A running sum of one strategy: quantity placed, unplaced, and value (what the desk
/// received for a sell, paid for a buy, all-in).
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    placed: Decimal,
    unplaced: Decimal,
    value: Decimal,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.placed += other.placed;
        self.unplaced += other.unplaced;
        self.value += other.value;
    }

    /// `s · value`: lower is better for the desk on either side.
    fn cost(&self, side: Side) -> Decimal {
        Decimal::from(side.sign()) * self.value
    }
}

/// The solver's view of every configured venue from a decision's liquidity, in
/// configuration order (venues that cannot be valued in the parent's terms are left
/// out, as the engine leaves them out).
fn true_book(
    config: &EngineConfig,
    liquidity: &[Liquidity],
    instrument: &str,
    side: Side,
) -> RouteBook {
    crate::engine::route_book(config, instrument, |id| {
        liquidity.iter().find(|l| &l.venue == id && l.side == side)
    })
    .unwrap_or_default()
}

/// The size a venue displays within the limit, parent units: a curve's segments up to
/// the first past the limit, a ladder's largest tier within it.
fn displayed_within(v: &RouteVenue, side: Side, limit: Option<Decimal>) -> Decimal {
    let ok = |net: Decimal| limit.is_none_or(|l| side.at_least_as_good(net, l));
    match &v.shape {
        RouteShape::Curve(segs) => segs
            .iter()
            .take_while(|s| ok(s.net_px))
            .map(|s| s.qty)
            .sum(),
        RouteShape::Tiers(tiers) => tiers
            .iter()
            .filter(|s| ok(s.net_px))
            .map(|s| s.qty)
            .max()
            .unwrap_or_default(),
    }
}

/// What the solver does with `qty` under `caps`, priced all-in with the unplaced part
/// charged at `charge`; also per venue (index in the book) `(qty, value)`.
fn solve(
    router: &mut Router,
    book: &RouteBook,
    side: Side,
    qty: Decimal,
    limit: Option<Decimal>,
    caps: &[Option<Decimal>],
    charge: Decimal,
) -> (Tally, Vec<(usize, Decimal, Decimal)>) {
    let plan = router.solve(
        book,
        &RouteRequest {
            side,
            qty,
            limit,
            caps,
        },
    );
    let s = Decimal::from(side.sign());
    let mut tally = Tally {
        placed: plan.placed,
        unplaced: plan.unplaced,
        value: plan.unplaced * charge,
    };
    let mut per_venue = Vec::with_capacity(plan.allocations.len());
    for a in &plan.allocations {
        let value = a.expected_net + s * a.fixed_cost;
        tally.value += value;
        per_venue.push((a.venue, a.qty, value));
    }
    (tally, per_venue)
}

/// The decisions of a parent, in time order, and the venues its desk allowed.
fn decisions_of<'a>(
    run: &'a RunOutcome,
    rec: &ParentRecord,
) -> (Vec<&'a Decision>, Option<BTreeSet<String>>) {
    let mut allow = None;
    let mut out = Vec::new();
    for d in &run.record.decisions {
        match &d.kind {
            DecisionKind::Arrival {
                desk,
                client_id,
                venues,
            } if *desk == rec.order.desk
                && *client_id == rec.client_id
                && d.at == rec.order.arrived =>
            {
                allow = venues.as_ref().map(|v| v.iter().cloned().collect());
                out.push(d);
            }
            DecisionKind::Slice { parent, .. } if *parent == rec.order.id => out.push(d),
            _ => {}
        }
    }
    (out, allow)
}

/// The published price of `value` over `qty`.
fn price(value: Decimal, qty: Decimal) -> Option<Decimal> {
    (!qty.is_zero()).then(|| px(value / qty))
}

fn line(t: Tally, qty: Decimal, side: Side, optimal: Option<Decimal>) -> StrategyLine {
    let all_in = price(t.value, qty);
    StrategyLine {
        all_in_px: all_in,
        placed: money(t.placed),
        unplaced: money(t.unplaced),
        gap_to_optimal_bps: all_in.and_then(|p| slippage_bps(side, p, optimal)),
    }
}

/// The gap analysis of parent `rec` of `run`, with its TCA; `None` when the router
/// filled nothing (there is nothing to compare).
pub fn parent_gap(run: &RunOutcome, rec: &ParentRecord, tca: &ParentTca) -> Option<Gap> {
    let side = rec.order.side;
    let s = Decimal::from(side.sign());
    let config = run.engine.config();
    let (decisions, allow) = decisions_of(run, rec);
    if decisions.is_empty() {
        return None;
    }
    let fills = parent_fills(&run.engine, &run.record, run.market.start_ms, rec);
    let total: Decimal = fills.iter().map(|f| f.fill.qty).sum();
    if total.is_zero() {
        return None;
    }
    let scale = config
        .instruments
        .get("instrument", &rec.order.instrument)
        .map_or(8, |i| i.qty_scale);

    // Which decision each child belongs to: the last one at or before its sending.
    let decision_of = |child: &ChildId| -> usize {
        let at = run.record.sends.get(child).map_or(0, |s| s.at);
        decisions.iter().rposition(|d| d.at <= at).unwrap_or(0)
    };
    let child_decision: BTreeMap<&ChildId, usize> =
        rec.children.iter().map(|c| (c, decision_of(c))).collect();

    // The router's realised value per decision and per venue.
    let mut router_by_decision = vec![Tally::default(); decisions.len()];
    let mut router_venue: BTreeMap<String, VenueTally> = BTreeMap::new();
    let mut worst: Option<Decimal> = None;
    for f in &fills {
        let j = child_decision.get(&f.child).copied().unwrap_or(0);
        let value = f.fill.px * f.fill.qty + s * f.fill.fee;
        let t = &mut router_by_decision[j];
        t.placed += f.fill.qty;
        t.value += value;
        let v = router_venue.entry(f.fill.venue.clone()).or_default();
        v.qty += f.fill.qty;
        v.value += value;
        let unit = value / f.fill.qty;
        worst = Some(worst.map_or(unit, |w| if s * unit > s * w { unit } else { w }));
    }
    let charge = rec.order.limit.or(worst).unwrap_or_default();

    // For the optimum (hindsight): dealers that declined (last look, expired quote) the
    // children a decision sent them and filled none were not there at that decision; a
    // dealer that declined once and filled a later child of the same decision was.
    // For the baselines (one shot at the decision's instant): a dealer that declined the
    // first child the decision sent it would have declined them too.
    let rejects: BTreeMap<&ChildId, RejectKind> = run
        .record
        .rejects
        .iter()
        .map(|r| (&r.child, r.kind))
        .collect();
    let mut declined_at: Vec<BTreeSet<String>> = vec![BTreeSet::new(); decisions.len()];
    let mut filled_at: Vec<BTreeSet<String>> = vec![BTreeSet::new(); decisions.len()];
    let mut first_declined: Vec<BTreeSet<String>> = vec![BTreeSet::new(); decisions.len()];
    let mut asked: BTreeSet<(usize, String)> = BTreeSet::new();
    for cid in &rec.children {
        let Some(child) = run.engine.children().get(cid) else {
            continue;
        };
        let j = child_decision.get(cid).copied().unwrap_or(0);
        let is_dealer = config
            .venues
            .iter()
            .any(|v| v.id == child.venue && v.kind == VenueKind::Rfq);
        if !is_dealer {
            continue;
        }
        let declined = matches!(
            rejects.get(cid),
            Some(RejectKind::LastLook | RejectKind::QuoteExpired)
        );
        if asked.insert((j, child.venue.0.clone())) && declined {
            first_declined[j].insert(child.venue.0.clone());
        }
        if child.filled() > Decimal::ZERO {
            filled_at[j].insert(child.venue.0.clone());
        } else if declined {
            declined_at[j].insert(child.venue.0.clone());
        }
    }
    for (declined, filled) in declined_at.iter_mut().zip(&filled_at) {
        declined.retain(|v| !filled.contains(v));
    }

    let mut solver = Router::new();
    let (mut optimal, mut single, mut pro) = (Tally::default(), Tally::default(), Tally::default());
    let mut optimal_venue: BTreeMap<String, VenueTally> = BTreeMap::new();
    let mut single_names: Vec<String> = Vec::new();
    let mut slices = Vec::new();
    let mut measured = 0;
    for (j, d) in decisions.iter().enumerate() {
        let q = router_by_decision[j].placed;
        if q.is_zero() {
            continue;
        }
        measured += 1;
        let book = true_book(config, &d.liquidity, &rec.order.instrument, side);
        let venues = book.venues();
        let allowed = |v: &RouteVenue| allow.as_ref().is_none_or(|a| a.contains(v.venue.as_str()));
        let caps_without = |declined: &BTreeSet<String>| -> Vec<Option<Decimal>> {
            venues
                .iter()
                .map(|v| {
                    let out = !allowed(v) || declined.contains(v.venue.as_str());
                    out.then_some(Decimal::ZERO)
                })
                .collect()
        };
        let caps = caps_without(&declined_at[j]);
        let one_shot_caps = caps_without(&first_declined[j]);
        let limit = rec.order.limit;

        // The optimum.
        let (t, per_venue) = solve(&mut solver, &book, side, q, limit, &caps, charge);
        optimal.add(t);
        for (v, qty, value) in per_venue {
            let e = optimal_venue.entry(venues[v].venue.0.clone()).or_default();
            e.qty += qty;
            e.value += value;
        }
        slices.push(SliceGap {
            decision: j,
            at: d.at.saturating_sub(rec.order.arrived),
            qty: q,
            router_value: router_by_decision[j].value,
            optimal_value: t.value,
        });

        // Best single venue.
        let mut best: Option<(Tally, usize)> = None;
        for (v, cap) in one_shot_caps.iter().enumerate() {
            if cap.is_some() {
                continue;
            }
            let only: Vec<Option<Decimal>> = (0..venues.len())
                .map(|w| if w == v { None } else { Some(Decimal::ZERO) })
                .collect();
            let (t, _) = solve(&mut solver, &book, side, q, limit, &only, charge);
            if best.is_none_or(|(b, _)| t.cost(side) < b.cost(side)) {
                best = Some((t, v));
            }
        }
        match best {
            Some((t, v)) => {
                single.add(t);
                single_names.push(venues[v].venue.0.clone());
            }
            None => single.add(Tally {
                placed: Decimal::ZERO,
                unplaced: q,
                value: q * charge,
            }),
        }

        // Pro rata to displayed size.
        let shown: Vec<Decimal> = venues
            .iter()
            .map(|v| {
                if allowed(v) {
                    displayed_within(v, side, limit)
                } else {
                    Decimal::ZERO
                }
            })
            .collect();
        pro.add(pro_rata(
            &mut solver,
            &book,
            side,
            q,
            limit,
            &shown,
            &first_declined[j],
            charge,
            scale,
        ));
    }

    let optimal_px = price(optimal.value, total);
    let router_line = StrategyLine {
        all_in_px: tca.order.as_ref().and_then(|o| o.all_in_px),
        placed: money(total),
        unplaced: money(Decimal::ZERO),
        gap_to_optimal_bps: tca
            .order
            .as_ref()
            .and_then(|o| o.all_in_px)
            .and_then(|p| slippage_bps(side, p, optimal_px)),
    };
    let router_px = router_line.all_in_px;
    let baseline = |t: Tally, venue: Option<String>| {
        let l = line(t, total, side, optimal_px);
        let router_vs_bps = router_px.and_then(|r| slippage_bps(side, r, l.all_in_px));
        BaselineLine {
            line: l,
            venue,
            router_vs_bps,
        }
    };
    let single_venue = {
        let mut names = single_names.clone();
        names.dedup();
        match names.len() {
            0 => None,
            1 => names.pop(),
            _ => {
                let mut count: BTreeMap<&str, usize> = BTreeMap::new();
                for n in &single_names {
                    *count.entry(n).or_default() += 1;
                }
                Some(format!(
                    "per decision: {}",
                    count
                        .iter()
                        .map(|(n, c)| format!("{n} x{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
    };
    let allocation = config
        .venues
        .iter()
        .filter_map(|v| {
            let e = optimal_venue.get(&v.id.0)?;
            Some(VenueShare {
                venue: v.id.0.clone(),
                qty: money(e.qty),
                all_in_px: price(e.value, e.qty),
            })
        })
        .collect();
    let names = |sets: &[BTreeSet<String>]| -> Vec<String> {
        sets.iter()
            .flatten()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let declined = names(&declined_at);
    let declined_first_ask = names(&first_declined);
    let mut gap = Gap {
        basis: match decisions.len() {
            1 => "sweep: one decision at arrival".to_owned(),
            n => format!("twap: per slice, {n} decisions"),
        },
        decisions: measured,
        quantity: money(total),
        unplaced_charged_at: Some(px(charge)),
        declined,
        declined_first_ask,
        router: router_line,
        optimal: OptimalLine {
            line: line(optimal, total, side, optimal_px),
            allocation,
        },
        best_single_venue: baseline(single, single_venue),
        pro_rata: baseline(pro, None),
        why: Vec::new(),
    };
    if gap
        .router
        .gap_to_optimal_bps
        .is_some_and(|g| g > EXPLAIN_ABOVE_BPS)
    {
        let evidence = Evidence {
            run,
            rec,
            side,
            quantity: total,
            router_px: gap.router.all_in_px,
            optimal_px,
            router_venue,
            optimal_venue,
            slices,
            child_decision: &child_decision,
            first_send: decisions
                .iter()
                .enumerate()
                .map(|(j, _)| {
                    rec.children
                        .iter()
                        .filter(|c| child_decision.get(c) == Some(&j))
                        .filter_map(|c| run.record.sends.get(c).map(|s| s.at))
                        .min()
                })
                .collect(),
            fills: &fills,
        };
        gap.why = why::explain(&evidence);
    }
    Some(gap)
}

/// Pro rata to displayed size: `q` split over the venues in proportion to `shown`
/// (floored to the parent's precision, the rest to the largest), each share executed on
/// its venue alone; a declined dealer's share is unplaced.
#[allow(clippy::too_many_arguments)]
fn pro_rata(
    solver: &mut Router,
    book: &RouteBook,
    side: Side,
    q: Decimal,
    limit: Option<Decimal>,
    shown: &[Decimal],
    declined: &BTreeSet<String>,
    charge: Decimal,
    scale: u32,
) -> Tally {
    let sum: Decimal = shown.iter().sum();
    if sum.is_zero() {
        return Tally {
            placed: Decimal::ZERO,
            unplaced: q,
            value: q * charge,
        };
    }
    let mut shares: Vec<Decimal> = shown
        .iter()
        .map(|d| (q * d / sum).round_dp_with_strategy(scale, RoundingStrategy::ToZero))
        .collect();
    let rest = q - shares.iter().sum::<Decimal>();
    if let Some(big) = (0..shown.len()).max_by(|a, b| shown[*a].cmp(&shown[*b]).then(b.cmp(a))) {
        shares[big] += rest;
    }
    let venues = book.venues();
    let mut tally = Tally::default();
    for (v, share) in shares.into_iter().enumerate() {
        if share <= Decimal::ZERO {
            continue;
        }
        if declined.contains(venues[v].venue.as_str()) {
            tally.add(Tally {
                placed: Decimal::ZERO,
                unplaced: share,
                value: share * charge,
            });
            continue;
        }
        let only: Vec<Option<Decimal>> = (0..venues.len())
            .map(|w| if w == v { None } else { Some(Decimal::ZERO) })
            .collect();
        let (t, _) = solve(solver, book, side, share, limit, &only, charge);
        tally.add(t);
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::RunReport;
    use crate::scenario::Scenario;
    use crate::sim::{Pace, run};

    /// Sell 300: a book at 0.9999 × 100, 0.9998 × 100, 0.9990 × 1000 (no fee) and a
    /// dealer buying up to 300 at 0.9997.
    fn report(last_look: &str) -> RunReport {
        let text = format!(
            r#"
[valuation]
currency = "USD"
references = {{ USDC = "1" }}

[[venues]]
id = "book"
kind = "book"
instrument = "USDC/USD"
bids = [["0.9999", "100"], ["0.9998", "100"], ["0.9990", "1000"]]
asks = [["1.0001", "100"]]

[[venues]]
id = "dealer"
kind = "rfq"
instrument = "USDC/USD"
last_look_reject = {last_look}
bids = [["0.9997", "300"]]

[[parents]]
desk = "DESK1"
client_id = "g"
instrument = "USDC/USD"
side = "sell"
qty = "300"
"#
        );
        let s = Scenario::parse(&text, None).unwrap();
        let outcome = run(s, Pace::Instant).unwrap();
        RunReport::new("gap", 1, &outcome)
    }

    fn s(d: Option<Decimal>) -> String {
        d.map(|d| d.to_string()).unwrap_or_default()
    }

    #[test]
    fn the_optimum_and_the_baselines_by_hand() {
        let r = report("0.0");
        let g = r.parents[0].gap.as_ref().unwrap();
        assert_eq!(g.basis, "sweep: one decision at arrival");
        assert_eq!(g.quantity.to_string(), "300.00000000");
        // The book's two best levels and 100 from the dealer's tier: 299.94 / 300.
        assert_eq!(s(g.optimal.line.all_in_px), "0.9998000000");
        assert_eq!(s(g.router.all_in_px), "0.9998000000");
        assert_eq!(s(g.router.gap_to_optimal_bps), "0.000000");
        // Alone, the dealer takes all 300 at 0.9997; the book alone walks to 0.9990.
        assert_eq!(g.best_single_venue.venue.as_deref(), Some("dealer"));
        assert_eq!(s(g.best_single_venue.line.all_in_px), "0.9997000000");
        assert_eq!(s(g.best_single_venue.router_vs_bps), "-1.000300");
        // Pro rata to 1,200 shown at the book and 300 at the dealer: 240 and 60;
        // 99.99 + 99.98 + 40 × 0.9990 + 60 × 0.9997 = 299.912.
        assert_eq!(s(g.pro_rata.line.all_in_px), "0.9997066667");
        assert_eq!(g.pro_rata.line.unplaced.to_string(), "0.00000000");
        assert!(g.why.is_empty());
        let book = g
            .optimal
            .allocation
            .iter()
            .find(|a| a.venue == "book")
            .unwrap();
        assert_eq!(book.qty.to_string(), "200.00000000");
    }

    #[test]
    fn a_dealer_that_declines_everything_is_not_there_for_anyone() {
        let r = report("1.0");
        let g = r.parents[0].gap.as_ref().unwrap();
        assert_eq!(g.declined, ["dealer"]);
        assert_eq!(g.declined_first_ask, ["dealer"]);
        // Only the book was there: the router, the optimum and the book alone agree,
        // 99.99 + 99.98 + 99.90 = 299.87.
        assert_eq!(s(g.optimal.line.all_in_px), "0.9995666667");
        assert_eq!(s(g.router.gap_to_optimal_bps), "0.000000");
        assert_eq!(g.best_single_venue.venue.as_deref(), Some("book"));
        // Pro rata still sends the dealer its 60, which fails and is charged at the
        // router's worst fill (no limit): 0.9990.
        assert_eq!(g.pro_rata.line.unplaced.to_string(), "60.00000000");
        assert_eq!(
            g.unplaced_charged_at.map(|d| d.to_string()).as_deref(),
            Some("0.9990000000")
        );
    }
}
