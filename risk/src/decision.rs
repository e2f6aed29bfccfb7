//! What the gate answers: the approval token, the rules and the structured reject.

use crate::request::{ChildCheck, ChildRequest};
use rust_decimal::Decimal;
use serde::Serialize;
use std::fmt;

/// Proof that one child passed the gate: only [`crate::approve`] and
/// [`crate::approve_child`] can make one.
///
/// It records what was approved so the holder cannot reuse it for a larger child, and
/// what the engine must hand back in [`crate::ChildDone`] when the child ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    venue: String,
    qty: Decimal,
    notional: Decimal,
    at: u64,
}

impl Approved {
    pub(crate) fn new(child: &ChildRequest<'_>) -> Self {
        Self {
            venue: child.venue.to_owned(),
            qty: child.qty,
            notional: child.notional,
            at: 0,
        }
    }

    pub(crate) fn checked(child: &ChildCheck<'_>, now: u64) -> Self {
        Self {
            venue: child.venue.to_owned(),
            qty: child.qty,
            notional: child.notional,
            at: now,
        }
    }

    /// The venue the approval is for.
    pub fn venue(&self) -> &str {
        &self.venue
    }

    /// The quantity the approval covers; a child may not exceed it.
    pub fn qty(&self) -> Decimal {
        self.qty
    }

    /// The notional the gate counted for this child (give it back as
    /// [`crate::ChildDone::sent_notional`]).
    pub fn notional(&self) -> Decimal {
        self.notional
    }

    /// When the gate approved (and counted) the child, in nanoseconds; 0 for an approval
    /// of the time-less [`crate::approve`]. Give it back as [`crate::ChildDone::sent_at`].
    pub fn approved_at(&self) -> u64 {
        self.at
    }

    /// Whether this approval covers a child of `qty` at `venue`.
    pub fn covers(&self, venue: &str, qty: Decimal) -> bool {
        self.venue == venue && qty <= self.qty
    }
}

/// The rule a rejected order broke. Stable names: desks and dashboards match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "&'static str")]
pub enum Rule {
    /// A child larger than the venue's (or the venue-instrument's, or the instrument's)
    /// max clip.
    MaxClip,
    /// A parent whose notional is above the desk's maximum.
    MaxParentNotional,
    /// A parent or child with a non-positive quantity.
    NonPositiveQty,
    /// A parent or child with a negative notional.
    NegativeNotional,
    /// A desk the limits do not name (the gate fails closed).
    UnknownDesk,
    /// A venue the limits do not name (the gate fails closed).
    UnknownVenue,
    /// A parent whose notional is in another currency than the limits'.
    CurrencyMismatch,
    /// A kill switch (global, desk or venue) is engaged.
    KillSwitch,
    /// The venue is not on the desk's (or the desk-instrument's) allow-list.
    VenueNotAllowed,
    /// A child smaller than the min clip.
    MinClip,
    /// A child larger than the max clip of the venue's current ramp stage.
    StageMaxClip,
    /// A parent whose quantity is above the desk's maximum.
    MaxParentQty,
    /// A parent whose own limit price is too far from the reference (fat finger).
    ParentPriceBand,
    /// A child whose limit price is too far from the reference.
    PriceBand,
    /// A price band applies but the limit price or the reference is missing or not
    /// positive.
    MissingPrice,
    /// Working children's notional (overall, desk or venue) would exceed the maximum.
    MaxOpenNotional,
    /// The day's notional (overall, desk or venue) would exceed the cap.
    DailyNotional,
    /// Too many children in the rolling window (overall or venue).
    MaxChildrenPerWindow,
    /// Too many children in the rolling window for the venue's ramp stage.
    StageMaxChildrenPerWindow,
    /// Too soon after the previous child (overall or at the venue).
    MinSpacing,
    /// Too soon after the previous child for the venue's ramp stage.
    StageMinSpacing,
}

impl Rule {
    /// Every rule, in the order the gate checks a child.
    pub const ALL: [Rule; 21] = [
        Rule::NonPositiveQty,
        Rule::NegativeNotional,
        Rule::UnknownDesk,
        Rule::UnknownVenue,
        Rule::CurrencyMismatch,
        Rule::KillSwitch,
        Rule::VenueNotAllowed,
        Rule::MaxParentQty,
        Rule::MaxParentNotional,
        Rule::ParentPriceBand,
        Rule::MinClip,
        Rule::MaxClip,
        Rule::StageMaxClip,
        Rule::MissingPrice,
        Rule::PriceBand,
        Rule::MaxOpenNotional,
        Rule::DailyNotional,
        Rule::MaxChildrenPerWindow,
        Rule::StageMaxChildrenPerWindow,
        Rule::MinSpacing,
        Rule::StageMinSpacing,
    ];

    /// The rule's stable name.
    pub fn name(self) -> &'static str {
        match self {
            Rule::MaxClip => "max clip",
            Rule::MaxParentNotional => "max parent notional",
            Rule::NonPositiveQty => "positive quantity",
            Rule::NegativeNotional => "non-negative notional",
            Rule::UnknownDesk => "unknown desk",
            Rule::UnknownVenue => "unknown venue",
            Rule::CurrencyMismatch => "notional currency",
            Rule::KillSwitch => "kill switch",
            Rule::VenueNotAllowed => "venue allow-list",
            Rule::MinClip => "min clip",
            Rule::StageMaxClip => "stage max clip",
            Rule::MaxParentQty => "max parent qty",
            Rule::ParentPriceBand => "parent price band",
            Rule::PriceBand => "price band",
            Rule::MissingPrice => "price band input",
            Rule::MaxOpenNotional => "max open notional",
            Rule::DailyNotional => "daily notional",
            Rule::MaxChildrenPerWindow => "max children per window",
            Rule::StageMaxChildrenPerWindow => "stage max children per window",
            Rule::MinSpacing => "min spacing",
            Rule::StageMinSpacing => "stage min spacing",
        }
    }

    fn is_stage(self) -> bool {
        matches!(
            self,
            Rule::StageMaxClip | Rule::StageMaxChildrenPerWindow | Rule::StageMinSpacing
        )
    }
}

impl From<Rule> for &'static str {
    fn from(r: Rule) -> Self {
        r.name()
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// When a child refused by cadence may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Retry {
    /// The earliest time (nanoseconds, same clock as `now`) a child is allowed.
    pub at: u64,
    /// How long from the check until then, in nanoseconds.
    pub after: u64,
}

/// Why the gate said no: the rule, its limit, what was attempted and by how much it
/// broke the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RiskReject {
    /// The rule that was broken.
    pub rule: Rule,
    /// The limit the rule sets (bps for bands, ms for spacing, a count for windows).
    pub limit: Decimal,
    /// The value that was attempted.
    pub attempted: Decimal,
    /// The unit of `limit` and `attempted` (a currency, an instrument, `bps`, `ms`).
    pub unit: String,
    /// Where the limit applies: a venue id for clip, band and venue cadence rules;
    /// `desk X` / `venue X` for open and daily notional, kill and allow-list rules;
    /// `None` for global and overall limits and for a parent's own limits (max parent
    /// qty and notional, parent band), whose desk is the parent's.
    pub scope: Option<String>,
    /// What the rule is about when it is not the scope: the unknown name, the venue
    /// refused by an allow-list, the ramp stage, the expected currency, the missing input.
    pub detail: Option<String>,
    /// For cadence rules: when the next child is allowed (boxed to keep the reject
    /// small on the approve path's `Result`).
    pub retry: Option<Box<Retry>>,
}

impl RiskReject {
    /// A reject with no detail and no retry time.
    pub fn new(
        rule: Rule,
        limit: Decimal,
        attempted: Decimal,
        unit: impl Into<String>,
        scope: Option<String>,
    ) -> Self {
        Self {
            rule,
            limit,
            attempted,
            unit: unit.into(),
            scope,
            detail: None,
            retry: None,
        }
    }

    /// By how much the attempt exceeded the limit (negative for a min clip: how much
    /// was missing).
    pub fn excess(&self) -> Decimal {
        self.attempted.saturating_sub(self.limit)
    }

    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub(crate) fn with_retry(mut self, at: u64, now: u64) -> Self {
        self.retry = Some(Box::new(Retry {
            at,
            after: at.saturating_sub(now),
        }));
        self
    }
}

/// A duration in nanoseconds as milliseconds: `500ms`, `0.25ms`.
pub(crate) fn fmt_ms(ns: u64) -> String {
    let ms = Decimal::from_i128_with_scale(i128::from(ns), 6).normalize();
    format!("{ms}ms")
}

impl fmt::Display for RiskReject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let detail = self.detail.as_deref().unwrap_or("");
        write!(f, "risk: {}", self.rule.name())?;
        match self.rule {
            Rule::UnknownDesk | Rule::UnknownVenue => return write!(f, " {detail}"),
            Rule::KillSwitch => {
                return match &self.scope {
                    Some(scope) => write!(f, " engaged at {scope}"),
                    None => write!(f, " engaged (global)"),
                };
            }
            _ => {}
        }
        if let Some(scope) = &self.scope {
            write!(f, " at {scope}")?;
        }
        let retry = |f: &mut fmt::Formatter<'_>| match self.retry.as_deref() {
            Some(r) => write!(f, ", next child allowed in {}", fmt_ms(r.after)),
            None => Ok(()),
        };
        match self.rule {
            Rule::NonPositiveQty | Rule::NegativeNotional => {
                write!(f, " required, got {}", self.attempted)?
            }
            Rule::CurrencyMismatch => write!(f, " must be {detail}, got {}", self.unit)?,
            Rule::VenueNotAllowed => write!(f, " does not include {detail}")?,
            Rule::MissingPrice => write!(f, " needs {detail}")?,
            Rule::MinClip => write!(
                f,
                " {} {} not reached, short by {}",
                self.limit.normalize(),
                self.unit,
                self.limit.saturating_sub(self.attempted).normalize()
            )?,
            Rule::MinSpacing | Rule::StageMinSpacing => {
                write!(f, " {}{}", self.limit.normalize(), self.unit)?;
                retry(f)?;
            }
            Rule::MaxChildrenPerWindow | Rule::StageMaxChildrenPerWindow => {
                write!(f, " {} {} reached", self.limit.normalize(), self.unit)?;
                retry(f)?;
            }
            _ => write!(
                f,
                " {} {} exceeded by {}",
                self.limit.normalize(),
                self.unit,
                self.excess().normalize()
            )?,
        }
        if self.rule.is_stage()
            && let Some(stage) = &self.detail
        {
            write!(f, " (stage {stage})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn every_rule_has_a_distinct_name() {
        let names: std::collections::BTreeSet<_> = Rule::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(names.len(), Rule::ALL.len());
    }

    #[test]
    fn cadence_and_kill_wording() {
        let r = RiskReject::new(
            Rule::MinSpacing,
            dec!(500),
            dec!(380),
            "ms",
            Some("dealer-a".into()),
        )
        .with_retry(1_120_000_000, 1_000_000_000);
        assert_eq!(
            r.to_string(),
            "risk: min spacing at dealer-a 500ms, next child allowed in 120ms"
        );
        let k = RiskReject::new(
            Rule::KillSwitch,
            dec!(0),
            dec!(0),
            "",
            Some("venue book-x".into()),
        );
        assert_eq!(k.to_string(), "risk: kill switch engaged at venue book-x");
        let g = RiskReject::new(Rule::KillSwitch, dec!(0), dec!(0), "", None);
        assert_eq!(g.to_string(), "risk: kill switch engaged (global)");
        let s = RiskReject::new(
            Rule::StageMaxClip,
            dec!(1000),
            dec!(1500),
            "USDC/USD",
            Some("dealer-a".into()),
        )
        .with_detail("canary");
        assert_eq!(
            s.to_string(),
            "risk: stage max clip at dealer-a 1000 USDC/USD exceeded by 500 (stage canary)"
        );
        assert_eq!(fmt_ms(250_000), "0.25ms");
    }
}
