//! TEMPORARY stub with the storage API, replaced by the real module (wip-storage).
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct StorageOptions {
    pub segment_bytes_max: u64,
    pub record_bytes_max: u32,
}
impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            segment_bytes_max: 64 << 20,
            record_bytes_max: 256 << 20,
        }
    }
}
pub struct Storage {
    dir: PathBuf,
    state: raft_core::RestoredState,
}
pub struct Recovered {
    pub state: raft_core::RestoredState,
    pub report: String,
}
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("io")]
    Io,
}
impl Storage {
    pub fn open(dir: &Path, _o: StorageOptions) -> Result<(Storage, Recovered), StorageError> {
        let s = Storage {
            dir: dir.into(),
            state: Default::default(),
        };
        Ok((
            s,
            Recovered {
                state: Default::default(),
                report: "stub".into(),
            },
        ))
    }
    pub fn append(&mut self, w: &raft_core::Write) -> Result<(), StorageError> {
        w.apply_to(&mut self.state);
        Ok(())
    }
    pub fn sync(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
    pub fn log_bytes(&self) -> u64 {
        0
    }
    pub fn snapshot_bytes(&self) -> u64 {
        0
    }
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
