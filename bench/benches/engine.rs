//! Engine events per second.
//!
//! - `engine_corridor_mix`: a recorded stream of the events an engine is fed when the
//!   corridor scenario's venues answer six parents (the corridor's 17.78M sweep, sweeps
//!   of 1M, 3M buy, 250k at market and 5M with a 1M max clip, a 2M TWAP in 5 slices):
//!   arrivals, liquidity snapshots, venue acks, fills, rejects (last look), expiries,
//!   gas costs, TWAP slices (`bench::engine_trace`). Each iteration replays the whole
//!   stream into a fresh engine (its construction not timed); throughput is events.
//! - `sim_run_corridor_instant`: the whole of `sor::sim::run` on scenarios/corridor.toml
//!   at `Pace::Instant` (the engine, the simulated venues, the event heap and the run
//!   record; the scenario's parsing not timed); throughput is the run's events.
//!
//! After criterion (under `cargo bench` only), the same stream replayed 200 times
//! with each `Engine::handle` call timed into an hdrhistogram per event kind (each
//! sample includes one `Instant::now()` pair, whose own cost is printed first).
//!
//! `cargo bench -p bench --bench engine`
#![allow(missing_docs)] // criterion_group! generates undocumented items

use bench::engine_trace::{CORRIDOR, EngineTrace, corridor_trace, event_kind};
use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use hdrhistogram::Histogram;
use sor::scenario::Scenario;
use sor::sim::{Pace, run};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

fn engine(c: &mut Criterion) {
    let trace = corridor_trace(1).expect("the corridor trace records");
    trace
        .replay()
        .expect("the trace replays into a fresh engine");
    let n = trace.events.len();
    println!(
        "engine_corridor_mix: {n} events ({}), {} sends, {} commands",
        trace.mix(),
        trace.sends,
        trace.commands
    );
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("engine_corridor_mix", |b| {
        b.iter_batched(
            || {
                let engine = trace.engine().expect("a fresh engine");
                (engine, trace.events.clone(), Vec::with_capacity(64))
            },
            |(mut engine, events, mut out)| {
                for (at, event) in events {
                    let _ = black_box(engine.handle(at, event, &mut out));
                    out.clear();
                }
                engine
            },
            BatchSize::SmallInput,
        )
    });

    let parse = || Scenario::parse(CORRIDOR, None).expect("the corridor parses");
    let outcome = run(parse(), Pace::Instant).expect("the corridor runs");
    println!(
        "sim_run_corridor_instant: {} events, {} children sent",
        outcome.events, outcome.children_sent
    );
    group.throughput(Throughput::Elements(outcome.events));
    group.bench_function("sim_run_corridor_instant", |b| {
        b.iter_batched(
            parse,
            |scenario| run(scenario, Pace::Instant),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).expect("bounds are valid")
}

fn elapsed_ns(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_nanos())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Each `handle` call of `replays` replays of the trace, timed, per event kind.
fn per_kind_table(trace: &EngineTrace, replays: usize) {
    let mut by_kind: BTreeMap<&'static str, Histogram<u64>> = BTreeMap::new();
    let mut all = histogram();
    let mut pair = histogram();
    let mut out = Vec::with_capacity(64);
    for _ in 0..replays {
        let mut engine = trace.engine().expect("a fresh engine");
        for (at, event) in trace.events.iter().cloned() {
            let kind = event_kind(&event);
            let t = Instant::now();
            let _ = black_box(engine.handle(at, event, &mut out));
            let ns = elapsed_ns(t);
            out.clear();
            let _ = by_kind.entry(kind).or_insert_with(histogram).record(ns);
            let _ = all.record(ns);
            let t = Instant::now();
            let _ = pair.record(elapsed_ns(black_box(t)));
        }
    }
    println!("\nper Engine::handle call, hdrhistogram, {replays} replays of the stream");
    println!("kind                     n    mean ns   p50 ns   p90 ns   p99 ns  p99.9 ns");
    let row = |name: &str, h: &Histogram<u64>| {
        println!(
            "{name:<18} {:>8} {:>10.0} {:>8} {:>8} {:>8} {:>9}",
            h.len(),
            h.mean(),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.9),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
        );
    };
    row("Instant::now() pair", &pair);
    for (kind, h) in &by_kind {
        row(kind, h);
    }
    row("all", &all);
}

criterion_group!(benches, engine);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Criterion runs each bench once under `cargo test --benches`; the table only runs
    // under `cargo bench`.
    if std::env::args().any(|a| a == "--bench") {
        let trace = corridor_trace(1).expect("the corridor trace records");
        per_kind_table(&trace, 200);
    }
}
