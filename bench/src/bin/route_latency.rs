//! Latency distribution of one routing decision, timed call by call into an
//! hdrhistogram: `cargo run --release -p bench --bin route-latency [ITERATIONS]`.
//!
//! Each sample includes one `Instant::now()` pair (tens of ns on this machine), so the
//! figures are an upper bound of the decision alone; criterion's `routing` bench gives
//! the mean without that overhead.

use hdrhistogram::Histogram;
use rust_decimal::Decimal;
use sor::router::{RouteRequest, Router};
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;
use venues::Side;

fn main() -> ExitCode {
    let iterations: u64 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 200_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("error: ITERATIONS must be a whole number greater than 0");
            return ExitCode::from(2);
        }
    };
    let book = bench::eight_venues();
    let caps = vec![None; book.venues().len()];
    let mut router = Router::new();
    println!(
        "case                       p50 ns   p90 ns   p99 ns  p99.9 ns   max ns  (n = {iterations})"
    );
    for (name, qty) in [
        ("1M slice, 8 venues", 1_000_000),
        ("17.78M sweep, 8 venues", 17_780_000),
    ] {
        let req = RouteRequest {
            side: Side::Sell,
            qty: Decimal::from(qty),
            limit: Some(Decimal::new(9990, 4)),
            caps: &caps,
        };
        let Ok(mut h) = Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3) else {
            eprintln!("error: cannot make a histogram");
            return ExitCode::FAILURE;
        };
        for _ in 0..iterations / 10 {
            black_box(router.solve(&book, &req));
        }
        for _ in 0..iterations {
            let t = Instant::now();
            black_box(router.solve(black_box(&book), black_box(&req)));
            let ns = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
            let _ = h.record(ns.max(1));
        }
        println!(
            "{name:<24} {:>8} {:>8} {:>8} {:>9} {:>8}",
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.9),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max()
        );
    }
    ExitCode::SUCCESS
}
