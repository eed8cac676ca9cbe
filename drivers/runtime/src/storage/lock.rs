//! The exclusive lock on a data directory: two processes appending to one log would
//! interleave records and each would believe its own writes durable.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use super::error::StorageError;
use super::layout::LOCK_NAME;

/// Holds `DIR/LOCK` locked until dropped. The lock is advisory (`flock`) and belongs to
/// the open file, so it also refuses a second `Storage` in the same process, and the
/// kernel releases it when the process dies: a stale `LOCK` file never blocks a restart.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, StorageError> {
        let path = dir.join(LOCK_NAME);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(StorageError::io(&path, "open lock file"))?;
        match file.try_lock() {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(StorageError::Locked {
                dir: dir.to_path_buf(),
            }),
            Err(TryLockError::Error(source)) => Err(StorageError::Io {
                path,
                op: "lock",
                source,
            }),
        }
    }
}
