//! The limits turned into flat, indexed tables for the hot path.

use super::index::{NameMap, VenueSet};
use crate::limits::{DEFAULT_WINDOW_MS, Limits};
use rust_decimal::Decimal;

pub(crate) const MS: u64 = 1_000_000;

/// A rolling-window count limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) max: u32,
    pub(crate) ns: u64,
}

/// Overall limits.
#[derive(Debug, Clone)]
pub(crate) struct OverallRt {
    pub(crate) daily: Option<Decimal>,
    pub(crate) max_open: Option<Decimal>,
    pub(crate) window: Option<Window>,
    pub(crate) window_ns: u64,
    pub(crate) min_spacing_ns: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct DeskInstrRt {
    pub(crate) max_parent_qty: Option<Decimal>,
    pub(crate) max_parent_notional: Option<Decimal>,
    pub(crate) parent_band: Option<Decimal>,
    pub(crate) allow: Option<VenueSet>,
}

#[derive(Debug, Clone)]
pub(crate) struct DeskRt {
    pub(crate) max_parent_qty: Option<Decimal>,
    pub(crate) max_parent_notional: Option<Decimal>,
    pub(crate) max_open: Option<Decimal>,
    pub(crate) daily: Option<Decimal>,
    pub(crate) parent_band: Option<Decimal>,
    pub(crate) allow: Option<VenueSet>,
    /// Keyed by instrument index.
    pub(crate) instruments: Vec<(usize, DeskInstrRt)>,
}

impl DeskRt {
    #[inline]
    pub(crate) fn instrument(&self, i: usize) -> Option<&DeskInstrRt> {
        self.instruments
            .iter()
            .find(|(ix, _)| *ix == i)
            .map(|(_, d)| d)
    }
}

/// The clips and band in force for children in one instrument at one venue: the
/// venue's own, the venue-instrument's and the instrument's, combined once at load.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Eff {
    pub(crate) min_clip: Option<Decimal>,
    pub(crate) max_clip: Option<Decimal>,
    pub(crate) band: Option<Decimal>,
}

fn tighter_min(a: Option<Decimal>, b: Option<Decimal>) -> Option<Decimal> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

impl Eff {
    /// Both sets of limits at once: the larger min clip, the smaller max clip and band.
    fn and(self, o: Eff) -> Eff {
        Eff {
            min_clip: self.min_clip.max(o.min_clip),
            max_clip: tighter_min(self.max_clip, o.max_clip),
            band: tighter_min(self.band, o.band),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct StageRt {
    pub(crate) name: Box<str>,
    pub(crate) max_clip: Option<Decimal>,
    pub(crate) max_children: Option<u32>,
    pub(crate) min_spacing_ns: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct RampRt {
    pub(crate) name: Box<str>,
    pub(crate) graduate_after: u32,
    pub(crate) stages: Vec<StageRt>,
    pub(crate) ceiling: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct VenueRt {
    pub(crate) daily: Option<Decimal>,
    pub(crate) max_open: Option<Decimal>,
    pub(crate) max_children: Option<u32>,
    pub(crate) window_ns: u64,
    pub(crate) min_spacing_ns: Option<u64>,
    pub(crate) ramp: Option<RampRt>,
    /// Clips and band for an instrument no limit names.
    pub(crate) own: Eff,
    /// Clips and band per instrument index, for instruments some limit names.
    pub(crate) instruments: Vec<(usize, Eff)>,
    /// Capacity of the venue's ring of send times: the largest count limit.
    pub(crate) ring_cap: usize,
}

impl VenueRt {
    /// The clips and band for children in instrument `inst` (an index, if some limit
    /// names the instrument).
    #[inline]
    pub(crate) fn eff(&self, inst: Option<usize>) -> &Eff {
        inst.and_then(|i| self.instruments.iter().find(|(ix, _)| *ix == i))
            .map_or(&self.own, |(_, e)| e)
    }
}

/// Validated limits and their indexed form.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub(crate) limits: Limits,
    pub(crate) reset_ns: u64,
    pub(crate) overall: OverallRt,
    pub(crate) overall_ring_cap: usize,
    pub(crate) desk_ix: NameMap,
    pub(crate) desks: Vec<DeskRt>,
    pub(crate) venue_ix: NameMap,
    pub(crate) venues: Vec<VenueRt>,
    pub(crate) instr_ix: NameMap,
    /// Whether any desk has per-instrument limits (else the parent instrument is not
    /// looked up).
    pub(crate) any_desk_instruments: bool,
}

fn ms(v: Option<u64>) -> Option<u64> {
    v.map(|m| m.saturating_mul(MS))
}

fn allow(venue_ix: &NameMap, list: Option<&[String]>) -> Option<VenueSet> {
    list.map(|l| {
        let mut s = VenueSet::default();
        for v in l {
            if let Some(i) = venue_ix.get(v) {
                s.insert(i);
            }
        }
        s
    })
}

impl Compiled {
    /// Builds the tables; `limits` must have passed validation.
    pub(crate) fn build(limits: Limits) -> Self {
        let mut venue_ix = NameMap::default();
        for name in limits.venues.keys() {
            venue_ix.intern(name);
        }
        let mut instr_ix = NameMap::default();
        for name in limits.instruments.keys() {
            instr_ix.intern(name);
        }
        for d in limits.desks.values() {
            for name in d.instruments.keys() {
                instr_ix.intern(name);
            }
        }
        for v in limits.venues.values() {
            for name in v.instruments.keys() {
                instr_ix.intern(name);
            }
        }
        let global: Vec<Option<Eff>> = (0..instr_ix.len())
            .map(|i| {
                limits.instruments.get(instr_ix.name(i)).map(|g| Eff {
                    min_clip: g.min_clip,
                    max_clip: g.max_clip,
                    band: g.band_bps,
                })
            })
            .collect();
        let mut desk_ix = NameMap::default();
        let mut desks = Vec::new();
        for (name, d) in &limits.desks {
            desk_ix.intern(name);
            desks.push(DeskRt {
                max_parent_qty: d.max_parent_qty,
                max_parent_notional: d.max_parent_notional,
                max_open: d.max_open_notional,
                daily: d.daily_notional,
                parent_band: d.parent_band_bps,
                allow: allow(&venue_ix, d.venues.as_deref()),
                instruments: d
                    .instruments
                    .iter()
                    .filter_map(|(n, di)| {
                        Some((
                            instr_ix.get(n)?,
                            DeskInstrRt {
                                max_parent_qty: di.max_parent_qty,
                                max_parent_notional: di.max_parent_notional,
                                parent_band: di.parent_band_bps,
                                allow: allow(&venue_ix, di.venues.as_deref()),
                            },
                        ))
                    })
                    .collect(),
            });
        }
        let any_desk_instruments = desks.iter().any(|d| !d.instruments.is_empty());
        let mut venues = Vec::new();
        for (name, v) in &limits.venues {
            let ramp = limits.ramp_of(name).map(|(r, ceiling)| RampRt {
                name: v.ramp.as_deref().unwrap_or_default().into(),
                graduate_after: r.clean_fills_to_graduate,
                stages: r
                    .stages
                    .iter()
                    .map(|s| StageRt {
                        name: s.name.as_str().into(),
                        max_clip: s.max_clip,
                        max_children: s.max_children_per_window,
                        min_spacing_ns: ms(s.min_spacing_ms),
                    })
                    .collect(),
                ceiling,
            });
            let ring_cap = ramp
                .iter()
                .flat_map(|r| r.stages.iter().filter_map(|s| s.max_children))
                .chain(v.max_children_per_window)
                .max()
                .unwrap_or(0) as usize;
            let own = Eff {
                min_clip: v.min_clip,
                max_clip: v.max_clip,
                band: v.band_bps,
            };
            let instruments = global
                .iter()
                .enumerate()
                .filter_map(|(i, g)| {
                    let vi = v.instruments.get(instr_ix.name(i)).map(|c| Eff {
                        min_clip: c.min_clip,
                        max_clip: c.max_clip,
                        band: None,
                    });
                    if g.is_none() && vi.is_none() {
                        return None;
                    }
                    Some((
                        i,
                        own.and(vi.unwrap_or_default()).and(g.unwrap_or_default()),
                    ))
                })
                .collect();
            venues.push(VenueRt {
                daily: v.daily_notional,
                max_open: v.max_open_notional,
                max_children: v.max_children_per_window,
                window_ns: v.window_ms.unwrap_or(DEFAULT_WINDOW_MS).saturating_mul(MS),
                min_spacing_ns: ms(v.min_spacing_ms),
                ramp,
                own,
                instruments,
                ring_cap,
            });
        }
        let o = &limits.overall;
        let window_ns = o.window_ms.unwrap_or(DEFAULT_WINDOW_MS).saturating_mul(MS);
        let overall = OverallRt {
            daily: o.daily_notional,
            max_open: o.max_open_notional,
            window: o
                .max_children_per_window
                .map(|max| Window { max, ns: window_ns }),
            window_ns,
            min_spacing_ns: ms(o.min_spacing_ms),
        };
        let overall_ring_cap = o.max_children_per_window.unwrap_or(0) as usize;
        Self {
            reset_ns: limits.daily_reset_utc.nanos(),
            limits,
            overall,
            overall_ring_cap,
            desk_ix,
            desks,
            venue_ix,
            venues,
            instr_ix,
            any_desk_instruments,
        }
    }
}
