//! The durable journal: an append-only, segmented, checksummed log of opaque byte
//! payloads. The gateway appends every inbound event before acting on it and replays
//! the journal after a crash; the journal itself knows nothing about what the bytes mean.
//!
//! # On-disk format
//!
//! A journal is a directory of *segment* files named `journal-<first_lsn:020>.log`
//! (`journal-00000000000000000001.log`, then e.g. `journal-00000000000000004711.log`):
//! the number is the lsn (log sequence number) of the segment's first record. A segment
//! has no file header; it is a sequence of records, each
//!
//! ```text
//! offset  size  field
//!      0     4  len     payload length in bytes, u32 little-endian
//!      4     4  crc32c  CRC32C (Castagnoli) over the 8 lsn bytes, then the payload
//!      8     8  lsn     u64 little-endian
//!     16   len  payload
//! ```
//!
//! Lsns are consecutive from 1 across the whole journal: the first record of each
//! segment follows the last of the previous one, which its file name repeats. A record
//! never spans two segments: a new segment starts when appending would make the current
//! one larger than [`JournalConfig::segment_bytes`] (a single record larger than that
//! gets a segment of its own). A payload larger than
//! [`JournalConfig::max_record_bytes`] is refused by `append`; on reading, any length up
//! to [`FORMAT_MAX_RECORD_BYTES`] is accepted, so lowering the setting never makes old
//! records unreadable.
//!
//! # Durability
//!
//! [`FsyncPolicy`] says when records reach the disk: after each record, by group commit
//! (the caller commits when [`Journal::commit_due`] says so; one `fdatasync` per group),
//! or never (tests and benchmarks only: loses data on power loss). A new segment is
//! created with `O_EXCL` and the directory is `fsync`ed; under group commit the previous
//! segment is synced before the next one starts, so damage can only ever be at the end
//! of the last segment. Any failed write or sync poisons the journal until it is
//! reopened ([`JournalError::Poisoned`]).
//!
//! # Recovery
//!
//! [`Journal::open`] reads every segment in order and verifies every record: length
//! within the format's limit, payload inside the file, checksum, lsn consecutive, and
//! segment names following on. Then:
//!
//! - A *torn tail*, a bad record in the **last** segment with no valid record anywhere
//!   after it (a write cut short by a crash, or garbage after the last record), is cut:
//!   the file is truncated at the bad record and synced, [`Recovered::tail_repair`]
//!   says where and why, and one `tracing` warning is logged.
//! - Anything else is refused with an error naming the file and byte offset, and nothing
//!   is changed: damage in an earlier segment ([`NotTail::EarlierSegment`]), damage in
//!   the last segment followed by a valid record ([`NotTail::ValidRecordFollows`]: the
//!   bad record is not the end of the log, so cutting would drop records that may have
//!   been durable), a valid record with the wrong lsn
//!   ([`JournalError::LsnOutOfOrder`]), a missing or out-of-place segment
//!   ([`JournalError::SegmentGap`]). An operator decides; `docs/journal.md` says how.
//!
//! Records come back all at once ([`Journal::open`]), one at a time as they are read
//! ([`Journal::open_with`]), or read-only without repairing anything
//! ([`Journal::replay`]).
//!
//! Not provided: deleting old segments after a checkpoint (the gateway replays the whole
//! journal; there is no engine snapshot to checkpoint against yet), and a lock against a
//! second writer on the same directory.

mod config;
mod error;
mod group;
mod record;
mod scan;
mod segment;
mod writer;

pub use config::{DEFAULT_MAX_RECORD_BYTES, DEFAULT_SEGMENT_BYTES, FsyncPolicy, JournalConfig};
pub use error::{Damage, JournalError, NotTail};
pub use record::{FORMAT_MAX_RECORD_BYTES, HEADER_LEN};
pub use scan::{ScanReport, SegmentSummary, TailDamage};
pub use segment::file_name as segment_file_name;
pub use writer::{Journal, OpenReport, Record, Recovered, TailRepair};

#[cfg(test)]
mod tests;
