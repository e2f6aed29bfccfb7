//! The chain adapter's write-ahead swap log: which transaction was signed for which
//! child, on disk before the transaction is sent.
//!
//! After a crash the adapter has forgotten its swaps; this log is how a restarted
//! [`super::ChainLink`] finds the transaction hash to ask the node for. One record per
//! signed swap, one JSON line each, appended and `fdatasync`ed before
//! `eth_sendRawTransaction`: a record on disk means "maybe sent", no record means
//! "never sent".
//!
//! Bounds: the last [`KEEP`] records are kept in memory; when the file holds more than
//! [`REWRITE_AT`] it is rewritten (a temporary file, synced, renamed over it) to those.
//! A line longer than [`MAX_LINE`] bytes is malformed.

use super::ChainError;
use alloy::primitives::{B256, U256};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// Records kept in memory (the most recent ones).
pub const KEEP: usize = 10_000;
/// Records the file may hold before it is rewritten to the last [`KEEP`].
pub const REWRITE_AT: usize = 20_000;
/// Longest line accepted, newline included.
pub const MAX_LINE: usize = 4096;

/// One signed swap, as the log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapRecord {
    /// The child's client order id.
    pub client_id: String,
    /// The signed transaction's hash.
    pub tx: B256,
    /// The transaction's nonce.
    pub nonce: u64,
    /// Whether the swap sells base (a child sell) or quote (a child buy).
    pub sell_base: bool,
    /// Raw amount paid into the pool.
    pub pay: U256,
    /// Raw min-receive guard.
    pub min_receive: U256,
    /// The child's quantity, in base units.
    pub qty: Decimal,
    /// When the record was written, unix milliseconds.
    pub at_ms: u64,
}

/// The JSON shape of a record: raw amounts as decimal strings, readable by an operator.
#[derive(Serialize, Deserialize)]
struct Line {
    client_id: String,
    tx: String,
    nonce: u64,
    sell_base: bool,
    pay: String,
    min_receive: String,
    qty: String,
    at_ms: u64,
}

impl SwapRecord {
    fn to_line(&self) -> Result<String, serde_json::Error> {
        let mut s = serde_json::to_string(&Line {
            client_id: self.client_id.clone(),
            tx: self.tx.to_string(),
            nonce: self.nonce,
            sell_base: self.sell_base,
            pay: self.pay.to_string(),
            min_receive: self.min_receive.to_string(),
            qty: self.qty.to_string(),
            at_ms: self.at_ms,
        })?;
        s.push('\n');
        Ok(s)
    }

    /// Parses one line (without its newline); the error is the rule broken.
    fn parse(text: &[u8]) -> Result<SwapRecord, String> {
        let line: Line = serde_json::from_slice(text)
            .map_err(|e| format!("not a swap record (JSON object with client_id, tx, nonce, sell_base, pay, min_receive, qty, at_ms): {e}"))?;
        if line.client_id.is_empty() {
            return Err("client_id must not be empty".into());
        }
        let tx = line
            .tx
            .parse::<B256>()
            .map_err(|_| format!("tx {:?} is not a 0x-prefixed 32-byte hash", line.tx))?;
        let raw = |field: &str, v: &str| {
            U256::from_str_radix(v, 10)
                .map_err(|_| format!("{field} {v:?} is not a decimal integer of raw units"))
        };
        let qty = line
            .qty
            .parse::<Decimal>()
            .map_err(|_| format!("qty {:?} is not a decimal number", line.qty))?;
        if qty <= Decimal::ZERO {
            return Err(format!("qty {qty} must be positive"));
        }
        Ok(SwapRecord {
            client_id: line.client_id,
            tx,
            nonce: line.nonce,
            sell_base: line.sell_base,
            pay: raw("pay", &line.pay)?,
            min_receive: raw("min_receive", &line.min_receive)?,
            qty,
            at_ms: line.at_ms,
        })
    }
}

/// A torn last line found at open (a crash mid-write) and cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// Its line number.
    pub line: usize,
    /// Where the file now ends.
    pub offset: u64,
    /// How many bytes were cut.
    pub bytes_cut: u64,
}

/// The open swap log: the file, appended to, and its most recent records.
#[derive(Debug)]
pub struct SwapLog {
    path: PathBuf,
    file: File,
    /// Complete records in the file.
    on_disk: usize,
    recent: VecDeque<SwapRecord>,
}

impl SwapLog {
    /// Opens the log at `path` (creating it and its directory), reads its records, cuts a
    /// torn last line and rewrites the file if it holds more than [`REWRITE_AT`].
    pub fn open(path: &Path) -> Result<(SwapLog, Option<TornTail>), ChainError> {
        let io = |what: &str, e: std::io::Error| ChainError::SwapLog {
            file: path.display().to_string(),
            problem: format!("{what}: {e}"),
        };
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir).map_err(|e| io("create directory", e))?;
        }
        let existed = path.exists();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .map_err(|e| io("open", e))?;
        if !existed && let Some(dir) = dir {
            sync_dir(dir).map_err(|e| io("sync directory", e))?;
        }
        let ReadBack {
            recent,
            on_disk,
            torn,
        } = read_records(path, &file)?;
        let torn = match torn {
            Some((line, offset, len)) => {
                file.set_len(offset).map_err(|e| io("cut torn tail", e))?;
                file.sync_data().map_err(|e| io("fdatasync", e))?;
                Some(TornTail {
                    line,
                    offset,
                    bytes_cut: len - offset,
                })
            }
            None => None,
        };
        let mut log = SwapLog {
            path: path.to_owned(),
            file,
            on_disk,
            recent,
        };
        if log.on_disk > REWRITE_AT {
            log.rewrite()?;
        }
        Ok((log, torn))
    }

    /// Appends `record` and makes it durable before returning; the record is then
    /// found by [`SwapLog::find`]. Rewrites the file when it grows past [`REWRITE_AT`].
    pub fn append(&mut self, record: SwapRecord) -> Result<(), ChainError> {
        let line = record.to_line().map_err(|e| self.err("encode", e))?;
        if line.len() > MAX_LINE {
            return Err(ChainError::SwapLog {
                file: self.path.display().to_string(),
                problem: format!(
                    "record for {} is {} bytes, over the {MAX_LINE}-byte line limit",
                    record.client_id,
                    line.len()
                ),
            });
        }
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| self.err("write", e))?;
        self.file
            .sync_data()
            .map_err(|e| self.err("fdatasync", e))?;
        self.on_disk += 1;
        self.remember(record);
        if self.on_disk > REWRITE_AT {
            self.rewrite()?;
        }
        Ok(())
    }

    /// The latest record for `client_id` among the last [`KEEP`].
    pub fn find(&self, client_id: &str) -> Option<&SwapRecord> {
        self.recent.iter().rev().find(|r| r.client_id == client_id)
    }

    /// The child of the latest record of transaction `tx` (the same signed bytes can be
    /// recorded twice: a dropped swap re-signed with the same nonce and amounts).
    pub fn owner(&self, tx: &B256) -> Option<&str> {
        self.recent
            .iter()
            .rev()
            .find(|r| r.tx == *tx)
            .map(|r| r.client_id.as_str())
    }

    fn remember(&mut self, record: SwapRecord) {
        if self.recent.len() >= KEEP {
            self.recent.pop_front();
        }
        self.recent.push_back(record);
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> ChainError {
        ChainError::SwapLog {
            file: self.path.display().to_string(),
            problem: format!("{what}: {e}"),
        }
    }

    /// Replaces the file by one holding only the records in memory: written to a
    /// temporary file, synced, renamed over the log, the directory synced.
    fn rewrite(&mut self) -> Result<(), ChainError> {
        let mut tmp_name = self.path.as_os_str().to_owned();
        tmp_name.push(".rewrite");
        let tmp = PathBuf::from(tmp_name);
        let mut text = String::new();
        for r in &self.recent {
            text.push_str(&r.to_line().map_err(|e| self.err("encode", e))?);
        }
        let mut f = File::create(&tmp).map_err(|e| self.err("create rewrite file", e))?;
        f.write_all(text.as_bytes())
            .map_err(|e| self.err("write rewrite file", e))?;
        f.sync_all()
            .map_err(|e| self.err("fsync rewrite file", e))?;
        drop(f);
        std::fs::rename(&tmp, &self.path).map_err(|e| self.err("rename rewrite file", e))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            sync_dir(dir).map_err(|e| self.err("sync directory", e))?;
        }
        self.file = OpenOptions::new()
            .append(true)
            .read(true)
            .open(&self.path)
            .map_err(|e| self.err("reopen", e))?;
        self.on_disk = self.recent.len();
        tracing::info!(file = %self.path.display(), records = self.on_disk, "swap log rewritten to its most recent records");
        Ok(())
    }
}

/// What [`read_records`] found.
struct ReadBack {
    /// The last [`KEEP`] records.
    recent: VecDeque<SwapRecord>,
    /// Complete records in the file.
    on_disk: usize,
    /// A last line without its newline: (line number, its offset, the file's length).
    torn: Option<(usize, u64, u64)>,
}

/// Every complete line of `file`, the last [`KEEP`] records kept.
fn read_records(path: &Path, file: &File) -> Result<ReadBack, ChainError> {
    let bad = |line: usize, rule: String| ChainError::SwapLogLine {
        file: path.display().to_string(),
        line,
        rule,
    };
    let mut reader = BufReader::new(file);
    let mut recent = VecDeque::new();
    let mut buf = Vec::with_capacity(256);
    let mut offset = 0u64;
    let mut line = 0usize;
    loop {
        buf.clear();
        let limit = u64::try_from(MAX_LINE).unwrap_or(u64::MAX);
        let n = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut buf)
            .map_err(|e| ChainError::SwapLog {
                file: path.display().to_string(),
                problem: format!("read: {e}"),
            })?;
        if n == 0 {
            break;
        }
        line += 1;
        let Some(text) = buf.strip_suffix(b"\n") else {
            if n >= MAX_LINE {
                return Err(bad(line, format!("longer than {MAX_LINE} bytes")));
            }
            let len = offset + n as u64;
            return Ok(ReadBack {
                recent,
                on_disk: line - 1,
                torn: Some((line, offset, len)),
            });
        };
        let record = SwapRecord::parse(text).map_err(|rule| bad(line, rule))?;
        if recent.len() >= KEEP {
            recent.pop_front();
        }
        recent.push_back(record);
        offset += n as u64;
    }
    Ok(ReadBack {
        recent,
        on_disk: line,
        torn: None,
    })
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u64) -> SwapRecord {
        SwapRecord {
            client_id: format!("R1.P{n}.1"),
            tx: B256::from(U256::from(n)),
            nonce: n,
            sell_base: n.is_multiple_of(2),
            pay: U256::from(100_000_000u64 + n),
            min_receive: U256::from(99_000_000u64),
            qty: Decimal::new(100 + i64::try_from(n).unwrap(), 0),
            at_ms: 1_700_000_000_000 + n,
        }
    }

    fn dir() -> tempdir::Dir {
        tempdir::Dir::new()
    }

    /// A scratch directory under the target dir's temp, removed on drop.
    mod tempdir {
        use std::path::{Path, PathBuf};
        use std::sync::atomic::{AtomicU64, Ordering};

        pub struct Dir(PathBuf);

        impl Dir {
            pub fn new() -> Dir {
                static N: AtomicU64 = AtomicU64::new(0);
                let p = std::env::temp_dir().join(format!(
                    "swaplog-test-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                ));
                let _ = std::fs::remove_dir_all(&p);
                Dir(p)
            }
            pub fn path(&self) -> &Path {
                &self.0
            }
        }

        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn appended_records_are_read_back_after_a_reopen() {
        let d = dir();
        let path = d.path().join("chain").join("pool.swaps.jsonl");
        let (mut log, torn) = SwapLog::open(&path).unwrap();
        assert!(torn.is_none());
        assert!(log.find("R1.P1.1").is_none());
        for n in 1..=3 {
            log.append(record(n)).unwrap();
        }
        assert_eq!(log.find("R1.P2.1"), Some(&record(2)));
        drop(log);

        let (log, torn) = SwapLog::open(&path).unwrap();
        assert!(torn.is_none());
        for n in 1..=3 {
            assert_eq!(log.find(&format!("R1.P{n}.1")), Some(&record(n)));
        }
        // One JSON line per record, raw amounts in decimal.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.contains("\"pay\":\"100000001\""), "{text}");
    }

    #[test]
    fn the_latest_record_of_a_child_wins() {
        let d = dir();
        let path = d.path().join("s.jsonl");
        let (mut log, _) = SwapLog::open(&path).unwrap();
        let mut again = record(1);
        again.nonce = 9;
        log.append(record(1)).unwrap();
        log.append(again.clone()).unwrap();
        assert_eq!(log.find("R1.P1.1"), Some(&again));
        // The same transaction recorded for a later child belongs to that child.
        let mut later = record(1);
        later.client_id = "R1.P5.1".into();
        assert_eq!(log.owner(&later.tx), Some("R1.P1.1"));
        log.append(later.clone()).unwrap();
        assert_eq!(log.owner(&later.tx), Some("R1.P5.1"));
        assert_eq!(log.owner(&B256::ZERO), None);
    }

    #[test]
    fn a_torn_last_line_is_cut_and_the_records_before_it_are_kept() {
        let d = dir();
        let path = d.path().join("s.jsonl");
        let (mut log, _) = SwapLog::open(&path).unwrap();
        log.append(record(1)).unwrap();
        log.append(record(2)).unwrap();
        drop(log);
        let good = std::fs::metadata(&path).unwrap().len();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"client_id\":\"R1.P3.1\",\"tx\":\"0x00")
            .unwrap();
        drop(f);

        let (mut log, torn) = SwapLog::open(&path).unwrap();
        let torn = torn.unwrap();
        assert_eq!(torn.line, 3);
        assert_eq!(torn.offset, good);
        assert_eq!(torn.bytes_cut, 33);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
        assert!(log.find("R1.P2.1").is_some());
        assert!(log.find("R1.P3.1").is_none());
        // Appending goes on after the cut.
        log.append(record(3)).unwrap();
        drop(log);
        let (log, torn) = SwapLog::open(&path).unwrap();
        assert!(torn.is_none());
        assert_eq!(log.find("R1.P3.1"), Some(&record(3)));
    }

    #[test]
    fn a_malformed_line_names_the_file_the_line_and_the_rule() {
        let d = dir();
        let path = d.path().join("s.jsonl");
        let good = record(1).to_line().unwrap();
        let cases = [
            ("{not json}\n".to_owned(), "not a swap record"),
            ("\n".to_owned(), "not a swap record"),
            (
                good.replace("\"nonce\":1", "\"nonce\":-1"),
                "not a swap record",
            ),
            (
                good.replace("\"pay\":\"100000001\"", "\"pay\":\"1e6\""),
                "pay \"1e6\"",
            ),
            (
                good.replace("\"qty\":\"101\"", "\"qty\":\"-5\""),
                "qty -5 must be positive",
            ),
            (
                good.replace("\"tx\":\"0x", "\"tx\":\"0xzz"),
                "not a 0x-prefixed 32-byte hash",
            ),
            (
                good.replace("\"client_id\":\"R1.P1.1\"", "\"client_id\":\"\""),
                "client_id must not be empty",
            ),
            (
                format!("{}\n", "x".repeat(MAX_LINE + 10)),
                "longer than 4096 bytes",
            ),
        ];
        for (bad, rule) in cases {
            std::fs::create_dir_all(d.path()).unwrap();
            std::fs::write(&path, format!("{good}{bad}{good}")).unwrap();
            let e = SwapLog::open(&path).unwrap_err().to_string();
            assert!(e.contains(&path.display().to_string()), "{e}");
            assert!(e.contains("line 2"), "{e}");
            assert!(e.contains(rule), "{e} lacks {rule}");
        }
    }

    #[test]
    fn memory_keeps_the_last_records_and_a_long_file_is_rewritten_to_them() {
        let d = dir();
        let path = d.path().join("s.jsonl");
        std::fs::create_dir_all(d.path()).unwrap();
        let total = REWRITE_AT as u64 + 5;
        let mut text = String::new();
        for n in 1..=total {
            text.push_str(&record(n).to_line().unwrap());
        }
        std::fs::write(&path, text).unwrap();

        let (mut log, _) = SwapLog::open(&path).unwrap();
        assert_eq!(log.recent.len(), KEEP);
        assert!(log.find("R1.P1.1").is_none(), "the oldest are forgotten");
        let last = format!("R1.P{total}.1");
        assert_eq!(log.find(&last), Some(&record(total)));
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert_eq!(lines, KEEP);

        // Appends after the rewrite land after the kept records.
        log.append(record(total + 1)).unwrap();
        drop(log);
        let (log, _) = SwapLog::open(&path).unwrap();
        assert_eq!(log.on_disk, KEEP + 1);
        assert_eq!(log.recent.len(), KEEP);
        assert!(log.find(&format!("R1.P{}.1", total + 1)).is_some());
        assert!(!path.with_extension("jsonl.rewrite").exists());
    }

    #[test]
    fn appends_past_the_bound_rewrite_the_file_while_running() {
        let d = dir();
        let path = d.path().join("s.jsonl");
        std::fs::create_dir_all(d.path()).unwrap();
        let mut text = String::new();
        for n in 1..=REWRITE_AT as u64 {
            text.push_str(&record(n).to_line().unwrap());
        }
        std::fs::write(&path, text).unwrap();
        let (mut log, _) = SwapLog::open(&path).unwrap();
        assert_eq!(log.on_disk, REWRITE_AT);
        log.append(record(REWRITE_AT as u64 + 1)).unwrap();
        assert_eq!(log.on_disk, KEEP);
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert_eq!(lines, KEEP);
    }
}
