//! One snapshot file, `snap-{index:016x}-{term:016x}.snap`:
//!
//! ```text
//! [magic: 8 bytes "raftsnap"][version: u32 LE][header_len: u32 LE][header_crc: u32 LE]
//! [header: postcard { meta, data_len, data_crc }][data: data_len bytes]
//! ```
//!
//! Written whole to `….snap.tmp`, fsynced, renamed, and the directory fsynced, so under
//! its final name a snapshot file is complete. A record names it with a [`SnapshotRef`]
//! carrying the data's length and checksum, and recovery checks the file against it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write as _};
use std::path::{Path, PathBuf};

use raft_core::{Snapshot, SnapshotMeta, SnapshotWrite};
use serde::{Deserialize, Serialize};

use super::error::StorageError;
use super::layout;
use super::segment::FORMAT_VERSION;

const SNAPSHOT_MAGIC: [u8; 8] = *b"raftsnap";
/// Magic, version, header length, header checksum.
const PREFIX_BYTES: u64 = 20;

/// What a record stores about a snapshot: everything but its bytes, which live in the
/// snapshot file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SnapshotRef {
    pub(crate) meta: SnapshotMeta,
    /// `SnapshotWrite::Received` rather than `Taken`: decides which entries it drops.
    pub(crate) received: bool,
    pub(crate) data_crc: u32,
    pub(crate) data_len: u64,
}

impl SnapshotRef {
    pub(crate) fn of(write: &SnapshotWrite) -> SnapshotRef {
        let snapshot = write.snapshot();
        SnapshotRef {
            meta: snapshot.meta.clone(),
            received: matches!(write, SnapshotWrite::Received(_)),
            data_crc: crc32c::crc32c(&snapshot.data),
            data_len: snapshot.data.len() as u64,
        }
    }

    pub(crate) fn path(&self, dir: &Path) -> PathBuf {
        dir.join(layout::snapshot_name(self.meta.index, self.meta.term))
    }
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Header {
    meta: SnapshotMeta,
    data_len: u64,
    data_crc: u32,
}

/// Writes `snapshot` durably under its final name; returns the file's size in bytes.
pub(crate) fn write(dir: &Path, snapshot: &Snapshot, r: &SnapshotRef) -> Result<u64, StorageError> {
    assert_eq!(r.meta, snapshot.meta);
    assert_eq!(r.data_len, snapshot.data.len() as u64);
    let path = r.path(dir);
    let tmp = layout::tmp_path(&path);
    let header = Header {
        meta: r.meta.clone(),
        data_len: r.data_len,
        data_crc: r.data_crc,
    };
    let header_bytes = postcard::to_allocvec(&header).map_err(|e| StorageError::InvalidWrite {
        reason: format!("cannot encode snapshot header: {e}"),
    })?;
    let header_len = u32::try_from(header_bytes.len()).expect("a snapshot header is small");
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(StorageError::io(&tmp, "create snapshot file"))?;
    let mut out = BufWriter::new(file);
    let written: io::Result<()> = (|| {
        out.write_all(&SNAPSHOT_MAGIC)?;
        out.write_all(&FORMAT_VERSION.to_le_bytes())?;
        out.write_all(&header_len.to_le_bytes())?;
        out.write_all(&crc32c::crc32c(&header_bytes).to_le_bytes())?;
        out.write_all(&header_bytes)?;
        out.write_all(&snapshot.data)?;
        out.flush()
    })();
    written.map_err(StorageError::io(&tmp, "write snapshot file"))?;
    let file = out
        .into_inner()
        .map_err(|e| e.into_error())
        .map_err(StorageError::io(&tmp, "write snapshot file"))?;
    file.sync_all()
        .map_err(StorageError::io(&tmp, "fsync snapshot file"))?;
    fs::rename(&tmp, &path).map_err(StorageError::io(&path, "rename snapshot file into"))?;
    layout::sync_dir(dir)?;
    Ok(PREFIX_BYTES + u64::from(header_len) + r.data_len)
}

/// Reads the snapshot `r` names and checks it against `r`; returns it and the file's size.
pub(crate) fn read(
    dir: &Path,
    r: &SnapshotRef,
    header_bytes_max: u32,
) -> Result<(Snapshot, u64), StorageError> {
    let path = r.path(dir);
    let corrupt = |offset: u64, reason: &str| StorageError::corrupt(&path, offset, reason);
    let file = match File::open(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(corrupt(0, "snapshot file named by the log is missing"));
        }
        opened => opened.map_err(StorageError::io(&path, "open snapshot file"))?,
    };
    let file_bytes = file
        .metadata()
        .map_err(StorageError::io(&path, "stat snapshot file"))?
        .len();
    let mut reader = BufReader::new(file);
    let header = read_header(&mut reader, &path, file_bytes, header_bytes_max)?;
    let expected = Header {
        meta: r.meta.clone(),
        data_len: r.data_len,
        data_crc: r.data_crc,
    };
    if header != expected {
        return Err(corrupt(
            0,
            "snapshot file does not match the record naming it",
        ));
    }
    let snapshot = read_data(&mut reader, &path, header, file_bytes)?;
    Ok((snapshot, file_bytes))
}

/// What `storage::decode_snapshot_file` reports: a whole snapshot file's `bytes` read and
/// checked by the code `read` runs over the file (all but the comparison with the record
/// naming it, which the bytes alone do not have).
pub(crate) fn decode(
    name: &Path,
    bytes: &[u8],
    header_bytes_max: u32,
) -> Result<Snapshot, StorageError> {
    let mut reader = bytes;
    let file_bytes = bytes.len() as u64;
    let header = read_header(&mut reader, name, file_bytes, header_bytes_max)?;
    read_data(&mut reader, name, header, file_bytes)
}

/// Reads the data after the header and checks it against the header's checksum. Its
/// length was checked against the file's size, so the allocation is what the file holds.
fn read_data(
    reader: &mut impl Read,
    path: &Path,
    header: Header,
    file_bytes: u64,
) -> Result<Snapshot, StorageError> {
    let data_offset = file_bytes - header.data_len;
    let corrupt = |reason: &str| StorageError::corrupt(path, data_offset, reason);
    let data_len = usize::try_from(header.data_len)
        .map_err(|_| corrupt("snapshot larger than this machine's memory"))?;
    let mut data = vec![0u8; data_len];
    reader
        .read_exact(&mut data)
        .map_err(StorageError::io(path, "read snapshot file"))?;
    if crc32c::crc32c(&data) != header.data_crc {
        return Err(corrupt("snapshot data checksum mismatch"));
    }
    Ok(Snapshot {
        meta: header.meta,
        data,
    })
}

/// Reads and checks the prefix and header; on return the file's remaining bytes are
/// exactly the data the header announces.
fn read_header(
    reader: &mut impl Read,
    path: &Path,
    file_bytes: u64,
    header_bytes_max: u32,
) -> Result<Header, StorageError> {
    let corrupt = |offset: u64, reason: String| StorageError::corrupt(path, offset, reason);
    if file_bytes < PREFIX_BYTES {
        return Err(corrupt(
            0,
            format!("snapshot file of {file_bytes} bytes is too short"),
        ));
    }
    let mut prefix = [0u8; PREFIX_BYTES as usize];
    let io_err = StorageError::io(path, "read snapshot file");
    reader.read_exact(&mut prefix).map_err(io_err)?;
    let word = |at: usize| u32::from_le_bytes(prefix[at..at + 4].try_into().expect("4 bytes"));
    let (version, header_len, header_crc) = (word(8), word(12), word(16));
    if prefix[0..8] != SNAPSHOT_MAGIC {
        return Err(corrupt(0, "not a snapshot file (bad magic)".to_string()));
    }
    if version != FORMAT_VERSION {
        let reason = format!("format version {version}; this build reads {FORMAT_VERSION}");
        return Err(corrupt(8, reason));
    }
    if header_len > header_bytes_max || u64::from(header_len) > file_bytes - PREFIX_BYTES {
        return Err(corrupt(
            12,
            format!("header length {header_len} out of range"),
        ));
    }
    let mut header_bytes = vec![0u8; header_len as usize];
    let io_err = StorageError::io(path, "read snapshot file");
    reader.read_exact(&mut header_bytes).map_err(io_err)?;
    if crc32c::crc32c(&header_bytes) != header_crc {
        return Err(corrupt(
            PREFIX_BYTES,
            "header checksum mismatch".to_string(),
        ));
    }
    let header: Header = postcard::from_bytes(&header_bytes)
        .map_err(|e| corrupt(PREFIX_BYTES, format!("undecodable header: {e}")))?;
    let data_bytes = file_bytes - PREFIX_BYTES - u64::from(header_len);
    if header.data_len != data_bytes {
        let reason = format!(
            "header announces {} data bytes, file holds {data_bytes}",
            header.data_len
        );
        return Err(corrupt(PREFIX_BYTES, reason));
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(data: &[u8]) -> SnapshotWrite {
        SnapshotWrite::Taken(Snapshot {
            meta: SnapshotMeta {
                index: 9,
                term: 3,
                membership: Default::default(),
            },
            data: data.to_vec(),
        })
    }

    #[test]
    fn round_trip_and_checks() {
        let dir = tempfile::tempdir().unwrap();
        let sw = taken(b"state machine bytes");
        let r = SnapshotRef::of(&sw);
        let bytes = write(dir.path(), sw.snapshot(), &r).unwrap();
        let (back, read_bytes) = read(dir.path(), &r, 1 << 20).unwrap();
        assert_eq!(&back, sw.snapshot());
        assert_eq!(bytes, read_bytes);
        assert_eq!(bytes, fs::metadata(r.path(dir.path())).unwrap().len());

        let mut other = r.clone();
        other.data_crc ^= 1;
        assert!(matches!(
            read(dir.path(), &other, 1 << 20),
            Err(StorageError::Corrupt { .. })
        ));

        let mut contents = fs::read(r.path(dir.path())).unwrap();
        *contents.last_mut().unwrap() ^= 1;
        fs::write(r.path(dir.path()), &contents).unwrap();
        let err = read(dir.path(), &r, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");

        fs::remove_file(r.path(dir.path())).unwrap();
        let err = read(dir.path(), &r, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
