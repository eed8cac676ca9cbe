//! What can go wrong with the data directory, worded for the operator who reads it.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Every failure of [`super::Storage`]. None of them is a panic: bad disk contents are
/// reported with the file and offset, so an operator can look at the bytes.
#[derive(Debug, Error)]
pub enum StorageError {
    #[error("{op} {path}: {source}")]
    Io {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error("data directory {dir} is in use by another process")]
    Locked { dir: PathBuf },

    #[error(
        "corrupt record in {file} at offset {offset}: {reason}; refusing to start \
         (the durable log would lose acknowledged data)"
    )]
    Corrupt {
        file: PathBuf,
        offset: u64,
        reason: String,
    },

    /// Refused before anything was written: the log is as it was.
    #[error("record of {size_bytes} bytes exceeds record_bytes_max ({max})")]
    RecordTooLarge { size_bytes: u64, max: u32 },

    /// The write breaks `raft_core::Write::apply_to`'s preconditions (a caller bug);
    /// refused before anything was written.
    #[error("invalid write: {reason}")]
    InvalidWrite { reason: String },

    /// An earlier append or sync failed part way: what is on disk and what this process
    /// believes is on disk may differ (and after a failed fsync the page cache cannot be
    /// trusted), so nothing more is written. Reopen to recover from the disk.
    #[error("storage in {dir} stopped after an earlier I/O error; reopen it to recover")]
    Poisoned { dir: PathBuf },
}

impl StorageError {
    /// Wraps an `io::Error` with the file and what was being done to it.
    pub(crate) fn io(path: &Path, op: &'static str) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| StorageError::Io { path, op, source }
    }

    pub(crate) fn corrupt(file: &Path, offset: u64, reason: impl Into<String>) -> Self {
        StorageError::Corrupt {
            file: file.to_path_buf(),
            offset,
            reason: reason.into(),
        }
    }
}
