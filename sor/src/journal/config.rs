//! What a journal is configured with: its directory, segment size, record size limit and
//! fsync policy, and the checks that keep those values sane.

use super::error::JournalError;
use super::record::{FORMAT_MAX_RECORD_BYTES, HEADER_LEN};
use std::path::PathBuf;
use std::time::Duration;

/// Default size at which a new segment starts: 64 MiB.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
/// Default largest payload `append` accepts: 1 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: u32 = 1024 * 1024;

/// When an appended record reaches the disk, which decides what `durable_lsn` promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// `append` returns only after the record is written and `fdatasync`ed: every
    /// appended record is durable when `append` returns. The safe default.
    EachRecord,
    /// Group commit: `append` writes the record to the operating system and returns; the
    /// caller calls `commit` (one `fdatasync` for the whole group) when
    /// [`super::Journal::commit_due`] says so, i.e. once the oldest uncommitted record has
    /// waited `max_delay` or `max_records` records are pending. Records not yet committed
    /// survive a crash of the process (they are in the page cache) but not a power loss.
    Group {
        /// Longest an appended record should wait for its `fdatasync`.
        max_delay: Duration,
        /// Number of pending records that makes a commit due at once (at least 1).
        max_records: usize,
    },
    /// Never `fdatasync`: records are handed to the operating system only. **Loses data
    /// on power loss** (and an earlier segment may then be torn, which `open` refuses):
    /// for tests and benchmarks only. `durable_lsn` then means "written", not "on disk".
    Never,
}

/// How to open a journal: where it lives and how it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalConfig {
    /// The directory holding the segment files; created if missing. One writer per
    /// directory: nothing stops a second process from opening it, so do not.
    pub dir: PathBuf,
    /// A new segment starts when appending a record would make the current one larger
    /// than this many bytes (a record never spans segments; a record larger than this
    /// gets a segment of its own). At least 16 (one header).
    pub segment_bytes: u64,
    /// The largest payload `append` accepts; a larger one is refused with
    /// [`JournalError::RecordTooLarge`] and the journal stays usable. Between 1 and
    /// [`FORMAT_MAX_RECORD_BYTES`].
    pub max_record_bytes: u32,
    /// When records reach the disk.
    pub fsync: FsyncPolicy,
}

impl JournalConfig {
    /// A configuration for `dir` with the defaults: 64 MiB segments, 1 MiB records,
    /// `fdatasync` after each record.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            fsync: FsyncPolicy::EachRecord,
        }
    }

    /// Checks every field against its rule; the error names the field and the rule.
    pub fn validate(&self) -> Result<(), JournalError> {
        let fail = |field: &'static str, rule: String| Err(JournalError::Config { field, rule });
        if self.dir.as_os_str().is_empty() {
            return fail("dir", "must not be empty".into());
        }
        if self.segment_bytes < HEADER_LEN as u64 {
            return fail(
                "segment_bytes",
                format!("must be at least {HEADER_LEN}, got {}", self.segment_bytes),
            );
        }
        if self.max_record_bytes == 0 || self.max_record_bytes > FORMAT_MAX_RECORD_BYTES {
            return fail(
                "max_record_bytes",
                format!(
                    "must be between 1 and {FORMAT_MAX_RECORD_BYTES}, got {}",
                    self.max_record_bytes
                ),
            );
        }
        if let FsyncPolicy::Group { max_records: 0, .. } = self.fsync {
            return fail("fsync.max_records", "must be at least 1, got 0".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(c: &JournalConfig) -> &'static str {
        match c.validate() {
            Err(JournalError::Config { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid_and_each_rule_names_its_field() {
        let ok = JournalConfig::new("/var/lib/sor/journal");
        assert!(ok.validate().is_ok());
        assert_eq!(ok.fsync, FsyncPolicy::EachRecord);

        let mut c = ok.clone();
        c.dir = PathBuf::new();
        assert_eq!(field_of(&c), "dir");
        let mut c = ok.clone();
        c.segment_bytes = 15;
        assert_eq!(field_of(&c), "segment_bytes");
        let mut c = ok.clone();
        c.max_record_bytes = 0;
        assert_eq!(field_of(&c), "max_record_bytes");
        let mut c = ok.clone();
        c.max_record_bytes = FORMAT_MAX_RECORD_BYTES + 1;
        assert_eq!(field_of(&c), "max_record_bytes");
        let mut c = ok;
        c.fsync = FsyncPolicy::Group {
            max_delay: Duration::from_micros(200),
            max_records: 0,
        };
        assert_eq!(field_of(&c), "fsync.max_records");
    }
}
