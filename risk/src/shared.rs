//! The gate shared between the engine thread and an admin server.

use crate::audit::{AuditLog, AuditRecord};
use crate::gate::{Actor, Control, ControlError, Gate, GateSnapshot, KillScope, StageChange};
use crate::limits::Limits;
use crate::request::{ChildCheck, ChildDone, ParentCheck, Room, RoomRequest};
use crate::{PreTradeGate, RiskReject};
use parking_lot::{Mutex, RwLock, RwLockReadGuard};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Who a control made from the limits file is recorded as (a reload, or the file read
/// again at a restart).
pub const LIMITS_FILE: &str = "limits-file";

/// Who the limits in force when a journal starts are recorded as ([`SharedGate::baseline`]).
pub const BASELINE: &str = "gateway";

/// Most applied controls that may wait for the gateway's journal to take them.
pub const MAX_UNJOURNALED_CONTROLS: usize = 1024;

/// A control as it was applied: who, why, when and what, so a journal can record it
/// in order with the engine's inputs and replay it after a crash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedControl {
    /// Who made it.
    pub who: String,
    /// Why.
    pub reason: String,
    /// When (ns since the Unix epoch).
    pub now: u64,
    /// The change.
    pub control: Control,
}

struct Inner {
    gate: Mutex<Gate>,
    /// Held for a whole control: controls run one at a time, and the engine's checks
    /// wait only while a validated change is swapped in, never while the audit record
    /// is being synced.
    audit: Mutex<AuditLog>,
    /// Shared by the engine for the whole of one input ([`SharedGate::pin`]), taken
    /// alone by a control while it applies: a control lands between two inputs, never
    /// in the middle of one, so a replay that puts it between the same two inputs
    /// rebuilds the same state.
    fence: RwLock<()>,
    /// Applied controls the journal has not taken yet; `None` when nothing records.
    unjournaled: Mutex<Option<Vec<RecordedControl>>>,
}

impl RecordedControl {
    /// The limits this control took from the limits file or the baseline, if it did:
    /// what the file said when the journal last heard from it.
    pub fn file_limits(&self) -> Option<&Limits> {
        match &self.control {
            Control::ReplaceLimits(l) if self.who == LIMITS_FILE || self.who == BASELINE => Some(l),
            _ => None,
        }
    }
}

/// Held by the engine while it handles one input: no control applies meanwhile.
#[must_use = "the pin holds controls off only while it lives"]
pub struct ControlPin<'a> {
    _fence: RwLockReadGuard<'a, ()>,
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
                fence: RwLock::new(()),
                unjournaled: Mutex::new(None),
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
        if let Some(waiting) = self.inner.unjournaled.lock().as_ref()
            && waiting.len() >= MAX_UNJOURNALED_CONTROLS
        {
            return Err(ControlError::Backlog(waiting.len()));
        }
        let planned = self.inner.gate.lock().plan(by, &control)?;
        audit.append(&planned.record)?;
        let _fence = self.inner.fence.write();
        let record = self.inner.gate.lock().apply(planned)?;
        if let Some(waiting) = self.inner.unjournaled.lock().as_mut() {
            waiting.push(RecordedControl {
                who: by.who.to_owned(),
                reason: by.reason.to_owned(),
                now: by.now,
                control,
            });
        }
        Ok(record)
    }

    /// From now on, every applied control is also kept for [`SharedGate::take_unjournaled`]
    /// (the gateway turns this on when it journals).
    pub fn record_controls(&self) {
        self.inner.unjournaled.lock().get_or_insert_with(Vec::new);
    }

    /// The controls applied since the last call, in order.
    pub fn take_unjournaled(&self) -> Vec<RecordedControl> {
        match self.inner.unjournaled.lock().as_mut() {
            Some(waiting) => std::mem::take(waiting),
            None => Vec::new(),
        }
    }

    /// Holds controls off until the pin is dropped (the engine, across one input).
    /// Take at most one at a time on a thread: a control waiting for the fence holds
    /// off new pins.
    pub fn pin(&self) -> ControlPin<'_> {
        ControlPin {
            _fence: self.inner.fence.read(),
        }
    }

    /// Applies a control read back from a journal: validated and applied as it was,
    /// but not audited again (it was when it happened) nor recorded again.
    pub fn replay(&self, recorded: &RecordedControl) -> Result<(), ControlError> {
        let by = Actor {
            who: &recorded.who,
            reason: &recorded.reason,
            now: recorded.now,
        };
        let mut gate = self.inner.gate.lock();
        let planned = gate.plan(&by, &recorded.control)?;
        gate.apply(planned).map(|_| ())
    }

    /// The limits in force as a recorded control (who `gateway`), for a journal to
    /// start from: replayed first, it puts back the limits of the journal's start.
    pub fn baseline(&self, now: u64) -> RecordedControl {
        RecordedControl {
            who: BASELINE.into(),
            reason: "limits in force when the journal started".into(),
            now,
            control: Control::ReplaceLimits(Box::new(self.limits())),
        }
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

    fn by(now: u64) -> Actor<'static> {
        Actor {
            who: "alice",
            reason: "r",
            now,
        }
    }

    #[test]
    fn recorded_controls_replayed_on_a_fresh_gate_rebuild_limits_and_kill_switches() {
        let (audit, mem) = crate::AuditLog::memory();
        let live = SharedGate::new(Gate::from_toml_str(LIMITS).unwrap(), audit);
        live.record_controls();
        let baseline = live.baseline(1);
        live.set_limit(&by(2), "venues.v.max_clip", "50").unwrap();
        live.engage_kill(&by(3), KillScope::Desk("D".into()), false)
            .unwrap();
        let mut replacement = live.limits();
        replacement.venues.get_mut("v").unwrap().max_clip = Some(Decimal::from(70));
        live.replace_limits(&by(4), replacement).unwrap();
        let recorded = live.take_unjournaled();
        assert_eq!(recorded.len(), 3);
        assert!(live.take_unjournaled().is_empty(), "taken once");
        assert_eq!(mem.records().len(), 3);

        // Through JSON, as the journal keeps them, onto a gate started from other limits.
        let (audit2, mem2) = crate::AuditLog::memory();
        let other = LIMITS.replace("\"100\"", "\"5\"");
        let fresh = SharedGate::new(Gate::from_toml_str(&other).unwrap(), audit2);
        for rc in std::iter::once(&baseline).chain(&recorded) {
            let text = serde_json::to_string(rc).unwrap();
            let back: RecordedControl = serde_json::from_str(&text).unwrap();
            assert_eq!(&back, rc);
            fresh.replay(&back).unwrap();
        }
        assert_eq!(fresh.limits(), live.limits());
        assert!(
            fresh.take_unjournaled().is_empty(),
            "replays are not recorded"
        );
        assert!(mem2.records().is_empty(), "replays are not audited again");
        let mut engine_side = fresh.clone();
        let err = approve_child(&mut engine_side, &child(10), 5).unwrap_err();
        assert_eq!(err.rule, Rule::KillSwitch, "the kill switch came back");
        assert_eq!(
            serde_json::to_value(fresh.snapshot(6)).unwrap()["kills"],
            serde_json::to_value(live.snapshot(6)).unwrap()["kills"]
        );
    }

    #[test]
    fn controls_refuse_once_the_journal_backlog_is_full_and_change_nothing() {
        let (audit, mem) = crate::AuditLog::memory();
        let live = SharedGate::new(Gate::from_toml_str(LIMITS).unwrap(), audit);
        live.record_controls();
        for i in 0..MAX_UNJOURNALED_CONTROLS {
            let v = (i % 50 + 1).to_string();
            live.set_limit(&by(2), "venues.v.max_clip", &v).unwrap();
        }
        let before = live.limits();
        let e = live
            .set_limit(&by(3), "venues.v.max_clip", "99")
            .unwrap_err();
        assert!(
            matches!(e, ControlError::Backlog(n) if n == MAX_UNJOURNALED_CONTROLS),
            "{e}"
        );
        assert_eq!(live.limits(), before);
        assert_eq!(mem.records().len(), MAX_UNJOURNALED_CONTROLS);
        assert_eq!(live.take_unjournaled().len(), MAX_UNJOURNALED_CONTROLS);
        live.set_limit(&by(4), "venues.v.max_clip", "99").unwrap();
    }

    #[test]
    fn a_control_waits_for_the_input_the_engine_is_handling() {
        let (audit, _mem) = crate::AuditLog::memory();
        let live = SharedGate::new(Gate::from_toml_str(LIMITS).unwrap(), audit);
        let admin = live.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let pin = live.pin();
        let t = thread::spawn(move || {
            admin.set_limit(&by(2), "venues.v.max_clip", "50").unwrap();
            tx.send(()).unwrap();
        });
        // While pinned, the limits the engine sees do not move.
        thread::sleep(std::time::Duration::from_millis(50));
        assert!(rx.try_recv().is_err(), "applied during a pinned input");
        assert_eq!(live.limits().venues["v"].max_clip, Some(Decimal::from(100)));
        drop(pin);
        rx.recv().unwrap();
        t.join().unwrap();
        assert_eq!(live.limits().venues["v"].max_clip, Some(Decimal::from(50)));
    }
}
