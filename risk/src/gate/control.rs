//! Live controls: limits, kill switches and ramp stages, each written to the audit log
//! before it takes effect.

use super::compiled::Compiled;
use super::{Gate, Kill};
use crate::audit::{AuditError, AuditLog, AuditRecord};
use crate::limits::{KeyPath, Limits, LimitsError, edit, parse_value, render_path};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::fmt;

/// Who makes a change, why, and when (nanoseconds since the Unix epoch, as the audit
/// log records it).
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// The person or system making the change (the admin token's name).
    pub who: &'a str,
    /// Why; required.
    pub reason: &'a str,
    /// When.
    pub now: u64,
}

/// Where a kill switch applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "scope", content = "name", rename_all = "snake_case")]
pub enum KillScope {
    /// Every desk and venue.
    Global,
    /// One desk's children.
    Desk(String),
    /// Every child to one venue.
    Venue(String),
}

impl KillScope {
    /// The audit key of the switch: `kill.global`, `kill.desks.X`, `kill.venues.X`.
    pub fn key(&self) -> String {
        match self {
            KillScope::Global => "kill.global".into(),
            KillScope::Desk(d) => render_path(&["kill", "desks", d.as_str()]),
            KillScope::Venue(v) => render_path(&["kill", "venues", v.as_str()]),
        }
    }
}

impl fmt::Display for KillScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KillScope::Global => f.write_str("global"),
            KillScope::Desk(d) => write!(f, "desk {d}"),
            KillScope::Venue(v) => write!(f, "venue {v}"),
        }
    }
}

/// One change a risk officer makes to a live gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "control")]
pub enum Control {
    /// Sets one limit by its dotted key (`venues.dealer-a.max_clip`) to a value typed as
    /// text (`"1500000"`, `20`, `true`, `["a", "b"]`; a bare word is a string). The
    /// whole result is validated like the file. A desk, venue or ramp that is not in
    /// the limits cannot be created this way.
    SetLimit {
        /// Dotted key; segments with other characters than letters, digits, `-`, `_`
        /// are double-quoted: `instruments."USDC/USD".max_clip`.
        key: String,
        /// The new value.
        value: String,
    },
    /// Removes one limit (it no longer binds), or a whole desk / venue / instrument
    /// entry; validated like the file.
    ClearLimit {
        /// Dotted key.
        key: String,
    },
    /// Replaces every limit at once (hot reload). Usage is carried over by name; a
    /// venue keeps its ramp stage if it is the same stage of the same ramp, capped at
    /// the new ceiling, and goes back to the first stage otherwise.
    ReplaceLimits(Box<Limits>),
    /// Engages a kill switch: every new child in its scope is refused at once.
    EngageKill {
        /// Where.
        scope: KillScope,
        /// Whether the engine must cancel the children already working there.
        cancel_working: bool,
    },
    /// Releases an engaged kill switch.
    ReleaseKill {
        /// Where.
        scope: KillScope,
    },
    /// Moves a venue to a ramp stage (by name), at most its ceiling; resets the
    /// clean-fill count.
    SetStage {
        /// The venue.
        venue: String,
        /// The stage's name.
        stage: String,
    },
    /// Sets the highest stage a venue may graduate to (its `stage_ceiling` limit); a
    /// venue above it is moved down to it at once.
    CapStage {
        /// The venue.
        venue: String,
        /// The ceiling stage's name.
        ceiling: String,
    },
}

impl Control {
    /// The audit record's `what`: `set_limit`, `clear_limit`, `replace_limits`,
    /// `engage_kill`, `release_kill`, `set_stage`, `cap_stage`.
    pub fn what(&self) -> &'static str {
        match self {
            Control::SetLimit { .. } => "set_limit",
            Control::ClearLimit { .. } => "clear_limit",
            Control::ReplaceLimits(_) => "replace_limits",
            Control::EngageKill { .. } => "engage_kill",
            Control::ReleaseKill { .. } => "release_kill",
            Control::SetStage { .. } => "set_stage",
            Control::CapStage { .. } => "cap_stage",
        }
    }
}

/// A control that was refused; the gate is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The change would make the limits invalid (names the field).
    #[error("{0}")]
    Limits(#[from] LimitsError),
    /// A desk or venue that the limits do not name.
    #[error("unknown {kind} {name:?}")]
    Unknown {
        /// `desk` or `venue`.
        kind: &'static str,
        /// The name given.
        name: String,
    },
    /// The venue has no ramp.
    #[error("venue {venue:?} has no ramp")]
    NoRamp {
        /// The venue.
        venue: String,
    },
    /// No such stage in the venue's ramp.
    #[error("venue {venue:?}: no stage {stage:?} in ramp {ramp:?} ({stages})")]
    UnknownStage {
        /// The venue.
        venue: String,
        /// The stage asked for.
        stage: String,
        /// The venue's ramp.
        ramp: String,
        /// The ramp's stages, comma-separated.
        stages: String,
    },
    /// The stage asked for is above the venue's ceiling.
    #[error(
        "venue {venue:?}: stage {stage:?} is above the ceiling {ceiling:?}; raise the ceiling first"
    )]
    AboveCeiling {
        /// The venue.
        venue: String,
        /// The stage asked for.
        stage: String,
        /// The ceiling in force.
        ceiling: String,
    },
    /// Releasing a kill switch that is not engaged.
    #[error("kill switch at {scope} is not engaged")]
    NotEngaged {
        /// Where.
        scope: KillScope,
    },
    /// `who` or `reason` is empty.
    #[error("a change needs who makes it and why")]
    Unattributed,
    /// The audit record could not be written, so the change was not made.
    #[error("{0}; the change was not made")]
    Audit(#[from] AuditError),
    /// The gate was changed by another control between planning and applying.
    #[error("the limits changed while this change was being recorded; try again")]
    Conflict,
    /// Applied controls wait for the gateway's journal and too many already do.
    #[error("{0} changes are waiting for the gateway's journal; try again shortly")]
    Backlog(usize),
}

/// What a planned control will do.
#[derive(Debug)]
enum Effect {
    Limits(Box<Compiled>),
    Kill {
        scope: KillScope,
        kill: Option<Kill>,
    },
    Stage {
        venue: String,
        stage: usize,
    },
}

/// A validated control, with its audit record, not yet applied.
#[derive(Debug)]
pub(crate) struct Planned {
    pub(crate) record: AuditRecord,
    effect: Effect,
    version: u64,
}

fn json<T: Serialize>(v: &T) -> Json {
    serde_json::to_value(v).unwrap_or(Json::Null)
}

impl Gate {
    /// Validates a control and prepares its audit record; changes nothing.
    pub(crate) fn plan(&self, by: &Actor<'_>, control: &Control) -> Result<Planned, ControlError> {
        if by.who.trim().is_empty() || by.reason.trim().is_empty() {
            return Err(ControlError::Unattributed);
        }
        let limits = &self.rt.limits;
        let (key, old, new, effect) = match control {
            Control::SetLimit { key, value } => {
                let kp = KeyPath::parse(key)?;
                let v = parse_value(value).map_err(|m| LimitsError::Invalid {
                    path: kp.to_string(),
                    message: m,
                    line: None,
                })?;
                let (l, old, new) = edit(limits, &kp, Some(v))?;
                (
                    kp.to_string(),
                    old,
                    new,
                    Effect::Limits(Box::new(Compiled::build(l))),
                )
            }
            Control::ClearLimit { key } => {
                let kp = KeyPath::parse(key)?;
                let (l, old, new) = edit(limits, &kp, None)?;
                (
                    kp.to_string(),
                    old,
                    new,
                    Effect::Limits(Box::new(Compiled::build(l))),
                )
            }
            Control::CapStage { venue, ceiling } => {
                self.ramp_stage(venue, ceiling)?;
                let kp =
                    KeyPath::parse(&render_path(&["venues", venue.as_str(), "stage_ceiling"]))?;
                let (l, old, new) = edit(limits, &kp, Some(toml::Value::String(ceiling.clone())))?;
                (
                    kp.to_string(),
                    old,
                    new,
                    Effect::Limits(Box::new(Compiled::build(l))),
                )
            }
            Control::ReplaceLimits(l) => {
                l.validate()?;
                (
                    "limits".to_owned(),
                    json(limits),
                    json(l.as_ref()),
                    Effect::Limits(Box::new(Compiled::build(l.as_ref().clone()))),
                )
            }
            Control::EngageKill {
                scope,
                cancel_working,
            } => {
                self.known(scope)?;
                let kill = Kill {
                    cancel_working: *cancel_working,
                    at: by.now,
                    by: by.who.to_owned(),
                    reason: by.reason.to_owned(),
                };
                (
                    scope.key(),
                    json(&self.kill(scope)),
                    json(&kill),
                    Effect::Kill {
                        scope: scope.clone(),
                        kill: Some(kill),
                    },
                )
            }
            Control::ReleaseKill { scope } => {
                let Some(k) = self.kill(scope) else {
                    return Err(ControlError::NotEngaged {
                        scope: scope.clone(),
                    });
                };
                (
                    scope.key(),
                    json(k),
                    Json::Null,
                    Effect::Kill {
                        scope: scope.clone(),
                        kill: None,
                    },
                )
            }
            Control::SetStage { venue, stage } => {
                let (ix, ceiling) = self.ramp_stage(venue, stage)?;
                if ix > ceiling.0 {
                    return Err(ControlError::AboveCeiling {
                        venue: venue.clone(),
                        stage: stage.clone(),
                        ceiling: ceiling.1,
                    });
                }
                (
                    render_path(&["venues", venue.as_str(), "stage"]),
                    json(&self.stage(venue)),
                    json(stage),
                    Effect::Stage {
                        venue: venue.clone(),
                        stage: ix,
                    },
                )
            }
        };
        Ok(Planned {
            record: AuditRecord {
                who: by.who.to_owned(),
                at: by.now,
                what: control.what().to_owned(),
                key,
                old,
                new,
                reason: by.reason.to_owned(),
            },
            effect,
            version: self.version,
        })
    }

    fn known(&self, scope: &KillScope) -> Result<(), ControlError> {
        match scope {
            KillScope::Global => Ok(()),
            KillScope::Desk(d) if self.rt.desk_ix.get(d).is_none() => Err(ControlError::Unknown {
                kind: "desk",
                name: d.clone(),
            }),
            KillScope::Venue(v) if self.rt.venue_ix.get(v).is_none() => {
                Err(ControlError::Unknown {
                    kind: "venue",
                    name: v.clone(),
                })
            }
            _ => Ok(()),
        }
    }

    /// The index of `stage` in `venue`'s ramp and the ceiling (index, name).
    fn ramp_stage(
        &self,
        venue: &str,
        stage: &str,
    ) -> Result<(usize, (usize, String)), ControlError> {
        let v = self
            .rt
            .venue_ix
            .get(venue)
            .and_then(|v| self.rt.venues.get(v))
            .ok_or_else(|| ControlError::Unknown {
                kind: "venue",
                name: venue.to_owned(),
            })?;
        let ramp = v.ramp.as_ref().ok_or_else(|| ControlError::NoRamp {
            venue: venue.to_owned(),
        })?;
        let ix = ramp
            .stages
            .iter()
            .position(|s| &*s.name == stage)
            .ok_or_else(|| ControlError::UnknownStage {
                venue: venue.to_owned(),
                stage: stage.to_owned(),
                ramp: ramp.name.to_string(),
                stages: ramp
                    .stages
                    .iter()
                    .map(|s| &*s.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let ceiling = ramp
            .stages
            .get(ramp.ceiling)
            .map_or_else(String::new, |s| s.name.to_string());
        Ok((ix, (ramp.ceiling, ceiling)))
    }

    /// Applies a planned control whose record is already in the audit log.
    pub(crate) fn apply(&mut self, planned: Planned) -> Result<AuditRecord, ControlError> {
        if planned.version != self.version {
            return Err(ControlError::Conflict);
        }
        match planned.effect {
            Effect::Limits(rt) => self.install(*rt),
            Effect::Kill { scope, kill } => {
                let k = &mut self.kills;
                match (scope, kill) {
                    (KillScope::Global, kill) => k.global = kill,
                    (KillScope::Desk(d), Some(kill)) => {
                        k.desks.insert(d, kill);
                    }
                    (KillScope::Desk(d), None) => {
                        k.desks.remove(&d);
                    }
                    (KillScope::Venue(v), Some(kill)) => {
                        k.venues.insert(v, kill);
                    }
                    (KillScope::Venue(v), None) => {
                        k.venues.remove(&v);
                    }
                }
                k.generation += 1;
                self.kills.reindex(&self.rt);
            }
            Effect::Stage { venue, stage } => {
                if let Some(st) = self
                    .rt
                    .venue_ix
                    .get(&venue)
                    .and_then(|v| self.venues.get_mut(v))
                {
                    st.stage = stage;
                    st.clean = 0;
                }
            }
        }
        self.version += 1;
        Ok(planned.record)
    }

    /// Makes one change: validates it, appends its audit record (flushed, and synced
    /// for a file) and only then applies it. Nothing changes if any step fails.
    /// Returns the record written.
    pub fn control(
        &mut self,
        audit: &mut AuditLog,
        by: &Actor<'_>,
        control: Control,
    ) -> Result<AuditRecord, ControlError> {
        let planned = self.plan(by, &control)?;
        audit.append(&planned.record)?;
        self.apply(planned)
    }

    /// Sets one limit by its dotted key; see [`Control::SetLimit`].
    pub fn set_limit(
        &mut self,
        audit: &mut AuditLog,
        by: &Actor<'_>,
        key: &str,
        value: &str,
    ) -> Result<AuditRecord, ControlError> {
        self.control(
            audit,
            by,
            Control::SetLimit {
                key: key.to_owned(),
                value: value.to_owned(),
            },
        )
    }

    /// Removes one limit; see [`Control::ClearLimit`].
    pub fn clear_limit(
        &mut self,
        audit: &mut AuditLog,
        by: &Actor<'_>,
        key: &str,
    ) -> Result<AuditRecord, ControlError> {
        self.control(
            audit,
            by,
            Control::ClearLimit {
                key: key.to_owned(),
            },
        )
    }

    /// Replaces every limit (hot reload); see [`Control::ReplaceLimits`].
    pub fn replace_limits(
        &mut self,
        audit: &mut AuditLog,
        by: &Actor<'_>,
        limits: Limits,
    ) -> Result<AuditRecord, ControlError> {
        self.control(audit, by, Control::ReplaceLimits(Box::new(limits)))
    }

    /// Engages a kill switch; see [`Control::EngageKill`].
    pub fn engage_kill(
        &mut self,
        audit: &mut AuditLog,
        by: &Actor<'_>,
        scope: KillScope,
        cancel_working: bool,
    ) -> Result<AuditRecord, ControlError> {
        self.control(
            audit,
            by,
            Control::EngageKill {
                scope,
                cancel_working,
            },
        )
    }

    /// Releases a kill switch; see [`Control::ReleaseKill`].
    pub fn release_kill(
        &mut self,
        audit: &mut AuditLog,
        by: &Actor<'_>,
        scope: KillScope,
    ) -> Result<AuditRecord, ControlError> {
        self.control(audit, by, Control::ReleaseKill { scope })
    }

    /// Moves a venue to a ramp stage; see [`Control::SetStage`].
    pub fn set_stage(
        &mut self,
        audit: &mut AuditLog,
        by: &Actor<'_>,
        venue: &str,
        stage: &str,
    ) -> Result<AuditRecord, ControlError> {
        self.control(
            audit,
            by,
            Control::SetStage {
                venue: venue.to_owned(),
                stage: stage.to_owned(),
            },
        )
    }

    /// Sets a venue's stage ceiling; see [`Control::CapStage`].
    pub fn cap_stage(
        &mut self,
        audit: &mut AuditLog,
        by: &Actor<'_>,
        venue: &str,
        ceiling: &str,
    ) -> Result<AuditRecord, ControlError> {
        self.control(
            audit,
            by,
            Control::CapStage {
                venue: venue.to_owned(),
                ceiling: ceiling.to_owned(),
            },
        )
    }
}
