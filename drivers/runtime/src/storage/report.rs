//! What recovery did, for the operator: one line in the node's log at start.

use std::fmt;
use std::path::PathBuf;

/// What recovery read and repaired, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryReport {
    pub segments_read: usize,
    pub records_read: u64,
    pub torn_tail: Option<TornTail>,
    /// Leftovers removed: segments before the checkpoint, unreferenced snapshot files,
    /// temporary files, and a last segment whose header was never written.
    pub files_removed: Vec<PathBuf>,
    /// The directory held no log: this is a new node.
    pub fresh: bool,
}

/// The end of an append interrupted by a crash, cut off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    pub file: PathBuf,
    pub offset: u64,
    pub bytes_dropped: u64,
}

impl fmt::Display for RecoveryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.fresh {
            write!(f, "fresh data directory")?;
        } else {
            let (segments, records) = (self.segments_read, self.records_read);
            write!(f, "read {segments} segments, {records} records")?;
        }
        if let Some(torn) = &self.torn_tail {
            let name = torn.file.file_name().unwrap_or(torn.file.as_os_str());
            let (dropped, offset) = (torn.bytes_dropped, torn.offset);
            write!(
                f,
                "; repaired torn tail: dropped {dropped} bytes at {}:{offset}",
                name.to_string_lossy()
            )?;
        }
        if !self.files_removed.is_empty() {
            write!(f, "; removed {} leftover files", self.files_removed.len())?;
        }
        Ok(())
    }
}
