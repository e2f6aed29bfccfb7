//! The journal itself: opening (verify, cut a torn tail, position after the last good
//! record), appending, committing under the fsync policy, starting new segments, and
//! refusing all further work after a failed write or sync.

use super::config::{FsyncPolicy, JournalConfig};
use super::error::JournalError;
use super::group::PendingGroup;
use super::record::{HEADER_LEN, encode_into};
use super::scan::{ScanReport, scan};
use super::segment;
use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One record read back from the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its log sequence number (1, 2, 3 ... across the whole journal).
    pub lsn: u64,
    /// The bytes that were appended.
    pub payload: Vec<u8>,
}

/// What `open` cut from the end of the last segment, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailRepair {
    /// The segment file that was truncated.
    pub segment: PathBuf,
    /// Where it was cut: the byte offset of the first bad record (the new file length).
    pub offset: u64,
    /// How many bytes were removed.
    pub bytes_cut: u64,
    /// What was wrong with the first bad record.
    pub reason: String,
}

/// What `open` found, with every record, for callers that can hold them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Every good record, in lsn order.
    pub records: Vec<Record>,
    /// The cut made at the tail, if any.
    pub tail_repair: Option<TailRepair>,
    /// The last good lsn (0 for an empty journal); the next append gets this plus one.
    pub last_lsn: u64,
}

/// What `open_with` found (the records went to the visitor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReport {
    /// Good records read.
    pub records: u64,
    /// Segment files.
    pub segments: usize,
    /// The cut made at the tail, if any.
    pub tail_repair: Option<TailRepair>,
    /// The last good lsn (0 for an empty journal).
    pub last_lsn: u64,
}

/// The segment being appended to.
#[derive(Debug)]
struct Active {
    file: File,
    path: PathBuf,
    len: u64,
}

/// An open journal, positioned to append after the last good record. One per directory.
///
/// Any failed write, sync, truncate or segment creation leaves it *poisoned*: every later
/// call returns [`JournalError::Poisoned`] until the journal is reopened, because after a
/// failed `fdatasync` the kernel may have dropped the unwritten pages and a later sync can
/// report success for data that never reached the disk.
#[derive(Debug)]
pub struct Journal {
    config: JournalConfig,
    active: Active,
    last_lsn: u64,
    durable_lsn: u64,
    pending: PendingGroup,
    buf: Vec<u8>,
    poisoned: Option<String>,
}

impl Journal {
    /// Opens (creating if missing) the journal in `config.dir`, verifies every record,
    /// cuts a torn tail, and returns the journal with every good record. Holds all records
    /// in memory: for a long journal use [`Journal::open_with`].
    pub fn open(config: JournalConfig) -> Result<(Journal, Recovered), JournalError> {
        let mut records = Vec::new();
        let (journal, report) = Self::open_with(config, |lsn, payload| {
            records.push(Record {
                lsn,
                payload: payload.to_vec(),
            });
        })?;
        let recovered = Recovered {
            records,
            tail_repair: report.tail_repair,
            last_lsn: report.last_lsn,
        };
        Ok((journal, recovered))
    }

    /// Like [`Journal::open`], but streams: `visit(lsn, payload)` is called for each good
    /// record in order as it is read, so memory stays bounded by one read window.
    ///
    /// If this returns an error, records already visited must be discarded: the journal
    /// is damaged in a way that cannot be cut safely (see [`JournalError::Corrupt`]).
    ///
    /// Before returning, a torn tail is truncated and every segment is `fsync`ed (except
    /// under [`FsyncPolicy::Never`]), so the records handed back are durable before the
    /// caller acts on them again.
    pub fn open_with(
        config: JournalConfig,
        visit: impl FnMut(u64, &[u8]),
    ) -> Result<(Journal, OpenReport), JournalError> {
        config.validate()?;
        let dir = config.dir.clone();
        ensure_dir(&dir)?;
        let scanned = scan(&dir, visit)?;
        let tail_repair = match &scanned.tail {
            Some(tail) => Some(cut_tail(tail, scanned.last_lsn)?),
            None => None,
        };
        if config.fsync != FsyncPolicy::Never {
            sync_segments(&scanned)?;
        }
        let active = match scanned.segments.last() {
            Some(last) => open_for_append(&last.path, scanned.last_lsn)?,
            None => create_segment(&dir, 1, config.fsync != FsyncPolicy::Never)?,
        };
        let report = OpenReport {
            records: scanned.records,
            segments: scanned.segments.len().max(1),
            tail_repair,
            last_lsn: scanned.last_lsn,
        };
        let journal = Journal {
            config,
            active,
            last_lsn: scanned.last_lsn,
            durable_lsn: scanned.last_lsn,
            pending: PendingGroup::default(),
            buf: Vec::new(),
            poisoned: None,
        };
        Ok((journal, report))
    }

    /// Reads the journal in `dir` without changing anything: calls `visit(lsn, payload)`
    /// for each good record in order and reports what it found, including a torn tail
    /// that `open` would cut. For inspection and for replay by another process.
    pub fn replay(dir: &Path, visit: impl FnMut(u64, &[u8])) -> Result<ScanReport, JournalError> {
        scan(dir, visit)
    }

    /// Appends one record and returns its lsn. Under [`FsyncPolicy::EachRecord`] the
    /// record is durable when this returns; under `Group` it is written but waits for
    /// [`Journal::commit`]. A payload over `max_record_bytes` is refused and nothing is
    /// written; any I/O failure poisons the journal.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64, JournalError> {
        self.check_usable()?;
        let max = self.config.max_record_bytes;
        let len = match u32::try_from(payload.len()) {
            Ok(len) if len <= max => len,
            _ => {
                return Err(JournalError::RecordTooLarge {
                    len: payload.len(),
                    max,
                });
            }
        };
        let lsn = self
            .last_lsn
            .checked_add(1)
            .ok_or(JournalError::LsnExhausted {
                last: self.last_lsn,
            })?;
        let size = HEADER_LEN as u64 + u64::from(len);
        if self.active.len > 0 && self.active.len + size > self.config.segment_bytes {
            self.roll(lsn)?;
        }
        encode_into(&mut self.buf, lsn, len, payload);
        let offset = self.active.len;
        if let Err(source) = self.active.file.write_all(&self.buf) {
            return Err(self.poison("write", offset, lsn, source));
        }
        self.active.len += size;
        self.last_lsn = lsn;
        match self.config.fsync {
            FsyncPolicy::EachRecord => {
                if let Err(source) = self.active.file.sync_data() {
                    return Err(self.poison("fdatasync", offset, lsn, source));
                }
                self.durable_lsn = lsn;
            }
            FsyncPolicy::Group { .. } => self.pending.add(Instant::now()),
            FsyncPolicy::Never => self.durable_lsn = lsn,
        }
        Ok(lsn)
    }

    /// Makes every appended record durable (one `fdatasync` under `Group` when records
    /// are pending; nothing to do under the other policies) and returns the durable lsn.
    pub fn commit(&mut self) -> Result<u64, JournalError> {
        self.check_usable()?;
        if self.pending.count() > 0 {
            if let Err(source) = self.active.file.sync_data() {
                let (offset, lsn) = (self.active.len, self.last_lsn);
                return Err(self.poison("fdatasync", offset, lsn, source));
            }
            self.pending.clear();
        }
        self.durable_lsn = self.last_lsn;
        Ok(self.durable_lsn)
    }

    /// Under `Group`: true when the oldest uncommitted record has waited `max_delay` at
    /// `now`, or `max_records` records are pending. Always false under other policies.
    pub fn commit_due(&self, now: Instant) -> bool {
        match self.config.fsync {
            FsyncPolicy::Group {
                max_delay,
                max_records,
            } => self.pending.due(now, max_delay, max_records),
            _ => false,
        }
    }

    /// Under `Group` with records pending: the instant the oldest of them reaches
    /// `max_delay` (a deadline for the caller's event loop). `None` otherwise.
    pub fn commit_deadline(&self) -> Option<Instant> {
        match self.config.fsync {
            FsyncPolicy::Group { max_delay, .. } => self.pending.deadline(max_delay),
            _ => None,
        }
    }

    /// Commits if [`Journal::commit_due`] says so; returns the new durable lsn if it did.
    pub fn commit_if_due(&mut self, now: Instant) -> Result<Option<u64>, JournalError> {
        if self.commit_due(now) {
            self.commit().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Commits what is pending and closes the journal; returns the durable lsn.
    pub fn close(mut self) -> Result<u64, JournalError> {
        self.commit()
    }

    /// The lsn of the last appended record (0 if none).
    pub fn last_lsn(&self) -> u64 {
        self.last_lsn
    }

    /// The highest lsn known durable under the policy: every record up to it survives a
    /// power loss (under `Never`: every record up to it was written, nothing more).
    pub fn durable_lsn(&self) -> u64 {
        self.durable_lsn
    }

    /// Records appended but not yet committed (always 0 outside `Group`).
    pub fn pending_records(&self) -> usize {
        self.pending.count()
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &JournalConfig {
        &self.config
    }

    /// The segment file being appended to.
    pub fn active_segment(&self) -> &Path {
        &self.active.path
    }

    /// True once a write or sync has failed; every call then fails until reopened.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.is_some()
    }

    fn check_usable(&self) -> Result<(), JournalError> {
        match &self.poisoned {
            Some(cause) => Err(JournalError::Poisoned {
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Records the failure so every later call refuses, and returns it.
    fn poison(
        &mut self,
        op: &'static str,
        offset: u64,
        lsn: u64,
        source: std::io::Error,
    ) -> JournalError {
        let err = JournalError::Write {
            op,
            path: self.active.path.clone(),
            offset,
            lsn,
            source,
        };
        tracing::error!("{err}; the journal refuses further writes until reopened");
        self.poisoned = Some(err.to_string());
        err
    }

    /// Starts a new segment whose first record will be `first_lsn`. Under `Group` the old
    /// segment is synced first, so a record in a later segment implies every record in
    /// the earlier ones is on disk.
    fn roll(&mut self, first_lsn: u64) -> Result<(), JournalError> {
        if self.pending.count() > 0 {
            if let Err(source) = self.active.file.sync_data() {
                let (offset, lsn) = (self.active.len, self.last_lsn);
                return Err(self.poison("fdatasync", offset, lsn, source));
            }
            self.pending.clear();
            self.durable_lsn = self.last_lsn;
        }
        let sync = self.config.fsync != FsyncPolicy::Never;
        match create_segment(&self.config.dir, first_lsn, sync) {
            Ok(active) => {
                self.active = active;
                Ok(())
            }
            Err(err) => {
                tracing::error!("{err}; the journal refuses further writes until reopened");
                self.poisoned = Some(err.to_string());
                Err(err)
            }
        }
    }
}

/// Creates the journal directory if missing, syncing its parent so it stays.
fn ensure_dir(dir: &Path) -> Result<(), JournalError> {
    if dir.is_dir() {
        return Ok(());
    }
    let io = |op| {
        let path = dir.to_path_buf();
        move |source| JournalError::Io { op, path, source }
    };
    fs::create_dir_all(dir).map_err(io("create directory"))?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        segment::sync_dir(parent).map_err(io("sync parent directory of"))?;
    }
    Ok(())
}

/// Truncates the last segment at the tail's offset and syncs it; logs one warning.
fn cut_tail(tail: &super::scan::TailDamage, last_lsn: u64) -> Result<TailRepair, JournalError> {
    let fail = |op, source| JournalError::Write {
        op,
        path: tail.segment.clone(),
        offset: tail.offset,
        lsn: last_lsn,
        source,
    };
    let file = OpenOptions::new()
        .write(true)
        .open(&tail.segment)
        .map_err(|e| fail("open for truncate", e))?;
    file.set_len(tail.offset).map_err(|e| fail("truncate", e))?;
    file.sync_all()
        .map_err(|e| fail("fsync after truncate", e))?;
    let repair = TailRepair {
        segment: tail.segment.clone(),
        offset: tail.offset,
        bytes_cut: tail.bytes_after,
        reason: tail.damage.to_string(),
    };
    tracing::warn!(
        segment = %repair.segment.display(),
        offset = repair.offset,
        bytes_cut = repair.bytes_cut,
        last_good_lsn = last_lsn,
        "journal tail cut: {}",
        repair.reason
    );
    Ok(repair)
}

/// `fsync`s every segment, so what was read back is on disk before it is acted on.
fn sync_segments(scanned: &ScanReport) -> Result<(), JournalError> {
    for seg in &scanned.segments {
        let fail = |op, source| JournalError::Io {
            op,
            path: seg.path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .write(true)
            .open(&seg.path)
            .map_err(|e| fail("open to sync", e))?;
        file.sync_all().map_err(|e| fail("fsync", e))?;
    }
    Ok(())
}

/// Opens the last segment for appending at its end.
fn open_for_append(path: &Path, last_lsn: u64) -> Result<Active, JournalError> {
    let fail = |op, offset, source| JournalError::Write {
        op,
        path: path.to_path_buf(),
        offset,
        lsn: last_lsn,
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| fail("open for append", 0, e))?;
    let len = file
        .seek(SeekFrom::End(0))
        .map_err(|e| fail("seek to end", 0, e))?;
    Ok(Active {
        file,
        path: path.to_path_buf(),
        len,
    })
}

/// Creates a new, empty segment (refusing to overwrite one) and, if `sync`, syncs the
/// directory so the new file survives a power loss.
fn create_segment(dir: &Path, first_lsn: u64, sync: bool) -> Result<Active, JournalError> {
    let path = segment::path(dir, first_lsn);
    let fail = |op, path: &Path, source| JournalError::Write {
        op,
        path: path.to_path_buf(),
        offset: 0,
        lsn: first_lsn,
        source,
    };
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| fail("create segment", &path, e))?;
    if sync {
        segment::sync_dir(dir).map_err(|e| fail("sync directory", dir, e))?;
    }
    Ok(Active { file, path, len: 0 })
}
