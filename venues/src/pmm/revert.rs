//! The revert reasons a DODO V2 quote can end with, spelled as the contracts spell them.

/// Why a quote reverted: one variant per revert string of the 0.6.9 contracts.
///
/// `Display` (and [`Revert::reason`]) give the exact string the contract reverts with, so a
/// reverted quote can be compared with the EVM's answer as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Revert {
    /// `SafeMath.sub` with `b > a`.
    #[error("SUB_ERROR")]
    SubError,
    /// `SafeMath.mul` whose product does not fit 256 bits.
    #[error("MUL_ERROR")]
    MulError,
    /// `SafeMath.div` / `divCeil` by zero.
    #[error("DIVIDING_ERROR")]
    DividingError,
    /// `SafeMath.add` whose sum does not fit 256 bits.
    #[error("ADD_ERROR")]
    AddError,
    /// An integral or trade against a zero target (`V0 = 0`).
    #[error("TARGET_IS_ZERO")]
    TargetIsZero,
    /// The trade solver's numerator came out 0 (math version 2024-01 only).
    #[error("DODOMath: should not be zero")]
    ShouldNotBeZero,
}

impl Revert {
    /// The contract's revert reason string, e.g. `"SUB_ERROR"`.
    pub fn reason(&self) -> &'static str {
        match self {
            Revert::SubError => "SUB_ERROR",
            Revert::MulError => "MUL_ERROR",
            Revert::DividingError => "DIVIDING_ERROR",
            Revert::AddError => "ADD_ERROR",
            Revert::TargetIsZero => "TARGET_IS_ZERO",
            Revert::ShouldNotBeZero => "DODOMath: should not be zero",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_reason_string() {
        for r in [
            Revert::SubError,
            Revert::MulError,
            Revert::DividingError,
            Revert::AddError,
            Revert::TargetIsZero,
            Revert::ShouldNotBeZero,
        ] {
            assert_eq!(r.to_string(), r.reason());
        }
        assert_eq!(
            Revert::ShouldNotBeZero.to_string(),
            "DODOMath: should not be zero"
        );
    }
}
