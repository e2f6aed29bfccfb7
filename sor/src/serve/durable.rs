//! The gateway's use of the journal: what it records before the engine acts, and what
//! it reads back after a crash.
//!
//! Every input the engine thread hands the engine (a parent, a cancel, a venue
//! report, a liquidity snapshot, a timer, a risk change, and the refusals it feeds
//! back itself) is appended as an [`Entry::Event`] with the engine time it was handled
//! at, before the engine sees it. Before anything leaves the process because of it (a
//! child to a venue, a report to a desk) the journal is committed, so a desk's ack
//! always follows its parent reaching the disk. Replaying the events into a fresh
//! engine at the same times rebuilds the state the gateway had before it stopped: the
//! engine is a pure function of its inputs.
//!
//! Entries are JSON (one per record), so `sor journal print DIR` can show them.

use crate::engine::Event;
use crate::journal::{FsyncPolicy, Journal, JournalConfig, JournalError, TailRepair};
use risk::RecordedControl;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use venues::Nanos;

/// How the gateway journals (`[journal]` in its configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalSettings {
    /// The journal's directory.
    pub dir: PathBuf,
    /// When records reach the disk.
    pub fsync: FsyncPolicy,
    /// Segment size, bytes.
    pub segment_bytes: u64,
}

/// One journal record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum Entry {
    /// The journal's first record: the run's ClOrdID prefix towards venues, kept for
    /// the journal's whole life so children replayed after a crash keep their ids.
    Start {
        /// Prefix of every child ClOrdID sent to a venue.
        run_prefix: String,
        /// Wall time the journal was started, ms since the Unix epoch.
        started_unix_ms: u64,
    },
    /// The gateway restarted from this journal.
    Restart {
        /// Engine time of the restart.
        at: Nanos,
        /// Events replayed.
        replayed: u64,
    },
    /// A risk control, applied between the inputs around it (the limits at the
    /// journal's start, an admin change, a reloaded limits file).
    Control {
        /// Who, why, when, what.
        recorded: RecordedControl,
    },
    /// An input the engine was handed at engine time `at`.
    Event {
        /// Engine time (ns since the Unix epoch).
        at: Nanos,
        /// The input.
        event: Event,
    },
}

#[derive(Serialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
enum EntryRef<'a> {
    Control { recorded: &'a RecordedControl },
    Event { at: Nanos, event: &'a Event },
}

/// One input read back from the journal.
#[derive(Debug, Clone)]
pub enum Replayed {
    /// An engine input and its engine time.
    Event(Nanos, Event),
    /// A risk control, between the inputs around it.
    Control(RecordedControl),
}

/// What the journal held when the gateway started.
#[derive(Debug, Default)]
pub struct Recovery {
    /// The run prefix of the journal's first start (`None` for a new journal).
    pub run_prefix: Option<String>,
    /// Every recorded input and control, in order.
    pub inputs: Vec<Replayed>,
    /// Earlier restarts.
    pub restarts: u64,
    /// A torn tail `open` cut, if any.
    pub tail_repair: Option<TailRepair>,
}

/// Why the journal could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DurableError {
    /// The journal itself failed.
    #[error("journal: {0}")]
    Journal(#[from] JournalError),
    /// A record is not a valid entry.
    #[error("journal record {lsn}: not a gateway entry: {reason}")]
    Decode {
        /// Its lsn.
        lsn: u64,
        /// What was wrong.
        reason: String,
    },
    /// An entry could not be encoded.
    #[error("journal: could not encode an entry: {0}")]
    Encode(String),
}

/// The open journal, owned by the engine thread.
#[derive(Debug)]
pub struct Durable {
    journal: Journal,
    buf: Vec<u8>,
}

impl Durable {
    /// Opens (or creates) the journal, cuts a torn tail, and reads every entry back.
    pub fn open(settings: &JournalSettings) -> Result<(Self, Recovery), DurableError> {
        let config = JournalConfig {
            segment_bytes: settings.segment_bytes,
            fsync: settings.fsync,
            ..JournalConfig::new(&settings.dir)
        };
        let (journal, recovered) = Journal::open(config)?;
        let mut recovery = Recovery {
            tail_repair: recovered.tail_repair,
            ..Recovery::default()
        };
        for record in recovered.records {
            let entry: Entry =
                serde_json::from_slice(&record.payload).map_err(|e| DurableError::Decode {
                    lsn: record.lsn,
                    reason: e.to_string(),
                })?;
            match entry {
                Entry::Start { run_prefix, .. } => {
                    recovery.run_prefix.get_or_insert(run_prefix);
                }
                Entry::Restart { .. } => recovery.restarts += 1,
                Entry::Event { at, event } => recovery.inputs.push(Replayed::Event(at, event)),
                Entry::Control { recorded } => recovery.inputs.push(Replayed::Control(recorded)),
            }
        }
        Ok((
            Self {
                journal,
                buf: Vec::with_capacity(4096),
            },
            recovery,
        ))
    }

    /// Appends a non-event entry and commits it.
    pub fn mark(&mut self, entry: &Entry) -> Result<(), DurableError> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, entry)
            .map_err(|e| DurableError::Encode(e.to_string()))?;
        self.journal.append(&self.buf)?;
        self.journal.commit()?;
        Ok(())
    }

    /// Appends a control applied before the next input (durable at the next commit).
    pub fn record_control(&mut self, recorded: &RecordedControl) -> Result<(), DurableError> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, &EntryRef::Control { recorded })
            .map_err(|e| DurableError::Encode(e.to_string()))?;
        self.journal.append(&self.buf)?;
        Ok(())
    }

    /// Appends `event`, handled at `at` (durable at the next [`Durable::commit`]).
    pub fn record(&mut self, at: Nanos, event: &Event) -> Result<(), DurableError> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, &EntryRef::Event { at, event })
            .map_err(|e| DurableError::Encode(e.to_string()))?;
        self.journal.append(&self.buf)?;
        Ok(())
    }

    /// Makes everything appended durable (a no-op when it already is).
    pub fn commit(&mut self) -> Result<(), DurableError> {
        if self.journal.durable_lsn() < self.journal.last_lsn() {
            self.journal.commit()?;
        }
        Ok(())
    }

    /// Whether commits are grouped: only then does handling several inputs before
    /// one commit save anything (each record is synced on its own, or never).
    pub fn groups_commits(&self) -> bool {
        matches!(self.journal.config().fsync, FsyncPolicy::Group { .. })
    }

    /// Commits when the group-commit policy says it is time.
    pub fn commit_if_due(&mut self, now: Instant) -> Result<(), DurableError> {
        self.journal.commit_if_due(now)?;
        Ok(())
    }

    /// How long until a group commit is due, if records are waiting.
    pub fn commit_in(&self, now: Instant) -> Option<Duration> {
        self.journal
            .commit_deadline()
            .map(|d| d.saturating_duration_since(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ParentId;

    fn settings(dir: &std::path::Path) -> JournalSettings {
        JournalSettings {
            dir: dir.to_owned(),
            fsync: FsyncPolicy::EachRecord,
            segment_bytes: 1 << 20,
        }
    }

    #[test]
    fn events_come_back_in_order_with_their_times_and_the_run_prefix() {
        let dir = tempdir();
        {
            let (mut d, rec) = Durable::open(&settings(&dir)).unwrap();
            assert!(rec.run_prefix.is_none() && rec.inputs.is_empty());
            d.mark(&Entry::Start {
                run_prefix: "R1".into(),
                started_unix_ms: 1,
            })
            .unwrap();
            for i in 0..5u64 {
                d.record(
                    100 + i,
                    &Event::CancelParent {
                        parent: ParentId(format!("P{i}")),
                    },
                )
                .unwrap();
            }
            d.commit().unwrap();
        }
        let (mut d, rec) = Durable::open(&settings(&dir)).unwrap();
        assert_eq!(rec.run_prefix.as_deref(), Some("R1"));
        assert_eq!(rec.inputs.len(), 5);
        assert!(matches!(rec.inputs[3], Replayed::Event(103, _)));
        d.mark(&Entry::Restart {
            at: 200,
            replayed: 5,
        })
        .unwrap();
        drop(d);
        let (_, rec) = Durable::open(&settings(&dir)).unwrap();
        assert_eq!(rec.restarts, 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_record_that_is_not_an_entry_is_refused_naming_its_lsn() {
        let dir = tempdir();
        {
            let (mut j, _) = Journal::open(JournalConfig::new(&dir)).unwrap();
            j.append(b"{\"entry\":\"start\",\"run_prefix\":\"R\",\"started_unix_ms\":1}")
                .unwrap();
            j.append(b"not json").unwrap();
            j.commit().unwrap();
        }
        let err = Durable::open(&settings(&dir)).unwrap_err();
        assert!(err.to_string().contains("record 2"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempdir() -> PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sor-durable-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }
}
