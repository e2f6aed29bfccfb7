//! Segment files: their names (`journal-<first_lsn:020>.log`), finding them in the
//! directory in lsn order, and syncing the directory after one is created.

use super::error::JournalError;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

const PREFIX: &str = "journal-";
const SUFFIX: &str = ".log";
const DIGITS: usize = 20;

/// The most segment files a directory may hold; more is refused rather than listed
/// without bound (at the default 64 MiB a segment, that is 64 TiB of journal).
pub const MAX_SEGMENTS: usize = 1 << 20;

/// A segment file found in the journal directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentFile {
    /// The lsn its name says its first record has.
    pub first_lsn: u64,
    /// Its path.
    pub path: PathBuf,
}

/// The file name of the segment whose first record is `first_lsn`.
pub fn file_name(first_lsn: u64) -> String {
    format!("{PREFIX}{first_lsn:0DIGITS$}{SUFFIX}")
}

/// The path of the segment in `dir` whose first record is `first_lsn`.
pub fn path(dir: &Path, first_lsn: u64) -> PathBuf {
    dir.join(file_name(first_lsn))
}

/// `Some(Ok(lsn))` for a segment file name, `Some(Err(()))` for one shaped like a segment
/// name whose digits overflow a `u64`, `None` for any other file.
fn parse_name(name: &str) -> Option<Result<u64, ()>> {
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<u64>().map_err(|_| ()))
}

/// The segment files in `dir`, in lsn order. Other files are ignored.
pub fn list(dir: &Path) -> Result<Vec<SegmentFile>, JournalError> {
    let io = |op, path: &Path| {
        let path = path.to_path_buf();
        move |source| JournalError::Io { op, path, source }
    };
    let mut segments = Vec::new();
    for entry in fs::read_dir(dir).map_err(io("list directory", dir))? {
        let entry = entry.map_err(io("list directory", dir))?;
        let name = entry.file_name();
        let Some(parsed) = name.to_str().and_then(parse_name) else {
            continue;
        };
        let path = entry.path();
        match parsed {
            Ok(first_lsn) => segments.push(SegmentFile { first_lsn, path }),
            Err(()) => return Err(JournalError::SegmentName { path }),
        }
        if segments.len() > MAX_SEGMENTS {
            return Err(JournalError::Io {
                op: "list directory",
                path: dir.to_path_buf(),
                source: std::io::Error::other(format!("more than {MAX_SEGMENTS} segments")),
            });
        }
    }
    segments.sort_by_key(|s| s.first_lsn);
    Ok(segments)
}

/// `fsync`s the directory itself, so a file just created (or removed) in it survives a
/// power loss. A no-op where directories cannot be opened as files (not Unix).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    if cfg!(unix) {
        File::open(dir)?.sync_all()
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_zero_padded_and_sort_by_lsn() {
        assert_eq!(file_name(1), "journal-00000000000000000001.log");
        assert_eq!(file_name(u64::MAX), "journal-18446744073709551615.log");
        assert_eq!(parse_name(&file_name(42)), Some(Ok(42)));
        assert_eq!(
            parse_name("journal-99999999999999999999.log"),
            Some(Err(()))
        );
        for other in [
            "journal-1.log",
            "journal-0000000000000000000x.log",
            "journal-00000000000000000001.log.tmp",
            "notes.txt",
        ] {
            assert_eq!(parse_name(other), None, "{other}");
        }
    }
}
