//! The engine's heap allocations per step, held to a budget: each allocation on the
//! path from a desk's parent to its child is a trip through the allocator and a fresh
//! cache line, so a change that adds some shows here, in review, rather than later as
//! a slower gateway hop. Counted, not timed, so the test is exact on any machine.
//!
//! The budgets are today's counts with a little room. Raise one only on purpose, and
//! say why in the commit (`cargo run --release -p bench --bin parent-latency -- 20000
//! ahead` prints the same counts).

#![allow(clippy::unwrap_used)]

use bench::gateway::{full_fill, one_book_parent, one_book_snapshot, sent_orders};
use sor::engine::{Command, Engine, Event};
use sor::gate::AnyGate;
use sor::scenario::Scenario;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::collections::BTreeMap;
use venues::{Side, VenueId};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Most heap allocations (and reallocations) the median new parent may make: routed to
/// one book, one child sent. It was 38 before the engine stopped cloning keys to look
/// them up; 22 since.
const NEW_PARENT_BUDGET: usize = 24;

/// Most for the median fill of that child, which ends the parent (8 since a child
/// keeps its own execution ids; 9 before).
const FILL_BUDGET: usize = 9;

fn median(mut counts: Vec<usize>) -> usize {
    counts.sort_unstable();
    counts[counts.len() / 2]
}

#[test]
fn a_parent_routed_to_one_book_and_its_fill_stay_within_their_allocation_budgets() {
    let market = Scenario::parse_market(bench::gateway::ONE_BOOK_MARKET).unwrap();
    let gate = AnyGate::Minimal(risk::MinimalGate::new(market.risk));
    let mut engine = Engine::new(market.engine, gate);
    let mut out: Vec<Command> = Vec::with_capacity(16);
    let (mut parents, mut fills) = (Vec::new(), Vec::new());
    for i in 0..400_u64 {
        let now = 1_800_000_000_000_000_000 + i * 1_000_000;
        // The gateway's engine thread builds the book ahead when snapshots arrive.
        let mut pending = BTreeMap::new();
        for side in [Side::Sell, Side::Buy] {
            pending.insert(
                (VenueId("book-x".into()), side),
                one_book_snapshot(side, i as i64),
            );
        }
        engine.prepare(&pending);
        for liq in pending.into_values() {
            engine.handle(now, Event::Liquidity(liq), &mut out).unwrap();
        }
        out.clear();

        let event = Event::NewParent(one_book_parent(format!("alloc-{i}")));
        let region = Region::new(GLOBAL);
        engine.handle(now, event, &mut out).unwrap();
        let change = region.change();
        parents.push(change.allocations + change.reallocations);

        let sent = sent_orders(&mut out);
        assert_eq!(sent.len(), 1, "parent {i} is routed to the one book");
        for order in sent {
            let event = full_fill(&order);
            let region = Region::new(GLOBAL);
            engine.handle(now, event, &mut out).unwrap();
            let change = region.change();
            fills.push(change.allocations + change.reallocations);
            assert!(
                out.iter().any(|c| matches!(c, Command::Desk(_))),
                "the fill is reported to the desk"
            );
            out.clear();
        }
    }
    // The first parents grow the engine's maps from empty; measure the steady state.
    let (parents, fills) = (parents.split_off(100), fills.split_off(100));
    let (parent_median, fill_median) = (median(parents), median(fills));
    assert!(
        parent_median <= NEW_PARENT_BUDGET,
        "a new parent made {parent_median} heap allocations at the median, budget {NEW_PARENT_BUDGET}"
    );
    assert!(
        fill_median <= FILL_BUDGET,
        "a fill made {fill_median} heap allocations at the median, budget {FILL_BUDGET}"
    );
}
