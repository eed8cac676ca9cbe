//! One segment file, `seg-{seqno:016x}.log`: a 16-byte header
//! `[magic: 8 bytes "raftseg\n"][version: u32 LE][reserved: u32, zero]` followed by
//! framed records (see `record`). Appending, reading records back in order, and
//! cutting a torn tail off.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write as _};
use std::path::{Path, PathBuf};

use super::error::StorageError;
use super::layout;
use super::record::{self, Frame, Record, FRAME_HEADER_BYTES};

const SEGMENT_MAGIC: [u8; 8] = *b"raftseg\n";
/// The on-disk format of segment and snapshot files; bumped on any incompatible change.
pub(crate) const FORMAT_VERSION: u32 = 1;
pub(crate) const SEGMENT_HEADER_BYTES: u64 = 16;

/// Appends are gathered here and reach the file on `sync` (or when it fills): one
/// syscall for many small writes.
const WRITE_BUFFER_BYTES: usize = 256 * 1024;

fn header() -> [u8; SEGMENT_HEADER_BYTES as usize] {
    let mut header = [0u8; SEGMENT_HEADER_BYTES as usize];
    header[0..8].copy_from_slice(&SEGMENT_MAGIC);
    header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header
}

/// A segment open for appending: always the newest one.
#[derive(Debug)]
pub(crate) struct SegmentWriter {
    path: PathBuf,
    seqno: u64,
    out: BufWriter<File>,
    /// Header and records appended so far, buffered or not.
    bytes: u64,
}

impl SegmentWriter {
    /// Starts segment `seqno` in place. Its name is durable only after the caller fsyncs
    /// the directory, which `Storage::sync` does before reporting anything in it durable.
    pub(crate) fn create(dir: &Path, seqno: u64) -> Result<SegmentWriter, StorageError> {
        let path = dir.join(layout::segment_name(seqno));
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(StorageError::io(&path, "create segment"))?;
        let mut writer = SegmentWriter::wrap(path, seqno, file, 0);
        writer.append(&header())?;
        Ok(writer)
    }

    /// Starts segment `seqno` with `first_record` already in it, durably: it is written
    /// under a temporary name, fsynced, renamed and the directory fsynced, so the segment
    /// exists complete or not at all.
    pub(crate) fn create_durable(
        dir: &Path,
        seqno: u64,
        first_record: &[u8],
    ) -> Result<SegmentWriter, StorageError> {
        let path = dir.join(layout::segment_name(seqno));
        let tmp = layout::tmp_path(&path);
        // Not `append`: a leftover temporary file is truncated, and the cursor is at the
        // end after the first write either way.
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(StorageError::io(&tmp, "create segment"))?;
        let mut bytes = header().to_vec();
        bytes.extend_from_slice(first_record);
        file.write_all(&bytes)
            .map_err(StorageError::io(&tmp, "write segment"))?;
        file.sync_data()
            .map_err(StorageError::io(&tmp, "fsync segment"))?;
        fs::rename(&tmp, &path).map_err(StorageError::io(&path, "rename segment into"))?;
        layout::sync_dir(dir)?;
        Ok(SegmentWriter::wrap(path, seqno, file, bytes.len() as u64))
    }

    /// Reopens an existing segment (already repaired) to append after its `bytes`.
    pub(crate) fn open(path: &Path, seqno: u64, bytes: u64) -> Result<SegmentWriter, StorageError> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(StorageError::io(path, "open segment"))?;
        let len = file
            .metadata()
            .map_err(StorageError::io(path, "stat segment"))?
            .len();
        assert_eq!(
            len, bytes,
            "recovery leaves the segment exactly its valid bytes"
        );
        Ok(SegmentWriter::wrap(path.to_path_buf(), seqno, file, bytes))
    }

    fn wrap(path: PathBuf, seqno: u64, file: File, bytes: u64) -> SegmentWriter {
        let out = BufWriter::with_capacity(WRITE_BUFFER_BYTES, file);
        SegmentWriter {
            path,
            seqno,
            out,
            bytes,
        }
    }

    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        self.out
            .write_all(bytes)
            .map_err(StorageError::io(&self.path, "write segment"))?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Makes every byte appended so far durable (not the file's name: see `create`).
    pub(crate) fn sync(&mut self) -> Result<(), StorageError> {
        self.out
            .flush()
            .map_err(StorageError::io(&self.path, "write segment"))?;
        self.out
            .get_ref()
            .sync_data()
            .map_err(StorageError::io(&self.path, "fsync segment"))
    }

    pub(crate) fn seqno(&self) -> u64 {
        self.seqno
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Whether any record follows the header.
    pub(crate) fn has_records(&self) -> bool {
        self.bytes > SEGMENT_HEADER_BYTES
    }
}

/// Cuts the file to `len` bytes, durably.
pub(crate) fn truncate(path: &Path, len: u64) -> Result<(), StorageError> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(StorageError::io(path, "open segment"))?;
    file.set_len(len)
        .map_err(StorageError::io(path, "truncate segment"))?;
    file.sync_all()
        .map_err(StorageError::io(path, "fsync segment"))
}

/// What opening a segment for reading found.
#[derive(Debug)]
pub(crate) enum Opened<R = BufReader<File>> {
    Reader(SegmentReader<R>),
    /// The header is missing, cut short or zeros: the file was created but never
    /// fsynced, so nothing in it was ever reported durable.
    TornHeader {
        file_bytes: u64,
    },
}

/// What the next read found.
#[derive(Debug)]
pub(crate) enum Next {
    Record {
        record: Record<'static>,
        offset: u64,
    },
    End,
    Torn {
        offset: u64,
        reason: &'static str,
    },
}

/// Reads a segment's records in order, one in memory at a time. Generic over the reader
/// so that a segment's bytes already in memory (`storage::decode_segment`) go through
/// the same checks as a file.
#[derive(Debug)]
pub(crate) struct SegmentReader<R = BufReader<File>> {
    path: PathBuf,
    reader: R,
    offset: u64,
    file_bytes: u64,
    record_bytes_max: u32,
}

impl SegmentReader {
    /// Opens and checks the header; a damaged (not torn) header is `Corrupt`.
    pub(crate) fn open(path: &Path, record_bytes_max: u32) -> Result<Opened, StorageError> {
        let file = File::open(path).map_err(StorageError::io(path, "open segment"))?;
        let file_bytes = file
            .metadata()
            .map_err(StorageError::io(path, "stat segment"))?
            .len();
        let reader = BufReader::with_capacity(64 * 1024, file);
        SegmentReader::start(path, reader, file_bytes, record_bytes_max)
    }
}

impl<R: Read> SegmentReader<R> {
    /// Checks the header of a segment `file_bytes` long that `reader` reads from its
    /// start; `path` names it in errors.
    pub(crate) fn start(
        path: &Path,
        mut reader: R,
        file_bytes: u64,
        record_bytes_max: u32,
    ) -> Result<Opened<R>, StorageError> {
        let mut found = [0u8; SEGMENT_HEADER_BYTES as usize];
        let found_bytes = usize::try_from(file_bytes.min(SEGMENT_HEADER_BYTES)).expect("<= 16");
        reader
            .read_exact(&mut found[..found_bytes])
            .map_err(StorageError::io(path, "read segment"))?;
        let found = &found[..found_bytes];
        let expected = header();
        let zeros = found.iter().all(|&b| b == 0);
        if zeros || (found_bytes < expected.len() && expected.starts_with(found)) {
            return Ok(Opened::TornHeader { file_bytes });
        }
        if found_bytes < expected.len() || found[0..8] != SEGMENT_MAGIC {
            return Err(StorageError::corrupt(
                path,
                0,
                "not a segment file (bad magic)",
            ));
        }
        if found != expected {
            let version = u32::from_le_bytes(found[8..12].try_into().expect("4 bytes"));
            let reason = format!("format version {version}; this build reads {FORMAT_VERSION}");
            return Err(StorageError::corrupt(path, 8, reason));
        }
        Ok(Opened::Reader(SegmentReader {
            path: path.to_path_buf(),
            reader,
            offset: SEGMENT_HEADER_BYTES,
            file_bytes,
            record_bytes_max,
        }))
    }

    /// The next record; damage that is not a torn tail is `Corrupt` at its offset.
    pub(crate) fn next(&mut self) -> Result<Next, StorageError> {
        let offset = self.offset;
        let remaining_bytes = self.file_bytes - offset;
        let frame = record::read_frame(&mut self.reader, remaining_bytes, self.record_bytes_max)
            .map_err(StorageError::io(&self.path, "read segment"))?;
        match frame {
            Frame::End => Ok(Next::End),
            Frame::Torn(reason) => Ok(Next::Torn { offset, reason }),
            Frame::Bad(reason) => Err(StorageError::corrupt(&self.path, offset, reason)),
            Frame::Payload(payload) => {
                let record = record::decode(&payload)
                    .map_err(|reason| StorageError::corrupt(&self.path, offset, reason))?;
                self.offset += FRAME_HEADER_BYTES + payload.len() as u64;
                Ok(Next::Record { record, offset })
            }
        }
    }

    pub(crate) fn file_bytes(&self) -> u64 {
        self.file_bytes
    }
}
