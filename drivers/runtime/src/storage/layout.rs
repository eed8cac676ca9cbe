//! File names in the data directory, listing them, and the directory operations that
//! make creations, renames and removals durable.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use raft_core::{Index, Term};

use super::error::StorageError;

pub(crate) const LOCK_NAME: &str = "LOCK";
pub(crate) const TMP_SUFFIX: &str = ".tmp";

pub(crate) fn segment_name(seqno: u64) -> String {
    format!("seg-{seqno:016x}.log")
}

pub(crate) fn snapshot_name(index: Index, term: Term) -> String {
    format!("snap-{index:016x}-{term:016x}.snap")
}

pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(TMP_SUFFIX);
    PathBuf::from(name)
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let hex = name.strip_prefix("seg-")?.strip_suffix(".log")?;
    parse_hex16(hex)
}

fn parse_snapshot_name(name: &str) -> Option<(Index, Term)> {
    let rest = name.strip_prefix("snap-")?.strip_suffix(".snap")?;
    let (index, term) = rest.split_once('-')?;
    Some((parse_hex16(index)?, parse_hex16(term)?))
}

/// Exactly 16 lowercase hex digits, so each number has one name and sorting by name
/// would sort by number.
fn parse_hex16(hex: &str) -> Option<u64> {
    let lower = hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if hex.len() != 16 || !lower {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

/// What the directory holds, each kind sorted ascending. Names this module did not write
/// are left alone: they are not ours to delete.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) segments: Vec<(u64, PathBuf)>,
    pub(crate) snapshots: Vec<((Index, Term), PathBuf)>,
    pub(crate) temps: Vec<PathBuf>,
}

pub(crate) fn list(dir: &Path) -> Result<Listing, StorageError> {
    let mut listing = Listing::default();
    let entries = fs::read_dir(dir).map_err(StorageError::io(dir, "list directory"))?;
    for entry in entries {
        let entry = entry.map_err(StorageError::io(dir, "list directory"))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let path = entry.path();
        if name.ends_with(TMP_SUFFIX) {
            listing.temps.push(path);
        } else if let Some(seqno) = parse_segment_name(&name) {
            listing.segments.push((seqno, path));
        } else if let Some(position) = parse_snapshot_name(&name) {
            listing.snapshots.push((position, path));
        }
    }
    listing.segments.sort();
    listing.snapshots.sort();
    listing.temps.sort();
    Ok(listing)
}

/// Makes the directory's entries (creations, renames, removals) durable: without it a
/// file fsynced a moment ago may have no name after a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    let handle = File::open(dir).map_err(StorageError::io(dir, "open directory"))?;
    handle
        .sync_all()
        .map_err(StorageError::io(dir, "fsync directory"))
}

pub(crate) fn remove(path: &Path) -> Result<(), StorageError> {
    fs::remove_file(path).map_err(StorageError::io(path, "remove"))
}

/// Creates `dir` (and its parents) if missing; a newly created directory's own name is
/// made durable too.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), StorageError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(StorageError::io(dir, "create directory"))?;
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(parse_segment_name(&segment_name(0x1f)), Some(0x1f));
        assert_eq!(parse_snapshot_name(&snapshot_name(7, 3)), Some((7, 3)));
        assert_eq!(parse_segment_name("seg-1f.log"), None);
        assert_eq!(parse_segment_name("seg-000000000000001F.log"), None);
        assert_eq!(parse_snapshot_name("snap-0000000000000007.snap"), None);
    }
}
