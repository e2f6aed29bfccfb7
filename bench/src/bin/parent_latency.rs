//! The engine's work for one desk parent as the gateway sees it, in a hot loop with
//! no threads, sockets or scheduling: the book's market data changed since the last
//! parent (a new snapshot), a sweep parent of 100 USDC arrives and is routed to the
//! one FIX book, its child is filled. Each `Engine::handle` call is timed into an
//! hdrhistogram, by kind. Three runs: the parent rebuilds its route book on its own
//! path; the book was built ahead ([`sor::engine::Engine::prepare`], what the
//! gateway's engine thread does when the snapshots arrive); built ahead, with the
//! caches evicted before each parent.
//!
//! `cargo run --release -p bench --bin parent-latency [PARENTS] [RUN]`, RUN one of
//! `all` (the default), `rebuilt`, `ahead` or `cold` (one run only, for a profiler:
//! `valgrind --tool=callgrind --toggle-collect='*Engine*handle*'` then counts the
//! instructions of the engine's steps alone). Beside the times it prints the heap
//! allocations each step made (run `ahead`), counted by a wrapping global allocator.
//!
//! Set beside the gateway-latency bench's "engine step of a new parent" row, the gap is
//! what the live gateway adds: cold caches after a thread wakes, another thread on the
//! core, the day's parents kept in the engine's maps.

use bench::gateway::{full_fill, one_book_parent, one_book_snapshot, sent_orders};
use hdrhistogram::Histogram;
use sor::engine::{Command, Engine, Event};
use sor::gate::AnyGate;
use sor::scenario::Scenario;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;
use venues::{Side, VenueId};

/// Counts every heap allocation, so each step's allocations can be reported beside its time.
#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 1_000_000_000, 3).expect("1 ns to 1 s at 3 figures is valid")
}

/// How the parents of one run find their route book and the caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The book is rebuilt on the parent's path (the snapshots changed).
    Rebuilt,
    /// The book was built ahead, when the snapshots arrived.
    Ahead,
    /// Built ahead, and the caches were evicted before each parent (a buffer larger
    /// than the last-level cache is walked): what a thread that slept while others
    /// ran on its core meets.
    AheadCold,
}

/// Per-kind step times of one run.
struct Run {
    liquidity: Histogram<u64>,
    new_parent: Histogram<u64>,
    fill: Histogram<u64>,
    /// Heap allocations (plus reallocations) per new-parent step.
    new_parent_allocs: Histogram<u64>,
    /// Heap allocations (plus reallocations) per fill step.
    fill_allocs: Histogram<u64>,
    kept: usize,
}

fn run(mode: Mode, parents: u64) -> Result<Run, String> {
    let market = Scenario::parse_market(bench::gateway::ONE_BOOK_MARKET)
        .map_err(|e| format!("the bench market: {e}"))?;
    let gate = AnyGate::Minimal(risk::MinimalGate::new(market.risk));
    let mut engine = Engine::new(market.engine, gate);
    let mut r = Run {
        liquidity: hist(),
        new_parent: hist(),
        fill: hist(),
        new_parent_allocs: hist(),
        fill_allocs: hist(),
        kept: 0,
    };
    let mut out: Vec<Command> = Vec::with_capacity(16);
    let mut now: u64 = 1_800_000_000_000_000_000;
    let mut pending = std::collections::BTreeMap::new();
    let mut evict = vec![0u8; if mode == Mode::AheadCold { 64 << 20 } else { 0 }];
    let warmup = parents / 10;
    let time = |h: &mut Histogram<u64>, t: Instant, measured: bool| {
        if measured {
            let ns = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
            let _ = h.record(ns.max(1));
        }
    };
    let count = |h: &mut Histogram<u64>,
                 region: &Region<'_, std::alloc::System>,
                 measured: bool| {
        if measured {
            let stats = region.change();
            let _ = h
                .record(u64::try_from(stats.allocations + stats.reallocations).unwrap_or(u64::MAX));
        }
    };
    for i in 0..(parents + warmup) {
        let measured = i >= warmup;
        now += 1_000_000;
        // The end of the last fill's batch.
        engine.release_retired();
        if mode != Mode::Rebuilt {
            // What the gateway's engine thread does when the snapshots arrive.
            pending.clear();
            for side in [Side::Sell, Side::Buy] {
                pending.insert(
                    (VenueId("book-x".into()), side),
                    one_book_snapshot(side, i as i64),
                );
            }
            engine.prepare(&pending);
        }
        for side in [Side::Sell, Side::Buy] {
            let event = Event::Liquidity(one_book_snapshot(side, i as i64));
            let t = Instant::now();
            let _ = black_box(engine.handle(now, event, &mut out));
            time(&mut r.liquidity, t, measured);
            out.clear();
        }
        if !evict.is_empty() {
            for b in evict.iter_mut().step_by(64) {
                *b = b.wrapping_add(1);
            }
            black_box(&evict);
        }
        let event = Event::NewParent(one_book_parent(format!("bench-{i}")));
        let region = Region::new(GLOBAL);
        let t = Instant::now();
        let handled = engine.handle(now, event, &mut out);
        time(&mut r.new_parent, t, measured);
        count(&mut r.new_parent_allocs, &region, measured);
        handled.map_err(|e| format!("parent {i}: {e}"))?;
        // The end of the parent's batch in the gateway.
        engine.release_retired();
        let sent = sent_orders(&mut out);
        if sent.is_empty() {
            return Err(format!("parent {i} sent no child"));
        }
        for order in sent {
            let event = full_fill(&order);
            let region = Region::new(GLOBAL);
            let t = Instant::now();
            let _ = black_box(engine.handle(now, event, &mut out));
            time(&mut r.fill, t, measured);
            count(&mut r.fill_allocs, &region, measured);
            out.clear();
        }
    }
    r.kept = engine.parents().len();
    Ok(r)
}

fn main() -> ExitCode {
    let parents: u64 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 100_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("error: PARENTS must be a whole number greater than 0");
            return ExitCode::from(2);
        }
    };
    let only = match std::env::args().nth(2).as_deref() {
        None | Some("all") => None,
        Some("rebuilt") => Some(Mode::Rebuilt),
        Some("ahead") => Some(Mode::Ahead),
        Some("cold") => Some(Mode::AheadCold),
        Some(other) => {
            eprintln!("error: RUN must be all, rebuilt, ahead or cold, not {other:?}");
            return ExitCode::from(2);
        }
    };
    println!("| engine step (ns) | n | p50 | p90 | p99 | p99.9 | max |");
    println!("|---|---|---|---|---|---|---|");
    let row = |name: &str, h: &Histogram<u64>| {
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            h.len(),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.9),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max()
        );
    };
    let mut kept = 0;
    let mut allocs = None;
    for (mode, name) in [
        (Mode::Rebuilt, "book rebuilt on its path"),
        (Mode::Ahead, "book built ahead"),
        (Mode::AheadCold, "book built ahead, caches evicted"),
    ] {
        if only.is_some_and(|m| m != mode) {
            continue;
        }
        let r = match run(mode, parents) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        if mode == Mode::Rebuilt || only.is_some() {
            row("book snapshot", &r.liquidity);
            row("child fill", &r.fill);
        }
        row(&format!("new parent, {name}"), &r.new_parent);
        if mode == Mode::Ahead {
            allocs = Some((r.new_parent_allocs, r.fill_allocs));
        }
        kept = r.kept;
    }
    println!("({parents} measured parents a run; {kept} parents kept in the engine at the end)");
    if let Some((parent, fill)) = allocs {
        println!();
        println!("| heap allocations per step (book built ahead) | n | p50 | p90 | p99 | max |");
        println!("|---|---|---|---|---|---|");
        for (name, h) in [("new parent", &parent), ("child fill", &fill)] {
            println!(
                "| {name} | {} | {} | {} | {} | {} |",
                h.len(),
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.9),
                h.value_at_quantile(0.99),
                h.max()
            );
        }
    }
    ExitCode::SUCCESS
}
