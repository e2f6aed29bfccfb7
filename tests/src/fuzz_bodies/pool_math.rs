//! Pool math: the DODO V2 contract math ([`venues::pmm`]) and the two pools behind
//! [`venues::pool_math::PoolMath`] on arbitrary states and amounts. No panic and no
//! overflow that is not a returned error; where a quote succeeds, what
//! `shared/specs/pmm.md` guarantees must hold.

use super::input::Input;

/// 1.0 on the contract's 1e18 scale.
const ONE: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);
use rust_decimal::Decimal;
use venues::pmm::{
    self, FeeRates, MathVersion, PmmState, RState, Revert, SellQuote, U256, mid_price,
};
use venues::pool_math::{ApproxPmm, ExactPmm, PoolMath};

/// One case: a pool (exact state, fees, math revision, token decimals), two amounts,
/// and an approximate pool.
#[derive(Debug, Clone)]
pub struct PoolCase {
    /// The contract's state as `getPMMState` or storage holds it.
    pub state: PmmState,
    /// LP and maintainer fee rates (1e18 = 100%).
    pub fees: FeeRates,
    /// The math revision.
    pub version: MathVersion,
    /// Raw amount sold.
    pub amount: U256,
    /// How much more the second, larger sale sells.
    pub more: U256,
    /// Token decimals of base and quote for the token-amount interface.
    pub decimals: (u32, u32),
    /// A token amount for the token-amount interface.
    pub token_amount: Decimal,
    /// An approximate pool inside the domain a scenario file accepts, when the
    /// input describes one.
    pub approx: Option<ApproxPmm>,
}

/// Target `pool_math`: decodes a [`PoolCase`] from bytes and checks it.
pub fn pool_math(data: &[u8]) {
    check_pool_case(&PoolCase::from_bytes(data));
}

impl PoolCase {
    /// Decodes a case; every byte string is some case.
    pub fn from_bytes(data: &[u8]) -> Self {
        let mut input = Input::new(data);
        let state = PmmState {
            i: u256(&mut input),
            k: u256(&mut input),
            b: u256(&mut input),
            q: u256(&mut input),
            b0: u256(&mut input),
            q0: u256(&mut input),
            r: match input.byte() % 3 {
                0 => RState::One,
                1 => RState::AboveOne,
                _ => RState::BelowOne,
            },
        };
        let fees = FeeRates {
            lp_fee_rate: u256(&mut input),
            mt_fee_rate: u256(&mut input),
        };
        let version = MathVersion::ALL[usize::from(input.byte()) % MathVersion::ALL.len()];
        let amount = u256(&mut input);
        let more = u256(&mut input);
        let decimals = (u32::from(input.byte() % 40), u32::from(input.byte() % 40));
        let token_amount = decimal(&mut input);
        let approx = approx_pool(&mut input);
        Self {
            state,
            fees,
            version,
            amount,
            more,
            decimals,
            token_amount,
            approx,
        }
    }
}

/// A 256-bit value, biased towards the sizes pools use.
fn u256(input: &mut Input) -> U256 {
    let e18 = ONE;
    let selector = input.byte();
    match selector % 8 {
        0 => U256::from(input.byte()),
        1 => U256::from(input.u64()),
        2 => U256::from(input.u128()),
        3 => {
            let mut raw = [0u8; 32];
            let head = input.bytes(32);
            raw[..head.len()].copy_from_slice(head);
            U256::from_be_bytes(raw)
        }
        4 => {
            let exp = u64::from(input.byte() % 78);
            let ten = U256::from(10u64).pow(U256::from(exp));
            ten.saturating_mul(U256::from(input.u16()))
        }
        5 => {
            let specials = [
                U256::ZERO,
                U256::from(1u64),
                U256::from(2u64),
                e18 - U256::from(1u64),
                e18,
                e18 + U256::from(1u64),
                e18 * e18,
                (U256::from(1u64) << 112) - U256::from(1u64),
                U256::from(1u64) << 128,
                U256::MAX,
            ];
            specials[usize::from(input.byte()) % specials.len()]
        }
        6 => U256::from(1u64) << (usize::from(input.byte())),
        _ => e18.saturating_mul(U256::from(input.u16())),
    }
}

/// A decimal with any sign, mantissa and scale.
fn decimal(input: &mut Input) -> Decimal {
    let mantissa = i128::try_from(input.u128() >> 32).unwrap_or(0);
    let negative = input.byte() & 1 == 1;
    let scale = u32::from(input.byte() % 29);
    let d = Decimal::try_from_i128_with_scale(mantissa, scale).unwrap_or(Decimal::ONE);
    if negative { -d } else { d }
}

/// An approximate pool, or `None` when the decoded one is outside what a scenario
/// file accepts (`i`, reserves and targets > 0, `k` in [0, 1], fee in [0, 1),
/// decimals at most 18).
fn approx_pool(input: &mut Input) -> Option<ApproxPmm> {
    let unit = |input: &mut Input, top: u64| {
        Decimal::from(input.u64() % (top + 1)) / Decimal::from(1_000_000_000_000_000_000u64)
    };
    let pool = ApproxPmm {
        i: decimal(input),
        k: unit(input, 1_000_000_000_000_000_000),
        base_reserve: decimal(input),
        quote_reserve: decimal(input),
        base_target: decimal(input),
        quote_target: decimal(input),
        lp_fee_rate: unit(input, 999_999_999_999_999_999),
        base_decimals: u32::from(input.byte() % 19),
        quote_decimals: u32::from(input.byte() % 19),
    };
    let positive = [
        pool.i,
        pool.base_reserve,
        pool.quote_reserve,
        pool.base_target,
        pool.quote_target,
    ];
    positive.iter().all(|v| *v > Decimal::ZERO).then_some(pool)
}

/// Runs every check on `case`.
pub fn check_pool_case(case: &PoolCase) {
    let _ = mid_price(&case.state, case.version);
    let _ = pmm::adjusted_state(&case.state, case.version);
    for base_in in [true, false] {
        check_raw_quote(case, base_in);
        check_exact_pool(case, base_in);
    }
    if let Some(pool) = &case.approx {
        check_approx_pool(pool, case.token_amount);
    }
}

fn query(case: &PoolCase, base_in: bool, amount: U256) -> Result<SellQuote, Revert> {
    if base_in {
        pmm::query_sell_base(&case.state, &case.fees, amount, case.version)
    } else {
        pmm::query_sell_quote(&case.state, &case.fees, amount, case.version)
    }
}

/// The contract math: output within the reserve it comes from, R moving as the
/// spec's tables say, and a larger sale never receiving less.
fn check_raw_quote(case: &PoolCase, base_in: bool) {
    let s = &case.state;
    let Ok(q) = query(case, base_in, case.amount) else {
        return;
    };
    let Some(out) = q.receive.checked_add(q.mt_fee) else {
        panic!("receive + mt_fee overflows: {q:?} for {case:?}");
    };
    // The output side's reserve; at R = ONE the curve is anchored on the target, so
    // the payout is bounded by the target there (pmm.md section 5).
    let (reserve, target) = if base_in { (s.q, s.q0) } else { (s.b, s.b0) };
    let bound = if s.r == RState::One { target } else { reserve };
    assert!(
        out <= bound,
        "base_in={base_in}: pays {out} out of {bound}: {q:?} for {case:?}"
    );
    if s.r != RState::One || reserve >= target {
        assert!(out <= reserve, "base_in={base_in}: {q:?} for {case:?}");
    }
    let allowed: &[RState] = match (base_in, s.r) {
        (true, RState::One) | (true, RState::BelowOne) => &[RState::BelowOne],
        (false, RState::One) | (false, RState::AboveOne) => &[RState::AboveOne],
        _ => &[RState::One, RState::AboveOne, RState::BelowOne],
    };
    assert!(allowed.contains(&q.new_r), "R {:?} -> {:?}", s.r, q.new_r);

    let Some(larger) = case.amount.checked_add(case.more) else {
        return;
    };
    if !in_contract_domain(case, larger) {
        return;
    }
    let Ok(q2) = query(case, base_in, larger) else {
        return;
    };
    // The real-valued curve pays more for more, and the contract rounds every step
    // down (pmm.md section 4), but it does not promise monotonicity at the wei level:
    // the floors in the integral (`r`, `pen`) and the trade solver can make a sale a
    // few wei larger receive up to about out/1e18 less (fuzzing found 3453 wei of
    // 1.2e27 in BELOW_ONE). So a larger sale may receive less only by rounding: at
    // most 2 wei plus one part in 1e12 of the output. Net of fees, each fee is floored
    // on its own (section 6), which can cost one wei more.
    let no_fees = PoolCase {
        fees: FeeRates {
            lp_fee_rate: U256::ZERO,
            mt_fee_rate: U256::ZERO,
        },
        ..case.clone()
    };
    let slack = |x: U256| x / U256::from(1_000_000_000_000u64) + U256::from(2u64);
    if let (Ok(g1), Ok(g2)) = (
        query(&no_fees, base_in, case.amount),
        query(&no_fees, base_in, larger),
    ) {
        assert!(
            g2.receive + slack(g1.receive) >= g1.receive,
            "base_in={base_in}: gross for {larger} is {} < {} for {}: {case:?}",
            g2.receive,
            g1.receive,
            case.amount
        );
    }
    assert!(
        q2.receive + slack(q.receive) + U256::from(1u64) >= q.receive,
        "base_in={base_in}: selling {larger} receives {} < {} for {}: {case:?}",
        q2.receive,
        q.receive,
        case.amount
    );
}

/// Whether the pool and both sales are within what the contract can hold: `0 < i <=
/// 1e36`, `K <= 1e18`, fee rates summing to at most 1e18, reserves and targets below
/// 2^112, and a sale that leaves the input reserve below 2^112.
fn in_contract_domain(case: &PoolCase, larger: U256) -> bool {
    let s = &case.state;
    let max112 = (U256::from(1u64) << 112) - U256::from(1u64);
    let fee_sum = case.fees.lp_fee_rate.checked_add(case.fees.mt_fee_rate);
    !s.i.is_zero()
        && s.i <= ONE * ONE
        && s.k <= ONE
        && fee_sum.is_some_and(|f| f <= ONE)
        && [s.b, s.q, s.b0, s.q0].iter().all(|v| *v <= max112)
        && s.b
            .max(s.q)
            .checked_add(larger)
            .is_some_and(|v| v <= max112)
}

/// `amount` in raw units at `decimals`, when it is a positive amount on them.
fn raw_units(amount: Decimal, decimals: u32) -> Option<U256> {
    let n = amount.normalize();
    if n <= Decimal::ZERO || n.scale() > decimals {
        return None;
    }
    let mantissa = u128::try_from(n.mantissa()).ok()?;
    let ten = U256::from(10u64).checked_pow(U256::from(decimals - n.scale()))?;
    U256::from(mantissa).checked_mul(ten)
}

/// The exact pool through the token-amount interface: the same figure as the raw
/// math, and a sale that moves the reserves as the contract does, or fails and moves
/// nothing.
fn check_exact_pool(case: &PoolCase, base_in: bool) {
    let (base_decimals, quote_decimals) = case.decimals;
    let pool = ExactPmm {
        state: case.state,
        fees: case.fees,
        version: case.version,
        base_decimals,
        quote_decimals,
    };
    let amount = case.token_amount;
    let (in_dp, out_dp) = if base_in {
        (base_decimals, quote_decimals)
    } else {
        (quote_decimals, base_decimals)
    };
    let quoted = if base_in {
        pool.query_sell_base(amount)
    } else {
        pool.query_sell_quote(amount)
    };
    let mut after = pool.clone();
    let sold = if base_in {
        after.sell_base(amount)
    } else {
        after.sell_quote(amount)
    };
    let Ok(got) = quoted else {
        assert!(
            sold.is_err(),
            "query failed but the sale went through: {case:?}"
        );
        assert_eq!(after, pool, "a failed sale moved the pool: {case:?}");
        return;
    };
    assert!(
        got >= Decimal::ZERO && got.scale() <= out_dp,
        "{got}: {case:?}"
    );
    let Some(raw) = raw_units(amount, in_dp) else {
        panic!("{amount} at {in_dp} dp was quoted but is not a raw amount: {case:?}");
    };
    let Ok(q) = query(case, base_in, raw) else {
        panic!("the pool quoted {got} where the contract math reverts: {case:?}");
    };
    assert_eq!(
        Decimal::try_from_i128_with_scale(i128::try_from(q.receive).unwrap_or(-1), out_dp).ok(),
        Some(got),
        "{case:?}"
    );
    match sold {
        Err(_) => assert_eq!(after, pool, "a failed sale moved the pool: {case:?}"),
        Ok(sold) => {
            assert_eq!(sold, got, "sale and quote differ: {case:?}");
            let s = &pool.state;
            let a = &after.state;
            let (in_before, in_after, out_before, out_after) = if base_in {
                (s.b, a.b, s.q, a.q)
            } else {
                (s.q, a.q, s.b, a.b)
            };
            assert_eq!(in_after.checked_sub(in_before), Some(raw), "{case:?}");
            assert_eq!(
                out_before.checked_sub(out_after),
                q.receive.checked_add(q.mt_fee),
                "{case:?}"
            );
            assert_eq!(a.r, q.new_r, "{case:?}");
        }
    }
}

/// The approximate pool: a quote is an error or an output below the reserve it is
/// taken from, and a sale moves the reserves by exactly that.
fn check_approx_pool(pool: &ApproxPmm, amount: Decimal) {
    for base_in in [true, false] {
        let quoted = if base_in {
            pool.query_sell_base(amount)
        } else {
            pool.query_sell_quote(amount)
        };
        let mut after = pool.clone();
        let sold = if base_in {
            after.sell_base(amount)
        } else {
            after.sell_quote(amount)
        };
        let reserve = if base_in {
            pool.quote_reserve
        } else {
            pool.base_reserve
        };
        match quoted {
            Ok(out) => {
                assert!(out >= Decimal::ZERO && out < reserve, "{out}: {pool:?}");
                assert_eq!(sold, Ok(out), "{pool:?}");
            }
            Err(_) => {
                assert!(sold.is_err(), "{pool:?}");
                assert_eq!(&after, pool, "a failed sale moved the pool");
            }
        }
    }
}
