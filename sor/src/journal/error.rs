//! What can go wrong with a journal: bad configuration, I/O failures (with the file,
//! offset and lsn involved), damaged records that cannot be cut safely, and a journal
//! made unusable by an earlier write or sync failure.

use std::io;
use std::path::PathBuf;

/// Why a journal operation failed. Every variant that involves a file names it; damage
/// names the byte offset within the segment file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A configuration field breaks its rule.
    #[error("journal config: {field} {rule}")]
    Config {
        /// The field, e.g. `segment_bytes`.
        field: &'static str,
        /// The rule it breaks, with the value given.
        rule: String,
    },
    /// An I/O failure on the directory or opening a file.
    #[error("journal: {op} {}: {source}", .path.display())]
    Io {
        /// What was being done, e.g. `create directory`.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// Reading a segment failed.
    #[error("journal: read {} at offset {offset}: {source}", .path.display())]
    Read {
        /// The segment file.
        path: PathBuf,
        /// Where the read started.
        offset: u64,
        /// The operating system's error.
        source: io::Error,
    },
    /// Writing, syncing or truncating a segment failed. After this the journal refuses
    /// every further call with [`JournalError::Poisoned`] until it is reopened.
    #[error("journal: {op} {} at offset {offset} (lsn {lsn}): {source}", .path.display())]
    Write {
        /// `write`, `fdatasync`, `truncate`, `create segment`, `sync directory` ...
        op: &'static str,
        /// The segment file (or the directory for `sync directory`).
        path: PathBuf,
        /// The segment's length when the operation started.
        offset: u64,
        /// The lsn being appended, or the last lsn for a commit.
        lsn: u64,
        /// The operating system's error.
        source: io::Error,
    },
    /// A segment file's name matches `journal-<20 digits>.log` but the digits are not a
    /// valid first lsn.
    #[error("journal: segment file name {} does not hold a valid lsn", .path.display())]
    SegmentName {
        /// The file.
        path: PathBuf,
    },
    /// Segments do not follow on from each other (one missing, renamed, or emptied), or
    /// the first does not start at lsn 1.
    #[error(
        "journal: segment {} starts at lsn {first_lsn} but lsn {expected} was expected \
         (a segment is missing, empty or out of place); nothing was changed",
        .path.display()
    )]
    SegmentGap {
        /// The segment that does not follow on.
        path: PathBuf,
        /// The lsn its name says it starts at.
        first_lsn: u64,
        /// The lsn that should come next.
        expected: u64,
    },
    /// A damaged record that is not a torn tail, so cutting it could drop durable
    /// records: it is in an earlier segment, or a valid record follows it.
    #[error(
        "journal: corrupt record in {} at offset {offset} (lsn {expected_lsn} expected): \
         {damage}; not cut because {not_tail}; nothing was changed",
        .path.display()
    )]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the damaged record's header in that file.
        offset: u64,
        /// The lsn the record should have had.
        expected_lsn: u64,
        /// What is wrong with it.
        damage: Damage,
        /// Why it is not treated as a torn tail.
        not_tail: NotTail,
    },
    /// A record with a valid checksum carries the wrong lsn: records were lost, repeated
    /// or reordered. Never a torn write, so never cut.
    #[error(
        "journal: record in {} at offset {offset} has a valid checksum but lsn {found}, \
         lsn {expected} was expected; nothing was changed",
        .path.display()
    )]
    LsnOutOfOrder {
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the record's header.
        offset: u64,
        /// The lsn stored in it.
        found: u64,
        /// The lsn that should come next.
        expected: u64,
    },
    /// `append` was given a payload larger than `max_record_bytes`; nothing was written
    /// and the journal stays usable.
    #[error("journal: record of {len} bytes exceeds max_record_bytes ({max})")]
    RecordTooLarge {
        /// The payload's length.
        len: usize,
        /// The configured limit.
        max: u32,
    },
    /// The lsn counter would overflow `u64`.
    #[error("journal: no lsn after {last}")]
    LsnExhausted {
        /// The last lsn used.
        last: u64,
    },
    /// An earlier write or sync failed, so what is on disk is unknown (after a failed
    /// `fdatasync` the kernel may have dropped the dirty pages and a retry can falsely
    /// succeed). Reopen the journal: `open` verifies the files and cuts a torn tail.
    #[error("journal: unusable after an earlier failure, reopen it: {cause}")]
    Poisoned {
        /// The first failure, as text.
        cause: String,
    },
}

/// What is wrong with the bytes at one record position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Damage {
    /// Fewer than 16 bytes remain: a header cut short.
    #[error("torn header ({available} of 16 bytes)")]
    TornHeader {
        /// Bytes left in the file.
        available: u64,
    },
    /// The length field is larger than the format allows.
    #[error("length {len} exceeds the format's limit of {limit} bytes")]
    LengthTooLarge {
        /// The stored length.
        len: u32,
        /// [`super::FORMAT_MAX_RECORD_BYTES`].
        limit: u32,
    },
    /// The payload runs past the end of the file.
    #[error("torn payload (length {len}, {available} bytes follow the header)")]
    TornPayload {
        /// The stored length.
        len: u32,
        /// Bytes after the header.
        available: u64,
    },
    /// The checksum does not match the lsn and payload.
    #[error("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    CrcMismatch {
        /// The stored checksum.
        stored: u32,
        /// The checksum of what is there.
        computed: u32,
    },
}

/// Why damage found on open is refused rather than cut as a torn tail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotTail {
    /// The damage is in a segment before the last; everything there was synced before
    /// the next segment was started.
    #[error("it is not in the last segment")]
    EarlierSegment,
    /// A record with a valid checksum and a later lsn follows the damage in the same
    /// segment, so the damage is not the end of the log.
    #[error("a valid record (lsn {lsn}) follows at offset {offset}")]
    ValidRecordFollows {
        /// Byte offset of that record's header.
        offset: u64,
        /// Its lsn.
        lsn: u64,
    },
    /// The search for a valid record after the damage hit its work bound before the end
    /// of the segment; refusing is the safe answer.
    #[error("the rest of the segment could not be checked within the scan bound")]
    ScanBound,
}
