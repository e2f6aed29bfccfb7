//! Random limits and random child streams against a slow, obviously-correct reference:
//! the gate approves exactly the children that break no limit, and when it rejects, the
//! rule it names is one the child breaks.

use super::*;
use crate::limits::{
    ClipLimits, DeskInstrumentLimits, DeskLimits, InstrumentLimits, OverallLimits,
};
use crate::limits::{Ramp, Stage, VenueLimits};
use crate::{AuditLog, Limits, TimeOfDay, approve_child};
use proptest::prelude::*;
use std::collections::BTreeSet;

const MS: u64 = 1_000_000;
const DAY: i128 = 86_400_000_000_000;
const DESKS: [&str; 3] = ["D0", "D1", "DX"]; // DX is not in the limits
const VENUES: [&str; 4] = ["V0", "V1", "V2", "VX"]; // VX is not in the limits
const INSTRUMENTS: [&str; 3] = ["I0", "I1", "I2"]; // I2 has no limits anywhere

/// Draws numbers from a fixed pool of random values.
struct Draw<'a> {
    pool: &'a [u32],
    at: usize,
}

impl Draw<'_> {
    fn next(&mut self, n: u32) -> u32 {
        let v = self
            .pool
            .get(self.at % self.pool.len())
            .copied()
            .unwrap_or(0);
        self.at += 1;
        v % n.max(1)
    }
    fn chance(&mut self, pct: u32) -> bool {
        self.next(100) < pct
    }
    /// A decimal in tenths: lo/10 ..= hi/10, or None.
    fn dec(&mut self, pct: u32, lo: u32, hi: u32) -> Option<Decimal> {
        let some = self.chance(pct);
        let v = lo + self.next(hi - lo + 1);
        some.then(|| Decimal::new(i64::from(v), 1))
    }
    fn int(&mut self, pct: u32, lo: u32, hi: u32) -> Option<u32> {
        let some = self.chance(pct);
        let v = lo + self.next(hi - lo + 1);
        some.then_some(v)
    }
    fn list(&mut self, pct: u32) -> Option<Vec<String>> {
        let some = self.chance(pct);
        let v: Vec<String> = VENUES[..3]
            .iter()
            .filter(|_| self.chance(60))
            .map(|v| (*v).to_owned())
            .collect();
        some.then_some(v)
    }
}

fn ordered(lo: Option<Decimal>, hi: Option<Decimal>) -> (Option<Decimal>, Option<Decimal>) {
    match (lo, hi) {
        (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
        x => x,
    }
}

fn random_limits(pool: &[u32]) -> Limits {
    let mut d = Draw { pool, at: 0 };
    let mut l = Limits::new("USD");
    l.daily_reset_utc = TimeOfDay::new(d.next(24), 0, 0).unwrap_or_default();
    l.overall = OverallLimits {
        daily_notional: d.dec(25, 100, 900),
        max_open_notional: d.dec(25, 100, 600),
        max_children_per_window: d.int(25, 1, 6),
        window_ms: d.int(50, 50, 3000).map(u64::from),
        min_spacing_ms: d.int(20, 1, 100).map(u64::from),
    };
    for name in &DESKS[..2] {
        let mut desk = DeskLimits {
            max_open_notional: d.dec(40, 50, 400),
            daily_notional: d.dec(40, 100, 800),
            venues: d.list(30),
            ..DeskLimits::default()
        };
        if d.chance(40) {
            desk.instruments.insert(
                "I0".into(),
                DeskInstrumentLimits {
                    venues: d.list(70),
                    ..DeskInstrumentLimits::default()
                },
            );
        }
        l.desks.insert((*name).to_owned(), desk);
    }
    let ramp = Ramp {
        clean_fills_to_graduate: 1 + d.next(3),
        stages: (0..1 + d.next(4))
            .map(|i| Stage {
                name: format!("s{i}"),
                max_clip: d.dec(60, 10, 150),
                max_children_per_window: d.int(50, 1, 4),
                min_spacing_ms: d.int(40, 10, 400).map(u64::from),
            })
            .collect(),
    };
    let n_stages = ramp.stages.len() as u32;
    l.ramps.insert("r".into(), ramp);
    for name in &VENUES[..3] {
        let (min_clip, max_clip) = ordered(d.dec(40, 1, 60), d.dec(60, 20, 200));
        let mut v = VenueLimits {
            min_clip,
            max_clip,
            daily_notional: d.dec(40, 100, 700),
            max_open_notional: d.dec(40, 50, 400),
            max_children_per_window: d.int(40, 1, 5),
            window_ms: d.int(50, 50, 3000).map(u64::from),
            min_spacing_ms: d.int(30, 1, 300).map(u64::from),
            band_bps: d.dec(40, 0, 600),
            ..VenueLimits::default()
        };
        if d.chance(50) {
            v.ramp = Some("r".into());
            v.stage_ceiling = Some(format!("s{}", d.next(n_stages)));
        }
        if d.chance(40) {
            let (lo, hi) = ordered(d.dec(40, 1, 80), d.dec(60, 10, 200));
            let lo_all = lo.max(v.min_clip);
            let hi_all = match (hi, v.max_clip) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let lo = match (lo_all, hi_all) {
                (Some(a), Some(b)) if a > b => None,
                _ => lo,
            };
            v.instruments.insert(
                "I0".into(),
                ClipLimits {
                    min_clip: lo,
                    max_clip: hi,
                },
            );
        }
        l.venues.insert((*name).to_owned(), v);
    }
    if d.chance(60) {
        let (min_clip, max_clip) = ordered(d.dec(40, 1, 50), d.dec(60, 20, 200));
        l.instruments.insert(
            "I1".into(),
            InstrumentLimits {
                min_clip,
                max_clip,
                band_bps: d.dec(50, 0, 600),
            },
        );
    }
    l
}

/// One child the reference has seen approved.
#[derive(Clone)]
struct Sent {
    desk: String,
    venue: String,
    at: u64,
    notional: Decimal,
    done: Option<Decimal>, // filled notional, once done
}

/// The slow reference: every rule restated from its definition over the full history.
struct Reference {
    limits: Limits,
    sent: Vec<Sent>,
    stage: BTreeMap<String, (usize, u32)>,
    kill_global: bool,
    kill_desks: BTreeSet<String>,
    kill_venues: BTreeSet<String>,
}

fn tightest(xs: impl IntoIterator<Item = Option<Decimal>>) -> Option<Decimal> {
    xs.into_iter().flatten().min()
}

impl Reference {
    fn period_start(&self, now: u64) -> i128 {
        let reset = i128::from(self.limits.daily_reset_utc.seconds()) * 1_000_000_000;
        (i128::from(now) - reset).div_euclid(DAY) * DAY + reset
    }

    fn stage_limits(&self, venue: &str) -> Option<&Stage> {
        let v = self.limits.venues.get(venue)?;
        let ramp = self.limits.ramps.get(v.ramp.as_deref()?)?;
        let (s, _) = self.stage.get(venue).copied().unwrap_or((0, 0));
        ramp.stages.get(s)
    }

    /// Every rule `c` breaks at `now`.
    fn violations(&self, c: &ChildCheck<'_>, now: u64) -> BTreeSet<Rule> {
        let mut out = BTreeSet::new();
        let l = &self.limits;
        let Some(desk) = l.desks.get(c.desk) else {
            out.insert(Rule::UnknownDesk);
            return out;
        };
        let Some(venue) = l.venues.get(c.venue) else {
            out.insert(Rule::UnknownVenue);
            return out;
        };
        if self.kill_global
            || self.kill_desks.contains(c.desk)
            || self.kill_venues.contains(c.venue)
        {
            out.insert(Rule::KillSwitch);
        }
        let listed = |list: &Option<Vec<String>>| {
            list.as_ref().is_none_or(|l| l.iter().any(|v| v == c.venue))
        };
        if !listed(&desk.venues)
            || desk
                .instruments
                .get(c.parent_instrument)
                .is_some_and(|di| !listed(&di.venues))
        {
            out.insert(Rule::VenueNotAllowed);
        }
        let vi = venue.instruments.get(c.instrument);
        let gi = l.instruments.get(c.instrument);
        let mins = [
            venue.min_clip,
            vi.and_then(|x| x.min_clip),
            gi.and_then(|x| x.min_clip),
        ];
        if mins.iter().flatten().any(|m| c.qty < *m) {
            out.insert(Rule::MinClip);
        }
        let maxs = [
            venue.max_clip,
            vi.and_then(|x| x.max_clip),
            gi.and_then(|x| x.max_clip),
        ];
        if maxs.iter().flatten().any(|m| c.qty > *m) {
            out.insert(Rule::MaxClip);
        }
        let stage = self.stage_limits(c.venue);
        if stage.and_then(|s| s.max_clip).is_some_and(|m| c.qty > m) {
            out.insert(Rule::StageMaxClip);
        }
        if let Some(band) = tightest([venue.band_bps, gi.and_then(|x| x.band_bps)]) {
            match (c.limit_px, c.reference_px) {
                (Some(px), Some(r)) if px > Decimal::ZERO && r > Decimal::ZERO => {
                    // Worse than the reference by (worse / r) * 10^4 bps.
                    let worse = match c.side {
                        Side::Buy => px - r,
                        Side::Sell => r - px,
                    };
                    if worse * Decimal::from(10_000) > band * r {
                        out.insert(Rule::PriceBand);
                    }
                }
                _ => {
                    out.insert(Rule::MissingPrice);
                }
            }
        }
        let open = |f: &dyn Fn(&Sent) -> bool| -> Decimal {
            self.sent
                .iter()
                .filter(|s| s.done.is_none() && f(s))
                .map(|s| s.notional)
                .sum()
        };
        let start = self.period_start(now);
        let daily = |f: &dyn Fn(&Sent) -> bool| -> Decimal {
            self.sent
                .iter()
                .filter(|s| i128::from(s.at) >= start && f(s))
                .map(|s| s.done.unwrap_or(s.notional))
                .sum()
        };
        let all = |_: &Sent| true;
        let by_desk = |s: &Sent| s.desk == c.desk;
        let by_venue = |s: &Sent| s.venue == c.venue;
        type Scope<'s> = (&'s dyn Fn(&Sent) -> bool, Option<Decimal>, Option<Decimal>);
        let scopes: [Scope<'_>; 3] = [
            (&all, l.overall.max_open_notional, l.overall.daily_notional),
            (&by_desk, desk.max_open_notional, desk.daily_notional),
            (&by_venue, venue.max_open_notional, venue.daily_notional),
        ];
        for (f, max_open, max_daily) in scopes {
            if max_open.is_some_and(|m| open(f) + c.notional > m) {
                out.insert(Rule::MaxOpenNotional);
            }
            if max_daily.is_some_and(|m| daily(f) + c.notional > m) {
                out.insert(Rule::DailyNotional);
            }
        }
        let in_window = |f: &dyn Fn(&Sent) -> bool, window_ms: u64| {
            self.sent
                .iter()
                .filter(|s| f(s) && s.at + window_ms * MS > now)
                .count()
        };
        let last =
            |f: &dyn Fn(&Sent) -> bool| self.sent.iter().filter(|s| f(s)).map(|s| s.at).max();
        let ow = l.overall.window_ms.unwrap_or(1000);
        if l.overall
            .max_children_per_window
            .is_some_and(|m| in_window(&all, ow) >= m as usize)
        {
            out.insert(Rule::MaxChildrenPerWindow);
        }
        if let (Some(s), Some(t)) = (l.overall.min_spacing_ms, last(&all))
            && t + s * MS > now
        {
            out.insert(Rule::MinSpacing);
        }
        let vw = venue.window_ms.unwrap_or(1000);
        if venue
            .max_children_per_window
            .is_some_and(|m| in_window(&by_venue, vw) >= m as usize)
        {
            out.insert(Rule::MaxChildrenPerWindow);
        }
        if stage
            .and_then(|s| s.max_children_per_window)
            .is_some_and(|m| in_window(&by_venue, vw) >= m as usize)
        {
            out.insert(Rule::StageMaxChildrenPerWindow);
        }
        if let (Some(s), Some(t)) = (venue.min_spacing_ms, last(&by_venue))
            && t + s * MS > now
        {
            out.insert(Rule::MinSpacing);
        }
        if let (Some(s), Some(t)) = (stage.and_then(|s| s.min_spacing_ms), last(&by_venue))
            && t + s * MS > now
        {
            out.insert(Rule::StageMinSpacing);
        }
        out
    }

    fn done(&mut self, k: usize, filled: Decimal, outcome: ChildOutcome) {
        let Some(s) = self.sent.get_mut(k) else {
            return;
        };
        s.done = Some(filled);
        let venue = s.venue.clone();
        let Some(v) = self.limits.venues.get(&venue) else {
            return;
        };
        let Some(ramp) = v.ramp.as_ref().and_then(|r| self.limits.ramps.get(r)) else {
            return;
        };
        let ceiling = ramp
            .stages
            .iter()
            .position(|s| Some(&s.name) == v.stage_ceiling.as_ref())
            .unwrap_or(0);
        let st = self.stage.entry(venue).or_insert((0, 0));
        match outcome {
            ChildOutcome::CleanFill => {
                st.1 += 1;
                if st.1 >= ramp.clean_fills_to_graduate && st.0 < ceiling {
                    *st = (st.0 + 1, 0);
                }
            }
            ChildOutcome::Error => *st = (st.0.saturating_sub(1), 0),
            ChildOutcome::NoFill => {}
        }
    }
}

#[derive(Debug, Clone)]
enum Ev {
    Child {
        desk: usize,
        venue: usize,
        instrument: usize,
        parent_instrument: usize,
        sell: bool,
        qty_tenths: u32,
        notional_tenths: u32,
        off_bps: Option<i32>,
        has_ref: bool,
    },
    Done {
        pick: usize,
        filled_pct: u32,
        outcome: u8,
    },
    Kill {
        scope: u8,
        engage: bool,
    },
    Room {
        desk: usize,
        venue: usize,
    },
}

fn ev() -> impl Strategy<Value = (u64, Ev)> {
    let dt = prop_oneof![
        6 => 0u64..400 * MS,
        2 => 0u64..20 * MS,
        1 => Just(0u64),
        1 => 0u64..30 * 3_600_000 * MS,
    ];
    let child = (
        prop_oneof![19 => 0usize..2, 1 => Just(2usize)],
        prop_oneof![19 => 0usize..3, 1 => Just(3usize)],
        0usize..3,
        0usize..2,
        any::<bool>(),
        1u32..150,
        0u32..250,
        prop::option::weighted(0.9, prop_oneof![3 => -70i32..70, 1 => -700i32..700]),
        prop::bool::weighted(0.95),
    )
        .prop_map(
            |(desk, venue, instrument, parent_instrument, sell, q, n, off, has_ref)| Ev::Child {
                desk,
                venue,
                instrument,
                parent_instrument,
                sell,
                qty_tenths: q,
                notional_tenths: n,
                off_bps: off,
                has_ref,
            },
        );
    let done =
        (any::<usize>(), 0u32..=100, 0u8..3).prop_map(|(pick, filled_pct, outcome)| Ev::Done {
            pick,
            filled_pct,
            outcome,
        });
    let kill =
        (0u8..7, prop::bool::weighted(0.3)).prop_map(|(scope, engage)| Ev::Kill { scope, engage });
    let room = (0usize..3, 0usize..4).prop_map(|(desk, venue)| Ev::Room { desk, venue });
    let e = prop_oneof![12 => child, 4 => done, 1 => kill, 2 => room];
    (dt, e)
}

fn kill_scope(s: u8) -> KillScope {
    match s {
        0 => KillScope::Global,
        1 | 2 => KillScope::Desk(DESKS[usize::from(s - 1)].to_owned()),
        _ => KillScope::Venue(VENUES[usize::from(s - 3) % 3].to_owned()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn the_gate_agrees_with_the_reference(
        pool in prop::collection::vec(any::<u32>(), 160),
        start in 0u64..86_400_000,
        events in prop::collection::vec(ev(), 1..120),
    ) {
        let limits = random_limits(&pool);
        prop_assume!(limits.validate().is_ok());
        let mut gate = Gate::new(limits.clone()).unwrap();
        let mut reference = Reference {
            limits,
            sent: Vec::new(),
            stage: BTreeMap::new(),
            kill_global: false,
            kill_desks: BTreeSet::new(),
            kill_venues: BTreeSet::new(),
        };
        let (mut audit, _mem) = AuditLog::memory();
        let mut approvals: Vec<(usize, crate::Approved)> = Vec::new();
        let mut now = 1_704_153_600_000_000_000 + start * MS;
        for (dt, e) in events {
            now += dt;
            match e {
                Ev::Child { desk, venue, instrument, parent_instrument, sell, qty_tenths, notional_tenths, off_bps, has_ref } => {
                    let r = Decimal::ONE;
                    let c = ChildCheck {
                        desk: DESKS[desk],
                        parent_instrument: INSTRUMENTS[parent_instrument],
                        venue: VENUES[venue],
                        instrument: INSTRUMENTS[instrument],
                        side: if sell { Side::Sell } else { Side::Buy },
                        qty: Decimal::new(i64::from(qty_tenths), 1),
                        notional: Decimal::new(i64::from(notional_tenths), 1),
                        limit_px: off_bps.map(|o| r + Decimal::new(i64::from(o), 4)),
                        reference_px: has_ref.then_some(r),
                    };
                    let broken = reference.violations(&c, now);
                    match approve_child(&mut gate, &c, now) {
                        Ok(a) => {
                            prop_assert!(broken.is_empty(), "approved a child breaking {broken:?}: {c:?}");
                            approvals.push((reference.sent.len(), a));
                            reference.sent.push(Sent {
                                desk: c.desk.to_owned(),
                                venue: c.venue.to_owned(),
                                at: now,
                                notional: c.notional,
                                done: None,
                            });
                        }
                        Err(rej) => {
                            prop_assert!(
                                broken.contains(&rej.rule),
                                "rejected for {} ({rej}) but the child breaks {broken:?}: {c:?}",
                                rej.rule
                            );
                        }
                    }
                }
                Ev::Done { pick, filled_pct, outcome } => {
                    if approvals.is_empty() {
                        continue;
                    }
                    let (k, a) = approvals.swap_remove(pick % approvals.len());
                    let filled = (a.notional() * Decimal::from(filled_pct) / Decimal::from(100)).round_dp(1).min(a.notional());
                    let outcome = [ChildOutcome::CleanFill, ChildOutcome::NoFill, ChildOutcome::Error][usize::from(outcome)];
                    let (desk, venue) = (reference.sent[k].desk.clone(), reference.sent[k].venue.clone());
                    gate.on_child_done(
                        &ChildDone {
                            desk: &desk,
                            venue: &venue,
                            sent_at: a.approved_at(),
                            sent_notional: a.notional(),
                            filled_notional: filled,
                            outcome,
                        },
                        now,
                    );
                    reference.done(k, filled, outcome);
                    prop_assert_eq!(gate.stage(&venue), reference.stage_limits(&venue).map(|s| s.name.as_str()));
                }
                Ev::Kill { scope, engage } => {
                    let scope = kill_scope(scope);
                    let by = Actor { who: "prop", reason: "test", now };
                    let done = if engage {
                        gate.engage_kill(&mut audit, &by, scope.clone(), true).is_ok()
                    } else {
                        gate.release_kill(&mut audit, &by, scope.clone()).is_ok()
                    };
                    if done {
                        match scope {
                            KillScope::Global => reference.kill_global = engage,
                            KillScope::Desk(d) => { if engage { reference.kill_desks.insert(d); } else { reference.kill_desks.remove(&d); } }
                            KillScope::Venue(v) => { if engage { reference.kill_venues.insert(v); } else { reference.kill_venues.remove(&v); } }
                        }
                    }
                }
                Ev::Room { desk, venue } => {
                    // What room() promises, check_child keeps: a child of max_qty (at the
                    // reference price) passes, and one larger does not.
                    let q = RoomRequest {
                        desk: DESKS[desk],
                        parent_instrument: "I1",
                        venue: VENUES[venue],
                        instrument: "I1",
                        notional_per_unit: Some(Decimal::ONE),
                    };
                    let room = gate.room(&q, now);
                    let probe = |qty: Decimal| ChildCheck {
                        desk: q.desk,
                        parent_instrument: q.parent_instrument,
                        venue: q.venue,
                        instrument: q.instrument,
                        side: Side::Sell,
                        qty,
                        notional: qty,
                        limit_px: Some(Decimal::ONE),
                        reference_px: Some(Decimal::ONE),
                    };
                    if let Some(t) = room.next_allowed_at {
                        prop_assert!(t > now);
                    }
                    let at = room.next_allowed_at.unwrap_or(now);
                    match room.max_qty {
                        Some(m) if m > Decimal::ZERO => {
                            prop_assert!(room.blocked.is_none());
                            let fits = room.min_qty.is_none_or(|lo| m >= lo);
                            if fits {
                                prop_assert!(gate.check_child(&probe(m), at).is_ok(), "room {room:?} but {:?}", gate.check_child(&probe(m), at));
                            }
                            let over = gate.check_child(&probe(m + Decimal::new(1, 12)), at);
                            prop_assert!(over.is_err(), "room {room:?} but a larger child passes");
                            if room.next_allowed_at.is_some() {
                                let e = gate.check_child(&probe(m), now).unwrap_err();
                                prop_assert!(matches!(e.rule, Rule::MaxChildrenPerWindow | Rule::StageMaxChildrenPerWindow | Rule::MinSpacing | Rule::StageMinSpacing), "{e}");
                            }
                        }
                        Some(_) => {
                            prop_assert!(room.blocked.is_some());
                            prop_assert!(gate.check_child(&probe(Decimal::ONE), at).is_err());
                        }
                        None => {
                            prop_assert!(gate.check_child(&probe(Decimal::from(1_000_000)), at).is_ok());
                        }
                    }
                }
            }
        }
    }
}
