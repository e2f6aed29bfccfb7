//! The core's minimal gate: a max clip per venue and a max parent notional.

use crate::{
    ChildCheck, ChildDone, ChildRequest, ParentCheck, ParentRequest, PreTradeGate, RiskGate,
    RiskReject, Room, RoomRequest, Rule, StageChange,
};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;

/// Limits of the minimal gate, as a scenario or config file states them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimalLimits {
    /// Largest parent notional, in the parent's quote currency; `None` is unbounded.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub max_parent_notional: Option<Decimal>,
    /// Largest child per venue, in the venue instrument's base units.
    #[serde(default)]
    pub max_clip: HashMap<String, Decimal>,
}

/// The minimal gate: checks max clip per venue and max parent notional.
#[derive(Debug, Clone, Default)]
pub struct MinimalGate {
    limits: MinimalLimits,
}

impl MinimalGate {
    /// A gate enforcing `limits`.
    pub fn new(limits: MinimalLimits) -> Self {
        Self { limits }
    }

    /// The limits in force.
    pub fn limits(&self) -> &MinimalLimits {
        &self.limits
    }
}

impl RiskGate for MinimalGate {
    fn check_parent(&self, parent: &ParentRequest<'_>) -> Result<(), RiskReject> {
        if parent.qty <= Decimal::ZERO {
            return Err(RiskReject::new(
                Rule::NonPositiveQty,
                Decimal::ZERO,
                parent.qty,
                parent.instrument,
                None,
            ));
        }
        if let Some(max) = self.limits.max_parent_notional
            && parent.notional > max
        {
            return Err(RiskReject::new(
                Rule::MaxParentNotional,
                max,
                parent.notional,
                parent.currency,
                None,
            ));
        }
        Ok(())
    }

    fn check_child(&self, child: &ChildRequest<'_>) -> Result<(), RiskReject> {
        if child.qty <= Decimal::ZERO {
            return Err(RiskReject::new(
                Rule::NonPositiveQty,
                Decimal::ZERO,
                child.qty,
                child.instrument,
                Some(child.venue.to_owned()),
            ));
        }
        if let Some(max) = RiskGate::room(self, child.venue)
            && child.qty > max
        {
            return Err(RiskReject::new(
                Rule::MaxClip,
                max,
                child.qty,
                child.instrument,
                Some(child.venue.to_owned()),
            ));
        }
        Ok(())
    }

    fn room(&self, venue: &str) -> Option<Decimal> {
        self.limits.max_clip.get(venue).copied()
    }
}

/// The minimal gate behind the timed trait: the same two rules; time, usage, ramps and
/// kill switches do not apply.
impl PreTradeGate for MinimalGate {
    fn check_parent(&self, p: &ParentCheck<'_>, _now: u64) -> Result<(), RiskReject> {
        RiskGate::check_parent(
            self,
            &ParentRequest {
                desk: p.desk,
                instrument: p.instrument,
                qty: p.qty,
                notional: p.notional,
                currency: p.currency,
            },
        )
    }

    fn check_child(&self, c: &ChildCheck<'_>, _now: u64) -> Result<(), RiskReject> {
        RiskGate::check_child(
            self,
            &ChildRequest {
                desk: c.desk,
                venue: c.venue,
                instrument: c.instrument,
                qty: c.qty,
                notional: c.notional,
            },
        )
    }

    fn room(&self, at: &RoomRequest<'_>, _now: u64) -> Room {
        Room {
            max_qty: RiskGate::room(self, at.venue),
            ..Room::default()
        }
    }

    fn on_child_sent(&mut self, _child: &ChildCheck<'_>, _now: u64) {}

    fn on_child_done(&mut self, _done: &ChildDone<'_>, _now: u64) -> Option<StageChange> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approve;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn gate() -> MinimalGate {
        MinimalGate::new(MinimalLimits {
            max_parent_notional: Some(dec!(25000000)),
            max_clip: HashMap::from([("dealer-a".to_owned(), dec!(2000000))]),
        })
    }

    fn child(venue: &str, qty: Decimal) -> ChildRequest<'_> {
        ChildRequest {
            desk: "DESK1",
            venue,
            instrument: "USDC/USD",
            qty,
            notional: qty,
        }
    }

    #[test]
    fn parent_over_notional_is_rejected_with_the_excess() {
        let p = ParentRequest {
            desk: "DESK1",
            instrument: "USDC/USD",
            qty: dec!(26000000),
            notional: dec!(26000000),
            currency: "USD",
        };
        let err = RiskGate::check_parent(&gate(), &p).unwrap_err();
        assert_eq!(err.rule, Rule::MaxParentNotional);
        assert_eq!(
            err.to_string(),
            "risk: max parent notional 25000000 USD exceeded by 1000000"
        );
    }

    #[test]
    fn child_over_clip_names_the_venue() {
        let err = approve(&gate(), &child("dealer-a", dec!(2000001))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "risk: max clip at dealer-a 2000000 USDC/USD exceeded by 1"
        );
    }

    #[test]
    fn approval_covers_only_what_was_checked() {
        let ok = approve(&gate(), &child("dealer-a", dec!(1500000))).unwrap();
        assert!(ok.covers("dealer-a", dec!(1500000)));
        assert!(!ok.covers("dealer-a", dec!(1500001)));
        assert!(!ok.covers("dealer-b", dec!(1)));
    }

    #[test]
    fn zero_child_is_rejected() {
        assert!(approve(&gate(), &child("dealer-b", dec!(0))).is_err());
    }

    #[test]
    fn the_timed_trait_gives_the_same_answers() {
        let mut g = gate();
        let c = ChildCheck {
            desk: "DESK1",
            parent_instrument: "USDC/USD",
            venue: "dealer-a",
            instrument: "USDC/USD",
            side: crate::Side::Sell,
            qty: dec!(2000001),
            notional: dec!(2000001),
            limit_px: None,
            reference_px: None,
        };
        let e = crate::approve_child(&mut g, &c, 5).unwrap_err();
        assert_eq!(
            e.to_string(),
            "risk: max clip at dealer-a 2000000 USDC/USD exceeded by 1"
        );
        let ok = crate::approve_child(&mut g, &ChildCheck { qty: dec!(5), ..c }, 5).unwrap();
        assert_eq!((ok.qty(), ok.approved_at()), (dec!(5), 5));
        let room = PreTradeGate::room(
            &g,
            &RoomRequest {
                desk: "DESK1",
                parent_instrument: "USDC/USD",
                venue: "dealer-a",
                instrument: "USDC/USD",
                notional_per_unit: None,
            },
            5,
        );
        assert_eq!(room.max_qty, Some(dec!(2000000)));
    }

    proptest! {
        /// The gate never approves a child that breaks its venue's clip.
        #[test]
        fn never_approves_above_clip(units in 1u64..5_000_000_000u64) {
            let qty = Decimal::from(units) / dec!(1000);
            match approve(&gate(), &child("dealer-a", qty)) {
                Ok(a) => prop_assert!(a.qty() <= dec!(2000000)),
                Err(e) => prop_assert!(qty > dec!(2000000) && e.rule == Rule::MaxClip),
            }
        }
    }
}
