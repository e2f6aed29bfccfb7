//! Reconciliation with the venues, and the crash and the restart from the journal.

use super::{Item, MS, Origin, SEC, Sabotage, World};
use crate::domain::ChildId;
use crate::dst::digest::StateDigest;
use crate::dst::invariants::{Cause, Invariant, Violation};
use crate::dst::reconcile::{StatusAnswer, missing_reports};
use crate::dst::replay::replay;
use crate::engine::{Engine, Event};
use rust_decimal::Decimal;

impl World {
    /// Asks the venue about every child the engine thinks is still working there.
    pub(super) fn reconcile(&mut self, venue: usize) -> Result<(), Violation> {
        let Some(engine) = self.engine.as_ref() else {
            return Ok(());
        };
        let id = &self.venues[venue].id;
        let children: Vec<String> = engine
            .children()
            .iter()
            .filter(|(_, c)| c.venue == *id && !c.status().is_terminal())
            .map(|(k, _)| k.0.clone())
            .collect();
        if children.is_empty() {
            return self.answered(venue);
        }
        if !self.venues[venue].up {
            return Ok(());
        }
        for c in &children {
            self.reconciling.insert((venue, c.clone()));
        }
        let extra = self.spike();
        let at = self.venues[venue].outbound(self.now, extra);
        self.queue.push(
            at,
            Item::Query {
                venue,
                epoch: self.epoch,
                children,
            },
        )
    }

    /// A status answer: feeds the engine what it missed.
    pub(super) fn on_answer(
        &mut self,
        venue: usize,
        epoch: u32,
        answers: Vec<(String, StatusAnswer)>,
    ) -> Result<(), Violation> {
        if epoch != self.epoch {
            return Ok(());
        }
        for (child, answer) in answers {
            self.reconciling.remove(&(venue, child.clone()));
            let id = ChildId(child);
            let reports = {
                let Some(engine) = self.engine.as_ref() else {
                    return Ok(());
                };
                let Some(held) = engine.children().get(&id) else {
                    return Err(Violation::new(
                        Invariant::EngineRefused,
                        format!("status answer for {id}, which the engine does not hold"),
                    ));
                };
                if self.sabotage == Sabotage::IgnoreStatusAnswers {
                    Vec::new()
                } else {
                    missing_reports(held, &answer, |e| engine.has_exec(&id, e))
                }
            };
            for report in reports {
                self.feed(
                    Event::Venue {
                        child: id.clone(),
                        report,
                    },
                    Origin::Reconcile,
                )?;
            }
        }
        self.answered(venue)
    }

    /// Venue `venue` is reconciled; a restart is over when every venue is.
    pub(super) fn answered(&mut self, venue: usize) -> Result<(), Violation> {
        self.awaiting.remove(&venue);
        if self.recovering && self.awaiting.is_empty() {
            self.recovering = false;
            for item in std::mem::take(&mut self.held) {
                self.queue.push(self.now, item)?;
            }
        }
        Ok(())
    }

    pub(super) fn crash(&mut self) -> Result<(), Violation> {
        let Some(engine) = self.engine.take() else {
            return Ok(());
        };
        self.crash_digest = Some(StateDigest::of(&engine));
        drop(engine);
        self.crashes += 1;
        self.queue.retain(|i| !i.lost_in_crash());
        self.held.retain(|i| matches!(i, Item::Desk(_)));
        for p in &mut self.pending_cancels {
            p.clear();
        }
        self.reconciling.clear();
        self.awaiting.clear();
        self.recovering = false;
        let back = self.now + self.dice.between(100 * MS, 5 * SEC);
        self.queue.push(back, Item::Restart)
    }

    pub(super) fn restart(&mut self) -> Result<(), Violation> {
        self.epoch += 1;
        let gate = self
            .gate
            .build()
            .map_err(|e| Violation::new(Invariant::Recovery, e.to_string()))?;
        let fresh = Engine::new(self.config.clone(), gate);
        if self.sabotage == Sabotage::LoseLastVenueRecord {
            self.journal.lose_last_venue_record();
        }
        let rec = replay(&self.journal, fresh)
            .map_err(|e| Violation::new(Invariant::Recovery, e.to_string()))?;
        let recovery = |m: String| Err(Violation::new(Invariant::Recovery, m));
        if rec.refused != self.refused {
            return recovery(format!(
                "replay refused records {:?}, the live engine refused {:?}",
                rec.refused, self.refused
            ));
        }
        if let Some(before) = &self.crash_digest
            && let Some(d) = before.first_difference(&StateDigest::of(&rec.engine))
        {
            return recovery(format!(
                "after replaying {} records: {d}",
                self.journal.len()
            ));
        }
        if rec.desk != self.checker.desk_log() {
            let at = rec
                .desk
                .iter()
                .zip(self.checker.desk_log())
                .position(|(a, b)| a != b)
                .unwrap_or(rec.desk.len().min(self.checker.desk_log().len()));
            return recovery(format!(
                "replay would have told the desk {} reports, the desk got {} (first difference at #{at})",
                rec.desk.len(),
                self.checker.desk_log().len()
            ));
        }
        if rec.sent != self.checker.sent_log() {
            return recovery(format!(
                "replay would have sent {} children, {} were sent",
                rec.sent.len(),
                self.checker.sent_log().len()
            ));
        }
        self.engine = Some(rec.engine);
        self.recoveries += 1;
        if self.sabotage == Sabotage::ResendReplayedDeskReports
            && let Some(engine) = self.engine.as_ref()
        {
            for report in &rec.desk {
                let qty = engine
                    .parents()
                    .get(&report.parent)
                    .map_or(Decimal::ZERO, |p| p.order.qty);
                self.checker.on_desk(report, qty, &Cause::Other)?;
            }
        }
        for (at, event) in rec.timers {
            self.queue.push(at.max(self.now), Item::Timer(event))?;
        }
        for (venue, child) in rec.cancels {
            let v = self.venue_index(venue.as_str())?;
            self.send_cancel(v, child.0)?;
        }
        self.snapshot_all()?;
        self.recovering = true;
        self.awaiting = (0..self.venues.len()).collect();
        for v in 0..self.venues.len() {
            self.reconcile(v)?;
        }
        if self.recovering && self.awaiting.is_empty() {
            self.answered(0)?;
        }
        Ok(())
    }
}
