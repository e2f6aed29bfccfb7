//! A serializable picture of the gate for an admin API: limits, usage, stages, kills.

use super::usage::{Flow, period_start};
use super::{Gate, Kill};
use crate::limits::Limits;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why a venue's ramp stage changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageCause {
    /// N consecutive clean fills.
    Graduated,
    /// An error outcome.
    Demoted,
}

/// A ramp stage change made by the gate itself (graduation or demotion), for the
/// engine's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageChange {
    /// The venue.
    pub venue: String,
    /// Its ramp.
    pub ramp: String,
    /// The stage it left.
    pub from: String,
    /// The stage it is now at.
    pub to: String,
    /// Why.
    pub cause: StageCause,
    /// When (nanoseconds).
    pub at: u64,
}

/// Open and daily notional used by one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotionalUsage {
    /// Notional of working children.
    pub open_notional: Decimal,
    /// Notional counted against the daily caps in the current period.
    pub daily_notional: Decimal,
}

/// Cadence usage of one flow (overall, or a venue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowUsage {
    /// Children sent in the rolling window ending now (as far as the gate keeps times:
    /// up to the largest count limit).
    pub children_in_window: usize,
    /// The window, in ms.
    pub window_ms: Decimal,
    /// When the last child was sent.
    pub last_child_at: Option<u64>,
}

/// A venue's ramp position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RampUsage {
    /// The ramp's name.
    pub ramp: String,
    /// The current stage.
    pub stage: String,
    /// Its index (0 = first).
    pub stage_index: usize,
    /// The highest stage allowed.
    pub ceiling: String,
    /// Clean fills in a row at this stage.
    pub clean_fills: u32,
    /// Clean fills in a row that graduate.
    pub clean_fills_to_graduate: u32,
}

/// A venue's usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueUsage {
    /// Open and daily notional.
    #[serde(flatten)]
    pub notional: NotionalUsage,
    /// Cadence.
    #[serde(flatten)]
    pub window: WindowUsage,
    /// Ramp position, if the venue has a ramp.
    pub ramp: Option<RampUsage>,
}

/// The kill switches engaged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillsSnapshot {
    /// The global switch.
    pub global: Option<Kill>,
    /// Per desk.
    pub desks: BTreeMap<String, Kill>,
    /// Per venue.
    pub venues: BTreeMap<String, Kill>,
    /// Counts every engage and release.
    pub generation: u64,
}

/// Limits and usage at one instant, serializable to JSON (decimals as strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateSnapshot {
    /// When it was taken (nanoseconds).
    pub at: u64,
    /// Controls applied since the gate was made.
    pub version: u64,
    /// Start of the current daily period (nanoseconds since the epoch; 0 if before).
    pub daily_period_start: u64,
    /// The limits in force.
    pub limits: Limits,
    /// Overall notional.
    pub overall: NotionalUsage,
    /// Overall cadence.
    pub overall_window: WindowUsage,
    /// Per desk.
    pub desks: BTreeMap<String, NotionalUsage>,
    /// Per venue.
    pub venues: BTreeMap<String, VenueUsage>,
    /// Kill switches.
    pub kills: KillsSnapshot,
}

fn notional(c: &super::usage::Counter, now: u64, reset: u64) -> NotionalUsage {
    NotionalUsage {
        open_notional: c.open,
        daily_notional: c.daily(now, reset),
    }
}

fn window(f: &Flow, window_ns: u64, now: u64) -> WindowUsage {
    WindowUsage {
        children_in_window: f.ring.count_after(now.saturating_sub(window_ns)),
        window_ms: Decimal::from_i128_with_scale(i128::from(window_ns), 6).normalize(),
        last_child_at: f.last_sent,
    }
}

pub(super) fn take(g: &Gate, now: u64) -> GateSnapshot {
    let rt = &g.rt;
    let reset = rt.reset_ns;
    let desks = g
        .desks
        .iter()
        .enumerate()
        .map(|(i, c)| (rt.desk_ix.name(i).to_owned(), notional(c, now, reset)))
        .collect();
    let venues = g
        .venues
        .iter()
        .zip(&rt.venues)
        .enumerate()
        .map(|(i, (st, v))| {
            let ramp = v.ramp.as_ref().map(|r| {
                let name = |i: usize| {
                    r.stages
                        .get(i)
                        .map_or_else(String::new, |s| s.name.to_string())
                };
                RampUsage {
                    ramp: r.name.to_string(),
                    stage: name(st.stage),
                    stage_index: st.stage,
                    ceiling: name(r.ceiling),
                    clean_fills: st.clean,
                    clean_fills_to_graduate: r.graduate_after,
                }
            });
            (
                rt.venue_ix.name(i).to_owned(),
                VenueUsage {
                    notional: notional(&st.flow.counter, now, reset),
                    window: window(&st.flow, v.window_ns, now),
                    ramp,
                },
            )
        })
        .collect();
    GateSnapshot {
        at: now,
        version: g.version,
        daily_period_start: u64::try_from(period_start(now, reset).max(0)).unwrap_or(0),
        limits: rt.limits.clone(),
        overall: notional(&g.overall.counter, now, reset),
        overall_window: window(&g.overall, rt.overall.window_ns, now),
        desks,
        venues,
        kills: KillsSnapshot {
            global: g.kills.global.clone(),
            desks: g.kills.desks.clone(),
            venues: g.kills.venues.clone(),
            generation: g.kills.generation,
        },
    }
}
