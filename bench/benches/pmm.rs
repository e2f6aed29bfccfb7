//! One exact DODO V2 quote (`querySellBase` / `querySellQuote`) in each R state.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use venues::pmm::{
    FeeRates, MathVersion, PmmState, RState, U256, query_sell_base, query_sell_quote,
};

fn e18() -> U256 {
    U256::from(10u64).pow(U256::from(18u64))
}

/// A 6/6-decimal stable pool (like cWUSDC/USDC) in each R state.
fn states() -> Vec<(&'static str, PmmState)> {
    let t = U256::from(42_278_000_000u64);
    let one = PmmState {
        i: e18(),
        k: e18() / U256::from(2u64),
        b: t,
        q: t,
        b0: t,
        q0: t,
        r: RState::One,
    };
    let mut above = one; // base short: B < B0, quote long
    above.b = t - U256::from(1_000_000_000u64);
    above.q = t + U256::from(1_000_000_000u64);
    above.r = RState::AboveOne;
    let mut below = one; // quote short: Q < Q0, base long
    below.b = t + U256::from(1_000_000_000u64);
    below.q = t - U256::from(1_000_000_000u64);
    below.r = RState::BelowOne;
    vec![("one", one), ("above_one", above), ("below_one", below)]
}

fn pmm(c: &mut Criterion) {
    let fees = FeeRates {
        lp_fee_rate: U256::from(300_000_000_000_000u64),
        mt_fee_rate: U256::ZERO,
    };
    let amount = U256::from(100_000_000u64); // 100 tokens
    for (name, state) in states() {
        assert!(query_sell_base(&state, &fees, amount, MathVersion::V2024_01).is_ok());
        c.bench_function(&format!("pmm_sell_base_{name}"), |b| {
            b.iter(|| {
                query_sell_base(
                    black_box(&state),
                    &fees,
                    black_box(amount),
                    MathVersion::V2024_01,
                )
            })
        });
        c.bench_function(&format!("pmm_sell_quote_{name}"), |b| {
            b.iter(|| {
                query_sell_quote(
                    black_box(&state),
                    &fees,
                    black_box(amount),
                    MathVersion::V2024_01,
                )
            })
        });
    }
}

criterion_group!(benches, pmm);
criterion_main!(benches);
