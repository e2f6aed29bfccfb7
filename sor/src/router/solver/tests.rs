//! The solver against brute force on small integer cases, and its guarantees.

use super::*;
use crate::domain::Conversion;
use crate::router::Segment;
use proptest::prelude::*;
use rust_decimal_macros::dec;
use venues::{VenueId, VenueKind};

fn seg(net: Decimal, qty: u32) -> Segment {
    Segment {
        cost: -net.to_f64().unwrap(),
        qty: Decimal::from(qty),
        net_px: net,
        gross_px: net,
    }
}

fn venue(name: &str, shape: RouteShape, fixed: Decimal) -> RouteVenue {
    RouteVenue {
        venue: VenueId(name.into()),
        kind: match shape {
            RouteShape::Tiers(_) => VenueKind::Rfq,
            RouteShape::Curve(_) if fixed > Decimal::ZERO => VenueKind::Pool,
            RouteShape::Curve(_) => VenueKind::Book,
        },
        instrument: "USDC/USD".into(),
        shape,
        fixed_cost: fixed,
        fixed_cost_value: Decimal::ONE,
        conversion: Conversion::IDENTITY,
        qty_scale: 0,
    }
}

/// True proceeds of selling `x` at venue `v`, or `None` if that is not allowed
/// (beyond depth or cap, past the limit, a fixed-cost venue whose all-in breaks it).
fn value(v: &RouteVenue, x: u32, cap: Option<Decimal>, limit: Option<Decimal>) -> Option<Decimal> {
    if x == 0 {
        return Some(Decimal::ZERO);
    }
    let xd = Decimal::from(x);
    if cap.is_some_and(|c| xd > c) {
        return None;
    }
    let ok = |px: Decimal| limit.is_none_or(|l| px >= l);
    let gross = match &v.shape {
        RouteShape::Curve(segs) => {
            let mut left = xd;
            let mut sum = Decimal::ZERO;
            for s in segs {
                if left.is_zero() {
                    break;
                }
                if !ok(s.net_px) {
                    return None;
                }
                let t = left.min(s.qty);
                sum += t * s.net_px;
                left -= t;
            }
            if !left.is_zero() {
                return None;
            }
            sum
        }
        RouteShape::Tiers(tiers) => {
            let t = tiers.iter().find(|t| xd <= t.qty)?;
            if !ok(t.net_px) {
                return None;
            }
            xd * t.net_px
        }
    };
    let net = gross - v.fixed_cost;
    if v.fixed_cost > Decimal::ZERO && limit.is_some_and(|l| net / xd < l) {
        return None;
    }
    Some(net)
}

/// Best (placed, proceeds) over every integer split.
fn brute(
    venues: &[RouteVenue],
    caps: &[Option<Decimal>],
    q: u32,
    limit: Option<Decimal>,
) -> (u32, Decimal) {
    #[allow(clippy::too_many_arguments)]
    fn rec(
        i: usize,
        left: u32,
        venues: &[RouteVenue],
        caps: &[Option<Decimal>],
        limit: Option<Decimal>,
        placed: u32,
        acc: Decimal,
        best: &mut (u32, Decimal),
    ) {
        if i == venues.len() {
            if placed > best.0 || (placed == best.0 && acc > best.1) {
                *best = (placed, acc);
            }
            return;
        }
        for x in 0..=left {
            if let Some(v) = value(&venues[i], x, caps[i], limit) {
                rec(
                    i + 1,
                    left - x,
                    venues,
                    caps,
                    limit,
                    placed + x,
                    acc + v,
                    best,
                );
            }
        }
    }
    let mut best = (0, Decimal::MIN);
    rec(0, q, venues, caps, limit, 0, Decimal::ZERO, &mut best);
    best
}

fn plan_value(
    venues: &[RouteVenue],
    caps: &[Option<Decimal>],
    plan: &RoutePlan,
    limit: Option<Decimal>,
) -> Option<Decimal> {
    let mut total = Decimal::ZERO;
    for a in &plan.allocations {
        let x = a.qty.to_u32()?;
        total += value(&venues[a.venue], x, caps[a.venue], limit)?;
    }
    Some(total)
}

fn px() -> impl Strategy<Value = Decimal> {
    (9900u32..=10010).prop_map(|p| Decimal::new(p as i64, 4))
}

prop_compose! {
    fn curve()(levels in prop::collection::vec((px(), 1u32..5), 1..4), fixed in prop_oneof![Just(0u32), 1u32..60]) -> RouteVenue {
        let mut levels = levels;
        levels.sort_by_key(|l| std::cmp::Reverse(l.0));
        let segs = levels.into_iter().map(|(p, q)| seg(p, q)).collect();
        venue("c", RouteShape::Curve(segs), Decimal::new(fixed as i64, 2))
    }
}

prop_compose! {
    fn ladder()(
        tiers in prop::collection::vec((px(), 1u32..5), 1..4),
        fixed in prop_oneof![3 => Just(0u32), 1 => 1u32..60],
    ) -> RouteVenue {
        let mut px: Vec<Decimal> = tiers.iter().map(|t| t.0).collect();
        px.sort_by(|a, b| b.cmp(a));
        let mut cum = 0;
        let segs = tiers.iter().zip(px).map(|(t, p)| { cum += t.1; seg(p, cum) }).collect();
        venue("d", RouteShape::Tiers(segs), Decimal::new(fixed as i64, 2))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// On small integer cases the solver finds what exhaustive search finds: the same
    /// quantity placed, and the same proceeds, without crossing the limit or a cap.
    #[test]
    fn matches_brute_force(
        curves in prop::collection::vec(curve(), 1..3),
        ladders in prop::collection::vec(ladder(), 0..3),
        q in 1u32..11,
        limit in prop::option::of(px()),
        capped in prop::collection::vec(prop::option::of(0u32..6), 5),
    ) {
        let venues: Vec<RouteVenue> = curves.into_iter().chain(ladders).collect();
        let caps: Vec<Option<Decimal>> = (0..venues.len()).map(|i| capped[i].map(Decimal::from)).collect();
        let book = RouteBook::new(venues.clone());
        let req = RouteRequest { side: Side::Sell, qty: Decimal::from(q), limit, caps: &caps };
        let plan = Router::new().solve(&book, &req);
        let (best_placed, best_value) = brute(&venues, &caps, q, limit);
        let got = plan_value(&venues, &caps, &plan, limit);
        prop_assert!(got.is_some(), "plan breaks a limit or cap: {plan:?}");
        prop_assert_eq!(plan.placed, Decimal::from(best_placed), "placed differs: {:?}", plan);
        prop_assert_eq!(plan.placed + plan.unplaced, Decimal::from(q));
        let diff = (got.unwrap() - best_value).abs();
        prop_assert!(diff < dec!(0.000001), "value {} vs brute {}: {:?}", got.unwrap(), best_value, plan);
    }
}

#[test]
fn fills_the_best_prices_first_across_venues() {
    let a = venue(
        "a",
        RouteShape::Curve(vec![seg(dec!(1.0), 5), seg(dec!(0.99), 5)]),
        dec!(0),
    );
    let b = venue("b", RouteShape::Curve(vec![seg(dec!(0.995), 5)]), dec!(0));
    let book = RouteBook::new(vec![a, b]);
    let plan = Router::new().solve(
        &book,
        &RouteRequest {
            side: Side::Sell,
            qty: dec!(8),
            limit: None,
            caps: &[],
        },
    );
    assert_eq!(plan.allocations[0].qty, dec!(5));
    assert_eq!(plan.allocations[1].qty, dec!(3));
    assert_eq!(plan.unplaced, dec!(0));
}

#[test]
fn what_the_limit_forbids_is_unplaced_never_placed() {
    let a = venue(
        "a",
        RouteShape::Curve(vec![seg(dec!(1.0), 5), seg(dec!(0.98), 50)]),
        dec!(0),
    );
    let book = RouteBook::new(vec![a]);
    let plan = Router::new().solve(
        &book,
        &RouteRequest {
            side: Side::Sell,
            qty: dec!(20),
            limit: Some(dec!(0.99)),
            caps: &[],
        },
    );
    assert_eq!(plan.placed, dec!(5));
    assert_eq!(plan.unplaced, dec!(15));
    assert_eq!(plan.allocations[0].limit_px, dec!(1.0));
}

#[test]
fn a_shallow_pool_is_used_only_when_it_pays_after_gas() {
    let book_venue = venue(
        "book",
        RouteShape::Curve(vec![seg(dec!(0.9990), 1000)]),
        dec!(0),
    );
    // Two units at 1.0000 minus 0.05 gas: 0.975 per unit all in — worse than the book.
    let pool = venue(
        "pool",
        RouteShape::Curve(vec![seg(dec!(1.0), 2)]),
        dec!(0.05),
    );
    let book = RouteBook::new(vec![book_venue.clone(), pool.clone()]);
    let plan = Router::new().solve(
        &book,
        &RouteRequest {
            side: Side::Sell,
            qty: dec!(100),
            limit: None,
            caps: &[],
        },
    );
    assert_eq!(plan.allocations.len(), 1);
    assert_eq!(plan.allocations[0].venue, 0);
    // A deep pool at a better price pays for its gas.
    let pool = venue(
        "pool",
        RouteShape::Curve(vec![seg(dec!(1.0), 200)]),
        dec!(0.05),
    );
    let book = RouteBook::new(vec![book_venue, pool]);
    let plan = Router::new().solve(
        &book,
        &RouteRequest {
            side: Side::Sell,
            qty: dec!(100),
            limit: None,
            caps: &[],
        },
    );
    assert_eq!(plan.allocations.len(), 1);
    assert_eq!(plan.allocations[0].venue, 1);
}

#[test]
fn dealer_tier_is_chosen_for_the_whole_size() {
    let book_venue = venue(
        "book",
        RouteShape::Curve(vec![seg(dec!(0.9995), 3), seg(dec!(0.9980), 100)]),
        dec!(0),
    );
    let dealer = venue(
        "dealer",
        RouteShape::Tiers(vec![seg(dec!(0.9999), 5), seg(dec!(0.9990), 10)]),
        dec!(0),
    );
    let book = RouteBook::new(vec![book_venue, dealer]);
    let plan = Router::new().solve(
        &book,
        &RouteRequest {
            side: Side::Sell,
            qty: dec!(10),
            limit: None,
            caps: &[],
        },
    );
    // Ten at the dealer's 0.9990 tier (9.990) loses to five at 0.9999, three at
    // 0.9995 and two at 0.9980 (9.9951).
    let by: Vec<(usize, Decimal)> = plan.allocations.iter().map(|a| (a.venue, a.qty)).collect();
    assert_eq!(by, vec![(0, dec!(5)), (1, dec!(5))]);
}

#[test]
fn a_dealers_ticket_fee_counts_against_it() {
    let book_venue = venue(
        "book",
        RouteShape::Curve(vec![seg(dec!(0.9995), 1000)]),
        dec!(0),
    );
    let dealer = venue(
        "dealer",
        RouteShape::Tiers(vec![seg(dec!(0.9999), 100)]),
        dec!(5),
    );
    let book = RouteBook::new(vec![book_venue, dealer]);
    for limit in [None, Some(dec!(0.999))] {
        let req = RouteRequest {
            side: Side::Sell,
            qty: dec!(100),
            limit,
            caps: &[],
        };
        let plan = Router::new().solve(&book, &req);
        assert_eq!(plan.placed, dec!(100), "{limit:?}: {plan:?}");
        assert_eq!(plan.allocations.len(), 1);
        assert_eq!(
            plan.allocations[0].venue, 0,
            "a 5 USD ticket on 100 never pays"
        );
    }
}

#[test]
fn caps_bound_every_venue() {
    let a = venue("a", RouteShape::Curve(vec![seg(dec!(1.0), 100)]), dec!(0));
    let b = venue("b", RouteShape::Curve(vec![seg(dec!(0.99), 100)]), dec!(0));
    let book = RouteBook::new(vec![a, b]);
    let caps = [Some(dec!(30)), Some(dec!(0))];
    let plan = Router::new().solve(
        &book,
        &RouteRequest {
            side: Side::Sell,
            qty: dec!(50),
            limit: None,
            caps: &caps,
        },
    );
    assert_eq!(plan.placed, dec!(30));
    assert_eq!(plan.allocations.len(), 1);
}
