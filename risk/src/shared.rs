//! The gate shared between the engine thread and an admin server.

use crate::audit::{AuditLog, AuditRecord};
use crate::gate::{Actor, Control, ControlError, Gate, GateSnapshot, KillScope, StageChange};
use crate::limits::Limits;
use crate::request::{ChildCheck, ChildDone, ParentCheck, Room, RoomRequest};
use crate::{PreTradeGate, RiskReject};
use parking_lot::Mutex;
use std::sync::Arc;

struct Inner {
    gate: Mutex<Gate>,
    /// Held for a whole control: controls run one at a time, and the engine's checks
    /// wait only while a validated change is swapped in, never while the audit record
    /// is being synced.
    audit: Mutex<AuditLog>,
}

/// A cloneable handle on one [`Gate`] and its [`AuditLog`]: the engine uses it as its
/// [`PreTradeGate`], the admin server for snapshots and controls.
#[derive(Clone)]
pub struct SharedGate {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SharedGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedGate").finish_non_exhaustive()
    }
}

impl SharedGate {
    /// Shares `gate`, whose controls will be recorded in `audit`.
    pub fn new(gate: Gate, audit: AuditLog) -> Self {
        Self {
            inner: Arc::new(Inner {
                gate: Mutex::new(gate),
                audit: Mutex::new(audit),
            }),
        }
    }

    /// Limits and usage at `now`.
    pub fn snapshot(&self, now: u64) -> GateSnapshot {
        self.inner.gate.lock().snapshot(now)
    }

    /// A copy of the limits in force.
    pub fn limits(&self) -> Limits {
        self.inner.gate.lock().limits().clone()
    }

    /// Makes one change: validated against the gate as it is, written to the audit log
    /// (without holding the gate, so checks go on meanwhile), then applied. Nothing
    /// changes if any step fails. Returns the record written.
    pub fn control(&self, by: &Actor<'_>, control: Control) -> Result<AuditRecord, ControlError> {
        let mut audit = self.inner.audit.lock();
        let planned = self.inner.gate.lock().plan(by, &control)?;
        audit.append(&planned.record)?;
        self.inner.gate.lock().apply(planned)
    }

    /// Sets one limit; see [`Control::SetLimit`].
    pub fn set_limit(
        &self,
        by: &Actor<'_>,
        key: &str,
        value: &str,
    ) -> Result<AuditRecord, ControlError> {
        self.control(
            by,
            Control::SetLimit {
                key: key.to_owned(),
                value: value.to_owned(),
            },
        )
    }

    /// Removes one limit; see [`Control::ClearLimit`].
    pub fn clear_limit(&self, by: &Actor<'_>, key: &str) -> Result<AuditRecord, ControlError> {
        self.control(
            by,
            Control::ClearLimit {
                key: key.to_owned(),
            },
        )
    }

    /// Replaces every limit; see [`Control::ReplaceLimits`].
    pub fn replace_limits(
        &self,
        by: &Actor<'_>,
        limits: Limits,
    ) -> Result<AuditRecord, ControlError> {
        self.control(by, Control::ReplaceLimits(Box::new(limits)))
    }

    /// Engages a kill switch; see [`Control::EngageKill`].
    pub fn engage_kill(
        &self,
        by: &Actor<'_>,
        scope: KillScope,
        cancel_working: bool,
    ) -> Result<AuditRecord, ControlError> {
        self.control(
            by,
            Control::EngageKill {
                scope,
                cancel_working,
            },
        )
    }

    /// Releases a kill switch; see [`Control::ReleaseKill`].
    pub fn release_kill(
        &self,
        by: &Actor<'_>,
        scope: KillScope,
    ) -> Result<AuditRecord, ControlError> {
        self.control(by, Control::ReleaseKill { scope })
    }

    /// Moves a venue to a ramp stage; see [`Control::SetStage`].
    pub fn set_stage(
        &self,
        by: &Actor<'_>,
        venue: &str,
        stage: &str,
    ) -> Result<AuditRecord, ControlError> {
        self.control(
            by,
            Control::SetStage {
                venue: venue.to_owned(),
                stage: stage.to_owned(),
            },
        )
    }

    /// Sets a venue's stage ceiling; see [`Control::CapStage`].
    pub fn cap_stage(
        &self,
        by: &Actor<'_>,
        venue: &str,
        ceiling: &str,
    ) -> Result<AuditRecord, ControlError> {
        self.control(
            by,
            Control::CapStage {
                venue: venue.to_owned(),
                ceiling: ceiling.to_owned(),
            },
        )
    }
}

impl PreTradeGate for SharedGate {
    fn check_parent(&self, parent: &ParentCheck<'_>, now: u64) -> Result<(), RiskReject> {
        self.inner.gate.lock().check_parent(parent, now)
    }
    fn check_child(&self, child: &ChildCheck<'_>, now: u64) -> Result<(), RiskReject> {
        self.inner.gate.lock().check_child(child, now)
    }
    fn room(&self, at: &RoomRequest<'_>, now: u64) -> Room {
        self.inner.gate.lock().room(at, now)
    }
    fn on_child_sent(&mut self, child: &ChildCheck<'_>, now: u64) {
        self.inner.gate.lock().on_child_sent(child, now)
    }
    fn on_child_done(&mut self, done: &ChildDone<'_>, now: u64) -> Option<StageChange> {
        self.inner.gate.lock().on_child_done(done, now)
    }
    fn admit(&mut self, child: &ChildCheck<'_>, now: u64) -> Result<(), RiskReject> {
        self.inner.gate.lock().admit(child, now)
    }
    fn kill_generation(&self) -> u64 {
        self.inner.gate.lock().kill_generation()
    }
    fn must_cancel(&self, desk: &str, venue: &str) -> bool {
        self.inner.gate.lock().must_cancel(desk, venue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Side;
    use crate::{Rule, approve_child};
    use rust_decimal::Decimal;
    use std::thread;

    const LIMITS: &str = r#"
currency = "USD"
[desks.D]
[venues.v]
max_clip = "100"
"#;

    fn child(qty: i64) -> ChildCheck<'static> {
        ChildCheck {
            desk: "D",
            parent_instrument: "USDC/USD",
            venue: "v",
            instrument: "USDC/USD",
            side: Side::Sell,
            qty: Decimal::from(qty),
            notional: Decimal::from(qty),
            limit_px: None,
            reference_px: None,
        }
    }

    #[test]
    fn admin_changes_reach_the_engine_side_for_the_next_child() {
        let (audit, mem) = crate::AuditLog::memory();
        let shared = SharedGate::new(Gate::from_toml_str(LIMITS).unwrap(), audit);
        let mut engine_side = shared.clone();
        assert!(approve_child(&mut engine_side, &child(80), 1).is_ok());
        let admin = shared.clone();
        thread::spawn(move || {
            let by = Actor {
                who: "alice",
                reason: "tighten",
                now: 2,
            };
            admin.set_limit(&by, "venues.v.max_clip", "50").unwrap();
            admin
                .engage_kill(&by, KillScope::Venue("v".into()), true)
                .unwrap();
        })
        .join()
        .unwrap();
        let err = approve_child(&mut engine_side, &child(60), 3).unwrap_err();
        assert_eq!(err.rule, Rule::KillSwitch);
        assert!(engine_side.must_cancel("D", "v"));
        assert_eq!(engine_side.kill_generation(), 1);
        assert_eq!(mem.records().len(), 2);
        assert_eq!(
            shared.limits().venues["v"].max_clip,
            Some(Decimal::from(50))
        );
        let snap = serde_json::to_value(shared.snapshot(4)).unwrap();
        assert_eq!(snap["venues"]["v"]["open_notional"], "80");
    }

    #[test]
    fn a_failed_audit_write_refuses_the_change() {
        let (audit, mem) = crate::AuditLog::memory();
        let shared = SharedGate::new(Gate::from_toml_str(LIMITS).unwrap(), audit);
        mem.set_failing(true);
        let by = Actor {
            who: "alice",
            reason: "r",
            now: 2,
        };
        let e = shared
            .set_limit(&by, "venues.v.max_clip", "50")
            .unwrap_err();
        assert!(matches!(e, ControlError::Audit(_)), "{e}");
        assert_eq!(
            shared.limits().venues["v"].max_clip,
            Some(Decimal::from(100))
        );
    }
}
