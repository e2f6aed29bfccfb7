//! The durable journal (`sor::journal`): appending a 200-byte record with no fsync
//! (`Never`: the cost of framing, checksumming and one `write`), appending with
//! `fdatasync` after each record (`EachRecord`: what the disk's flush costs), and a group
//! of 64 appends with one commit (`Group`), per group.
//!
//! The journal lives in a fresh directory under `$JOURNAL_BENCH_DIR` (default: the
//! system temp dir); point it at the disk you mean to measure, not a tmpfs:
//!
//! `JOURNAL_BENCH_DIR=/work/tmp cargo bench -p bench --bench journal`
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{Criterion, criterion_group, criterion_main};
use sor::journal::{FsyncPolicy, Journal, JournalConfig};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

const RECORD: usize = 200;

/// A fresh, empty directory for one case.
fn fresh_dir(case: &str) -> PathBuf {
    let base = std::env::var_os("JOURNAL_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("sor-journal-bench-{}-{case}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn open(dir: &PathBuf, fsync: FsyncPolicy) -> Journal {
    let config = JournalConfig {
        fsync,
        ..JournalConfig::new(dir)
    };
    match Journal::open(config) {
        Ok((journal, _)) => journal,
        Err(e) => panic!("cannot open the bench journal in {}: {e}", dir.display()),
    }
}

fn journal(c: &mut Criterion) {
    let payload = vec![0x42u8; RECORD];

    let dir = fresh_dir("never");
    let mut j = open(&dir, FsyncPolicy::Never);
    c.bench_function("journal_append_200b_never", |b| {
        b.iter(|| j.append(black_box(&payload)))
    });
    drop(j);
    let _ = std::fs::remove_dir_all(&dir);

    let mut slow = c.benchmark_group("journal_fsync");
    slow.sample_size(20)
        .measurement_time(Duration::from_secs(10));

    let dir = fresh_dir("each");
    let mut j = open(&dir, FsyncPolicy::EachRecord);
    slow.bench_function("journal_append_commit_200b_each_record", |b| {
        b.iter(|| {
            let lsn = j.append(black_box(&payload));
            (lsn, j.commit())
        })
    });
    drop(j);
    let _ = std::fs::remove_dir_all(&dir);

    let dir = fresh_dir("group");
    let mut j = open(
        &dir,
        FsyncPolicy::Group {
            max_delay: Duration::from_millis(1),
            max_records: 64,
        },
    );
    slow.bench_function("journal_group_64x200b_then_commit", |b| {
        b.iter(|| {
            for _ in 0..64 {
                let _ = j.append(black_box(&payload));
            }
            j.commit()
        })
    });
    slow.finish();
    drop(j);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, journal);
criterion_main!(benches);
