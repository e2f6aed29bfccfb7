//! The audit log: one JSON line per change, written (flushed, and synced for a file)
//! before the change takes effect.

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

/// One change as the audit log records it.
///
/// ```json
/// {"who":"alice","at":1700000000000000000,"what":"set_limit","key":"venues.dealer-a.max_clip","old":"2000000","new":"1500000","reason":"dealer asked"}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Who made the change.
    pub who: String,
    /// When (nanoseconds since the Unix epoch).
    pub at: u64,
    /// Which control: `set_limit`, `clear_limit`, `replace_limits`, `engage_kill`,
    /// `release_kill`, `set_stage`, `cap_stage`.
    pub what: String,
    /// What it changed: a dotted limit key, `limits` for a whole file, `kill.…` for a
    /// kill switch, `venues.X.stage` for a stage.
    pub key: String,
    /// The value before (`null` if there was none).
    pub old: Json,
    /// The value after (`null` if removed).
    pub new: Json,
    /// Why.
    pub reason: String,
}

/// The audit log could not take a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// Writing, flushing or syncing failed.
    #[error("audit log write failed: {0}")]
    Write(String),
    /// The record could not be encoded.
    #[error("audit record could not be encoded: {0}")]
    Encode(String),
}

/// Where audit lines go. `append` must not return before the line is as durable as the
/// sink can make it.
pub trait AuditSink: Send {
    /// Appends one line (with its newline) and makes it durable.
    fn append(&mut self, line: &[u8]) -> io::Result<()>;
}

/// Any writer: write, then flush.
struct WriterSink<W>(W);

impl<W: Write + Send> AuditSink for WriterSink<W> {
    fn append(&mut self, line: &[u8]) -> io::Result<()> {
        self.0.write_all(line)?;
        self.0.flush()
    }
}

/// A file: write, flush, then `fsync` (data).
struct FileSink(File);

impl AuditSink for FileSink {
    fn append(&mut self, line: &[u8]) -> io::Result<()> {
        self.0.write_all(line)?;
        self.0.flush()?;
        self.0.sync_data()
    }
}

/// An in-memory log shared with a [`MemoryAudit`] handle, for tests.
struct MemorySink(Arc<Mutex<MemoryState>>);

#[derive(Default)]
struct MemoryState {
    bytes: Vec<u8>,
    failing: bool,
}

impl AuditSink for MemorySink {
    fn append(&mut self, line: &[u8]) -> io::Result<()> {
        let mut s = self.0.lock();
        if s.failing {
            return Err(io::Error::other("memory audit log set to fail"));
        }
        s.bytes.extend_from_slice(line);
        Ok(())
    }
}

/// The reading side of an in-memory audit log (see [`AuditLog::memory`]).
#[derive(Clone, Default)]
pub struct MemoryAudit(Arc<Mutex<MemoryState>>);

impl MemoryAudit {
    /// The lines written so far.
    pub fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The records written so far (lines that do not parse are skipped).
    pub fn records(&self) -> Vec<AuditRecord> {
        self.lines()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Makes every later write fail (or succeed again), to test refusals.
    pub fn set_failing(&self, failing: bool) {
        self.0.lock().failing = failing;
    }
}

/// The audit log of risk controls: JSON lines `{who, at, what, key, old, new, reason}`.
pub struct AuditLog {
    sink: Box<dyn AuditSink>,
    records: u64,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("records", &self.records)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// A log on any writer; each record is written and flushed.
    pub fn to_writer<W: Write + Send + 'static>(w: W) -> Self {
        Self::to_sink(WriterSink(w))
    }

    /// A log on an open file; each record is written, flushed and `fsync`ed.
    pub fn to_file(file: File) -> Self {
        Self::to_sink(FileSink(file))
    }

    /// Opens (creating if needed) `path` for appending; records are `fsync`ed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| AuditError::Write(format!("{}: {e}", path.display())))?;
        Ok(Self::to_file(file))
    }

    /// A log on a custom sink.
    pub fn to_sink(sink: impl AuditSink + 'static) -> Self {
        Self {
            sink: Box::new(sink),
            records: 0,
        }
    }

    /// An in-memory log and the handle that reads it.
    pub fn memory() -> (Self, MemoryAudit) {
        let state = Arc::new(Mutex::new(MemoryState::default()));
        (Self::to_sink(MemorySink(state.clone())), MemoryAudit(state))
    }

    /// Appends one record; returns only once the sink has made it durable.
    pub fn append(&mut self, record: &AuditRecord) -> Result<(), AuditError> {
        let mut line = serde_json::to_vec(record).map_err(|e| AuditError::Encode(e.to_string()))?;
        line.push(b'\n');
        self.sink
            .append(&line)
            .map_err(|e| AuditError::Write(e.to_string()))?;
        self.records += 1;
        Ok(())
    }

    /// How many records this log has written.
    pub fn records(&self) -> u64 {
        self.records
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> AuditRecord {
        AuditRecord {
            who: "alice".into(),
            at: 7,
            what: "set_limit".into(),
            key: "venues.dealer-a.max_clip".into(),
            old: Json::String("2000000".into()),
            new: Json::String("1500000".into()),
            reason: "dealer asked".into(),
        }
    }

    #[test]
    fn writes_one_json_line_per_record() {
        let (mut log, mem) = AuditLog::memory();
        log.append(&rec()).unwrap();
        assert_eq!(
            mem.lines(),
            vec![
                r#"{"who":"alice","at":7,"what":"set_limit","key":"venues.dealer-a.max_clip","old":"2000000","new":"1500000","reason":"dealer asked"}"#
            ]
        );
        mem.set_failing(true);
        assert!(matches!(log.append(&rec()), Err(AuditError::Write(_))));
        assert_eq!(log.records(), 1);
    }

    #[test]
    fn file_log_appends_and_syncs() {
        let dir = std::env::temp_dir().join(format!("risk-audit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.jsonl");
        let _ = std::fs::remove_file(&path);
        let mut log = AuditLog::open(&path).unwrap();
        log.append(&rec()).unwrap();
        log.append(&rec()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        let back: AuditRecord = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(back, rec());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
