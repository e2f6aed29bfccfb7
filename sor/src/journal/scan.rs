//! Reading a journal back: every segment in lsn order, every record verified (length
//! within the format's limit, checksum, lsn consecutive), each good record handed to a
//! visitor as it is read, and the one kind of damage that may be cut (a torn tail)
//! told apart from damage that must stop everything. Read-only: cutting is `open`'s job.

use super::error::{Damage, JournalError, NotTail};
use super::record::{FORMAT_MAX_RECORD_BYTES, HEADER_LEN, Header, checksum};
use super::segment::{self, SegmentFile};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Bytes read from a segment at a time (a longer record is read whole).
const CHUNK: usize = 256 * 1024;

/// Most bytes checksummed while looking for a valid record after damage in the last
/// segment; past it the damage is refused instead of cut (see [`NotTail::ScanBound`]).
const RESYNC_BUDGET_BYTES: u64 = 256 * 1024 * 1024;

/// What reading a journal directory found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanReport {
    /// Every segment, in lsn order.
    pub segments: Vec<SegmentSummary>,
    /// The lsn of the last good record (0 for an empty journal).
    pub last_lsn: u64,
    /// Good records read.
    pub records: u64,
    /// A torn or corrupt tail at the end of the last segment, which `open` would cut.
    pub tail: Option<TailDamage>,
}

/// One segment as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentSummary {
    /// Its file.
    pub path: PathBuf,
    /// The lsn its name says it starts at.
    pub first_lsn: u64,
    /// Good records in it.
    pub records: u64,
    /// The file's length in bytes.
    pub bytes: u64,
}

/// Damage at the end of the last segment with no valid record after it: what a crash
/// in the middle of a write leaves, safe to cut because nothing after it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailDamage {
    /// The last segment's file.
    pub segment: PathBuf,
    /// Byte offset of the first bad record, where the file would be cut.
    pub offset: u64,
    /// Bytes from `offset` to the end of the file.
    pub bytes_after: u64,
    /// The lsn the bad record should have had.
    pub expected_lsn: u64,
    /// What is wrong with it.
    pub damage: Damage,
}

/// Reads every segment in `dir` in order, calls `visit(lsn, payload)` for each good
/// record, and reports what it found. Changes nothing on disk.
///
/// Damage is refused with an error naming the file and offset unless it is a torn tail
/// (reported in [`ScanReport::tail`]): a bad record in the last segment with no valid
/// record after it. On an error the records already visited must be discarded.
pub fn scan(dir: &Path, mut visit: impl FnMut(u64, &[u8])) -> Result<ScanReport, JournalError> {
    let segments = segment::list(dir)?;
    let mut report = ScanReport {
        segments: Vec::with_capacity(segments.len()),
        last_lsn: 0,
        records: 0,
        tail: None,
    };
    let mut expected = 1u64;
    for (i, seg) in segments.iter().enumerate() {
        if seg.first_lsn != expected {
            return Err(JournalError::SegmentGap {
                path: seg.path.clone(),
                first_lsn: seg.first_lsn,
                expected,
            });
        }
        let is_last = i + 1 == segments.len();
        let out = scan_segment(seg, is_last, &mut visit)?;
        report.segments.push(SegmentSummary {
            path: seg.path.clone(),
            first_lsn: seg.first_lsn,
            records: out.records,
            bytes: out.file_len,
        });
        report.records += out.records;
        expected = out.next_lsn;
        report.tail = out.tail;
    }
    report.last_lsn = expected - 1;
    Ok(report)
}

/// What one segment held.
struct SegmentOutcome {
    records: u64,
    file_len: u64,
    next_lsn: u64,
    tail: Option<TailDamage>,
}

/// Reads one segment; damage is an error unless `is_last` and nothing valid follows it.
fn scan_segment(
    seg: &SegmentFile,
    is_last: bool,
    visit: &mut impl FnMut(u64, &[u8]),
) -> Result<SegmentOutcome, JournalError> {
    let io = |op| {
        let path = seg.path.clone();
        move |source| JournalError::Io { op, path, source }
    };
    let file = File::open(&seg.path).map_err(io("open segment"))?;
    let file_len = file.metadata().map_err(io("stat segment"))?.len();
    let mut w = Window::new(&file, &seg.path, file_len);
    let mut pos = 0u64;
    let mut expected = seg.first_lsn;
    let mut records = 0u64;
    // Each turn either ends the loop or moves `pos` forward by at least a header, so it
    // runs at most file_len / 16 + 1 times.
    while pos < file_len {
        match check_at(&mut w, pos, expected)? {
            At::Good { lsn, len } => {
                visit(lsn, w.bytes(pos + HEADER_LEN as u64, len as usize)?);
                pos += HEADER_LEN as u64 + u64::from(len);
                records += 1;
                expected = lsn
                    .checked_add(1)
                    .ok_or(JournalError::LsnExhausted { last: lsn })?;
            }
            At::WrongLsn { found } => {
                return Err(JournalError::LsnOutOfOrder {
                    path: seg.path.clone(),
                    offset: pos,
                    found,
                    expected,
                });
            }
            At::Damaged(damage) => {
                let corrupt = |not_tail| JournalError::Corrupt {
                    path: seg.path.clone(),
                    offset: pos,
                    expected_lsn: expected,
                    damage: damage.clone(),
                    not_tail,
                };
                if !is_last {
                    return Err(corrupt(NotTail::EarlierSegment));
                }
                match find_valid_after(&mut w, pos + 1, expected)? {
                    Resync::Found { offset, lsn } => {
                        return Err(corrupt(NotTail::ValidRecordFollows { offset, lsn }));
                    }
                    Resync::GaveUp => return Err(corrupt(NotTail::ScanBound)),
                    Resync::Nothing => {}
                }
                let tail = TailDamage {
                    segment: seg.path.clone(),
                    offset: pos,
                    bytes_after: file_len - pos,
                    expected_lsn: expected,
                    damage,
                };
                return Ok(SegmentOutcome {
                    records,
                    file_len,
                    next_lsn: expected,
                    tail: Some(tail),
                });
            }
        }
    }
    Ok(SegmentOutcome {
        records,
        file_len,
        next_lsn: expected,
        tail: None,
    })
}

/// The verdict on the bytes at one position.
enum At {
    /// A valid record with the expected lsn.
    Good { lsn: u64, len: u32 },
    /// A valid checksum but another lsn.
    WrongLsn { found: u64 },
    /// Not a valid record.
    Damaged(Damage),
}

/// Checks the record at `pos`, which should carry lsn `expected`.
fn check_at(w: &mut Window<'_>, pos: u64, expected: u64) -> Result<At, JournalError> {
    let available = w.len - pos;
    if available < HEADER_LEN as u64 {
        return Ok(At::Damaged(Damage::TornHeader { available }));
    }
    let h = w.header(pos)?;
    if h.len > FORMAT_MAX_RECORD_BYTES {
        return Ok(At::Damaged(Damage::LengthTooLarge {
            len: h.len,
            limit: FORMAT_MAX_RECORD_BYTES,
        }));
    }
    let after_header = available - HEADER_LEN as u64;
    if after_header < u64::from(h.len) {
        return Ok(At::Damaged(Damage::TornPayload {
            len: h.len,
            available: after_header,
        }));
    }
    let computed = checksum(h.lsn, w.payload(pos, h.len)?);
    if computed != h.crc {
        return Ok(At::Damaged(Damage::CrcMismatch {
            stored: h.crc,
            computed,
        }));
    }
    if h.lsn != expected {
        return Ok(At::WrongLsn { found: h.lsn });
    }
    Ok(At::Good {
        lsn: h.lsn,
        len: h.len,
    })
}

/// Whether a valid record starts anywhere after damage.
enum Resync {
    Found { offset: u64, lsn: u64 },
    Nothing,
    GaveUp,
}

/// Looks at every byte position from `from` to the end of the segment for a record with
/// a valid checksum and a plausible lsn (at least `min_lsn`, at most one per 16 bytes
/// left). Checksumming stops after [`RESYNC_BUDGET_BYTES`].
fn find_valid_after(w: &mut Window<'_>, from: u64, min_lsn: u64) -> Result<Resync, JournalError> {
    let len = w.len;
    let max_lsn = min_lsn.saturating_add(len.saturating_sub(from) / HEADER_LEN as u64 + 1);
    let mut budget = RESYNC_BUDGET_BYTES;
    let mut p = from;
    // Bounded by the file's length: one step per byte.
    while p + HEADER_LEN as u64 <= len {
        let h = w.header(p)?;
        let fits =
            h.len <= FORMAT_MAX_RECORD_BYTES && len - p - HEADER_LEN as u64 >= u64::from(h.len);
        if fits && (min_lsn..=max_lsn).contains(&h.lsn) {
            let cost = HEADER_LEN as u64 + u64::from(h.len);
            if cost > budget {
                return Ok(Resync::GaveUp);
            }
            budget -= cost;
            if checksum(h.lsn, w.payload(p, h.len)?) == h.crc {
                return Ok(Resync::Found {
                    offset: p,
                    lsn: h.lsn,
                });
            }
        }
        p += 1;
    }
    Ok(Resync::Nothing)
}

/// A bounded read-ahead window over one segment file, so records are read in large
/// chunks and positions can be revisited (the search after damage steps byte by byte).
struct Window<'a> {
    file: &'a File,
    path: &'a Path,
    len: u64,
    base: u64,
    buf: Vec<u8>,
}

impl<'a> Window<'a> {
    fn new(file: &'a File, path: &'a Path, len: u64) -> Self {
        Self {
            file,
            path,
            len,
            base: 0,
            buf: Vec::new(),
        }
    }

    /// The `n` bytes at `pos`; the caller has checked that they lie within the file.
    fn bytes(&mut self, pos: u64, n: usize) -> Result<&[u8], JournalError> {
        let end = pos + n as u64;
        if pos < self.base || end > self.base + self.buf.len() as u64 {
            let want = (n.max(CHUNK) as u64).min(self.len - pos) as usize;
            self.buf.resize(want, 0);
            let mut f = self.file;
            f.seek(SeekFrom::Start(pos))
                .and_then(|_| f.read_exact(&mut self.buf))
                .map_err(|source| JournalError::Read {
                    path: self.path.to_path_buf(),
                    offset: pos,
                    source,
                })?;
            self.base = pos;
        }
        let start = (pos - self.base) as usize;
        Ok(&self.buf[start..start + n])
    }

    /// The header at `pos` (16 bytes must remain).
    fn header(&mut self, pos: u64) -> Result<Header, JournalError> {
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(self.bytes(pos, HEADER_LEN)?);
        Ok(Header::decode(&h))
    }

    /// The payload of the record at `pos` whose length is `len` (which must fit).
    fn payload(&mut self, pos: u64, len: u32) -> Result<&[u8], JournalError> {
        let whole = self.bytes(pos, HEADER_LEN + len as usize)?;
        Ok(&whole[HEADER_LEN..])
    }
}
