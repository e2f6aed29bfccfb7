//! `sor journal check|print DIR`: an operator's look inside a gateway journal, without
//! changing it (the gateway itself cuts a torn tail only when it starts).
//!
//! `check` verifies every record (checksum, lsn order, segment names) as a start would,
//! decodes each as a gateway entry, and prints the segments, the entries by kind and any
//! torn tail. `print` writes every entry from a given lsn as one JSON line with its lsn.

use crate::journal::{Journal, JournalError, ScanReport};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// Why a journal could not be read through.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The journal itself is damaged or unreadable (the message names file and offset).
    #[error("{0}")]
    Journal(#[from] JournalError),
    /// A record passed its checksum but is not a gateway entry.
    #[error("journal record {lsn}: not a gateway entry: {reason}")]
    Decode {
        /// Its lsn.
        lsn: u64,
        /// What was wrong.
        reason: String,
    },
    /// The output could not be written.
    #[error("writing the output: {0}")]
    Output(#[from] std::io::Error),
    /// There is no directory there.
    #[error("{0}: no such journal directory")]
    NoDir(std::path::PathBuf),
}

fn existing(dir: &Path) -> Result<(), InspectError> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(InspectError::NoDir(dir.to_owned()))
    }
}

/// The kind of a decoded entry: `start`, `restart`, `control set_limit`, `event
/// new_parent`, ...
fn kind(entry: &Value) -> Result<String, String> {
    let tag = entry
        .get("entry")
        .and_then(Value::as_str)
        .ok_or("no \"entry\" tag")?;
    let sub = match tag {
        "event" => entry.pointer("/event/event"),
        "control" => entry.pointer("/recorded/control/control"),
        _ => None,
    };
    Ok(match sub.and_then(Value::as_str) {
        Some(s) => format!("{tag} {s}"),
        None => tag.to_owned(),
    })
}

fn decode(lsn: u64, payload: &[u8]) -> Result<Value, InspectError> {
    let v: Value = serde_json::from_slice(payload).map_err(|e| InspectError::Decode {
        lsn,
        reason: e.to_string(),
    })?;
    if !v.is_object() {
        return Err(InspectError::Decode {
            lsn,
            reason: "not a JSON object".into(),
        });
    }
    Ok(v)
}

/// Reads the whole journal in `dir`: its scan report and its entries counted by kind.
pub fn summarize(dir: &Path) -> Result<(ScanReport, BTreeMap<String, u64>), InspectError> {
    existing(dir)?;
    let mut kinds = BTreeMap::<String, u64>::new();
    let mut bad: Option<InspectError> = None;
    let report = Journal::replay(dir, |lsn, payload| {
        if bad.is_some() {
            return;
        }
        match decode(lsn, payload)
            .and_then(|v| kind(&v).map_err(|reason| InspectError::Decode { lsn, reason }))
        {
            Ok(k) => *kinds.entry(k).or_default() += 1,
            Err(e) => bad = Some(e),
        }
    })?;
    match bad {
        Some(e) => Err(e),
        None => Ok((report, kinds)),
    }
}

/// `sor journal check DIR`: writes what the journal holds to `out`.
pub fn check(dir: &Path, out: &mut impl Write) -> Result<(), InspectError> {
    let (report, kinds) = summarize(dir)?;
    writeln!(
        out,
        "journal {}: {} records in {} segments, last lsn {}",
        dir.display(),
        report.records,
        report.segments.len(),
        report.last_lsn
    )?;
    for s in &report.segments {
        let name = s.path.file_name().map_or_else(
            || s.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        writeln!(
            out,
            "  {name}  first lsn {}  {} records  {} bytes",
            s.first_lsn, s.records, s.bytes
        )?;
    }
    writeln!(out, "entries:")?;
    for (k, n) in &kinds {
        writeln!(out, "  {k:<28} {n}")?;
    }
    match &report.tail {
        None => writeln!(out, "tail: clean")?,
        Some(t) => writeln!(
            out,
            "tail: torn at {} offset {} ({} bytes, record {} expected): {}; `sor serve` cuts it when it starts",
            t.segment.display(),
            t.offset,
            t.bytes_after,
            t.expected_lsn,
            t.damage
        )?,
    }
    Ok(())
}

/// `sor journal print DIR --from LSN`: every entry from `from` on as one JSON line with
/// its lsn first. Returns how many were written; stops quietly when `out` is closed
/// (e.g. piped into `head`).
pub fn print(dir: &Path, from: u64, out: &mut impl Write) -> Result<u64, InspectError> {
    existing(dir)?;
    let mut written = 0u64;
    let mut failed: Option<InspectError> = None;
    Journal::replay(dir, |lsn, payload| {
        if failed.is_some() || lsn < from {
            return;
        }
        // The entry's own object with `"lsn":N,` put first (decode checked it is one).
        let line = decode(lsn, payload).and_then(|v| {
            let text = serde_json::to_string(&v).map_err(|e| InspectError::Decode {
                lsn,
                reason: e.to_string(),
            })?;
            Ok(match text.strip_prefix('{') {
                Some("}") | None => format!("{{\"lsn\":{lsn}}}"),
                Some(rest) => format!("{{\"lsn\":{lsn},{rest}"),
            })
        });
        match line.and_then(|l| writeln!(out, "{l}").map_err(InspectError::Output)) {
            Ok(()) => written += 1,
            Err(e) => failed = Some(e),
        }
    })?;
    match failed {
        Some(InspectError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(written),
        Some(e) => Err(e),
        None => Ok(written),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ParentId;
    use crate::engine::Event;
    use crate::journal::FsyncPolicy;
    use crate::serve::durable::{Durable, Entry, JournalSettings};

    fn journal(dir: &Path) {
        let settings = JournalSettings {
            dir: dir.to_owned(),
            fsync: FsyncPolicy::Never,
            segment_bytes: 1 << 20,
        };
        let (mut d, _) = Durable::open(&settings).unwrap();
        d.mark(&Entry::Start {
            run_prefix: "R1".into(),
            started_unix_ms: 1,
        })
        .unwrap();
        for i in 0..3u64 {
            d.record(
                10 + i,
                &Event::CancelParent {
                    parent: ParentId(format!("P{i}")),
                },
            )
            .unwrap();
        }
        d.commit().unwrap();
    }

    fn tempdir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("sor-inspect-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn check_counts_entries_by_kind_and_says_the_tail_is_clean() {
        let dir = tempdir("check");
        journal(&dir);
        let mut out = Vec::new();
        check(&dir, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("4 records in 1 segments, last lsn 4"),
            "{text}"
        );
        assert!(text.contains("event cancel_parent"), "{text}");
        assert!(text.contains("start "), "{text}");
        assert!(text.contains("tail: clean"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn print_writes_json_lines_from_an_lsn_with_the_lsn_first() {
        let dir = tempdir("print");
        journal(&dir);
        let mut out = Vec::new();
        assert_eq!(print(&dir, 3, &mut out).unwrap(), 2);
        let lines: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["lsn"], 3);
        assert_eq!(lines[1]["event"]["parent"], "P2");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_record_that_is_not_an_entry_is_named_by_its_lsn() {
        let dir = tempdir("bad");
        {
            let (mut j, _) = Journal::open(crate::journal::JournalConfig::new(&dir)).unwrap();
            j.append(b"{\"entry\":\"start\",\"run_prefix\":\"R\",\"started_unix_ms\":1}")
                .unwrap();
            j.append(b"[1,2]").unwrap();
            j.commit().unwrap();
        }
        let err = check(&dir, &mut Vec::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "journal record 2: not a gateway entry: not a JSON object"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
