//! Checked exact arithmetic: every operation either gives the exact
//! `rust_decimal::Decimal` result or reports [`Overflow`], never panics.

use super::error::Overflow;
use rust_decimal::Decimal;

pub(crate) fn add(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_add(b).ok_or(Overflow)
}

pub(crate) fn sub(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_sub(b).ok_or(Overflow)
}

pub(crate) fn mul(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_mul(b).ok_or(Overflow)
}

/// `a / b`; dividing by zero is reported as [`Overflow`] too (callers check for an
/// absent denominator first, so this only happens with a denominator too small to
/// represent).
pub(crate) fn div(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_div(b).ok_or(Overflow)
}

/// `Σ v` over `values`.
pub(crate) fn sum(values: impl IntoIterator<Item = Decimal>) -> Result<Decimal, Overflow> {
    values.into_iter().try_fold(Decimal::ZERO, add)
}

/// Basis points: `10^4`.
pub(crate) fn ten_thousand() -> Decimal {
    Decimal::from(10_000)
}
