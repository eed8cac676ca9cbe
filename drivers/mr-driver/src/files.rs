//! The shared directory: where attempts write, and how the coordinator commits or discards
//! an attempt's files.
//!
//! Attempts write under `<work_dir>/.mr-tmp/` with attempt-unique names; committing renames
//! them to their final names in `<work_dir>`. A rename within one file system is atomic, so a
//! reader sees a whole `mr-out-Y` or none. (No fsync: the course's failure model is a crashed
//! process, not a crashed machine.)

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use mr_core::{attempt_files, Attempt};

pub const TMP_DIR_NAME: &str = ".mr-tmp";

/// Largest input file a map task reads into memory.
pub const INPUT_SIZE_BYTES_MAX: u64 = 2 << 30;

pub fn tmp_dir(work_dir: &Path) -> PathBuf {
    work_dir.join(TMP_DIR_NAME)
}

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: {size_bytes} bytes is more than the {INPUT_SIZE_BYTES_MAX}-byte limit for one input file")]
    TooLarge { path: PathBuf, size_bytes: u64 },
    #[error("{path}: not a regular file")]
    NotAFile { path: PathBuf },
}

pub fn io_error(path: &Path) -> impl FnOnce(io::Error) -> FilesError + '_ {
    move |source| FilesError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks an input up front, so a missing file is a clear error at start, not a task that
/// fails over and over. Returns its absolute path.
pub fn check_input(path: &Path) -> Result<PathBuf, FilesError> {
    let metadata = fs::metadata(path).map_err(io_error(path))?;
    if !metadata.is_file() {
        return Err(FilesError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    if metadata.len() > INPUT_SIZE_BYTES_MAX {
        return Err(FilesError::TooLarge {
            path: path.to_path_buf(),
            size_bytes: metadata.len(),
        });
    }
    fs::canonicalize(path).map_err(io_error(path))
}

/// Reads a whole input file as text. Bytes that are not UTF-8 are replaced (U+FFFD) rather
/// than failing the job: every worker replaces them the same way.
pub fn read_input(path: &Path) -> Result<String, FilesError> {
    let size_bytes = fs::metadata(path).map_err(io_error(path))?.len();
    if size_bytes > INPUT_SIZE_BYTES_MAX {
        return Err(FilesError::TooLarge {
            path: path.to_path_buf(),
            size_bytes,
        });
    }
    let bytes = fs::read(path).map_err(io_error(path))?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// True if every temporary file of `attempt` exists (the worker really wrote them).
pub fn attempt_complete(work_dir: &Path, attempt: Attempt, n_reduce: u32) -> bool {
    let tmp = tmp_dir(work_dir);
    attempt_files(attempt, n_reduce)
        .iter()
        .all(|(temporary, _)| tmp.join(temporary).is_file())
}

/// Renames every temporary file of `attempt` to its final name.
pub fn commit(work_dir: &Path, attempt: Attempt, n_reduce: u32) -> Result<(), FilesError> {
    let tmp = tmp_dir(work_dir);
    for (temporary, final_name) in attempt_files(attempt, n_reduce) {
        let from = tmp.join(&temporary);
        fs::rename(&from, work_dir.join(&final_name)).map_err(io_error(&from))?;
    }
    Ok(())
}

/// Deletes whatever temporary files of `attempt` exist; missing ones are fine.
pub fn discard(work_dir: &Path, attempt: Attempt, n_reduce: u32) -> Result<(), FilesError> {
    let tmp = tmp_dir(work_dir);
    for (temporary, _) in attempt_files(attempt, n_reduce) {
        let path = tmp.join(&temporary);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_error(&path)(e)),
            _ => {}
        }
    }
    Ok(())
}

/// Writes `bytes` to `path`, creating or truncating it.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), FilesError> {
    fs::write(path, bytes).map_err(io_error(path))
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, FilesError> {
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    write_file(&tmp, bytes)?;
    let path = dir.join(name);
    fs::rename(&tmp, &path).map_err(io_error(&tmp))?;
    Ok(path)
}
