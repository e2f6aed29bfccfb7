//! End to end through the library: the shipped corridor scenarios on the in-process
//! simulated venues, as `sor run` runs them.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sor::domain::ParentStatus;
use sor::engine::DeskEvent;
use sor::report::{ParentLine, RunReport};
use sor::scenario::Scenario;
use sor::sim::{Pace, RunOutcome, run};
use sor::tca::OrderFigures;
use std::path::PathBuf;

fn scenario_text(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name);
    std::fs::read_to_string(path).expect("shipped scenario")
}

fn run_text(text: &str, seed: Option<u64>) -> (RunReport, RunOutcome) {
    let s = Scenario::parse(text, seed).expect("valid scenario");
    let (name, seed) = (s.name.clone(), s.seed);
    let outcome = run(s, Pace::Instant).expect("run completes");
    (RunReport::new(&name, seed, &outcome), outcome)
}

fn venue<'a>(p: &'a ParentLine, id: &str) -> &'a sor::report::VenueLine {
    p.venues
        .iter()
        .find(|v| v.venue == id)
        .expect("venue in report")
}

/// The parent's figures (benchmark.md section 3).
fn figures(p: &ParentLine) -> &OrderFigures {
    p.tca
        .as_ref()
        .and_then(|t| t.order.as_ref())
        .expect("the parent's TCA")
}

/// A venue's figures within the parent, if it filled anything.
fn venue_figures<'a>(p: &'a ParentLine, id: &str) -> Option<&'a OrderFigures> {
    p.tca
        .as_ref()?
        .venues
        .iter()
        .find(|v| v.venue == id)
        .map(|v| &v.order)
}

/// Checks every rule a desk relies on, for one parent of a finished run.
fn check_parent(p: &ParentLine, outcome: &RunOutcome) {
    let filled: Decimal = p.venues.iter().map(|v| v.filled).sum();
    assert_eq!(filled, p.filled, "venue fills add up to the parent's");
    assert_eq!(p.filled + p.unfilled, p.qty, "filled + unfilled = qty");
    assert!(p.filled <= p.qty, "never overfilled");
    let fills: Vec<(Decimal, Decimal)> = outcome
        .desk_reports
        .iter()
        .filter(|r| r.parent.0 == p.id)
        .filter_map(|r| match &r.event {
            DeskEvent::Fill { qty, px, .. } => Some((*qty, *px)),
            _ => None,
        })
        .collect();
    let cum: Decimal = fills.iter().map(|f| f.0).sum();
    assert_eq!(cum, p.filled, "every fill was reported to the desk, once");
    if let Some(limit) = p.limit {
        for (_, px) in &fills {
            assert!(
                *px >= limit,
                "a fill at {px} crossed the limit {limit} after fees"
            );
        }
        for v in p.venues.iter().filter(|v| !v.filled.is_zero()) {
            let all_in = venue_figures(p, &v.venue).unwrap().all_in_px.unwrap();
            assert!(
                all_in >= limit,
                "{}: all-in {all_in} crossed {limit}",
                v.venue
            );
        }
    }
    let last = outcome
        .desk_reports
        .iter()
        .rfind(|r| r.parent.0 == p.id)
        .unwrap();
    assert!(
        matches!(last.event, DeskEvent::Done { .. }),
        "every parent ends with a done report"
    );
    assert_eq!(last.cum_qty, p.filled);
}

#[test]
fn the_corridor_fills_within_its_limit_and_adds_up() {
    let (report, outcome) = run_text(&scenario_text("corridor.toml"), None);
    let p = &report.parents[0];
    assert_eq!(p.status, ParentStatus::Filled);
    assert_eq!(p.qty, dec!(17780000));
    check_parent(p, &outcome);
    // benchmark.md 3.1: VWAP without fees, all-in with them (a sell receives less).
    let o = figures(p);
    let fills: Decimal = p
        .venues
        .iter()
        .filter_map(|v| venue_figures(p, &v.venue).and_then(|f| f.vwap.map(|x| x * v.filled)))
        .sum();
    assert!((fills / p.filled - o.vwap.unwrap()).abs() < dec!(0.0000000001));
    // The allocation table's fees and gas are the spec's F.
    assert_eq!(o.fees_total, p.fees + p.fixed_costs);
    assert_eq!(o.filled_qty, p.filled);
    let all_in = (fills - o.fees_total) / p.filled;
    assert!((all_in - o.all_in_px.unwrap()).abs() < dec!(0.0000000001));
    assert!(o.all_in_px.unwrap() < o.vwap.unwrap());
    let rate = p.tca.as_ref().unwrap().reference.rate();
    assert!(rate.is_some(), "the books print: there is a reference rate");
    assert_eq!(
        o.slippage_bps.vs_reference_rate,
        sor::report::slippage_bps(p.side, o.vwap.unwrap(), rate)
    );
    for dealer in ["dealer-a", "dealer-b", "dealer-c"] {
        assert!(venue(p, dealer).filled > Decimal::ZERO, "{dealer} is used");
    }
    assert!(venue(p, "book-x").filled > Decimal::ZERO);
}

#[test]
fn the_shallow_pools_get_only_what_pays_after_gas() {
    let (report, _) = run_text(&scenario_text("corridor.toml"), None);
    let p = &report.parents[0];
    let tiny = venue(p, "pool-cwusdt");
    assert_eq!(tiny.children, 0, "$2.18 of depth never pays for its gas");
    let pool = venue(p, "pool-cwusdc");
    assert!(
        pool.filled > Decimal::ZERO && pool.filled < dec!(213),
        "{pool:?}"
    );
    // Its all-in price (gas included) beats the worst all-in price taken elsewhere.
    let pool_all_in = venue_figures(p, "pool-cwusdc").unwrap().all_in_px.unwrap();
    let worst_book = ["book-x", "book-y"]
        .iter()
        .filter_map(|b| venue_figures(p, b).and_then(|f| f.all_in_px))
        .min()
        .unwrap();
    assert!(
        pool_all_in > worst_book,
        "pool {pool_all_in} vs book {worst_book}"
    );
}

#[test]
fn a_dealer_whose_last_look_always_rejects_is_routed_around() {
    let text = scenario_text("corridor.toml").replacen(
        "last_look_reject = 0.05",
        "last_look_reject = 1.0",
        1,
    );
    let (report, outcome) = run_text(&text, None);
    let p = &report.parents[0];
    let a = venue(p, "dealer-a");
    assert!(a.rejected >= 1, "{a:?}");
    assert_eq!(a.filled, Decimal::ZERO, "a rejected quote is never a fill");
    assert_eq!(
        p.status,
        ParentStatus::Filled,
        "the size went elsewhere: {:?}",
        p.reason
    );
    check_parent(p, &outcome);
}

#[test]
fn a_limit_too_tight_leaves_an_unfilled_remainder_reported_as_such() {
    let text = scenario_text("corridor.toml").replace("limit = \"0.9990\"", "limit = \"0.99975\"");
    let (report, outcome) = run_text(&text, None);
    let p = &report.parents[0];
    assert_eq!(p.status, ParentStatus::Expired);
    assert!(p.unfilled > Decimal::ZERO);
    assert!(
        p.reason.as_deref().unwrap_or("").contains("unfilled"),
        "{:?}",
        p.reason
    );
    check_parent(p, &outcome);
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let text =
        scenario_text("corridor.toml").replace("last_look_reject = 0.05", "last_look_reject = 0.5");
    let a = serde_json::to_string(&run_text(&text, Some(3)).0.parents).unwrap();
    let b = serde_json::to_string(&run_text(&text, Some(3)).0.parents).unwrap();
    assert_eq!(a, b);
}

#[test]
fn every_seed_keeps_the_guarantees() {
    let text =
        scenario_text("corridor.toml").replace("last_look_reject = 0.05", "last_look_reject = 0.4");
    for seed in 0..25 {
        let (report, outcome) = run_text(&text, Some(seed));
        for p in &report.parents {
            check_parent(p, &outcome);
        }
    }
}

#[test]
fn the_twap_works_in_slices_over_four_hours() {
    let (report, outcome) = run_text(&scenario_text("corridor-twap.toml"), None);
    let p = &report.parents[0];
    check_parent(p, &outcome);
    assert_eq!(p.status, ParentStatus::Filled);
    let mut times: Vec<u64> = outcome
        .desk_reports
        .iter()
        .filter(|r| matches!(r.event, DeskEvent::Fill { .. }))
        .map(|r| r.at)
        .collect();
    times.dedup_by(|a, b| a.abs_diff(*b) < 60_000_000_000);
    assert!(
        times.len() >= 10,
        "fills spread over many slices: {times:?}"
    );
    for w in times.windows(2) {
        assert!(
            w[1] - w[0] >= 300_000_000_000,
            "slices at least 5 minutes apart: {times:?}"
        );
    }
    assert!(
        *times.last().unwrap() <= 4 * 3600 * 1_000_000_000,
        "within the duration"
    );
}

#[test]
fn a_multi_hop_route_is_used_where_it_beats_the_direct_pool_after_gas() {
    // Selling 300 USDC-equivalent: a book at 0.9990, a direct cWUSDT/USDT pool with
    // $2.18 of depth, and a route cWUSDT -> cWUSDC -> USDC through two deep pools
    // whose wrapped tokens trade 10 bps rich.
    let pool = |b: &str| {
        format!(
            r#"pmm = {{ i = "1001000000000000000", k = "500000000000000000", b = "{b}", q = "{b}", b0 = "{b}", q0 = "{b}", r = "ONE", lp_fee_rate = "300000000000000", base_decimals = 6, quote_decimals = 6 }}"#
        )
    };
    let text = format!(
        r#"
[valuation]
currency = "USD"
references = {{ USDC = "1", USDT = "1" }}
assets = {{ cWUSDC = {{ as = "USDC", rate = "1" }}, cWUSDT = {{ as = "USDC", rate = "1" }} }}

[[instruments]]
id = "cWUSDT/USDC"
price_scale = 8
qty_scale = 6

[[venues]]
id = "book"
kind = "book"
instrument = "USDC/USD"
taker_fee_bps = "0"
bids = [["0.9990", "1000000"]]

[[venues]]
id = "direct"
kind = "pool"
instrument = "cWUSDT/USDT"
gas_cost = "0.01"
{direct}

[[venues]]
id = "hop1"
kind = "pool"
instrument = "cWUSDT/cWUSDC"
gas_cost = "0.01"
{deep}

[[venues]]
id = "hop2"
kind = "pool"
instrument = "cWUSDC/USDC"
gas_cost = "0.01"
{deep}

[[venues]]
id = "route"
kind = "route"
instrument = "cWUSDT/USDC"
hops = ["hop1", "hop2"]
gas_cost = "0.016"

[[parents]]
desk = "DESK1"
client_id = "route-test"
instrument = "USDC/USD"
side = "sell"
qty = "300"
"#,
        direct = pool("433000000"),
        deep = pool("5000000000000"),
    );
    let (report, outcome) = run_text(&text, None);
    let p = &report.parents[0];
    check_parent(p, &outcome);
    assert_eq!(p.status, ParentStatus::Filled);
    assert_eq!(
        venue(p, "direct").children,
        0,
        "the $2.18 pool never pays for its gas"
    );
    let route = venue(p, "route");
    assert!(route.filled > Decimal::ZERO, "{:?}", p.venues);
    // The route's all-in (two LP fees, more gas) is still better than the book.
    let route_all_in = venue_figures(p, "route").unwrap().all_in_px.unwrap();
    assert!(route_all_in > dec!(0.9990), "{route:?}");
}

#[test]
fn a_canary_stage_keeps_a_new_venue_to_small_clips_until_it_graduates() {
    let (report, outcome) = run_text(&scenario_text("canary.toml"), None);
    let p = &report.parents[0];
    check_parent(p, &outcome);
    assert_eq!(p.status, ParentStatus::Filled);
    let clips: Vec<Decimal> = outcome.engine.children().values().map(|c| c.qty).collect();
    // Canary: two clips of at most 10k; repeat: two of at most 50k; then full size.
    assert!(clips.len() >= 5, "{clips:?}");
    assert!(clips[..2].iter().all(|q| *q <= dec!(10000)), "{clips:?}");
    assert!(clips[2..4].iter().all(|q| *q <= dec!(50000)), "{clips:?}");
    assert!(clips[4] > dec!(50000), "{clips:?}");
    assert_eq!(report.stage_changes.len(), 2, "{:?}", report.stage_changes);
    assert!(report.stage_changes[0].contains("canary -> repeat"));
    assert!(report.stage_changes[1].contains("repeat -> full"));
    // Cadence made the parent wait for the venue instead of ending it short.
    assert!(report.elapsed_ms >= dec!(2000));
}

#[test]
fn a_bad_full_risk_table_is_refused_naming_the_field() {
    let text = scenario_text("canary.toml").replace("max_clip = \"10000\"", "max_clip = \"-1\"");
    let err = Scenario::parse(&text, None)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.starts_with("risk_limits."), "{err}");
    assert!(err.contains("max_clip"), "{err}");
}

#[test]
fn a_tight_clip_limit_visibly_reshapes_the_allocation() {
    let base_text = scenario_text("corridor.toml");
    let tight_text = base_text.replace("dealer-a = \"5000000\"", "dealer-a = \"500000\"");
    assert_ne!(
        base_text, tight_text,
        "the corridor sets a clip for dealer-a"
    );
    let dealer_a_children = |outcome: &RunOutcome| -> Vec<Decimal> {
        outcome
            .engine
            .children()
            .values()
            .filter(|c| c.venue.as_str() == "dealer-a")
            .map(|c| c.qty)
            .collect()
    };
    let (base, base_out) = run_text(&base_text, None);
    let (tight, tight_out) = run_text(&tight_text, None);
    check_parent(&tight.parents[0], &tight_out);
    // Unconstrained, dealer-a takes a block above 500k; clipped, no child is larger.
    assert!(
        dealer_a_children(&base_out)
            .iter()
            .any(|q| *q > dec!(500000))
    );
    assert!(
        dealer_a_children(&tight_out)
            .iter()
            .all(|q| *q <= dec!(500000))
    );
    let a = |r: &RunReport| venue(&r.parents[0], "dealer-a").filled;
    assert!(a(&tight) < a(&base), "{} vs {}", a(&tight), a(&base));
    // What dealer-a no longer takes goes elsewhere: the parent still fills as much.
    assert!(tight.parents[0].filled >= base.parents[0].filled - dec!(500000));
}
