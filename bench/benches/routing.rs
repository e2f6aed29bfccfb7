//! One routing decision: a 1M slice over 8 venues (3 books × 20 levels, 3 RFQ ladders
//! × 5 tiers, 2 pools with gas), and the same at the corridor's 17.78M.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{Criterion, criterion_group, criterion_main};
use rust_decimal::Decimal;
use sor::router::{RouteRequest, Router};
use std::hint::black_box;
use venues::Side;

fn routing(c: &mut Criterion) {
    let book = bench::eight_venues();
    let mut router = Router::new();
    let caps = vec![None; book.venues().len()];
    for (name, qty) in [
        ("route_1m_8_venues", 1_000_000),
        ("route_17_78m_8_venues", 17_780_000),
    ] {
        let req = RouteRequest {
            side: Side::Sell,
            qty: Decimal::from(qty),
            limit: Some(Decimal::new(9990, 4)),
            caps: &caps,
        };
        let plan = router.solve(&book, &req);
        assert!(
            plan.placed > Decimal::ZERO,
            "the fixture must route something"
        );
        c.bench_function(name, |b| {
            b.iter(|| router.solve(black_box(&book), black_box(&req)))
        });
    }
}

criterion_group!(benches, routing);
criterion_main!(benches);
