//! The pre-trade risk gate with 50 venues configured: `check_child` on the approve path
//! and on two reject paths, `room`, `admit` + `on_child_done` (one child's whole life in
//! the gate), and the approve check through
//! the `SharedGate` mutex. After criterion, a per-call latency histogram (p50/p99/p99.9)
//! of each, timed call by call (each sample includes one `Instant::now()` pair, whose own
//! cost is printed first).
//!
//! `cargo bench -p bench --bench risk -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{Criterion, criterion_group};
use hdrhistogram::Histogram;
use risk::{
    AuditLog, ChildCheck, ChildDone, ChildOutcome, DeskLimits, Gate, InstrumentLimits, Limits,
    OverallLimits, PreTradeGate, Ramp, RoomRequest, SharedGate, Side, Stage, VenueLimits,
    approve_child,
};
use rust_decimal::Decimal;
use std::hint::black_box;
use std::time::Instant;

const MS: u64 = 1_000_000;
/// 2024-01-02T12:00:00Z.
const NOON: u64 = 1_704_196_800_000_000_000;
const VENUES: usize = 50;

fn d(v: i64) -> Option<Decimal> {
    Some(Decimal::from(v))
}

/// 50 venues with every kind of venue limit (every fifth on a ramp at its last stage),
/// 10 desks with allow-lists and per-instrument limits, overall limits, one instrument
/// with limits.
fn limits() -> Limits {
    let mut l = Limits::new("USD");
    l.overall = OverallLimits {
        daily_notional: d(10_000_000_000),
        max_open_notional: d(1_000_000_000),
        max_children_per_window: Some(5_000),
        window_ms: Some(1_000),
        min_spacing_ms: None,
    };
    l.ramps.insert(
        "standard".into(),
        Ramp {
            clean_fills_to_graduate: 5,
            stages: ["canary", "repeat", "larger", "cadence", "full"]
                .iter()
                .map(|n| Stage {
                    name: (*n).into(),
                    max_clip: d(5_000_000),
                    max_children_per_window: Some(100),
                    min_spacing_ms: Some(1),
                })
                .collect(),
        },
    );
    let names: Vec<String> = (0..VENUES).map(|i| format!("venue-{i:02}")).collect();
    for (i, name) in names.iter().enumerate() {
        let mut v = VenueLimits {
            min_clip: d(1_000),
            max_clip: d(5_000_000),
            daily_notional: d(500_000_000),
            max_open_notional: d(50_000_000),
            max_children_per_window: Some(100),
            window_ms: Some(1_000),
            min_spacing_ms: Some(10),
            band_bps: d(25),
            ..VenueLimits::default()
        };
        if i % 5 == 0 {
            v.ramp = Some("standard".into());
            v.stage_ceiling = Some("full".into());
        }
        v.instruments.insert(
            "USDC/USD".into(),
            risk::ClipLimits {
                min_clip: d(1_000),
                max_clip: d(4_000_000),
            },
        );
        l.venues.insert(name.clone(), v);
    }
    for k in 0..10 {
        let mut desk = DeskLimits {
            max_parent_qty: d(50_000_000),
            max_parent_notional: d(50_000_000),
            max_open_notional: d(100_000_000),
            daily_notional: d(1_000_000_000),
            parent_band_bps: d(50),
            venues: Some(names.clone()),
            ..DeskLimits::default()
        };
        desk.instruments.insert(
            "USDC/USD".into(),
            risk::DeskInstrumentLimits {
                venues: Some(names.clone()),
                ..Default::default()
            },
        );
        l.desks.insert(format!("DESK{k}"), desk);
    }
    l.instruments.insert(
        "USDC/USD".into(),
        InstrumentLimits {
            min_clip: d(1_000),
            max_clip: d(5_000_000),
            band_bps: d(30),
        },
    );
    l
}

fn child(venue: &str, qty: i64) -> ChildCheck<'_> {
    ChildCheck {
        desk: "DESK7",
        parent_instrument: "USDC/USD",
        venue,
        instrument: "USDC/USD",
        side: Side::Sell,
        qty: Decimal::from(qty),
        notional: Decimal::from(qty),
        limit_px: Some(Decimal::new(9995, 4)),
        reference_px: Some(Decimal::ONE),
    }
}

/// A gate with some usage on every venue, its ramp venues moved to the last stage.
fn gate() -> Gate {
    let mut g = Gate::new(limits()).expect("the bench limits are valid");
    let (mut audit, _) = AuditLog::memory();
    for i in (0..VENUES).step_by(5) {
        let by = risk::Actor {
            who: "bench",
            reason: "fixture",
            now: NOON,
        };
        g.set_stage(&mut audit, &by, &format!("venue-{i:02}"), "full")
            .expect("stage exists");
    }
    let mut t = NOON - 10_000 * MS;
    for round in 0..20 {
        for i in 0..VENUES {
            let name = format!("venue-{i:02}");
            approve_child(&mut g, &child(&name, 10_000 + round), t).expect("fixture child");
            t += MS / 2;
        }
    }
    g
}

const APPROVE: &str = "venue-35"; // on the ramp, so every check applies
const NOW: u64 = NOON + 60_000 * MS;

fn room_req() -> RoomRequest<'static> {
    RoomRequest {
        desk: "DESK7",
        parent_instrument: "USDC/USD",
        venue: APPROVE,
        instrument: "USDC/USD",
        notional_per_unit: Some(Decimal::ONE),
    }
}

fn risk(c: &mut Criterion) {
    let g = gate();
    let ok = child(APPROVE, 1_000_000);
    let too_big = child(APPROVE, 4_500_000);
    assert!(g.check_child(&ok, NOW).is_ok());
    assert_eq!(
        g.check_child(&too_big, NOW).map_err(|e| e.rule),
        Err(risk::Rule::MaxClip)
    );
    let mut spaced = gate();
    approve_child(&mut spaced, &ok, NOW - 5 * MS).expect("sent");
    assert_eq!(
        spaced.check_child(&ok, NOW).map_err(|e| e.rule),
        Err(risk::Rule::MinSpacing)
    );

    c.bench_function("risk_check_child_approve_50_venues", |b| {
        b.iter(|| g.check_child(black_box(&ok), black_box(NOW)))
    });
    c.bench_function("risk_check_child_reject_max_clip_50_venues", |b| {
        b.iter(|| g.check_child(black_box(&too_big), black_box(NOW)))
    });
    c.bench_function("risk_check_child_reject_min_spacing_50_venues", |b| {
        b.iter(|| spaced.check_child(black_box(&ok), black_box(NOW)))
    });
    let q = room_req();
    c.bench_function("risk_room_50_venues", |b| {
        b.iter(|| g.room(black_box(&q), black_box(NOW)))
    });
    let mut live = gate();
    let mut now = NOW;
    let small = child("venue-36", 1_000);
    assert!(admit_and_done(&mut live, &small, now + 20 * MS));
    c.bench_function("risk_admit_and_done_50_venues", |b| {
        b.iter(|| {
            now += 20 * MS;
            admit_and_done(&mut live, &small, now)
        })
    });
    let shared = SharedGate::new(gate(), AuditLog::memory().0);
    c.bench_function("risk_shared_check_child_approve_50_venues", |b| {
        b.iter(|| PreTradeGate::check_child(&shared, black_box(&ok), black_box(NOW)))
    });
}

/// One child's whole life in the gate: checked and counted, then done unfilled (open
/// notional released, daily notional given back), so the loop runs in a steady state.
fn admit_and_done(g: &mut Gate, c: &ChildCheck<'_>, now: u64) -> bool {
    let ok = g.admit(c, now).is_ok();
    g.on_child_done(
        &ChildDone {
            desk: c.desk,
            venue: c.venue,
            sent_at: now,
            sent_notional: c.notional,
            filled_notional: Decimal::ZERO,
            outcome: ChildOutcome::NoFill,
        },
        now,
    );
    ok
}

/// Per-call latency of `f`, in ns, into a histogram.
fn histogram(mut f: impl FnMut(), n: u64) -> Histogram<u64> {
    let mut h = Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).expect("bounds are valid");
    for _ in 0..n / 10 {
        f();
    }
    for _ in 0..n {
        let t = Instant::now();
        f();
        let ns = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let _ = h.record(ns.max(1));
    }
    h
}

fn latency_table() {
    const N: u64 = 1_000_000;
    let g = gate();
    let ok = child(APPROVE, 1_000_000);
    let too_big = child(APPROVE, 4_500_000);
    let q = room_req();
    let mut live = gate();
    let mut now = NOW;
    let small = child("venue-36", 1_000);
    println!("\nper call, hdrhistogram, n = {N} (each sample includes one Instant::now() pair)");
    println!("case                                  p50 ns   p90 ns   p99 ns  p99.9 ns");
    let row = |name: &str, h: Histogram<u64>| {
        println!(
            "{name:<36} {:>8} {:>8} {:>8} {:>9}",
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.9),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
        );
    };
    row("Instant::now() pair alone", histogram(|| {}, N));
    row(
        "check_child approve",
        histogram(
            || {
                let _ = black_box(g.check_child(black_box(&ok), NOW));
            },
            N,
        ),
    );
    row(
        "check_child reject (max clip)",
        histogram(
            || {
                let _ = black_box(g.check_child(black_box(&too_big), NOW));
            },
            N,
        ),
    );
    row(
        "room",
        histogram(
            || {
                black_box(g.room(black_box(&q), NOW));
            },
            N,
        ),
    );
    row(
        "admit + on_child_done",
        histogram(
            || {
                now += 20 * MS;
                black_box(admit_and_done(&mut live, black_box(&small), now));
            },
            N,
        ),
    );
}

criterion_group!(benches, risk);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Criterion runs each bench once under `cargo test --benches`; the histograms only
    // run under `cargo bench`.
    if std::env::args().any(|a| a == "--bench") {
        latency_table();
    }
}
