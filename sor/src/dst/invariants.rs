//! The invariants, checked after every step of a simulation, and the history they
//! need (what was sent, what the desk was told), which outlives any crash.

use super::digest::{ChildFacts, ParentFacts};
use super::reconcile::ExecFill;
use crate::domain::{ChildId, ChildOrder, ChildStatus, ParentId, ParentStatus};
use crate::engine::{DeskEvent, DeskReport};
use risk::Approved;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use venues::{Nanos, VenueId, VenueOrder};

/// Which invariant broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Invariant {
    /// A parent or child filled (or worked) past its quantity.
    Overfill,
    /// A venue fill reached the desk twice, never, or without a venue fill behind it.
    FillReportedOnce,
    /// A child ClOrdID was sent twice (restarts included).
    UniqueClOrdId,
    /// A child went out without an approval from the risk gate for exactly it.
    RiskApproval,
    /// A terminal order changed, or the desk heard about a parent after its end.
    TerminalFinal,
    /// A desk report's CumQty, LeavesQty, AvgPx or status disagrees with its fills.
    DeskConsistent,
    /// The state rebuilt from the journal is not the state before the crash.
    Recovery,
    /// The engine refused an event it should have taken (or took one it should have
    /// refused).
    EngineRefused,
    /// The run went quiet with a parent or child still open.
    EveryOrderEnds,
}

impl Invariant {
    /// The invariant's name, as a failure prints it.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::Overfill => "never-overfill",
            Invariant::FillReportedOnce => "fill-reported-once",
            Invariant::UniqueClOrdId => "unique-clordid",
            Invariant::RiskApproval => "risk-approval",
            Invariant::TerminalFinal => "terminal-final",
            Invariant::DeskConsistent => "desk-consistent",
            Invariant::Recovery => "recovered-equals-before",
            Invariant::EngineRefused => "engine-refused",
            Invariant::EveryOrderEnds => "every-order-ends",
        }
    }
}

/// A broken invariant and exactly what broke it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which.
    pub invariant: Invariant,
    /// What, naming the orders and the numbers.
    pub message: String,
}

impl Violation {
    /// A violation of `invariant`.
    pub fn new(invariant: Invariant, message: impl Into<String>) -> Self {
        Self {
            invariant,
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invariant={}: {}", self.invariant.name(), self.message)
    }
}

/// What the engine was handling when it told the desk something.
#[derive(Debug, Clone, Copy)]
pub enum Cause<'a> {
    /// A venue fill of `child` with execution id `exec_id`.
    VenueFill {
        /// The child.
        child: &'a ChildId,
        /// The execution id in the report.
        exec_id: &'a str,
        /// Parent units per venue unit of the child.
        qty_rate: Decimal,
        /// The execution in the venue's own ledger, if the venue made it.
        venue_fill: Option<&'a ExecFill>,
    },
    /// Anything else (no desk fill may come of it).
    Other,
}

#[derive(Debug, Clone, Default)]
struct DeskTotals {
    cum: Decimal,
    amount: Decimal,
    acked: bool,
    ended: bool,
}

/// The history the invariants are checked against; it survives crashes (it is the
/// world's memory: the venues', the desk's, the wire's).
#[derive(Debug, Default)]
pub struct Checker {
    sent: BTreeSet<String>,
    sent_log: Vec<String>,
    desk_log: Vec<DeskReport>,
    desk_fills: BTreeMap<(String, String), Decimal>,
    totals: BTreeMap<ParentId, DeskTotals>,
    terminal_children: BTreeMap<ChildId, ChildFacts>,
    terminal_parents: BTreeMap<ParentId, ParentFacts>,
    event_fills: u32,
}

impl Checker {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every child ClOrdID sent, in order.
    pub fn sent_log(&self) -> &[String] {
        &self.sent_log
    }

    /// Every report the desk got, in order.
    pub fn desk_log(&self) -> &[DeskReport] {
        &self.desk_log
    }

    /// Fills the desk was told about.
    pub fn desk_fill_count(&self) -> usize {
        self.desk_fills.len()
    }

    /// The engine is handed a new event (desk fills are counted per event).
    pub fn begin_event(&mut self) {
        self.event_fills = 0;
    }

    /// A child goes out to `venue` at `now` with `approval`; `held` is the engine's
    /// record of the child.
    pub fn on_send(
        &mut self,
        venue: &VenueId,
        order: &VenueOrder,
        approval: &Approved,
        now: Nanos,
        held: Option<&ChildOrder>,
    ) -> Result<(), Violation> {
        let id = &order.client_id;
        if !self.sent.insert(id.clone()) {
            let first = self.sent_log.iter().position(|s| s == id).unwrap_or(0);
            return Err(Violation::new(
                Invariant::UniqueClOrdId,
                format!(
                    "child ClOrdID {id} sent again to {venue} (first sent as send #{})",
                    first + 1
                ),
            ));
        }
        self.sent_log.push(id.clone());
        let bad = |what: String| {
            Err(Violation::new(
                Invariant::RiskApproval,
                format!("child {id} to {venue}: {what}"),
            ))
        };
        if approval.venue() != venue.as_str() {
            return bad(format!("approval is for venue {}", approval.venue()));
        }
        if approval.qty() != order.qty {
            return bad(format!(
                "approval covers qty {}, the order has {}",
                approval.qty(),
                order.qty
            ));
        }
        if approval.approved_at() != now {
            return bad(format!(
                "approved at {} but sent at {now}",
                approval.approved_at()
            ));
        }
        let Some(child) = held else {
            return bad("the engine holds no such child".into());
        };
        if child.venue != *venue
            || child.qty != order.qty
            || child.limit_px != order.limit_px
            || child.status() != ChildStatus::PendingNew
        {
            return bad(format!(
                "the engine's child is {} {} at {} limit {} ({}), the order {} at limit {}",
                child.venue,
                child.qty,
                child.venue,
                child.limit_px,
                child.status().name(),
                order.qty,
                order.limit_px
            ));
        }
        Ok(())
    }

    /// The desk gets `report` for a parent of `parent_qty`, caused by `cause`.
    pub fn on_desk(
        &mut self,
        report: &DeskReport,
        parent_qty: Decimal,
        cause: &Cause<'_>,
    ) -> Result<(), Violation> {
        self.desk_log.push(report.clone());
        let parent = &report.parent;
        let t = self.totals.entry(parent.clone()).or_default();
        let is_cancel_reject = matches!(report.event, DeskEvent::CancelRejected { .. });
        if t.ended && !is_cancel_reject {
            return Err(Violation::new(
                Invariant::TerminalFinal,
                format!("desk told {:?} about {parent} after its end", report.event),
            ));
        }
        match &report.event {
            DeskEvent::Ack => {
                if t.acked {
                    return Err(Violation::new(
                        Invariant::DeskConsistent,
                        format!("{parent} acknowledged twice"),
                    ));
                }
                t.acked = true;
            }
            DeskEvent::Fill { qty, px, venue } => {
                self.event_fills += 1;
                let Cause::VenueFill {
                    child,
                    exec_id,
                    qty_rate,
                    venue_fill,
                } = *cause
                else {
                    return Err(Violation::new(
                        Invariant::FillReportedOnce,
                        format!(
                            "desk told of a fill of {qty} at {venue} for {parent} with no venue fill behind it"
                        ),
                    ));
                };
                if self.event_fills > 1 {
                    return Err(Violation::new(
                        Invariant::FillReportedOnce,
                        format!(
                            "execution {exec_id} of {child} reported to the desk {} times for one event",
                            self.event_fills
                        ),
                    ));
                }
                let Some(vf) = venue_fill else {
                    return Err(Violation::new(
                        Invariant::FillReportedOnce,
                        format!(
                            "desk told of execution {exec_id} of {child} ({qty} at {venue}) that the venue never made"
                        ),
                    ));
                };
                let key = (child.0.clone(), exec_id.to_owned());
                if let Some(before) = self.desk_fills.get(&key) {
                    return Err(Violation::new(
                        Invariant::FillReportedOnce,
                        format!(
                            "execution {exec_id} of {child} reported to the desk twice ({before}, then {qty})"
                        ),
                    ));
                }
                let want = vf.qty * qty_rate;
                if *qty != want {
                    return Err(Violation::new(
                        Invariant::FillReportedOnce,
                        format!(
                            "execution {exec_id} of {child}: desk told {qty}, the venue filled {} (= {want} in parent units)",
                            vf.qty
                        ),
                    ));
                }
                self.desk_fills.insert(key, *qty);
                t.cum += *qty;
                t.amount += *qty * *px;
            }
            DeskEvent::Done { .. } | DeskEvent::Rejected { .. } => t.ended = true,
            DeskEvent::CancelRejected { .. } => {}
        }
        check_totals(report, parent_qty, t)
    }

    /// After a step: no order past its quantity, no terminal order changed.
    pub fn on_state<'a>(
        &mut self,
        parents: impl Iterator<Item = (&'a ParentId, ParentFacts)>,
        children: impl Iterator<Item = (&'a ChildId, ChildFacts)>,
    ) -> Result<(), Violation> {
        let mut terminal_parents = 0;
        for (id, p) in parents {
            if p.filled < Decimal::ZERO || p.working < Decimal::ZERO || p.filled + p.working > p.qty
            {
                return Err(Violation::new(
                    Invariant::Overfill,
                    format!(
                        "parent {id}: filled {} + working {} > qty {}",
                        p.filled, p.working, p.qty
                    ),
                ));
            }
            terminal_parents +=
                usize::from(stays_final("parent", &mut self.terminal_parents, id, p)?);
        }
        all_still_there("parent", terminal_parents, self.terminal_parents.len())?;
        let mut terminal_children = 0;
        for (id, c) in children {
            if c.filled < Decimal::ZERO || c.filled > c.qty {
                return Err(Violation::new(
                    Invariant::Overfill,
                    format!("child {id}: filled {} of qty {}", c.filled, c.qty),
                ));
            }
            terminal_children +=
                usize::from(stays_final("child", &mut self.terminal_children, id, c)?);
        }
        all_still_there("child", terminal_children, self.terminal_children.len())?;
        Ok(())
    }

    /// At the end of a quiet run: every fill the venues made reached the desk (once
    /// is checked as they arrive).
    pub fn on_quiet<'a>(
        &self,
        venue_fills: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), Violation> {
        let mut n = 0;
        for (child, exec) in venue_fills {
            n += 1;
            if !self
                .desk_fills
                .contains_key(&(child.to_owned(), exec.to_owned()))
            {
                return Err(Violation::new(
                    Invariant::FillReportedOnce,
                    format!(
                        "execution {exec} of {child} was made by the venue but never reported to the desk"
                    ),
                ));
            }
        }
        if n != self.desk_fills.len() {
            return Err(Violation::new(
                Invariant::FillReportedOnce,
                format!(
                    "the venues made {n} fills, the desk was told of {}",
                    self.desk_fills.len()
                ),
            ));
        }
        Ok(())
    }
}

/// CumQty, LeavesQty, AvgPx and the status of `report` against the desk's own sums.
fn check_totals(report: &DeskReport, parent_qty: Decimal, t: &DeskTotals) -> Result<(), Violation> {
    let parent = &report.parent;
    let bad = |what: String| {
        Err(Violation::new(
            Invariant::DeskConsistent,
            format!("{parent} report {:?}: {what}", report.event),
        ))
    };
    if report.cum_qty != t.cum {
        return bad(format!(
            "CumQty {} but the fills sum to {}",
            report.cum_qty, t.cum
        ));
    }
    let leaves = if report.status.is_terminal() {
        Decimal::ZERO
    } else {
        parent_qty - t.cum
    };
    if report.leaves_qty != leaves {
        return bad(format!(
            "LeavesQty {} but should be {leaves}",
            report.leaves_qty
        ));
    }
    let avg = if t.cum.is_zero() {
        Decimal::ZERO
    } else {
        t.amount / t.cum
    };
    if report.avg_px != avg {
        return bad(format!(
            "AvgPx {} but the fills average {avg}",
            report.avg_px
        ));
    }
    let full = t.cum == parent_qty;
    if report.status != ParentStatus::Rejected && full != (report.status == ParentStatus::Filled) {
        return bad(format!(
            "status {} with CumQty {} of {parent_qty}",
            report.status.name(),
            t.cum
        ));
    }
    Ok(())
}

/// What the terminal-state check needs of a parent's or a child's facts.
trait EndFacts: Clone + PartialEq + fmt::Debug {
    /// Whether the order has ended.
    fn ended(&self) -> bool;
    /// Gas charged so far (it may still grow after the end: a swap's receipt follows
    /// its fill).
    fn gas(&self) -> Decimal;
    /// The same facts with `gas` charged.
    fn with_gas(self, gas: Decimal) -> Self;
}

impl EndFacts for ParentFacts {
    fn ended(&self) -> bool {
        self.status.is_terminal()
    }
    fn gas(&self) -> Decimal {
        self.fixed_costs
    }
    fn with_gas(self, fixed_costs: Decimal) -> Self {
        Self {
            fixed_costs,
            ..self
        }
    }
}

impl EndFacts for ChildFacts {
    fn ended(&self) -> bool {
        self.status.is_terminal()
    }
    fn gas(&self) -> Decimal {
        self.fixed_cost
    }
    fn with_gas(self, fixed_cost: Decimal) -> Self {
        Self { fixed_cost, ..self }
    }
}

/// Checks that a `kind` (parent or child) that had ended (it is in `ended`) changed in nothing but more
/// gas, and records one that has just ended. Says whether the order is ended.
fn stays_final<K, F>(
    kind: &str,
    ended: &mut BTreeMap<K, F>,
    id: &K,
    now: F,
) -> Result<bool, Violation>
where
    K: Ord + Clone + fmt::Display,
    F: EndFacts,
{
    if let Some(before) = ended.get_mut(id) {
        let gas_only = now.clone().with_gas(before.gas());
        if *before != gas_only || now.gas() < before.gas() {
            return Err(Violation::new(
                Invariant::TerminalFinal,
                format!("{kind} {id} changed after it ended: {before:?} -> {now:?}"),
            ));
        }
        *before = now;
        Ok(true)
    } else if now.ended() {
        ended.insert(id.clone(), now);
        Ok(true)
    } else {
        Ok(false)
    }
}

/// Every order that had ended is still in the engine: `seen` of them this step, `known`
/// ended so far.
fn all_still_there(kind: &str, seen: usize, known: usize) -> Result<(), Violation> {
    if seen == known {
        Ok(())
    } else {
        Err(Violation::new(
            Invariant::TerminalFinal,
            format!("a {kind} that had ended is gone from the engine"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Conversion, ParentId};
    use risk::{ChildCheck, MinimalGate, MinimalLimits, Side as RiskSide, approve_child};
    use rust_decimal_macros::dec;
    use venues::Side;

    fn report(event: DeskEvent, status: ParentStatus, cum: Decimal, avg: Decimal) -> DeskReport {
        DeskReport {
            parent: ParentId("P1".into()),
            client_id: "c1".into(),
            at: 0,
            event,
            status,
            cum_qty: cum,
            leaves_qty: if status.is_terminal() {
                dec!(0)
            } else {
                dec!(100) - cum
            },
            avg_px: avg,
        }
    }

    fn fill_event(qty: Decimal) -> DeskEvent {
        DeskEvent::Fill {
            venue: VenueId("book-x".into()),
            qty,
            px: dec!(1),
        }
    }

    fn exec(id: &str, qty: Decimal) -> ExecFill {
        ExecFill {
            exec_id: id.into(),
            qty,
            px: dec!(1),
            fee: dec!(0),
        }
    }

    fn approval(venue: &str, qty: Decimal, now: Nanos) -> Approved {
        let mut gate = MinimalGate::new(MinimalLimits::default());
        approve_child(
            &mut gate,
            &ChildCheck {
                desk: "DESK1",
                parent_instrument: "USDC/USD",
                venue,
                instrument: "USDC/USD",
                side: RiskSide::Sell,
                qty,
                notional: qty,
                limit_px: Some(dec!(0.999)),
                reference_px: Some(dec!(1)),
            },
            now,
        )
        .unwrap()
    }

    fn order(id: &str, qty: Decimal) -> VenueOrder {
        VenueOrder {
            client_id: id.into(),
            instrument: "USDC/USD".into(),
            side: Side::Sell,
            qty,
            limit_px: dec!(0.999),
        }
    }

    fn held(id: &str, qty: Decimal) -> ChildOrder {
        ChildOrder::new(
            ChildId(id.into()),
            ParentId("P1".into()),
            VenueId("book-x".into()),
            "USDC/USD".into(),
            Side::Sell,
            qty,
            dec!(0.999),
            Conversion::IDENTITY,
        )
    }

    fn parent_facts(status: ParentStatus, filled: Decimal, working: Decimal) -> ParentFacts {
        ParentFacts {
            status,
            qty: dec!(100),
            filled,
            working,
            net_amount: filled,
            fees: dec!(0),
            fixed_costs: dec!(0),
            children: 1,
        }
    }

    fn child_facts(status: ChildStatus, filled: Decimal) -> ChildFacts {
        ChildFacts {
            status,
            qty: dec!(50),
            filled,
            gross_amount: filled,
            fees: dec!(0),
            fixed_cost: dec!(0),
        }
    }

    fn venue_fill<'a>(child: &'a ChildId, f: &'a ExecFill) -> Cause<'a> {
        Cause::VenueFill {
            child,
            exec_id: &f.exec_id,
            qty_rate: dec!(1),
            venue_fill: Some(f),
        }
    }

    #[test]
    fn a_clean_history_passes() {
        let mut c = Checker::new();
        let v = VenueId("book-x".into());
        c.on_send(
            &v,
            &order("P1.1", dec!(50)),
            &approval("book-x", dec!(50), 7),
            7,
            Some(&held("P1.1", dec!(50))),
        )
        .unwrap();
        c.on_desk(
            &report(DeskEvent::Ack, ParentStatus::New, dec!(0), dec!(0)),
            dec!(100),
            &Cause::Other,
        )
        .unwrap();
        let child = ChildId("P1.1".into());
        let f = exec("x1", dec!(50));
        c.begin_event();
        c.on_desk(
            &report(
                fill_event(dec!(50)),
                ParentStatus::PartiallyFilled,
                dec!(50),
                dec!(1),
            ),
            dec!(100),
            &venue_fill(&child, &f),
        )
        .unwrap();
        c.on_quiet([("P1.1", "x1")].into_iter()).unwrap();
    }

    #[test]
    fn overfill_is_caught_for_a_parent_and_for_a_child() {
        let mut c = Checker::new();
        let p = ParentId("P1".into());
        let e = c
            .on_state(
                [(
                    &p,
                    parent_facts(ParentStatus::PartiallyFilled, dec!(60), dec!(41)),
                )]
                .into_iter(),
                std::iter::empty(),
            )
            .unwrap_err();
        assert_eq!(e.invariant, Invariant::Overfill);
        assert!(
            e.message.contains("filled 60 + working 41 > qty 100"),
            "{e}"
        );
        let k = ChildId("P1.1".into());
        let e = c
            .on_state(
                std::iter::empty(),
                [(&k, child_facts(ChildStatus::Filled, dec!(51)))].into_iter(),
            )
            .unwrap_err();
        assert_eq!(e.invariant, Invariant::Overfill);
    }

    #[test]
    fn a_fill_told_twice_or_never_made_or_never_told_is_caught() {
        let child = ChildId("P1.1".into());
        let f = exec("x1", dec!(10));
        let mut c = Checker::new();
        c.begin_event();
        c.on_desk(
            &report(
                fill_event(dec!(10)),
                ParentStatus::PartiallyFilled,
                dec!(10),
                dec!(1),
            ),
            dec!(100),
            &venue_fill(&child, &f),
        )
        .unwrap();
        c.begin_event();
        let e = c
            .on_desk(
                &report(
                    fill_event(dec!(10)),
                    ParentStatus::PartiallyFilled,
                    dec!(20),
                    dec!(1),
                ),
                dec!(100),
                &venue_fill(&child, &f),
            )
            .unwrap_err();
        assert_eq!(e.invariant, Invariant::FillReportedOnce);
        assert!(e.message.contains("reported to the desk twice"), "{e}");

        // A desk fill with no venue execution behind it.
        let mut c = Checker::new();
        let phantom = Cause::VenueFill {
            child: &child,
            exec_id: "x9",
            qty_rate: dec!(1),
            venue_fill: None,
        };
        let e = c
            .on_desk(
                &report(
                    fill_event(dec!(10)),
                    ParentStatus::PartiallyFilled,
                    dec!(10),
                    dec!(1),
                ),
                dec!(100),
                &phantom,
            )
            .unwrap_err();
        assert!(e.message.contains("never made"), "{e}");

        // A desk fill out of an event that was no fill.
        let mut c = Checker::new();
        let e = c
            .on_desk(
                &report(
                    fill_event(dec!(10)),
                    ParentStatus::PartiallyFilled,
                    dec!(10),
                    dec!(1),
                ),
                dec!(100),
                &Cause::Other,
            )
            .unwrap_err();
        assert_eq!(e.invariant, Invariant::FillReportedOnce);

        // A venue fill the desk never heard of.
        let c = Checker::new();
        let e = c.on_quiet([("P1.1", "x1")].into_iter()).unwrap_err();
        assert!(e.message.contains("never reported to the desk"), "{e}");
    }

    #[test]
    fn a_clordid_sent_twice_is_caught() {
        let mut c = Checker::new();
        let v = VenueId("book-x".into());
        let h = held("P1.1", dec!(50));
        c.on_send(
            &v,
            &order("P1.1", dec!(50)),
            &approval("book-x", dec!(50), 1),
            1,
            Some(&h),
        )
        .unwrap();
        let e = c
            .on_send(
                &v,
                &order("P1.1", dec!(50)),
                &approval("book-x", dec!(50), 2),
                2,
                Some(&h),
            )
            .unwrap_err();
        assert_eq!(e.invariant, Invariant::UniqueClOrdId);
        assert!(e.message.contains("P1.1 sent again"), "{e}");
    }

    #[test]
    fn a_child_without_a_matching_approval_is_caught() {
        let v = VenueId("book-x".into());
        let h = held("P1.1", dec!(50));
        let mut c = Checker::new();
        let e = c
            .on_send(
                &v,
                &order("P1.1", dec!(50)),
                &approval("book-x", dec!(40), 1),
                1,
                Some(&h),
            )
            .unwrap_err();
        assert_eq!(e.invariant, Invariant::RiskApproval);
        assert!(e.message.contains("covers qty 40"), "{e}");
        let mut c = Checker::new();
        let e = c
            .on_send(
                &v,
                &order("P1.1", dec!(50)),
                &approval("book-y", dec!(50), 1),
                1,
                Some(&h),
            )
            .unwrap_err();
        assert!(e.message.contains("for venue book-y"), "{e}");
        let mut c = Checker::new();
        let e = c
            .on_send(
                &v,
                &order("P1.1", dec!(50)),
                &approval("book-x", dec!(50), 1),
                2,
                Some(&h),
            )
            .unwrap_err();
        assert!(e.message.contains("approved at 1 but sent at 2"), "{e}");
        let mut c = Checker::new();
        let e = c
            .on_send(
                &v,
                &order("P1.1", dec!(50)),
                &approval("book-x", dec!(50), 1),
                1,
                None,
            )
            .unwrap_err();
        assert!(e.message.contains("holds no such child"), "{e}");
    }

    #[test]
    fn a_terminal_order_that_changes_or_a_report_after_the_end_is_caught() {
        let k = ChildId("P1.1".into());
        let mut c = Checker::new();
        c.on_state(
            std::iter::empty(),
            [(&k, child_facts(ChildStatus::Expired, dec!(10)))].into_iter(),
        )
        .unwrap();
        let e = c
            .on_state(
                std::iter::empty(),
                [(&k, child_facts(ChildStatus::Expired, dec!(20)))].into_iter(),
            )
            .unwrap_err();
        assert_eq!(e.invariant, Invariant::TerminalFinal);
        let e = c
            .on_state(std::iter::empty(), std::iter::empty())
            .unwrap_err();
        assert!(e.message.contains("gone"), "{e}");

        let p = ParentId("P1".into());
        let mut c = Checker::new();
        c.on_state(
            [(&p, parent_facts(ParentStatus::Expired, dec!(10), dec!(0)))].into_iter(),
            std::iter::empty(),
        )
        .unwrap();
        let e = c
            .on_state(
                [(
                    &p,
                    parent_facts(ParentStatus::PartiallyFilled, dec!(10), dec!(0)),
                )]
                .into_iter(),
                std::iter::empty(),
            )
            .unwrap_err();
        assert_eq!(e.invariant, Invariant::TerminalFinal);

        let mut c = Checker::new();
        let done = DeskEvent::Done {
            status: ParentStatus::Expired,
            reason: "x".into(),
        };
        c.on_desk(
            &report(done, ParentStatus::Expired, dec!(0), dec!(0)),
            dec!(100),
            &Cause::Other,
        )
        .unwrap();
        let e = c
            .on_desk(
                &report(DeskEvent::Ack, ParentStatus::Expired, dec!(0), dec!(0)),
                dec!(100),
                &Cause::Other,
            )
            .unwrap_err();
        assert_eq!(e.invariant, Invariant::TerminalFinal);
        // A refused cancel after the end is an answer, not a report on the order.
        let too_late = DeskEvent::CancelRejected {
            reason: "too late".into(),
        };
        c.on_desk(
            &report(too_late, ParentStatus::Expired, dec!(0), dec!(0)),
            dec!(100),
            &Cause::Other,
        )
        .unwrap();
    }

    #[test]
    fn desk_totals_that_disagree_with_the_fills_are_caught() {
        let child = ChildId("P1.1".into());
        let f = exec("x1", dec!(10));
        let mut c = Checker::new();
        c.begin_event();
        let e = c
            .on_desk(
                &report(
                    fill_event(dec!(10)),
                    ParentStatus::PartiallyFilled,
                    dec!(12),
                    dec!(1),
                ),
                dec!(100),
                &venue_fill(&child, &f),
            )
            .unwrap_err();
        assert_eq!(e.invariant, Invariant::DeskConsistent);
        assert!(
            e.message.contains("CumQty 12 but the fills sum to 10"),
            "{e}"
        );

        let mut c = Checker::new();
        c.begin_event();
        let e = c
            .on_desk(
                &report(
                    fill_event(dec!(10)),
                    ParentStatus::PartiallyFilled,
                    dec!(10),
                    dec!(0.9),
                ),
                dec!(100),
                &venue_fill(&child, &f),
            )
            .unwrap_err();
        assert!(e.message.contains("AvgPx"), "{e}");

        let mut c = Checker::new();
        c.begin_event();
        let mut r = report(
            fill_event(dec!(10)),
            ParentStatus::PartiallyFilled,
            dec!(10),
            dec!(1),
        );
        r.leaves_qty = dec!(100);
        let e = c
            .on_desk(&r, dec!(100), &venue_fill(&child, &f))
            .unwrap_err();
        assert!(e.message.contains("LeavesQty"), "{e}");

        let mut c = Checker::new();
        c.begin_event();
        let e = c
            .on_desk(
                &report(
                    fill_event(dec!(10)),
                    ParentStatus::Filled,
                    dec!(10),
                    dec!(1),
                ),
                dec!(100),
                &venue_fill(&child, &f),
            )
            .unwrap_err();
        assert!(e.message.contains("status Filled"), "{e}");
    }
}
