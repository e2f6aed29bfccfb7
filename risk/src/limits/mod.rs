//! The limits model: what the risk officer's TOML file says, validated as a whole.
//!
//! Every limit is optional; a limit that is left out does not bind. Where several
//! limits apply to one child (venue, venue-instrument, instrument, ramp stage), all of
//! them do: the effective limit is the tightest. Decimals are TOML strings (`"2000000"`)
//! or integers; a TOML float is refused, because a binary float cannot say exactly what
//! the officer wrote. Durations are integer milliseconds. See `examples/limits.toml`.

mod edit;
mod locate;
pub(crate) mod serde_dec;

pub use serde_dec::TimeOfDay;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

pub(crate) use edit::{KeyPath, edit, parse_value};

/// Most children a rolling-window limit may allow (bounds each window's ring buffer).
pub const MAX_CHILDREN_PER_WINDOW: u32 = 10_000;
/// Longest window or spacing, in milliseconds (one day).
pub const MAX_DURATION_MS: u64 = 86_400_000;
/// Most stages a ramp may have.
pub const MAX_STAGES: usize = 32;
/// Default rolling window when a limit counts children but gives no `window_ms`.
pub const DEFAULT_WINDOW_MS: u64 = 1_000;

/// A limits file that cannot be used: the field path, the rule it breaks, and the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitsError {
    /// A field is missing, has the wrong type, or breaks a rule.
    #[error("{}", fmt_invalid(path, message, *line))]
    Invalid {
        /// Dotted path of the field, e.g. `venues.dealer-a.max_clip` (empty for the
        /// whole file).
        path: String,
        /// What is wrong, e.g. `must be > 0, got -5`.
        message: String,
        /// 1-based line in the file, where it is known.
        line: Option<usize>,
    },
    /// The file could not be read.
    #[error("{file}: cannot read: {message}")]
    Read {
        /// The file's path.
        file: String,
        /// The I/O error.
        message: String,
    },
}

fn fmt_invalid(path: &str, message: &str, line: Option<usize>) -> String {
    let mut s = String::new();
    if !path.is_empty() {
        s.push_str(path);
        s.push_str(": ");
    }
    s.push_str(message);
    if let Some(l) = line {
        s.push_str(&format!(" (line {l})"));
    }
    s
}

impl LimitsError {
    /// The dotted path of the field the error is about, if any.
    pub fn path(&self) -> Option<&str> {
        match self {
            LimitsError::Invalid { path, .. } if !path.is_empty() => Some(path),
            _ => None,
        }
    }
}

/// A validation failure before it is placed in the text.
#[derive(Debug)]
pub(crate) struct Invalid {
    pub(crate) segs: Vec<String>,
    pub(crate) message: String,
}

impl Invalid {
    fn new(segs: &[&str], message: impl Into<String>) -> Self {
        Self {
            segs: segs.iter().map(|s| (*s).to_owned()).collect(),
            message: message.into(),
        }
    }

    pub(crate) fn into_error(self, text: Option<&str>) -> LimitsError {
        let line = text.and_then(|t| locate::line_of_path(t, &self.segs));
        LimitsError::Invalid {
            path: render_path(&self.segs),
            message: self.message,
            line,
        }
    }
}

/// Renders path segments as a dotted key, quoting segments that are not bare keys.
pub(crate) fn render_path<S: AsRef<str>>(segs: &[S]) -> String {
    let mut out = String::new();
    for (i, s) in segs.iter().enumerate() {
        let s = s.as_ref();
        if i > 0 {
            out.push('.');
        }
        let bare = !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if bare {
            out.push_str(s);
        } else {
            out.push('"');
            out.push_str(&s.replace('\\', "\\\\").replace('"', "\\\""));
            out.push('"');
        }
    }
    out
}

/// Every pre-trade limit, as the risk officer's file states them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// The currency of every notional limit and of the notionals the engine reports.
    pub currency: String,
    /// When daily notional caps start afresh, as a UTC time of day (`"HH:MM"` or
    /// `"HH:MM:SS"`); `now` is nanoseconds since the Unix epoch. Default midnight.
    #[serde(default)]
    pub daily_reset_utc: TimeOfDay,
    /// Limits over all desks and venues together.
    #[serde(default)]
    pub overall: OverallLimits,
    /// Limits per desk; a desk that is not named here is refused.
    #[serde(default)]
    pub desks: BTreeMap<String, DeskLimits>,
    /// Limits per venue; a venue that is not named here is refused.
    #[serde(default)]
    pub venues: BTreeMap<String, VenueLimits>,
    /// Limits on children in an instrument, at any venue.
    #[serde(default)]
    pub instruments: BTreeMap<String, InstrumentLimits>,
    /// Ramp definitions that venues refer to by name.
    #[serde(default)]
    pub ramps: BTreeMap<String, Ramp>,
}

/// Limits over the whole firm: every desk, every venue.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverallLimits {
    /// Notional per daily period (children sent today, less what came back unfilled).
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub daily_notional: Option<Decimal>,
    /// Notional of working children.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_open_notional: Option<Decimal>,
    /// Most children in any rolling window of `window_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_children_per_window: Option<u32>,
    /// The rolling window, in ms (default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<u64>,
    /// Least time between two children anywhere, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_spacing_ms: Option<u64>,
}

/// Limits of one desk.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskLimits {
    /// Largest parent quantity, in the parent instrument's base units.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_parent_qty: Option<Decimal>,
    /// Largest parent notional.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_parent_notional: Option<Decimal>,
    /// Notional of the desk's working children.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_open_notional: Option<Decimal>,
    /// The desk's notional per daily period.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub daily_notional: Option<Decimal>,
    /// Fat-finger band: how far, in bps, a parent's own limit may be worse than the
    /// reference.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent_band_bps: Option<Decimal>,
    /// The venues the desk may use; absent = every venue in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venues: Option<Vec<String>>,
    /// Tighter limits for the desk's parents in one instrument (keyed by the parent's
    /// instrument).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub instruments: BTreeMap<String, DeskInstrumentLimits>,
}

/// Limits of one desk for parents in one instrument.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskInstrumentLimits {
    /// Largest parent quantity.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_parent_qty: Option<Decimal>,
    /// Largest parent notional.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_parent_notional: Option<Decimal>,
    /// Fat-finger band in bps for these parents.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent_band_bps: Option<Decimal>,
    /// The venues these parents may use (on top of the desk's own list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venues: Option<Vec<String>>,
}

/// Limits of one venue.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueLimits {
    /// Smallest child, in the venue instrument's base units.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_clip: Option<Decimal>,
    /// Largest child, in the venue instrument's base units.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_clip: Option<Decimal>,
    /// The venue's notional per daily period.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub daily_notional: Option<Decimal>,
    /// Notional of working children at the venue.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_open_notional: Option<Decimal>,
    /// Most children in any rolling window of `window_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_children_per_window: Option<u32>,
    /// The venue's rolling window in ms (default 1000); ramp stages count over it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<u64>,
    /// Least time between two children at the venue, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_spacing_ms: Option<u64>,
    /// How far, in bps, a child's limit price may be worse than the reference.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub band_bps: Option<Decimal>,
    /// The ramp (a name in `[ramps]`) the venue climbs; absent = no ramp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp: Option<String>,
    /// The highest stage (a stage name of the ramp) the venue may graduate to;
    /// required with `ramp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_ceiling: Option<String>,
    /// Clips for one instrument at this venue (keyed by the venue's instrument).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub instruments: BTreeMap<String, ClipLimits>,
}

/// A min and max clip.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClipLimits {
    /// Smallest child.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_clip: Option<Decimal>,
    /// Largest child.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_clip: Option<Decimal>,
}

/// Limits on children in one instrument, at any venue.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentLimits {
    /// Smallest child.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_clip: Option<Decimal>,
    /// Largest child.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_clip: Option<Decimal>,
    /// Price band in bps for children in this instrument.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub band_bps: Option<Decimal>,
}

/// A ramp: the stages a new venue climbs, one at a time, on evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ramp {
    /// Consecutive clean fills that graduate a venue one stage.
    pub clean_fills_to_graduate: u32,
    /// The stages, first (tightest) to last.
    pub stages: Vec<Stage>,
}

/// One ramp stage: clip and cadence limits applied on top of the venue's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// The stage's name, e.g. `canary`.
    pub name: String,
    /// Largest child at this stage.
    #[serde(
        default,
        with = "serde_dec::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_clip: Option<Decimal>,
    /// Most children per the venue's window at this stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_children_per_window: Option<u32>,
    /// Least time between two children at this stage, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_spacing_ms: Option<u64>,
}

impl Limits {
    /// Empty limits in `currency`: no desk and no venue, so every child is refused
    /// until desks and venues are added.
    pub fn new(currency: impl Into<String>) -> Self {
        Self {
            currency: currency.into(),
            daily_reset_utc: TimeOfDay::MIDNIGHT,
            overall: OverallLimits::default(),
            desks: BTreeMap::new(),
            venues: BTreeMap::new(),
            instruments: BTreeMap::new(),
            ramps: BTreeMap::new(),
        }
    }

    /// Parses and validates a limits file; one error naming the field (and its line).
    pub fn from_toml_str(text: &str) -> Result<Self, LimitsError> {
        let limits = Self::parse_unvalidated(text)?;
        limits.check().map_err(|e| e.into_error(Some(text)))?;
        Ok(limits)
    }

    /// Reads, parses and validates a limits file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, LimitsError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| LimitsError::Read {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text)
    }

    /// The limits as TOML text (what [`Limits::from_toml_str`] reads back).
    pub fn to_toml_string(&self) -> Result<String, LimitsError> {
        toml::to_string(self).map_err(|e| LimitsError::Invalid {
            path: String::new(),
            message: format!("cannot write as TOML: {e}"),
            line: None,
        })
    }

    pub(crate) fn parse_unvalidated(text: &str) -> Result<Self, LimitsError> {
        let de = toml::Deserializer::new(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let line = inner.span().map(|s| locate::line_at(text, s.start));
            let message = inner
                .message()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            LimitsError::Invalid {
                path: if path == "." { String::new() } else { path },
                message,
                line,
            }
        })
    }

    /// Checks every rule of the model; the first broken one is the error.
    pub fn validate(&self) -> Result<(), LimitsError> {
        self.check().map_err(|e| e.into_error(None))
    }

    pub(crate) fn check(&self) -> Result<(), Invalid> {
        if self.currency.trim().is_empty() || self.currency.contains(char::is_whitespace) {
            return Err(Invalid::new(
                &["currency"],
                format!(
                    "must be a currency code like \"USD\", got {:?}",
                    self.currency
                ),
            ));
        }
        let o = &self.overall;
        positive(&["overall", "daily_notional"], o.daily_notional)?;
        positive(&["overall", "max_open_notional"], o.max_open_notional)?;
        cadence(
            &["overall"],
            o.max_children_per_window,
            o.window_ms,
            o.min_spacing_ms,
        )?;
        for (name, d) in &self.desks {
            let at = |f: &'static str| ["desks", name.as_str(), f];
            named(&["desks", name], name)?;
            positive(&at("max_parent_qty"), d.max_parent_qty)?;
            positive(&at("max_parent_notional"), d.max_parent_notional)?;
            positive(&at("max_open_notional"), d.max_open_notional)?;
            positive(&at("daily_notional"), d.daily_notional)?;
            band(&at("parent_band_bps"), d.parent_band_bps)?;
            self.allow_list(&at("venues"), d.venues.as_deref())?;
            for (inst, di) in &d.instruments {
                let at = |f: &'static str| ["desks", name.as_str(), "instruments", inst, f];
                named(&["desks", name, "instruments", inst], inst)?;
                positive(&at("max_parent_qty"), di.max_parent_qty)?;
                positive(&at("max_parent_notional"), di.max_parent_notional)?;
                band(&at("parent_band_bps"), di.parent_band_bps)?;
                self.allow_list(&at("venues"), di.venues.as_deref())?;
            }
        }
        for (name, v) in &self.venues {
            self.check_venue(name, v)?;
        }
        for (name, i) in &self.instruments {
            let at = |f: &'static str| ["instruments", name.as_str(), f];
            named(&["instruments", name], name)?;
            clips(&at("min_clip"), &at("max_clip"), i.min_clip, i.max_clip)?;
            band(&at("band_bps"), i.band_bps)?;
        }
        for (name, r) in &self.ramps {
            let at = |f: &'static str| ["ramps", name.as_str(), f];
            named(&["ramps", name], name)?;
            if r.clean_fills_to_graduate == 0 {
                return Err(Invalid::new(
                    &at("clean_fills_to_graduate"),
                    "must be > 0, got 0",
                ));
            }
            if r.stages.is_empty() || r.stages.len() > MAX_STAGES {
                return Err(Invalid::new(
                    &at("stages"),
                    format!("must have 1 to {MAX_STAGES} stages, got {}", r.stages.len()),
                ));
            }
            let mut seen = BTreeSet::new();
            for (i, s) in r.stages.iter().enumerate() {
                let ix = i.to_string();
                let at = |f: &'static str| ["ramps", name.as_str(), "stages", ix.as_str(), f];
                named(&at("name"), &s.name)?;
                if !seen.insert(s.name.as_str()) {
                    return Err(Invalid::new(
                        &at("name"),
                        format!("stage {:?} appears twice", s.name),
                    ));
                }
                positive(&at("max_clip"), s.max_clip)?;
                count(&at("max_children_per_window"), s.max_children_per_window)?;
                duration(&at("min_spacing_ms"), s.min_spacing_ms)?;
            }
        }
        Ok(())
    }

    fn check_venue(&self, name: &str, v: &VenueLimits) -> Result<(), Invalid> {
        let at = |f: &'static str| ["venues", name, f];
        named(&["venues", name], name)?;
        clips(&at("min_clip"), &at("max_clip"), v.min_clip, v.max_clip)?;
        positive(&at("daily_notional"), v.daily_notional)?;
        positive(&at("max_open_notional"), v.max_open_notional)?;
        cadence(
            &["venues", name],
            v.max_children_per_window,
            v.window_ms,
            v.min_spacing_ms,
        )?;
        band(&at("band_bps"), v.band_bps)?;
        for (inst, c) in &v.instruments {
            let at = |f: &'static str| ["venues", name, "instruments", inst.as_str(), f];
            named(&["venues", name, "instruments", inst], inst)?;
            clips(&at("min_clip"), &at("max_clip"), c.min_clip, c.max_clip)?;
            let lo = c.min_clip.max(v.min_clip);
            let hi = match (c.max_clip, v.max_clip) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let (Some(lo), Some(hi)) = (lo, hi)
                && lo > hi
            {
                return Err(Invalid::new(
                    &at("min_clip"),
                    format!(
                        "the min clip {} is above the max clip {} that applies at this venue",
                        lo.normalize(),
                        hi.normalize()
                    ),
                ));
            }
        }
        match (&v.ramp, &v.stage_ceiling) {
            (None, None) => {}
            (None, Some(_)) => {
                return Err(Invalid::new(&at("stage_ceiling"), "only with a ramp"));
            }
            (Some(r), ceiling) => {
                let Some(ramp) = self.ramps.get(r) else {
                    return Err(Invalid::new(
                        &at("ramp"),
                        format!("no ramp {r:?} in [ramps] ({})", names(self.ramps.keys())),
                    ));
                };
                let stages = names(ramp.stages.iter().map(|s| &s.name));
                match ceiling {
                    None => {
                        return Err(Invalid::new(
                            &at("stage_ceiling"),
                            format!("required with a ramp (one of {stages})"),
                        ));
                    }
                    Some(c) if !ramp.stages.iter().any(|s| &s.name == c) => {
                        return Err(Invalid::new(
                            &at("stage_ceiling"),
                            format!("no stage {c:?} in ramp {r:?} ({stages})"),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }

    fn allow_list(&self, at: &[&str], list: Option<&[String]>) -> Result<(), Invalid> {
        let mut seen = BTreeSet::new();
        for v in list.unwrap_or_default() {
            if !self.venues.contains_key(v) {
                return Err(Invalid::new(
                    at,
                    format!("no venue {v:?} in [venues] ({})", names(self.venues.keys())),
                ));
            }
            if !seen.insert(v) {
                return Err(Invalid::new(at, format!("venue {v:?} appears twice")));
            }
        }
        Ok(())
    }

    /// The ramp of `venue` and the index of its ceiling, if it has one.
    pub(crate) fn ramp_of(&self, venue: &str) -> Option<(&Ramp, usize)> {
        let v = self.venues.get(venue)?;
        let ramp = self.ramps.get(v.ramp.as_deref()?)?;
        let ceiling = v.stage_ceiling.as_deref()?;
        let ix = ramp.stages.iter().position(|s| s.name == ceiling)?;
        Some((ramp, ix))
    }
}

fn names<'a>(it: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = it.map(String::as_str).collect();
    if v.is_empty() {
        "none defined".to_owned()
    } else {
        v.join(", ")
    }
}

fn named(at: &[&str], name: &str) -> Result<(), Invalid> {
    if name.trim().is_empty() || name.trim() != name {
        return Err(Invalid::new(
            at,
            format!("names must be non-empty without surrounding spaces, got {name:?}"),
        ));
    }
    Ok(())
}

fn positive(at: &[&str], v: Option<Decimal>) -> Result<(), Invalid> {
    match v {
        Some(d) if d <= Decimal::ZERO => Err(Invalid::new(
            at,
            format!("must be > 0, got {}", d.normalize()),
        )),
        _ => Ok(()),
    }
}

fn band(at: &[&str], v: Option<Decimal>) -> Result<(), Invalid> {
    match v {
        Some(d) if d < Decimal::ZERO || d > Decimal::from(10_000) => Err(Invalid::new(
            at,
            format!("must be between 0 and 10000 bps, got {}", d.normalize()),
        )),
        _ => Ok(()),
    }
}

fn clips(
    at_min: &[&str],
    at_max: &[&str],
    min: Option<Decimal>,
    max: Option<Decimal>,
) -> Result<(), Invalid> {
    positive(at_min, min)?;
    positive(at_max, max)?;
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        return Err(Invalid::new(
            at_min,
            format!(
                "must be <= max_clip {}, got {}",
                hi.normalize(),
                lo.normalize()
            ),
        ));
    }
    Ok(())
}

fn count(at: &[&str], v: Option<u32>) -> Result<(), Invalid> {
    match v {
        Some(n) if n == 0 || n > MAX_CHILDREN_PER_WINDOW => Err(Invalid::new(
            at,
            format!("must be between 1 and {MAX_CHILDREN_PER_WINDOW}, got {n}"),
        )),
        _ => Ok(()),
    }
}

fn duration(at: &[&str], v: Option<u64>) -> Result<(), Invalid> {
    match v {
        Some(n) if n == 0 || n > MAX_DURATION_MS => Err(Invalid::new(
            at,
            format!("must be between 1 and {MAX_DURATION_MS} ms, got {n}"),
        )),
        _ => Ok(()),
    }
}

fn cadence(
    at: &[&str],
    max_children: Option<u32>,
    window_ms: Option<u64>,
    min_spacing_ms: Option<u64>,
) -> Result<(), Invalid> {
    let with = |f: &'static str| {
        let mut v = at.to_vec();
        v.push(f);
        v
    };
    count(&with("max_children_per_window"), max_children)?;
    duration(&with("window_ms"), window_ms)?;
    duration(&with("min_spacing_ms"), min_spacing_ms)
}

impl fmt::Display for Limits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_toml_string() {
            Ok(s) => f.write_str(&s),
            Err(e) => write!(f, "{e}"),
        }
    }
}

#[cfg(test)]
mod tests;
