//! The in-memory journal and recovery from it: every event the engine was handed,
//! stored as its JSON bytes with the time it was handed at; after a crash a fresh
//! engine is given the decoded records in order and comes out in the same state.

use crate::domain::ChildId;
use crate::engine::{Command, DeskReport, Engine, Event};
use risk::PreTradeGate;
use venues::{Nanos, VenueId};

/// Most records one simulated journal holds (a run past it stops with an error).
pub const MAX_RECORDS: usize = 5_000_000;

/// A journal record that could not be written or read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The event did not encode.
    #[error("journal record {index}: cannot encode: {message}")]
    Encode {
        /// The record's position.
        index: usize,
        /// The encoder's words.
        message: String,
    },
    /// The bytes did not decode into an event.
    #[error("journal record {index}: cannot decode: {message}")]
    Decode {
        /// The record's position.
        index: usize,
        /// The decoder's words.
        message: String,
    },
    /// A timer's event came back that no engine output had asked for.
    #[error("journal record {index}: timer {event} fired but was never scheduled")]
    UnscheduledTimer {
        /// The record's position.
        index: usize,
        /// The event.
        event: String,
    },
    /// The journal is full.
    #[error("journal full ({MAX_RECORDS} records)")]
    Full,
}

/// Everything handed to the engine, in order, as `(time, serde_json bytes)`.
#[derive(Debug, Default)]
pub struct MemJournal {
    records: Vec<(Nanos, Vec<u8>)>,
    bytes: usize,
}

impl MemJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `event`, handed at `now` (before the engine acts on it).
    pub fn append(&mut self, now: Nanos, event: &Event) -> Result<(), ReplayError> {
        if self.records.len() >= MAX_RECORDS {
            return Err(ReplayError::Full);
        }
        let bytes = serde_json::to_vec(event).map_err(|e| ReplayError::Encode {
            index: self.records.len(),
            message: e.to_string(),
        })?;
        self.bytes += bytes.len();
        self.records.push((now, bytes));
        Ok(())
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Bytes held (the events' JSON).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Drops the last venue report (a planted bug for the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn lose_last_venue_record(&mut self) {
        let last = (0..self.records.len())
            .rev()
            .find(|i| matches!(self.decode(*i), Ok((_, Event::Venue { .. }))));
        if let Some(i) = last {
            let (_, bytes) = self.records.remove(i);
            self.bytes -= bytes.len();
        }
    }

    /// Record `index` decoded.
    pub fn decode(&self, index: usize) -> Result<(Nanos, Event), ReplayError> {
        let (at, bytes) = self.records.get(index).ok_or(ReplayError::Decode {
            index,
            message: "no such record".into(),
        })?;
        let event = serde_json::from_slice(bytes).map_err(|e| ReplayError::Decode {
            index,
            message: e.to_string(),
        })?;
        Ok((*at, event))
    }
}

/// A fresh engine brought back from the journal, and what it would have done that
/// the world already saw (the desk got those reports, the venues those children).
pub struct Recovered<G> {
    /// The engine, in the state before the crash.
    pub engine: Engine<G>,
    /// The desk reports the replay produced: not sent again.
    pub desk: Vec<DeskReport>,
    /// The child ClOrdIDs the replay produced: not sent again.
    pub sent: Vec<String>,
    /// Records the engine refused (the live engine refused the same ones).
    pub refused: Vec<usize>,
    /// Call-backs the engine asked for that had not fired: to arm again.
    pub timers: Vec<(Nanos, Event)>,
    /// Cancels the engine sent for children still working: to send again (a cancel
    /// the crash cut off would otherwise be lost; a venue refuses a repeat).
    pub cancels: Vec<(VenueId, ChildId)>,
}

/// Replays every record of `journal` into `engine` (fresh, built from the same
/// configuration and limits as the one that crashed).
pub fn replay<G: PreTradeGate>(
    journal: &MemJournal,
    mut engine: Engine<G>,
) -> Result<Recovered<G>, ReplayError> {
    let mut desk = Vec::new();
    let mut sent = Vec::new();
    let mut refused = Vec::new();
    let mut timers: Vec<(Nanos, Event)> = Vec::new();
    let mut cancels: Vec<(VenueId, ChildId)> = Vec::new();
    let mut out = Vec::new();
    for index in 0..journal.len() {
        let (now, event) = journal.decode(index)?;
        if matches!(event, Event::SliceDue { .. } | Event::RetryRound { .. }) {
            let Some(pos) = timers.iter().position(|(_, e)| *e == event) else {
                return Err(ReplayError::UnscheduledTimer {
                    index,
                    event: format!("{event:?}"),
                });
            };
            timers.remove(pos);
        }
        if engine.handle(now, event, &mut out).is_err() {
            refused.push(index);
        }
        for cmd in out.drain(..) {
            match cmd {
                Command::Send { order, .. } => sent.push(order.client_id),
                Command::Cancel { venue, child } => cancels.push((venue, child)),
                Command::Schedule { at, event } => timers.push((at.max(now), event)),
                Command::Desk(report) => desk.push(report),
            }
        }
    }
    let children = engine.children();
    let mut seen = std::collections::BTreeSet::new();
    cancels.retain(|(_, child)| {
        children
            .get(child)
            .is_some_and(|c| !c.status().is_terminal())
            && seen.insert(child.clone())
    });
    Ok(Recovered {
        engine,
        desk,
        sent,
        refused,
        timers,
        cancels,
    })
}
