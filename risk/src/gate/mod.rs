//! The stateful gate: limits, usage, ramp stages and kill switches, checked in well
//! under a microsecond without allocating on the approve path.

mod compiled;
mod control;
mod index;
mod snapshot;
mod usage;

pub use control::{Actor, Control, ControlError, KillScope};
pub use snapshot::{
    GateSnapshot, KillsSnapshot, NotionalUsage, RampUsage, StageCause, StageChange, VenueUsage,
    WindowUsage,
};

use crate::decision::fmt_ms;
use crate::limits::{Limits, LimitsError};
use crate::request::{ChildCheck, ChildDone, ChildOutcome, ParentCheck, Room, RoomRequest, Side};
use crate::{PreTradeGate, RiskReject, Rule};
use compiled::{Compiled, VenueRt};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use usage::{Counter, Flow, VenueState};

/// An engaged kill switch: who engaged it, when, why, and whether working children
/// must be cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kill {
    /// Whether the engine must cancel the children working in this scope.
    pub cancel_working: bool,
    /// When it was engaged (nanoseconds).
    pub at: u64,
    /// Who engaged it.
    pub by: String,
    /// Why.
    pub reason: String,
}

/// The kill switches in force, by name (so they survive a new limits file).
#[derive(Debug, Clone, Default)]
struct Kills {
    global: Option<Kill>,
    desks: BTreeMap<String, Kill>,
    venues: BTreeMap<String, Kill>,
    desk_on: Vec<bool>,
    venue_on: Vec<bool>,
    generation: u64,
}

impl Kills {
    fn reindex(&mut self, rt: &Compiled) {
        self.desk_on = (0..rt.desk_ix.len())
            .map(|i| self.desks.contains_key(rt.desk_ix.name(i)))
            .collect();
        self.venue_on = (0..rt.venue_ix.len())
            .map(|i| self.venues.contains_key(rt.venue_ix.name(i)))
            .collect();
    }
}

/// The full pre-trade risk gate: owns the limits and everything used against them.
///
/// Checks (`check_parent`, `check_child`, `room`) take `&self` and the time; usage
/// changes (`on_child_sent`, `on_child_done`) take `&mut self`. Controls (limits, kill
/// switches, stages) are written to an [`crate::AuditLog`] before they take effect; see
/// [`Gate::control`]. For sharing with an admin server, wrap it in
/// [`crate::SharedGate`].
#[derive(Debug, Clone)]
pub struct Gate {
    rt: Compiled,
    overall: Flow,
    desks: Vec<Counter>,
    venues: Vec<VenueState>,
    kills: Kills,
    version: u64,
}

const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// Whether `d` > 0, from its sign bit (no scale alignment).
#[inline]
fn positive(d: Decimal) -> bool {
    !d.is_sign_negative() && !d.is_zero()
}

fn min_opt(a: Option<Decimal>, b: Option<Decimal>) -> Option<Decimal> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// How much worse than the reference `px` is, for `side` (negative when better).
#[inline]
fn worse_by(side: Side, px: Decimal, reference: Decimal) -> Decimal {
    match side {
        Side::Buy => px.saturating_sub(reference),
        Side::Sell => reference.saturating_sub(px),
    }
}

/// Whether `px` is worse than `reference` by more than `band` bps: worse × 10⁴ >
/// band × reference (exact; `reference` > 0).
#[inline]
pub(crate) fn breaks_band(side: Side, px: Decimal, reference: Decimal, band: Decimal) -> bool {
    let worse = worse_by(side, px, reference);
    if !positive(worse) {
        return false;
    }
    match (worse.checked_mul(BPS), band.checked_mul(reference)) {
        (Some(l), Some(r)) => l > r,
        (None, _) => true,
        (Some(_), None) => false,
    }
}

fn deviation_bps(side: Side, px: Decimal, reference: Decimal) -> Decimal {
    worse_by(side, px, reference)
        .checked_mul(BPS)
        .and_then(|w| w.checked_div(reference))
        .map_or(Decimal::MAX, |d| {
            d.round_dp_with_strategy(4, RoundingStrategy::AwayFromZero)
        })
}

impl Gate {
    /// A gate enforcing `limits` (validated first), with nothing used yet, every ramp at
    /// its first stage and no kill switch engaged.
    pub fn new(limits: Limits) -> Result<Self, LimitsError> {
        limits.validate()?;
        let rt = Compiled::build(limits);
        let mut g = Gate {
            overall: Flow::new(rt.overall_ring_cap),
            desks: vec![Counter::default(); rt.desks.len()],
            venues: rt
                .venues
                .iter()
                .map(|v| VenueState {
                    flow: Flow::new(v.ring_cap),
                    stage: 0,
                    clean: 0,
                })
                .collect(),
            kills: Kills::default(),
            version: 0,
            rt,
        };
        g.kills.reindex(&g.rt);
        Ok(g)
    }

    /// A gate from a limits file's text.
    pub fn from_toml_str(text: &str) -> Result<Self, LimitsError> {
        Self::new(Limits::from_toml_str(text)?)
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.rt.limits
    }

    /// How many controls have changed the gate since it was made.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Counts up whenever a kill switch is engaged or released: the engine compares it
    /// with the value it last saw and, when it moved, asks [`Gate::must_cancel`] for each
    /// working child.
    pub fn kill_generation(&self) -> u64 {
        self.kills.generation
    }

    /// Whether an engaged kill switch covering this desk or venue (or the global one)
    /// asks for working children to be cancelled.
    pub fn must_cancel(&self, desk: &str, venue: &str) -> bool {
        let k = &self.kills;
        k.global.as_ref().is_some_and(|k| k.cancel_working)
            || k.desks.get(desk).is_some_and(|k| k.cancel_working)
            || k.venues.get(venue).is_some_and(|k| k.cancel_working)
    }

    /// The kill switch engaged at `scope`, if any.
    pub fn kill(&self, scope: &KillScope) -> Option<&Kill> {
        match scope {
            KillScope::Global => self.kills.global.as_ref(),
            KillScope::Desk(d) => self.kills.desks.get(d),
            KillScope::Venue(v) => self.kills.venues.get(v),
        }
    }

    /// The name of `venue`'s current ramp stage, if it has a ramp.
    pub fn stage(&self, venue: &str) -> Option<&str> {
        let v = self.rt.venue_ix.get(venue)?;
        let ramp = self.rt.venues.get(v)?.ramp.as_ref()?;
        let st = self.venues.get(v)?;
        ramp.stages.get(st.stage).map(|s| &*s.name)
    }

    fn desk_scope(&self, d: usize) -> Option<String> {
        Some(format!("desk {}", self.rt.desk_ix.name(d)))
    }

    fn venue_scope(&self, v: usize) -> Option<String> {
        Some(format!("venue {}", self.rt.venue_ix.name(v)))
    }

    fn kill_check(&self, d: usize, v: Option<usize>) -> Result<(), RiskReject> {
        let k = &self.kills;
        let z = Decimal::ZERO;
        if k.global.is_some() {
            return Err(RiskReject::new(Rule::KillSwitch, z, z, "", None));
        }
        if k.desk_on.get(d).copied().unwrap_or(false) {
            return Err(RiskReject::new(
                Rule::KillSwitch,
                z,
                z,
                "",
                self.desk_scope(d),
            ));
        }
        if let Some(v) = v
            && k.venue_on.get(v).copied().unwrap_or(false)
        {
            return Err(RiskReject::new(
                Rule::KillSwitch,
                z,
                z,
                "",
                self.venue_scope(v),
            ));
        }
        Ok(())
    }

    /// Checks a new parent: desk known, currency, kill switches, max parent quantity
    /// and notional (desk and desk-instrument), and the fat-finger band on its own limit.
    /// Rejects of the parent's own limits have no scope (the desk is the parent's), so
    /// the text is the desk-facing one: `risk: max parent notional 25000000 USD exceeded
    /// by 1000000`.
    pub fn check_parent(&self, p: &ParentCheck<'_>, _now: u64) -> Result<(), RiskReject> {
        let z = Decimal::ZERO;
        if p.qty <= z {
            return Err(RiskReject::new(
                Rule::NonPositiveQty,
                z,
                p.qty,
                p.instrument,
                None,
            ));
        }
        if p.notional < z {
            return Err(RiskReject::new(
                Rule::NegativeNotional,
                z,
                p.notional,
                p.currency,
                None,
            ));
        }
        let Some(d) = self.rt.desk_ix.get(p.desk) else {
            return Err(RiskReject::new(Rule::UnknownDesk, z, z, "", None).with_detail(p.desk));
        };
        if p.currency != self.rt.limits.currency {
            return Err(
                RiskReject::new(Rule::CurrencyMismatch, z, z, p.currency, None)
                    .with_detail(self.rt.limits.currency.as_str()),
            );
        }
        self.kill_check(d, None)?;
        let Some(desk) = self.rt.desks.get(d) else {
            return Err(RiskReject::new(Rule::UnknownDesk, z, z, "", None).with_detail(p.desk));
        };
        let di = if self.rt.any_desk_instruments {
            self.rt
                .instr_ix
                .get(p.instrument)
                .and_then(|i| desk.instrument(i))
        } else {
            None
        };
        if let Some(max) = min_opt(desk.max_parent_qty, di.and_then(|x| x.max_parent_qty))
            && p.qty > max
        {
            return Err(RiskReject::new(
                Rule::MaxParentQty,
                max,
                p.qty,
                p.instrument,
                None,
            ));
        }
        if let Some(max) = min_opt(
            desk.max_parent_notional,
            di.and_then(|x| x.max_parent_notional),
        ) && p.notional > max
        {
            return Err(RiskReject::new(
                Rule::MaxParentNotional,
                max,
                p.notional,
                p.currency,
                None,
            ));
        }
        if let Some(band) = min_opt(desk.parent_band, di.and_then(|x| x.parent_band))
            && let Some(px) = p.limit_px
        {
            match p.reference_px {
                Some(r) if r > z && px > z => {
                    if breaks_band(p.side, px, r, band) {
                        return Err(RiskReject::new(
                            Rule::ParentPriceBand,
                            band,
                            deviation_bps(p.side, px, r),
                            "bps",
                            None,
                        ));
                    }
                }
                _ => {
                    return Err(RiskReject::new(Rule::MissingPrice, z, z, "", None)
                        .with_detail("a positive limit price and reference price"));
                }
            }
        }
        Ok(())
    }

    /// Checks one child against every limit that applies, in a fixed order: quantity,
    /// desk and venue known, kill switches, allow-lists, min clip, max clip, ramp stage
    /// clip, price band, open notional, daily notional, cadence (overall, venue, stage).
    /// Allocates nothing unless it rejects.
    pub fn check_child(&self, c: &ChildCheck<'_>, now: u64) -> Result<(), RiskReject> {
        self.check_ix(c, now).map(|_| ())
    }

    fn check_ix(&self, c: &ChildCheck<'_>, now: u64) -> Result<(usize, usize), RiskReject> {
        let z = Decimal::ZERO;
        let rt = &self.rt;
        if c.qty.is_sign_negative() || c.qty.is_zero() {
            return Err(RiskReject::new(
                Rule::NonPositiveQty,
                z,
                c.qty,
                c.instrument,
                Some(c.venue.to_owned()),
            ));
        }
        if c.notional.is_sign_negative() && !c.notional.is_zero() {
            return Err(RiskReject::new(
                Rule::NegativeNotional,
                z,
                c.notional,
                rt.limits.currency.as_str(),
                Some(c.venue.to_owned()),
            ));
        }
        let Some(d) = rt.desk_ix.get(c.desk) else {
            return Err(RiskReject::new(Rule::UnknownDesk, z, z, "", None).with_detail(c.desk));
        };
        let v = rt.venue_ix.get(c.venue).unwrap_or(usize::MAX);
        let (Some(venue), Some(vs), Some(desk), Some(dc)) = (
            rt.venues.get(v),
            self.venues.get(v),
            rt.desks.get(d),
            self.desks.get(d),
        ) else {
            return Err(RiskReject::new(Rule::UnknownVenue, z, z, "", None).with_detail(c.venue));
        };
        self.kill_check(d, Some(v))?;
        if let Some(allow) = &desk.allow
            && !allow.contains(v)
        {
            return Err(
                RiskReject::new(Rule::VenueNotAllowed, z, z, "", self.desk_scope(d))
                    .with_detail(c.venue),
            );
        }
        if !desk.instruments.is_empty()
            && let Some(di) = rt
                .instr_ix
                .get(c.parent_instrument)
                .and_then(|i| desk.instrument(i))
            && let Some(allow) = &di.allow
            && !allow.contains(v)
        {
            return Err(RiskReject::new(
                Rule::VenueNotAllowed,
                z,
                z,
                "",
                Some(format!("desk {} for {}", c.desk, c.parent_instrument)),
            )
            .with_detail(c.venue));
        }
        let eff = venue.eff(self.instrument(c.instrument));
        let (min, max) = (eff.min_clip, eff.max_clip);
        if let Some(min) = min
            && c.qty < min
        {
            return Err(RiskReject::new(
                Rule::MinClip,
                min,
                c.qty,
                c.instrument,
                Some(c.venue.to_owned()),
            ));
        }
        if let Some(max) = max
            && c.qty > max
        {
            return Err(RiskReject::new(
                Rule::MaxClip,
                max,
                c.qty,
                c.instrument,
                Some(c.venue.to_owned()),
            ));
        }
        let stage = venue.ramp.as_ref().and_then(|r| r.stages.get(vs.stage));
        if let Some(st) = stage
            && let Some(max) = st.max_clip
            && c.qty > max
        {
            return Err(RiskReject::new(
                Rule::StageMaxClip,
                max,
                c.qty,
                c.instrument,
                Some(c.venue.to_owned()),
            )
            .with_detail(&*st.name));
        }
        if let Some(band) = eff.band {
            match (c.limit_px, c.reference_px) {
                (Some(px), Some(r)) if positive(px) && positive(r) => {
                    if breaks_band(c.side, px, r, band) {
                        return Err(RiskReject::new(
                            Rule::PriceBand,
                            band,
                            deviation_bps(c.side, px, r),
                            "bps",
                            Some(c.venue.to_owned()),
                        ));
                    }
                }
                _ => {
                    return Err(RiskReject::new(
                        Rule::MissingPrice,
                        z,
                        z,
                        "",
                        Some(c.venue.to_owned()),
                    )
                    .with_detail("a positive limit price and reference price"));
                }
            }
        }
        let cur = rt.limits.currency.as_str();
        let over = |limit: Option<Decimal>, used: Decimal| -> Option<(Decimal, Decimal)> {
            let limit = limit?;
            match used.checked_add(c.notional) {
                Some(attempted) => (attempted > limit).then_some((limit, attempted)),
                None => Some((limit, Decimal::MAX)),
            }
        };
        let open = [
            (rt.overall.max_open, self.overall.counter.open, None),
            (desk.max_open, dc.open, Some(false)),
            (venue.max_open, vs.flow.counter.open, Some(true)),
        ];
        for (limit, used, scope) in open {
            if let Some((l, a)) = over(limit, used) {
                return Err(RiskReject::new(
                    Rule::MaxOpenNotional,
                    l,
                    a,
                    cur,
                    self.scope_of(scope, d, v),
                ));
            }
        }
        let daily = [
            (rt.overall.daily, &self.overall.counter, None),
            (desk.daily, dc, Some(false)),
            (venue.daily, &vs.flow.counter, Some(true)),
        ];
        let mut start = None;
        for (limit, counter, scope) in daily {
            if limit.is_some()
                && let Some((l, a)) = over(
                    limit,
                    counter.daily_since(
                        *start.get_or_insert_with(|| usage::period_start(now, rt.reset_ns)),
                    ),
                )
            {
                return Err(RiskReject::new(
                    Rule::DailyNotional,
                    l,
                    a,
                    cur,
                    self.scope_of(scope, d, v),
                ));
            }
        }
        self.cadence(venue, vs, stage, c.venue, now)?;
        Ok((d, v))
    }

    fn scope_of(&self, venue: Option<bool>, d: usize, v: usize) -> Option<String> {
        match venue {
            None => None,
            Some(false) => self.desk_scope(d),
            Some(true) => self.venue_scope(v),
        }
    }

    /// The index of an instrument that some limit names.
    #[inline]
    fn instrument(&self, name: &str) -> Option<usize> {
        if self.rt.instr_ix.len() == 0 {
            None
        } else {
            self.rt.instr_ix.get(name)
        }
    }

    /// The earliest time each cadence limit allows a child, with the reject it gives
    /// before then; the first one that forbids `now` is returned.
    fn cadence(
        &self,
        venue: &VenueRt,
        vs: &VenueState,
        stage: Option<&compiled::StageRt>,
        name: &str,
        now: u64,
    ) -> Result<(), RiskReject> {
        let o = &self.rt.overall;
        if let Some(w) = o.window
            && let Some(t) = self.overall.ring.kth_latest(w.max as usize)
            && t.saturating_add(w.ns) > now
        {
            return Err(window_reject(Rule::MaxChildrenPerWindow, w.max, w.ns, None)
                .with_retry(t.saturating_add(w.ns), now));
        }
        if let Some(s) = o.min_spacing_ns
            && let Some(last) = self.overall.last_sent
            && last.saturating_add(s) > now
        {
            return Err(spacing_reject(Rule::MinSpacing, s, last, now, None));
        }
        let windows = [
            (venue.max_children, Rule::MaxChildrenPerWindow),
            (
                stage.and_then(|s| s.max_children),
                Rule::StageMaxChildrenPerWindow,
            ),
        ];
        for (max, rule) in windows {
            if let Some(max) = max
                && let Some(t) = vs.flow.ring.kth_latest(max as usize)
                && t.saturating_add(venue.window_ns) > now
            {
                let mut r = window_reject(rule, max, venue.window_ns, Some(name.to_owned()))
                    .with_retry(t.saturating_add(venue.window_ns), now);
                if let (Rule::StageMaxChildrenPerWindow, Some(st)) = (rule, stage) {
                    r = r.with_detail(&*st.name);
                }
                return Err(r);
            }
        }
        let spacings = [
            (venue.min_spacing_ns, Rule::MinSpacing),
            (stage.and_then(|s| s.min_spacing_ns), Rule::StageMinSpacing),
        ];
        for (s, rule) in spacings {
            if let Some(s) = s
                && let Some(last) = vs.flow.last_sent
                && last.saturating_add(s) > now
            {
                let mut r = spacing_reject(rule, s, last, now, Some(name.to_owned()));
                if let (Rule::StageMinSpacing, Some(st)) = (rule, stage) {
                    r = r.with_detail(&*st.name);
                }
                return Err(r);
            }
        }
        Ok(())
    }

    /// The first time at or after `now` when every cadence limit allows a child at the
    /// venue.
    fn next_allowed(&self, venue: &VenueRt, vs: &VenueState) -> u64 {
        let mut at = 0u64;
        let o = &self.rt.overall;
        if let Some(w) = o.window
            && let Some(t) = self.overall.ring.kth_latest(w.max as usize)
        {
            at = at.max(t.saturating_add(w.ns));
        }
        if let (Some(s), Some(last)) = (o.min_spacing_ns, self.overall.last_sent) {
            at = at.max(last.saturating_add(s));
        }
        let stage = venue.ramp.as_ref().and_then(|r| r.stages.get(vs.stage));
        for max in [venue.max_children, stage.and_then(|s| s.max_children)]
            .into_iter()
            .flatten()
        {
            if let Some(t) = vs.flow.ring.kth_latest(max as usize) {
                at = at.max(t.saturating_add(venue.window_ns));
            }
        }
        for s in [venue.min_spacing_ns, stage.and_then(|s| s.min_spacing_ns)]
            .into_iter()
            .flatten()
        {
            if let Some(last) = vs.flow.last_sent {
                at = at.max(last.saturating_add(s));
            }
        }
        at
    }

    /// How much `q.venue` may take now for `q.desk`: the tightest clip (venue,
    /// venue-instrument, instrument, ramp stage), the notional room (open and daily,
    /// overall, desk and venue) and, when cadence forbids a child now, when the next one
    /// is allowed. A venue shut by a kill switch, an allow-list, an unknown name, used-up
    /// notional or a min clip above the room has `max_qty = Some(0)` and `blocked` set.
    pub fn room(&self, q: &RoomRequest<'_>, now: u64) -> Room {
        let z = Decimal::ZERO;
        let shut = |rule: Rule| Room {
            max_qty: Some(z),
            blocked: Some(rule),
            ..Room::default()
        };
        let rt = &self.rt;
        let Some(d) = rt.desk_ix.get(q.desk) else {
            return shut(Rule::UnknownDesk);
        };
        let Some(v) = rt.venue_ix.get(q.venue) else {
            return shut(Rule::UnknownVenue);
        };
        let (Some(venue), Some(vs), Some(desk), Some(dc)) = (
            rt.venues.get(v),
            self.venues.get(v),
            rt.desks.get(d),
            self.desks.get(d),
        ) else {
            return shut(Rule::UnknownVenue);
        };
        if self.kill_check(d, Some(v)).is_err() {
            return shut(Rule::KillSwitch);
        }
        let allowed = desk.allow.as_ref().is_none_or(|a| a.contains(v))
            && (desk.instruments.is_empty()
                || rt
                    .instr_ix
                    .get(q.parent_instrument)
                    .and_then(|i| desk.instrument(i))
                    .and_then(|di| di.allow.as_ref())
                    .is_none_or(|a| a.contains(v)));
        if !allowed {
            return shut(Rule::VenueNotAllowed);
        }
        let eff = venue.eff(self.instrument(q.instrument));
        let (min_qty, mut max_qty) = (eff.min_clip, eff.max_clip);
        let mut blocked = None;
        let stage = venue.ramp.as_ref().and_then(|r| r.stages.get(vs.stage));
        max_qty = min_opt(max_qty, stage.and_then(|s| s.max_clip));
        let reset = rt.reset_ns;
        let mut max_notional: Option<(Decimal, Rule)> = None;
        let rooms = [
            (
                rt.overall.max_open,
                self.overall.counter.open,
                Rule::MaxOpenNotional,
            ),
            (desk.max_open, dc.open, Rule::MaxOpenNotional),
            (venue.max_open, vs.flow.counter.open, Rule::MaxOpenNotional),
            (
                rt.overall.daily,
                self.overall.counter.daily(now, reset),
                Rule::DailyNotional,
            ),
            (desk.daily, dc.daily(now, reset), Rule::DailyNotional),
            (
                venue.daily,
                vs.flow.counter.daily(now, reset),
                Rule::DailyNotional,
            ),
        ];
        for (limit, used, rule) in rooms {
            if let Some(l) = limit {
                let left = l.saturating_sub(used).max(z);
                if max_notional.is_none_or(|(m, _)| left < m) {
                    max_notional = Some((left, rule));
                }
            }
        }
        if let Some((left, rule)) = max_notional {
            if left <= z {
                max_qty = Some(z);
                blocked = Some(rule);
            } else if let Some(px) = q.notional_per_unit
                && px > z
            {
                let by_notional = left
                    .checked_div(px)
                    .map(|x| x.round_dp_with_strategy(12, RoundingStrategy::ToZero));
                max_qty = min_opt(max_qty, by_notional);
            }
        }
        if blocked.is_none()
            && let (Some(lo), Some(hi)) = (min_qty, max_qty)
            && hi < lo
        {
            max_qty = Some(z);
            blocked = Some(Rule::MinClip);
        }
        let next = self.next_allowed(venue, vs);
        Room {
            max_qty,
            min_qty,
            max_notional: max_notional.map(|(m, _)| m),
            next_allowed_at: (next > now).then_some(next),
            blocked,
        }
    }

    /// Records a child that was sent at `now`: its notional counts as open and toward
    /// the daily caps (overall, desk, venue), and its time toward cadence. Call it once
    /// per child that passed [`Gate::check_child`] (or use [`Gate::admit`], which does
    /// both). Unknown names only count overall.
    pub fn on_child_sent(&mut self, c: &ChildCheck<'_>, now: u64) {
        let d = self.rt.desk_ix.get(c.desk);
        let v = self.rt.venue_ix.get(c.venue);
        self.record(d, v, c.notional, now);
    }

    fn record(&mut self, d: Option<usize>, v: Option<usize>, notional: Decimal, now: u64) {
        let reset = self.rt.reset_ns;
        let notional = notional.max(Decimal::ZERO);
        self.overall.sent(notional, now, reset);
        if let Some(c) = d.and_then(|d| self.desks.get_mut(d)) {
            c.add(notional, now, reset);
        }
        if let Some(vs) = v.and_then(|v| self.venues.get_mut(v)) {
            vs.flow.sent(notional, now, reset);
        }
    }

    /// Checks a child and, if it passes, records it as sent: one step, so no other
    /// child can take the same room in between.
    pub fn admit(&mut self, c: &ChildCheck<'_>, now: u64) -> Result<(), RiskReject> {
        let (d, v) = self.check_ix(c, now)?;
        self.record(Some(d), Some(v), c.notional, now);
        Ok(())
    }

    /// Records that a child is no longer working: its notional leaves open notional,
    /// its unfilled part goes back to the daily caps (if sent in the current daily
    /// period), and its outcome moves the venue's ramp: a clean fill counts toward
    /// graduation (one stage after the ramp's N in a row, never above the ceiling), an
    /// error demotes one stage and resets the count. Returns the stage change, if any,
    /// for the engine to log.
    pub fn on_child_done(&mut self, done: &ChildDone<'_>, now: u64) -> Option<StageChange> {
        let reset = self.rt.reset_ns;
        let sent = done.sent_notional.max(Decimal::ZERO);
        let unfilled = sent.saturating_sub(done.filled_notional).max(Decimal::ZERO);
        self.overall
            .counter
            .release(sent, unfilled, done.sent_at, now, reset);
        if let Some(c) = self
            .rt
            .desk_ix
            .get(done.desk)
            .and_then(|d| self.desks.get_mut(d))
        {
            c.release(sent, unfilled, done.sent_at, now, reset);
        }
        let v = self.rt.venue_ix.get(done.venue)?;
        let vs = self.venues.get_mut(v)?;
        vs.flow
            .counter
            .release(sent, unfilled, done.sent_at, now, reset);
        let ramp = self.rt.venues.get(v)?.ramp.as_ref()?;
        let from = vs.stage;
        let cause = match done.outcome {
            ChildOutcome::NoFill => return None,
            ChildOutcome::CleanFill => {
                vs.clean = vs.clean.saturating_add(1);
                if vs.clean >= ramp.graduate_after && vs.stage < ramp.ceiling {
                    vs.stage += 1;
                    vs.clean = 0;
                    StageCause::Graduated
                } else {
                    return None;
                }
            }
            ChildOutcome::Error => {
                vs.clean = 0;
                if vs.stage == 0 {
                    return None;
                }
                vs.stage -= 1;
                StageCause::Demoted
            }
        };
        let name = |i: usize| {
            ramp.stages
                .get(i)
                .map_or_else(String::new, |s| s.name.to_string())
        };
        Some(StageChange {
            venue: done.venue.to_owned(),
            ramp: ramp.name.to_string(),
            from: name(from),
            to: name(vs.stage),
            cause,
            at: now,
        })
    }

    /// The limits and everything used against them at `now`, for an admin API.
    pub fn snapshot(&self, now: u64) -> GateSnapshot {
        snapshot::take(self, now)
    }

    /// Swaps in new compiled limits, carrying usage over by name (see
    /// [`Control::ReplaceLimits`]).
    fn install(&mut self, rt: Compiled) {
        let old = std::mem::replace(&mut self.rt, rt);
        let rt = &self.rt;
        self.overall = self.overall.resized(rt.overall_ring_cap);
        self.desks = (0..rt.desk_ix.len())
            .map(|i| {
                old.desk_ix
                    .get(rt.desk_ix.name(i))
                    .and_then(|o| self.desks.get(o).copied())
                    .unwrap_or_default()
            })
            .collect();
        let mut venues = Vec::with_capacity(rt.venues.len());
        for (i, v) in rt.venues.iter().enumerate() {
            let name = rt.venue_ix.name(i);
            let prev = old
                .venue_ix
                .get(name)
                .and_then(|o| Some((old.venues.get(o)?, self.venues.get(o)?)));
            let mut st = match prev {
                Some((_, s)) => VenueState {
                    flow: s.flow.resized(v.ring_cap),
                    stage: s.stage,
                    clean: s.clean,
                },
                None => VenueState {
                    flow: Flow::new(v.ring_cap),
                    ..VenueState::default()
                },
            };
            // Keep the stage only if it is the same stage of the same ramp.
            let same = match (prev.and_then(|(o, _)| o.ramp.as_ref()), &v.ramp) {
                (Some(o), Some(n)) => {
                    o.name == n.name
                        && o.stages.get(st.stage).map(|s| &s.name)
                            == n.stages.get(st.stage).map(|s| &s.name)
                }
                _ => false,
            };
            if !same {
                st.stage = 0;
                st.clean = 0;
            }
            if let Some(r) = &v.ramp {
                st.stage = st.stage.min(r.ceiling);
            }
            venues.push(st);
        }
        self.venues = venues;
        self.kills.reindex(&self.rt);
    }
}

fn window_reject(rule: Rule, max: u32, ns: u64, scope: Option<String>) -> RiskReject {
    RiskReject::new(
        rule,
        Decimal::from(max),
        Decimal::from(max) + Decimal::ONE,
        format!("children per {}", fmt_ms(ns)),
        scope,
    )
}

fn ms_dec(ns: u64) -> Decimal {
    Decimal::from_i128_with_scale(i128::from(ns), 6).normalize()
}

fn spacing_reject(rule: Rule, s: u64, last: u64, now: u64, scope: Option<String>) -> RiskReject {
    RiskReject::new(
        rule,
        ms_dec(s),
        ms_dec(now.saturating_sub(last)),
        "ms",
        scope,
    )
    .with_retry(last.saturating_add(s), now)
}

impl PreTradeGate for Gate {
    fn check_parent(&self, parent: &ParentCheck<'_>, now: u64) -> Result<(), RiskReject> {
        Gate::check_parent(self, parent, now)
    }
    fn check_child(&self, child: &ChildCheck<'_>, now: u64) -> Result<(), RiskReject> {
        Gate::check_child(self, child, now)
    }
    fn room(&self, at: &RoomRequest<'_>, now: u64) -> Room {
        Gate::room(self, at, now)
    }
    fn on_child_sent(&mut self, child: &ChildCheck<'_>, now: u64) {
        Gate::on_child_sent(self, child, now)
    }
    fn on_child_done(&mut self, done: &ChildDone<'_>, now: u64) -> Option<StageChange> {
        Gate::on_child_done(self, done, now)
    }
    fn admit(&mut self, child: &ChildCheck<'_>, now: u64) -> Result<(), RiskReject> {
        Gate::admit(self, child, now)
    }
    fn kill_generation(&self) -> u64 {
        Gate::kill_generation(self)
    }
    fn must_cancel(&self, desk: &str, venue: &str) -> bool {
        Gate::must_cancel(self, desk, venue)
    }
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
