//! The fault model: which faults a simulation injects, how often, and the count of
//! what it injected.
//!
//! A profile is a named set of probabilities (`none`, `light`, `default`, `heavy`),
//! optionally adjusted key by key: `default,crash=0.01,extra_parents=4`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt;

/// One class of fault (or of desk stimulus) the harness injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// A venue's link drops; children sent meanwhile are `Unreachable`, reports in
    /// flight are lost, and the link reconciles every working child when it is back.
    Disconnect,
    /// A venue refuses a child outright.
    Reject,
    /// A book fills part of a child at once and the rest later (or until cancelled).
    Partial,
    /// A fill crosses our cancel at the venue: it reaches the engine after the cancel
    /// was sent.
    FillAfterCancel,
    /// A venue report is delivered twice.
    Duplicate,
    /// A dealer's quote expires before the acceptance reaches it.
    QuoteExpiry,
    /// An on-chain swap reverts (gas is charged).
    Revert,
    /// A latency spike on one message (the link keeps its order).
    Slow,
    /// The process dies; a fresh engine replays the journal and reconciles.
    Crash,
    /// The desk cancels a parent at a random time.
    DeskCancel,
    /// The desk sends one more parent (random size, sometimes a reused ClOrdID).
    ExtraParent,
}

impl FaultKind {
    /// Every kind, in report order.
    pub const ALL: [FaultKind; 11] = [
        FaultKind::Disconnect,
        FaultKind::Reject,
        FaultKind::Partial,
        FaultKind::FillAfterCancel,
        FaultKind::Duplicate,
        FaultKind::QuoteExpiry,
        FaultKind::Revert,
        FaultKind::Slow,
        FaultKind::Crash,
        FaultKind::DeskCancel,
        FaultKind::ExtraParent,
    ];

    /// The kind's name, as the profile keys and the summary spell it.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Disconnect => "disconnect",
            FaultKind::Reject => "reject",
            FaultKind::Partial => "partial",
            FaultKind::FillAfterCancel => "fill_after_cancel",
            FaultKind::Duplicate => "duplicate",
            FaultKind::QuoteExpiry => "quote_expiry",
            FaultKind::Revert => "revert",
            FaultKind::Slow => "slow",
            FaultKind::Crash => "crash",
            FaultKind::DeskCancel => "desk_cancel",
            FaultKind::ExtraParent => "extra_parent",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How often each fault happens in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultProfile {
    /// The profile's name (with its adjustments), as given on the command line.
    pub name: String,
    /// Per step: a random connected venue drops its link.
    pub disconnect: f64,
    /// Per child reaching a venue: the venue refuses it.
    pub reject: f64,
    /// Per child reaching a book: part fills now, the rest later.
    pub partial: f64,
    /// Per cancel reaching a working child: a fill crosses it.
    pub fill_after_cancel: f64,
    /// Per venue report (not gas): it is delivered twice.
    pub duplicate: f64,
    /// Per child reaching a dealer: the quote expires first.
    pub quote_expiry: f64,
    /// Per child reaching a pool or route: the swap reverts.
    pub revert: f64,
    /// Per message on a venue link: a latency spike.
    pub slow: f64,
    /// Per step: the process crashes.
    pub crash: f64,
    /// Per parent the desk sees acknowledged: the desk cancels it later.
    pub desk_cancel: f64,
    /// Most extra parents the desk sends in a run (0 to this many, drawn per seed).
    pub extra_parents: u32,
    /// Most crashes in one run.
    pub max_crashes: u32,
    /// Most link drops in one run.
    pub max_disconnects: u32,
}

/// A fault profile that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultSpecError {
    /// The base profile is not one of the named ones.
    #[error("faults: unknown profile {0:?} (none, light, default, heavy)")]
    UnknownProfile(String),
    /// An adjustment names no field.
    #[error("faults: unknown key {0:?}")]
    UnknownKey(String),
    /// An adjustment is not `key=value`.
    #[error("faults: {0:?} is not key=value")]
    NotKeyValue(String),
    /// A probability outside `[0, 1]` or not a number.
    #[error("faults.{key}: {value:?} is not a probability between 0 and 1")]
    BadProbability {
        /// The key.
        key: String,
        /// The value given.
        value: String,
    },
    /// A count that is not a whole number.
    #[error("faults.{key}: {value:?} is not a whole number")]
    BadCount {
        /// The key.
        key: String,
        /// The value given.
        value: String,
    },
}

impl FaultProfile {
    /// No faults at all (the engine over the simulated venues, journal and checks only).
    pub fn none() -> Self {
        Self {
            name: "none".into(),
            disconnect: 0.0,
            reject: 0.0,
            partial: 0.0,
            fill_after_cancel: 0.0,
            duplicate: 0.0,
            quote_expiry: 0.0,
            revert: 0.0,
            slow: 0.0,
            crash: 0.0,
            desk_cancel: 0.0,
            extra_parents: 0,
            max_crashes: 0,
            max_disconnects: 0,
        }
    }

    /// A few faults per run.
    pub fn light() -> Self {
        Self {
            name: "light".into(),
            disconnect: 0.001,
            reject: 0.02,
            partial: 0.1,
            fill_after_cancel: 0.3,
            duplicate: 0.02,
            quote_expiry: 0.02,
            revert: 0.05,
            slow: 0.02,
            crash: 0.001,
            desk_cancel: 0.1,
            extra_parents: 2,
            max_crashes: 1,
            max_disconnects: 2,
        }
    }

    /// Every fault class in most runs.
    pub fn default_profile() -> Self {
        Self {
            name: "default".into(),
            disconnect: 0.004,
            reject: 0.05,
            partial: 0.3,
            fill_after_cancel: 0.5,
            duplicate: 0.05,
            quote_expiry: 0.05,
            revert: 0.1,
            slow: 0.05,
            crash: 0.004,
            desk_cancel: 0.25,
            extra_parents: 3,
            max_crashes: 3,
            max_disconnects: 4,
        }
    }

    /// Many faults of every class, crashes included.
    pub fn heavy() -> Self {
        Self {
            name: "heavy".into(),
            disconnect: 0.01,
            reject: 0.15,
            partial: 0.6,
            fill_after_cancel: 0.8,
            duplicate: 0.15,
            quote_expiry: 0.15,
            revert: 0.25,
            slow: 0.15,
            crash: 0.01,
            desk_cancel: 0.5,
            extra_parents: 6,
            max_crashes: 8,
            max_disconnects: 10,
        }
    }

    /// Reads `profile[,key=value...]`.
    pub fn parse(spec: &str) -> Result<Self, FaultSpecError> {
        let mut parts = spec.split(',').map(str::trim);
        let base = parts.next().unwrap_or("default");
        let mut p = match base {
            "none" => Self::none(),
            "light" => Self::light(),
            "default" | "" => Self::default_profile(),
            "heavy" => Self::heavy(),
            other => return Err(FaultSpecError::UnknownProfile(other.into())),
        };
        for part in parts.filter(|s| !s.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| FaultSpecError::NotKeyValue(part.into()))?;
            p.set(key.trim(), value.trim())?;
        }
        p.name = spec.trim().to_owned();
        if p.name.is_empty() {
            p.name = "default".into();
        }
        Ok(p)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), FaultSpecError> {
        let prob = || {
            value
                .parse::<f64>()
                .ok()
                .filter(|v| (0.0..=1.0).contains(v))
                .ok_or_else(|| FaultSpecError::BadProbability {
                    key: key.into(),
                    value: value.into(),
                })
        };
        let count = || {
            value.parse::<u32>().map_err(|_| FaultSpecError::BadCount {
                key: key.into(),
                value: value.into(),
            })
        };
        match key {
            "disconnect" => self.disconnect = prob()?,
            "reject" => self.reject = prob()?,
            "partial" => self.partial = prob()?,
            "fill_after_cancel" => self.fill_after_cancel = prob()?,
            "duplicate" => self.duplicate = prob()?,
            "quote_expiry" => self.quote_expiry = prob()?,
            "revert" => self.revert = prob()?,
            "slow" => self.slow = prob()?,
            "crash" => self.crash = prob()?,
            "desk_cancel" => self.desk_cancel = prob()?,
            "extra_parents" => self.extra_parents = count()?,
            "max_crashes" => self.max_crashes = count()?,
            "max_disconnects" => self.max_disconnects = count()?,
            other => return Err(FaultSpecError::UnknownKey(other.into())),
        }
        Ok(())
    }
}

/// How many faults of each kind were injected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts([u64; FaultKind::ALL.len()]);

impl FaultCounts {
    /// Counts one more `kind`.
    pub fn add(&mut self, kind: FaultKind) {
        self.0[kind.index()] += 1;
    }

    /// How many of `kind`.
    pub fn get(&self, kind: FaultKind) -> u64 {
        self.0[kind.index()]
    }

    /// All faults injected.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Adds another run's counts.
    pub fn merge(&mut self, other: &FaultCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

impl fmt::Display for FaultCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for kind in FaultKind::ALL {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{} {}", kind.name(), self.get(kind))?;
        }
        Ok(())
    }
}

/// The run's random draws and what they injected: every fault decision goes through
/// here, so a seed decides them all.
pub(crate) struct Dice {
    rng: ChaCha8Rng,
    /// The probabilities.
    pub profile: FaultProfile,
    /// What was injected so far.
    pub counts: FaultCounts,
}

impl Dice {
    /// Draws for `seed` under `profile`.
    pub fn new(seed: u64, profile: FaultProfile) -> Self {
        // Mixed so that the harness's draws differ from the venues' own (seeded by the
        // same number through the scenario).
        let mixed = seed ^ 0x9e37_79b9_7f4a_7c15;
        Self {
            rng: ChaCha8Rng::seed_from_u64(mixed),
            profile,
            counts: FaultCounts::default(),
        }
    }

    /// True with probability `p`, counting `kind` when it is.
    pub fn roll(&mut self, p: f64, kind: FaultKind) -> bool {
        if p <= 0.0 {
            return false;
        }
        let hit = self.rng.random::<f64>() < p;
        if hit {
            self.counts.add(kind);
        }
        hit
    }

    /// A uniform number in `[lo, hi)`.
    pub fn unit_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.rng.random::<f64>()
    }

    /// A uniform whole number in `[lo, hi]`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        self.rng.random_range(lo..=hi)
    }

    /// A uniform index below `n` (`n > 0`).
    pub fn index(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        self.rng.random_range(0..n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_profile_takes_adjustments_key_by_key() {
        let p = FaultProfile::parse("light,crash=0.5,extra_parents=7").unwrap();
        assert_eq!(p.crash, 0.5);
        assert_eq!(p.extra_parents, 7);
        assert_eq!(p.reject, FaultProfile::light().reject);
        assert_eq!(p.name, "light,crash=0.5,extra_parents=7");
    }

    #[test]
    fn bad_specs_name_the_key_and_the_rule() {
        assert_eq!(
            FaultProfile::parse("wild"),
            Err(FaultSpecError::UnknownProfile("wild".into()))
        );
        assert_eq!(
            FaultProfile::parse("default,crash=2")
                .unwrap_err()
                .to_string(),
            "faults.crash: \"2\" is not a probability between 0 and 1"
        );
        assert!(matches!(
            FaultProfile::parse("default,bogus=1"),
            Err(FaultSpecError::UnknownKey(k)) if k == "bogus"
        ));
        assert!(matches!(
            FaultProfile::parse("default,crash"),
            Err(FaultSpecError::NotKeyValue(_))
        ));
    }

    #[test]
    fn counts_add_up_by_kind() {
        let mut a = FaultCounts::default();
        a.add(FaultKind::Crash);
        a.add(FaultKind::Crash);
        let mut b = FaultCounts::default();
        b.add(FaultKind::Slow);
        a.merge(&b);
        assert_eq!(a.get(FaultKind::Crash), 2);
        assert_eq!(a.total(), 3);
        assert!(a.to_string().contains("crash 2"));
    }
}
