//! The on-disk formats read from bytes already in memory, for fuzzing and for tools that
//! inspect a data directory. Nothing here is a second decoder: each function hands the
//! bytes to the code recovery runs over a file (`SegmentReader`, `read_frame`, the record
//! decoder and the mirror's replay; the snapshot file's header and data checks), so what
//! these accept or refuse is what `Storage::open` would.

use std::path::Path;

use raft_core::Snapshot;

use super::error::StorageError;
use super::{recovery, snapshot_file};

/// What [`decode_segment`] read from a segment's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentContents {
    /// Records read and replayed, the checkpoint that opens the segment included.
    pub records: u64,
    /// Log entries after the snapshot once every record was replayed.
    pub entries: usize,
    /// Where recovery would cut a torn tail (an interrupted append), if the bytes end in
    /// one; 0 when even the segment header is torn.
    pub torn_tail_offset: Option<u64>,
}

/// Reads `bytes` as the last segment of a log (`seg-….log`, header included), exactly as
/// recovery does: frame by frame, each length checked against the end of the bytes and
/// `record_bytes_max` before anything is allocated, each checksum verified, each payload
/// decoded and replayed onto the checkpoint that must open the segment. A torn tail is
/// reported, not refused; any other damage is [`StorageError::Corrupt`], naming `name`
/// and the offset. `name` only labels errors: nothing is read from it.
pub fn decode_segment(
    name: &Path,
    bytes: &[u8],
    record_bytes_max: u32,
) -> Result<SegmentContents, StorageError> {
    recovery::replay_bytes(name, bytes, record_bytes_max)
}

/// Reads `bytes` as a whole snapshot file (`snap-….snap`) with the checks recovery makes:
/// magic, format version, a header no longer than `header_bytes_max` (recovery passes
/// `record_bytes_max`) with a matching checksum, data exactly as long as the header says
/// and matching its checksum. Recovery also compares the header with the log record that
/// names the file; the bytes alone cannot be.
pub fn decode_snapshot_file(
    name: &Path,
    bytes: &[u8],
    header_bytes_max: u32,
) -> Result<Snapshot, StorageError> {
    snapshot_file::decode(name, bytes, header_bytes_max)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use raft_core::{Entry, EntryKind, HardState, SnapshotMeta, SnapshotWrite, Write};

    use super::*;
    use crate::storage::{Storage, StorageOptions};

    fn entry(index: u64) -> Entry {
        Entry {
            term: 1,
            index,
            kind: EntryKind::Normal,
            data: format!("entry {index}").into_bytes().into(),
        }
    }

    fn write(entries: Vec<Entry>, snapshot: Option<SnapshotWrite>) -> Write {
        Write {
            id: 0,
            snapshot,
            hard_state: Some(HardState {
                term: 1,
                vote: Some(1),
                commit: 0,
            }),
            entries,
            must_sync: true,
        }
    }

    fn taken(index: u64) -> SnapshotWrite {
        SnapshotWrite::Taken(Snapshot {
            meta: SnapshotMeta {
                index,
                term: 1,
                membership: Default::default(),
            },
            data: b"state machine".to_vec(),
        })
    }

    /// The files `Storage` leaves after `writes`, by name prefix, sorted.
    fn stored(dir: &Path, writes: &[Write]) -> Vec<PathBuf> {
        let (mut storage, _) = Storage::open(dir, StorageOptions::default()).unwrap();
        for w in writes {
            storage.append(w).unwrap();
        }
        storage.sync().unwrap();
        let mut files: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "log" || x == "snap"))
            .collect();
        files.sort();
        files
    }

    const MAX: u32 = 1 << 20;

    #[test]
    fn a_segment_storage_wrote_decodes_to_its_records() {
        let dir = tempfile::tempdir().unwrap();
        let writes = [
            write(vec![entry(1), entry(2)], None),
            write(vec![entry(3)], None),
        ];
        let files = stored(dir.path(), &writes);
        let bytes = fs::read(&files[0]).unwrap();
        let read = decode_segment(&files[0], &bytes, MAX).unwrap();
        let whole = SegmentContents {
            records: 3,
            entries: 3,
            torn_tail_offset: None,
        };
        assert_eq!(read, whole, "the checkpoint and both writes");

        let cut = bytes.len() - 3;
        let torn = decode_segment(&files[0], &bytes[..cut], MAX).unwrap();
        assert_eq!((torn.records, torn.entries), (2, 2));
        assert!(torn.torn_tail_offset.is_some_and(|at| at < cut as u64));

        let mut flipped = bytes.clone();
        flipped[cut] ^= 0x40;
        let err = decode_segment(&files[0], &flipped, MAX).unwrap_err();
        assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
        let err = decode_segment(&files[0], b"not a segment at all", MAX).unwrap_err();
        assert!(err.to_string().contains("bad magic"), "{err}");
    }

    #[test]
    fn a_snapshot_file_storage_wrote_decodes_to_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let writes = [
            write(vec![entry(1), entry(2)], None),
            write(Vec::new(), Some(taken(2))),
        ];
        let files = stored(dir.path(), &writes);
        let snap = files.iter().find(|p| p.extension().unwrap() == "snap");
        let snap = snap.expect("a snapshot file");
        let bytes = fs::read(snap).unwrap();
        let read = decode_snapshot_file(snap, &bytes, MAX).unwrap();
        assert_eq!(&read, taken(2).snapshot());

        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        let err = decode_snapshot_file(snap, &flipped, MAX).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
        let short = decode_snapshot_file(snap, &bytes[..bytes.len() - 1], MAX).unwrap_err();
        assert!(matches!(short, StorageError::Corrupt { .. }), "{short}");

        // The segment the snapshot write started holds one checkpoint naming it.
        let segment = files.iter().rfind(|p| p.extension().unwrap() == "log");
        let segment = segment.expect("a segment");
        let read = decode_segment(segment, &fs::read(segment).unwrap(), MAX).unwrap();
        assert_eq!((read.records, read.entries), (1, 0));
    }
}
