//! Latency distribution of durable journal appends, timed call by call into an
//! hdrhistogram: `append` with `fdatasync` per record (`EachRecord`), `append` alone with
//! no sync (`Never`), and one group commit of 64 appended records (`Group`).
//!
//! `JOURNAL_BENCH_DIR=/work/tmp cargo run --release -p bench --bin journal-fsync [N]`
//!
//! N (default 2,000) synced appends and group commits, 100 times as many unsynced
//! appends; 200-byte records. The journal lives in a fresh directory under
//! `$JOURNAL_BENCH_DIR` (default: the system temp dir), removed afterwards: point it at
//! the disk you mean to measure, not a tmpfs.

use hdrhistogram::Histogram;
use sor::journal::{FsyncPolicy, Journal, JournalConfig};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const RECORD: usize = 200;
const GROUP: usize = 64;

fn main() -> ExitCode {
    let n: u64 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 2_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("error: N must be a whole number greater than 0");
            return ExitCode::from(2);
        }
    };
    let base = std::env::var_os("JOURNAL_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("sor-journal-fsync-{}", std::process::id()));
    let result = run(&dir, n);
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(dir: &Path, n: u64) -> Result<(), Box<dyn std::error::Error>> {
    let payload = vec![0x42u8; RECORD];
    println!("journal in {} ({RECORD}-byte records)", dir.display());
    println!(
        "case                                   n      p50 µs   p90 µs   p99 µs  p99.9 µs   max µs"
    );

    let mut h = new_histogram()?;
    let mut j = open(&dir.join("each"), FsyncPolicy::EachRecord)?;
    for _ in 0..n {
        let t = Instant::now();
        j.append(&payload)?;
        record(&mut h, t)?;
    }
    print_row("append + fdatasync (EachRecord)", &h);

    let mut h = new_histogram()?;
    let mut j = open(&dir.join("never"), FsyncPolicy::Never)?;
    for _ in 0..n * 100 {
        let t = Instant::now();
        j.append(&payload)?;
        record(&mut h, t)?;
    }
    print_row("append, no sync (Never)", &h);

    let mut h = new_histogram()?;
    let group = FsyncPolicy::Group {
        max_delay: Duration::from_millis(1),
        max_records: GROUP,
    };
    let mut j = open(&dir.join("group"), group)?;
    for _ in 0..n {
        for _ in 0..GROUP {
            j.append(&payload)?;
        }
        let t = Instant::now();
        j.commit()?;
        record(&mut h, t)?;
    }
    print_row("commit of 64 records (Group)", &h);
    Ok(())
}

fn open(dir: &Path, fsync: FsyncPolicy) -> Result<Journal, sor::journal::JournalError> {
    let config = JournalConfig {
        fsync,
        ..JournalConfig::new(dir)
    };
    Journal::open(config).map(|(j, _)| j)
}

fn new_histogram() -> Result<Histogram<u64>, hdrhistogram::CreationError> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3)
}

fn record(h: &mut Histogram<u64>, since: Instant) -> Result<(), hdrhistogram::RecordError> {
    let ns = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
    h.record(ns.max(1))
}

fn print_row(name: &str, h: &Histogram<u64>) {
    let us = |q: f64| h.value_at_quantile(q) as f64 / 1_000.0;
    println!(
        "{name:<36} {:>6} {:>9.1} {:>8.1} {:>8.1} {:>9.1} {:>8.1}",
        h.len(),
        us(0.5),
        us(0.9),
        us(0.99),
        us(0.999),
        h.max() as f64 / 1_000.0
    );
}
