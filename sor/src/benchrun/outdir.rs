//! The report directory, written whole or not at all: the files go into a staging
//! directory beside it, renamed into place at the end; a failure removes the staging
//! directory and leaves what was there before.

use super::BenchError;
use std::path::{Path, PathBuf};

/// A report directory being written.
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    staging: PathBuf,
    replace: bool,
    done: bool,
}

/// Whether `dir` holds anything.
fn has_entries(dir: &Path) -> std::io::Result<bool> {
    Ok(std::fs::read_dir(dir)?.next().is_some())
}

impl Staging {
    /// Checks `out` (missing, an empty directory, or a non-empty one with `force`) and
    /// creates the staging directory beside it.
    pub fn prepare(out: &Path, force: bool) -> Result<Self, BenchError> {
        let io = |source| BenchError::Write {
            path: out.to_path_buf(),
            source,
        };
        let replace = match std::fs::metadata(out) {
            Ok(m) if !m.is_dir() => return Err(BenchError::NotADirectory(out.to_path_buf())),
            Ok(_) => {
                if has_entries(out).map_err(io)? && !force {
                    return Err(BenchError::NotEmpty(out.to_path_buf()));
                }
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(io(e)),
        };
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "bench-report".to_owned());
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io)?;
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io)?;
        }
        std::fs::create_dir(&staging).map_err(io)?;
        Ok(Self {
            out: out.to_path_buf(),
            staging,
            replace,
            done: false,
        })
    }

    /// Writes one file into the staging directory.
    pub fn write(&self, name: &str, contents: &str) -> Result<(), BenchError> {
        std::fs::write(self.staging.join(name), contents).map_err(|source| BenchError::Write {
            path: self.out.join(name),
            source,
        })
    }

    /// Puts the staging directory in place of `out`.
    pub fn commit(mut self) -> Result<PathBuf, BenchError> {
        let io = |source| BenchError::Write {
            path: self.out.clone(),
            source,
        };
        if self.replace && self.out.exists() {
            std::fs::remove_dir_all(&self.out).map_err(io)?;
        }
        std::fs::rename(&self.staging, &self.out).map_err(io)?;
        self.done = true;
        Ok(self.out.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}
