//! Journal behaviour over real files: round trips across segments, torn and corrupt
//! tails, damage that must be refused, fsync policies, oversize records, poisoning after
//! an I/O failure, and a property test of crash recovery at a random byte.

use super::record::encode_into;
use super::*;
use proptest::prelude::*;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("sor-journal-test-{}-{tag}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn config(dir: &Path, segment_bytes: u64, fsync: FsyncPolicy) -> JournalConfig {
    JournalConfig {
        segment_bytes,
        fsync,
        ..JournalConfig::new(dir)
    }
}

/// Payload number `i`: varied lengths (including empty), distinct contents.
fn payload(i: usize) -> Vec<u8> {
    let mut p = format!("event {i};").into_bytes();
    p.resize((i * 37) % 90, b'a' + (i % 26) as u8);
    p
}

/// The segment files in `dir`, sorted by name (= by first lsn).
fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("journal-") && name.ends_with(".log")
        })
        .collect();
    v.sort();
    v
}

fn file_len(p: &Path) -> u64 {
    fs::metadata(p).unwrap().len()
}

fn truncate(p: &Path, len: u64) {
    OpenOptions::new()
        .write(true)
        .open(p)
        .unwrap()
        .set_len(len)
        .unwrap();
}

fn flip_bit(p: &Path, offset: u64) {
    let mut bytes = fs::read(p).unwrap();
    bytes[offset as usize] ^= 0x10;
    fs::write(p, bytes).unwrap();
}

/// Every file in `dir` with its contents, to prove nothing was changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    segments(dir)
        .into_iter()
        .map(|p| {
            let bytes = fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for p in segments(from) {
        fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

/// Writes payloads `0..n` with `fsync`, closes, returns the payloads.
fn write_journal(cfg: &JournalConfig, n: usize) -> Vec<Vec<u8>> {
    let (mut j, rec) = Journal::open(cfg.clone()).unwrap();
    assert_eq!(rec.last_lsn, 0);
    let payloads: Vec<Vec<u8>> = (0..n).map(payload).collect();
    for (i, p) in payloads.iter().enumerate() {
        assert_eq!(j.append(p).unwrap(), i as u64 + 1);
    }
    j.close().unwrap();
    payloads
}

fn records_of(payloads: &[Vec<u8>]) -> Vec<Record> {
    payloads
        .iter()
        .enumerate()
        .map(|(i, p)| Record {
            lsn: i as u64 + 1,
            payload: p.clone(),
        })
        .collect()
}

#[test]
fn empty_directory_is_created_with_a_first_segment() {
    let tmp = TempDir::new("empty");
    let dir = tmp.path().join("nested").join("journal");
    let (j, rec) = Journal::open(JournalConfig::new(&dir)).unwrap();
    assert!(rec.records.is_empty());
    assert_eq!((rec.last_lsn, rec.tail_repair.clone()), (0, None));
    assert_eq!((j.last_lsn(), j.durable_lsn()), (0, 0));
    assert_eq!(
        segments(&dir),
        vec![dir.join("journal-00000000000000000001.log")]
    );
}

#[test]
fn round_trip_across_segments_then_reopen_continues_the_lsns() {
    let tmp = TempDir::new("roundtrip");
    let cfg = config(tmp.path(), 256, FsyncPolicy::EachRecord);
    let payloads = write_journal(&cfg, 60);

    let segs = segments(tmp.path());
    assert!(segs.len() >= 4, "256-byte segments hold a few records each");
    for s in &segs {
        assert!(file_len(s) <= 256, "{} exceeds segment_bytes", s.display());
    }
    // Each file is named after its first record's lsn, and lsns run on across files.
    let report = Journal::replay(tmp.path(), |_, _| {}).unwrap();
    let mut next = 1;
    for s in &report.segments {
        assert_eq!(s.first_lsn, next);
        assert_eq!(
            s.path.file_name().unwrap().to_string_lossy(),
            segment_file_name(next)
        );
        next += s.records;
    }
    assert_eq!(
        (report.last_lsn, report.records, report.tail.clone()),
        (60, 60, None)
    );

    let (mut j, rec) = Journal::open(cfg.clone()).unwrap();
    assert_eq!(rec.records, records_of(&payloads));
    assert_eq!((rec.last_lsn, rec.tail_repair.clone()), (60, None));
    assert_eq!(j.durable_lsn(), 60);
    assert_eq!(j.append(b"after reopen").unwrap(), 61);
    j.close().unwrap();

    let (_, rec) = Journal::open(cfg).unwrap();
    assert_eq!(rec.records.len(), 61);
    assert_eq!(rec.records[60].payload, b"after reopen");
    assert_eq!(rec.records[60].lsn, 61);
}

#[test]
fn a_tail_torn_at_every_byte_of_the_last_record_is_cut_to_the_previous_record() {
    let tmp = TempDir::new("torn");
    let template = tmp.path().join("template");
    let cfg = config(&template, 300, FsyncPolicy::Never);
    let mut payloads = write_journal(&cfg, 12);
    // The last record: 30 bytes of payload, appended to the last segment.
    let last = segments(&template).pop().unwrap();
    let start = file_len(&last);
    let (mut j, _) = Journal::open(cfg).unwrap();
    let last_payload = vec![0x5a; 30];
    assert_eq!(j.append(&last_payload).unwrap(), 13);
    j.close().unwrap();
    assert_eq!(
        segments(&template).pop().unwrap(),
        last,
        "still in the same segment"
    );
    let end = file_len(&last);
    assert_eq!(end - start, 16 + 30);
    assert!(start > 0, "the last segment holds an earlier record too");

    for cut in start..end {
        let dir = tmp.path().join(format!("cut-{cut}"));
        copy_dir(&template, &dir);
        let seg = dir.join(last.file_name().unwrap());
        truncate(&seg, cut);
        let cfg = config(&dir, 300, FsyncPolicy::EachRecord);
        let (mut j, rec) = Journal::open(cfg.clone()).unwrap();
        assert_eq!(rec.records, records_of(&payloads), "cut at {cut}");
        assert_eq!(rec.last_lsn, 12);
        if cut == start {
            assert_eq!(
                rec.tail_repair, None,
                "a cut on a record boundary loses no bytes"
            );
        } else {
            let repair = rec.tail_repair.clone().unwrap();
            assert_eq!(repair.segment, seg);
            assert_eq!(
                repair.offset, start,
                "cut to the end of the previous record"
            );
            assert_eq!(repair.bytes_cut, cut - start);
            assert!(repair.reason.contains("torn"), "{}", repair.reason);
        }
        assert_eq!(file_len(&seg), start, "the file was truncated");
        // New records after the repair, then a clean reopen sees old + new exactly.
        assert_eq!(j.append(b"new 13").unwrap(), 13);
        assert_eq!(j.append(b"new 14").unwrap(), 14);
        drop(j);
        let (_, again) = Journal::open(cfg).unwrap();
        let mut want = payloads.clone();
        want.push(b"new 13".to_vec());
        want.push(b"new 14".to_vec());
        assert_eq!(again.records, records_of(&want));
        assert_eq!(again.tail_repair, None);
        fs::remove_dir_all(&dir).unwrap();
    }
    payloads.push(last_payload);
    let (_, intact) = Journal::open(config(&template, 300, FsyncPolicy::Never)).unwrap();
    assert_eq!(intact.records, records_of(&payloads));
}

#[test]
fn garbage_after_the_last_record_is_cut_and_reported() {
    let noise: Vec<u8> = (0..100u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for (name, garbage) in [
        ("zeros", vec![0u8; 100]),
        ("ones", vec![0xff; 100]),
        ("noise", noise),
        ("short", vec![1, 2, 3]),
    ] {
        let tmp = TempDir::new(name);
        let cfg = config(tmp.path(), 4096, FsyncPolicy::EachRecord);
        let payloads = write_journal(&cfg, 5);
        let seg = segments(tmp.path()).pop().unwrap();
        let good = file_len(&seg);
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        std::io::Write::write_all(&mut f, &garbage).unwrap();
        drop(f);

        let (_, rec) = Journal::open(cfg).unwrap();
        assert_eq!(rec.records, records_of(&payloads), "{name}");
        let repair = rec.tail_repair.unwrap();
        assert_eq!(
            (repair.offset, repair.bytes_cut),
            (good, garbage.len() as u64),
            "{name}"
        );
        assert_eq!(file_len(&seg), good, "{name}");
    }
}

#[test]
fn a_flipped_bit_in_the_last_record_fails_its_checksum_and_is_cut() {
    // One bit in the payload, then one in the lsn (the checksum covers both).
    for field_offset in [16 + 3, 8] {
        let tmp = TempDir::new("flip-last");
        let cfg = config(tmp.path(), 4096, FsyncPolicy::EachRecord);
        let payloads = write_journal(&cfg, 8);
        let seg = segments(tmp.path()).pop().unwrap();
        let end = file_len(&seg);
        let last_start = end - 16 - payloads[7].len() as u64;
        flip_bit(&seg, last_start + field_offset);

        let (mut j, rec) = Journal::open(cfg.clone()).unwrap();
        assert_eq!(rec.records, records_of(&payloads[..7]));
        let repair = rec.tail_repair.unwrap();
        assert_eq!(
            (repair.offset, repair.bytes_cut),
            (last_start, end - last_start)
        );
        assert!(
            repair.reason.contains("checksum mismatch"),
            "{}",
            repair.reason
        );
        assert_eq!(j.append(b"replacement").unwrap(), 8);
        drop(j);
        let (_, again) = Journal::open(cfg).unwrap();
        assert_eq!(again.records.len(), 8);
        assert_eq!(again.records[7].payload, b"replacement");
    }
}

#[test]
fn a_bad_record_followed_by_a_good_one_in_the_last_segment_is_refused() {
    let tmp = TempDir::new("flip-middle");
    let cfg = config(tmp.path(), 1 << 20, FsyncPolicy::EachRecord);
    let payloads = write_journal(&cfg, 6);
    let seg = segments(tmp.path()).pop().unwrap();
    // Record 3 (lsn 3) starts after records 1 and 2.
    let offset: u64 = payloads[..2].iter().map(|p| 16 + p.len() as u64).sum();
    flip_bit(&seg, offset + 16 + 1);
    let before = snapshot(tmp.path());

    let err = Journal::open(cfg).unwrap_err();
    match &err {
        JournalError::Corrupt {
            path,
            offset: at,
            expected_lsn,
            damage: Damage::CrcMismatch { .. },
            not_tail: NotTail::ValidRecordFollows { lsn, .. },
        } => {
            assert_eq!((path, *at, *expected_lsn, *lsn), (&seg, offset, 3, 4));
        }
        other => panic!("expected a refused corruption, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains(&seg.display().to_string()), "{text}");
    assert!(text.contains(&format!("offset {offset}")), "{text}");
    assert_eq!(snapshot(tmp.path()), before, "nothing was truncated");
}

#[test]
fn damage_in_an_earlier_segment_is_an_error_naming_file_and_offset() {
    let tmp = TempDir::new("earlier");
    let cfg = config(tmp.path(), 200, FsyncPolicy::EachRecord);
    let payloads = write_journal(&cfg, 30);
    let segs = segments(tmp.path());
    assert!(segs.len() >= 3);

    // A flipped bit in the second record of the first segment.
    let second = 16 + payloads[0].len() as u64;
    flip_bit(&segs[0], second + 16);
    let before = snapshot(tmp.path());
    let err = Journal::open(cfg.clone()).unwrap_err();
    match &err {
        JournalError::Corrupt {
            path,
            offset,
            expected_lsn: 2,
            not_tail: NotTail::EarlierSegment,
            ..
        } => assert_eq!((path, *offset), (&segs[0], second)),
        other => panic!("expected corruption in the first segment, got {other:?}"),
    }
    assert!(err.to_string().contains(&format!("offset {second}")));
    assert_eq!(snapshot(tmp.path()), before, "nothing was truncated");
    flip_bit(&segs[0], second + 16); // undo

    // A torn end of the second segment is not a tail either: later segments exist.
    let len1 = file_len(&segs[1]);
    truncate(&segs[1], len1 - 1);
    let before = snapshot(tmp.path());
    match Journal::open(cfg).unwrap_err() {
        JournalError::Corrupt {
            path,
            damage: Damage::TornPayload { .. } | Damage::TornHeader { .. },
            not_tail: NotTail::EarlierSegment,
            ..
        } => assert_eq!(path, segs[1]),
        other => panic!("expected a torn earlier segment to be refused, got {other:?}"),
    }
    assert_eq!(snapshot(tmp.path()), before);
}

#[test]
fn a_missing_segment_is_an_error_naming_the_one_that_does_not_follow_on() {
    let tmp = TempDir::new("gap");
    let cfg = config(tmp.path(), 200, FsyncPolicy::Never);
    write_journal(&cfg, 30);
    let segs = segments(tmp.path());
    fs::remove_file(&segs[1]).unwrap();
    match Journal::open(cfg.clone()).unwrap_err() {
        JournalError::SegmentGap { path, expected, .. } => {
            assert_eq!(path, segs[2]);
            assert!(expected > 1);
        }
        other => panic!("expected a gap, got {other:?}"),
    }
    fs::remove_file(&segs[0]).unwrap();
    match Journal::open(cfg).unwrap_err() {
        JournalError::SegmentGap {
            path, expected: 1, ..
        } => assert_eq!(path, segs[2]),
        other => panic!("expected a missing first segment, got {other:?}"),
    }
}

#[test]
fn a_valid_record_with_the_wrong_lsn_is_refused_not_cut() {
    let tmp = TempDir::new("lsn");
    let cfg = config(tmp.path(), 4096, FsyncPolicy::EachRecord);
    write_journal(&cfg, 4);
    let seg = segments(tmp.path()).pop().unwrap();
    let at = file_len(&seg);
    let mut rec = Vec::new();
    encode_into(&mut rec, 9, 3, b"odd");
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    std::io::Write::write_all(&mut f, &rec).unwrap();
    drop(f);
    match Journal::open(cfg).unwrap_err() {
        JournalError::LsnOutOfOrder {
            path,
            offset,
            found: 9,
            expected: 5,
        } => assert_eq!((path, offset), (seg.clone(), at)),
        other => panic!("expected an lsn error, got {other:?}"),
    }
    assert_eq!(file_len(&seg), at + rec.len() as u64, "nothing was cut");
}

#[test]
fn an_oversize_record_is_refused_and_the_journal_stays_usable() {
    let tmp = TempDir::new("oversize");
    let mut cfg = config(tmp.path(), 4096, FsyncPolicy::EachRecord);
    cfg.max_record_bytes = 64;
    let (mut j, _) = Journal::open(cfg.clone()).unwrap();
    assert_eq!(j.append(&[1; 64]).unwrap(), 1);
    match j.append(&[2; 65]).unwrap_err() {
        JournalError::RecordTooLarge { len: 65, max: 64 } => {}
        other => panic!("expected RecordTooLarge, got {other:?}"),
    }
    assert!(!j.is_poisoned());
    assert_eq!(
        j.append(&[3; 10]).unwrap(),
        2,
        "the refused record took no lsn"
    );
    drop(j);
    let (_, rec) = Journal::open(cfg.clone()).unwrap();
    assert_eq!(rec.records.len(), 2);
    assert_eq!(rec.records[1].payload, vec![3; 10]);
    assert_eq!(file_len(&segments(tmp.path())[0]), 16 + 64 + 16 + 10);

    // Lowering the limit later does not make the 64-byte record unreadable.
    cfg.max_record_bytes = 16;
    let (_, rec) = Journal::open(cfg).unwrap();
    assert_eq!((rec.records.len(), rec.tail_repair), (2, None));
}

#[test]
fn a_record_larger_than_a_segment_gets_a_segment_of_its_own() {
    let tmp = TempDir::new("big");
    let cfg = config(tmp.path(), 64, FsyncPolicy::EachRecord);
    let (mut j, _) = Journal::open(cfg.clone()).unwrap();
    j.append(b"small").unwrap();
    j.append(&[7; 200]).unwrap();
    j.append(b"small again").unwrap();
    drop(j);
    let lens: Vec<u64> = segments(tmp.path()).iter().map(|p| file_len(p)).collect();
    assert_eq!(lens, vec![16 + 5, 16 + 200, 16 + 11]);
    let (_, rec) = Journal::open(cfg).unwrap();
    assert_eq!(rec.records.len(), 3);
}

#[test]
fn group_commit_is_due_by_age_or_count_and_commit_makes_records_durable() {
    let tmp = TempDir::new("group");
    let hour = Duration::from_secs(3600);
    let cfg = config(
        tmp.path(),
        1 << 20,
        FsyncPolicy::Group {
            max_delay: hour,
            max_records: 3,
        },
    );
    let (mut j, _) = Journal::open(cfg).unwrap();
    assert!(!j.commit_due(Instant::now() + 2 * hour), "nothing pending");
    assert_eq!(j.commit_deadline(), None);

    j.append(b"one").unwrap();
    let after_first = Instant::now();
    j.append(b"two").unwrap();
    assert_eq!(
        (j.last_lsn(), j.durable_lsn(), j.pending_records()),
        (2, 0, 2)
    );
    assert!(
        !j.commit_due(after_first),
        "neither an hour nor 3 records yet"
    );
    assert!(
        j.commit_due(after_first + hour),
        "the oldest record has waited max_delay"
    );
    let deadline = j.commit_deadline().unwrap();
    assert!(deadline <= after_first + hour && deadline + hour > after_first);
    assert_eq!(j.commit_if_due(after_first).unwrap(), None);

    j.append(b"three").unwrap();
    assert!(
        j.commit_due(after_first),
        "max_records pending makes it due at once"
    );
    assert_eq!(j.commit_if_due(after_first).unwrap(), Some(3));
    assert_eq!((j.durable_lsn(), j.pending_records()), (3, 0));
    assert!(!j.commit_due(after_first + 2 * hour));
    assert_eq!(
        j.commit().unwrap(),
        3,
        "a commit with nothing pending is a no-op"
    );
}

#[test]
fn group_commit_syncs_the_old_segment_when_a_new_one_starts() {
    let tmp = TempDir::new("group-roll");
    let cfg = config(
        tmp.path(),
        100,
        FsyncPolicy::Group {
            max_delay: Duration::from_secs(3600),
            max_records: 1000,
        },
    );
    let (mut j, _) = Journal::open(cfg).unwrap();
    for _ in 0..3 {
        j.append(&[1; 20]).unwrap(); // 36 bytes: two fit in 100
    }
    assert_eq!(segments(tmp.path()).len(), 2);
    assert_eq!(
        j.durable_lsn(),
        2,
        "the first segment was synced before the second"
    );
    assert_eq!(j.pending_records(), 1);
    assert_eq!(j.close().unwrap(), 3);
}

#[test]
fn each_record_and_never_policies_report_what_they_promise() {
    let tmp = TempDir::new("policies");
    let (mut j, _) = Journal::open(config(tmp.path(), 4096, FsyncPolicy::EachRecord)).unwrap();
    j.append(b"x").unwrap();
    assert_eq!((j.durable_lsn(), j.pending_records()), (1, 0));
    assert!(!j.commit_due(Instant::now() + Duration::from_secs(3600)));
    assert_eq!(j.commit_deadline(), None);
    drop(j);

    let (mut j, _) = Journal::open(config(tmp.path(), 4096, FsyncPolicy::Never)).unwrap();
    assert_eq!(j.append(b"y").unwrap(), 2);
    assert_eq!(j.durable_lsn(), 2, "under Never, durable means written");
    assert!(!j.commit_due(Instant::now() + Duration::from_secs(3600)));
}

#[test]
fn an_empty_last_segment_left_by_a_crash_during_rollover_is_reused() {
    let tmp = TempDir::new("empty-last");
    let cfg = config(tmp.path(), 4096, FsyncPolicy::EachRecord);
    write_journal(&cfg, 3);
    let empty = tmp.path().join(segment_file_name(4));
    fs::write(&empty, b"").unwrap();
    fs::write(
        tmp.path().join("notes.txt"),
        b"operators' notes are ignored",
    )
    .unwrap();
    let (mut j, rec) = Journal::open(cfg.clone()).unwrap();
    assert_eq!((rec.last_lsn, rec.tail_repair), (3, None));
    assert_eq!(j.active_segment(), empty.as_path());
    assert_eq!(j.append(b"four").unwrap(), 4);
    drop(j);
    assert_eq!(file_len(&empty), 16 + 4);
    assert_eq!(Journal::open(cfg).unwrap().1.records.len(), 4);
}

#[test]
fn replay_streams_records_and_reports_a_torn_tail_without_changing_anything() {
    let tmp = TempDir::new("replay");
    let cfg = config(tmp.path(), 256, FsyncPolicy::Never);
    let payloads = write_journal(&cfg, 20);
    let seg = segments(tmp.path()).pop().unwrap();
    let len = file_len(&seg);
    truncate(&seg, len - 3);
    let before = snapshot(tmp.path());

    let mut seen = Vec::new();
    let report = Journal::replay(tmp.path(), |lsn, p| seen.push((lsn, p.to_vec()))).unwrap();
    let want: Vec<(u64, Vec<u8>)> = records_of(&payloads[..19])
        .into_iter()
        .map(|r| (r.lsn, r.payload))
        .collect();
    assert_eq!(seen, want);
    let tail = report.tail.unwrap();
    assert_eq!((tail.segment, tail.expected_lsn), (seg.clone(), 20));
    assert_eq!(tail.offset + tail.bytes_after, len - 3);
    assert_eq!(snapshot(tmp.path()), before, "replay is read-only");

    // open_with streams the same records and then cuts.
    let mut count = 0;
    let (_, report) = Journal::open_with(cfg, |_, _| count += 1).unwrap();
    assert_eq!((count, report.records, report.last_lsn), (19, 19, 19));
    assert_eq!(report.tail_repair.unwrap().offset, tail.offset);
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_poisons_the_journal_until_it_is_reopened() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        return; // no device that fails writes on this machine
    }
    let tmp = TempDir::new("poison");
    fs::create_dir_all(tmp.path()).unwrap();
    // A segment that is really /dev/full: reads as empty, every write fails (ENOSPC).
    std::os::unix::fs::symlink(full, tmp.path().join(segment_file_name(1))).unwrap();
    let (mut j, rec) = Journal::open(config(tmp.path(), 4096, FsyncPolicy::Never)).unwrap();
    assert_eq!(rec.last_lsn, 0);
    match j.append(b"lost").unwrap_err() {
        JournalError::Write {
            op: "write",
            lsn: 1,
            ..
        } => {}
        other => panic!("expected a write failure, got {other:?}"),
    }
    assert!(j.is_poisoned());
    for err in [j.append(b"again").unwrap_err(), j.commit().unwrap_err()] {
        match err {
            JournalError::Poisoned { cause } => assert!(cause.contains("write"), "{cause}"),
            other => panic!("expected Poisoned, got {other:?}"),
        }
    }
    assert_eq!(j.last_lsn(), 0, "the failed record took no lsn");
}

/// Cuts the journal's byte stream (the segments concatenated in order) at `at`, as a
/// crash would leave it: the segment holding `at` is truncated there and later segments
/// are removed (or, with `keep_empty`, a segment starting exactly at `at` stays empty).
fn crash_at(dir: &Path, at: u64, keep_empty: bool) {
    let mut start = 0u64;
    let mut cut = false;
    for seg in segments(dir) {
        let len = file_len(&seg);
        if cut {
            fs::remove_file(&seg).unwrap();
        } else if at >= start + len {
            start += len; // wholly before the crash point: kept
        } else if at > start {
            truncate(&seg, at - start);
            cut = true;
        } else {
            if keep_empty {
                truncate(&seg, 0);
            } else {
                fs::remove_file(&seg).unwrap();
            }
            cut = true;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Random payloads under group commit, a commit somewhere, then a crash at a random
    /// byte at or after the committed records: reopening gives exactly the records wholly
    /// before the crash point (a prefix, never less than what was committed), and
    /// appending then reopening gives that prefix plus the new records.
    #[test]
    fn recovery_after_a_crash_at_any_byte_is_an_exact_prefix(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 1..25),
        segment_bytes in 40u64..400,
        commit_frac in 0.0f64..=1.0,
        cut_frac in 0.0f64..=1.0,
        keep_empty in any::<bool>(),
    ) {
        let tmp = TempDir::new("prop");
        let group = FsyncPolicy::Group { max_delay: Duration::from_secs(3600), max_records: 1000 };
        let cfg = config(tmp.path(), segment_bytes, group);
        let committed = (commit_frac * payloads.len() as f64) as usize;
        let (mut j, _) = Journal::open(cfg.clone()).unwrap();
        for (i, p) in payloads.iter().enumerate() {
            if i == committed {
                j.commit().unwrap();
            }
            prop_assert_eq!(j.append(p).unwrap(), i as u64 + 1);
        }
        prop_assert!(j.durable_lsn() >= committed as u64);
        drop(j); // a crash: no commit of what is pending

        let ends: Vec<u64> = payloads
            .iter()
            .scan(0u64, |acc, p| { *acc += 16 + p.len() as u64; Some(*acc) })
            .collect();
        let total = *ends.last().unwrap();
        let durable_end = if committed == 0 { 0 } else { ends[committed - 1] };
        let at = durable_end + ((total - durable_end) as f64 * cut_frac) as u64;
        crash_at(tmp.path(), at, keep_empty);

        let survivors = ends.iter().take_while(|&&e| e <= at).count();
        let (mut j, rec) = Journal::open(cfg.clone()).unwrap();
        prop_assert!(survivors >= committed);
        prop_assert_eq!(&rec.records, &records_of(&payloads[..survivors]));
        prop_assert_eq!(rec.last_lsn, survivors as u64);
        let on_boundary = at == 0 || ends.contains(&at);
        prop_assert_eq!(rec.tail_repair.is_some(), !on_boundary);

        prop_assert_eq!(j.append(b"after crash").unwrap(), survivors as u64 + 1);
        j.close().unwrap();
        let (_, again) = Journal::open(cfg).unwrap();
        let mut want = payloads[..survivors].to_vec();
        want.push(b"after crash".to_vec());
        prop_assert_eq!(again.records, records_of(&want));
        prop_assert_eq!(again.tail_repair, None);
    }
}
