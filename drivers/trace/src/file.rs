//! Writing trace files (appending, rotating by size) and reading them back (typed
//! errors; a torn tail is reported, not an error).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use raft_core::NodeId;
use thiserror::Error;

use crate::format::{Frame, Header, FORMAT_VERSION, FRAME_BYTES_MAX, FRAME_HEADER_BYTES, MAGIC};

#[derive(Debug, Error)]
pub enum TraceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a trace file (it does not start with RKVTRACE)")]
    NotATrace { path: PathBuf },
    #[error("{path}: trace format version {found}; this build reads version {FORMAT_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error("{path}: corrupt at byte {offset}: {why}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        why: String,
    },
    #[error("{path}: {why}")]
    Shape { path: PathBuf, why: String },
    #[error("{path}: {size_bytes} bytes; a trace file is at most {max_bytes}")]
    TooLarge {
        path: PathBuf,
        size_bytes: u64,
        max_bytes: u64,
    },
    #[error("no trace files in {dir}")]
    Empty { dir: PathBuf },
    #[error("recording stopped after an earlier error")]
    Stopped,
}

/// What a file held: its whole frames, and where a torn tail was cut, if one was.
#[derive(Debug)]
pub struct TraceFile {
    pub path: PathBuf,
    pub frames: Vec<Frame>,
    /// (offset, bytes) of an incomplete last frame: a crash while writing.
    pub torn_tail: Option<(u64, u64)>,
}

/// The largest trace file read: a recorder starts a new file past `--trace-file-bytes`,
/// so its files end within one frame of that; a larger one is not a trace (or is one
/// that would not fit in memory), refused before it is read.
pub const TRACE_FILE_BYTES_MAX: u64 = 4 << 30;

/// Reads one trace file. A last frame cut short is reported in `torn_tail`; anything
/// else that does not decode is an error naming the offset.
pub fn read_file(path: &Path) -> Result<TraceFile, TraceError> {
    let io = |source| TraceError::Io {
        path: path.to_path_buf(),
        source,
    };
    let too_large = |size_bytes| TraceError::TooLarge {
        path: path.to_path_buf(),
        size_bytes,
        max_bytes: TRACE_FILE_BYTES_MAX,
    };
    let file = File::open(path).map_err(io)?;
    let size_bytes = file.metadata().map_err(io)?.len();
    if size_bytes > TRACE_FILE_BYTES_MAX {
        return Err(too_large(size_bytes));
    }
    // The file may still be growing (a node recording into it): read no more than the cap.
    let mut bytes = Vec::with_capacity(size_bytes as usize);
    let mut capped = file.take(TRACE_FILE_BYTES_MAX + 1);
    capped.read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > TRACE_FILE_BYTES_MAX {
        return Err(too_large(bytes.len() as u64));
    }
    read_bytes(path, &bytes)
}

/// [`read_file`] on a trace file's bytes already in memory (a fuzzer's input, a file a
/// caller read itself); `path` only names them in errors and in the result. Each frame's
/// length is checked against [`FRAME_BYTES_MAX`] and the bytes left before its payload
/// is touched, and frames decode from the slice: no length field sizes an allocation.
pub fn read_bytes(path: &Path, bytes: &[u8]) -> Result<TraceFile, TraceError> {
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(TraceError::NotATrace {
            path: path.to_path_buf(),
        });
    }
    let mut frames = Vec::new();
    let mut at = MAGIC.len();
    let corrupt = |offset: usize, why: String| TraceError::Corrupt {
        path: path.to_path_buf(),
        offset: offset as u64,
        why,
    };
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < FRAME_HEADER_BYTES {
            return Ok(torn(path, frames, at, rest.len()));
        }
        let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
        if len > FRAME_BYTES_MAX {
            return Err(corrupt(
                at,
                format!("frame of {len} bytes (at most {FRAME_BYTES_MAX})"),
            ));
        }
        if rest.len() - FRAME_HEADER_BYTES < len {
            return Ok(torn(path, frames, at, rest.len()));
        }
        let payload = &rest[FRAME_HEADER_BYTES..FRAME_HEADER_BYTES + len];
        if crc32c::crc32c(payload) != crc {
            return Err(corrupt(at, "checksum mismatch".into()));
        }
        let frame: Frame = postcard::from_bytes(payload)
            .map_err(|e| corrupt(at, format!("frame does not decode: {e}")))?;
        if let Frame::Header(h) = &frame {
            if h.version != FORMAT_VERSION {
                return Err(TraceError::Version {
                    path: path.to_path_buf(),
                    found: h.version,
                });
            }
        }
        if frames.is_empty() && !matches!(frame, Frame::Header(_)) {
            return Err(corrupt(at, "the first frame is not a header".into()));
        }
        frames.push(frame);
        at += FRAME_HEADER_BYTES + len;
    }
    Ok(TraceFile {
        path: path.to_path_buf(),
        frames,
        torn_tail: None,
    })
}

fn torn(path: &Path, frames: Vec<Frame>, at: usize, bytes: usize) -> TraceFile {
    TraceFile {
        path: path.to_path_buf(),
        frames,
        torn_tail: Some((at as u64, bytes as u64)),
    }
}

/// The file name of node `node`'s `index`-th trace file.
pub fn file_name(node: NodeId, index: u64) -> String {
    format!("node-{node}.{index:06}.trace")
}

/// Node id and index of a trace file's name, if it is one.
fn parse_name(name: &str) -> Option<(NodeId, u64)> {
    let rest = name.strip_prefix("node-")?.strip_suffix(".trace")?;
    let (node, index) = rest.split_once('.')?;
    Some((node.parse().ok()?, index.parse().ok()?))
}

/// Every trace file in `dir`, by node, in order.
pub fn list_dir(dir: &Path) -> Result<BTreeMap<NodeId, Vec<PathBuf>>, TraceError> {
    let io = |source| TraceError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut by_node: BTreeMap<NodeId, Vec<(u64, PathBuf)>> = BTreeMap::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        if let Some((node, index)) = name.to_str().and_then(parse_name) {
            by_node.entry(node).or_default().push((index, entry.path()));
        }
    }
    if by_node.is_empty() {
        return Err(TraceError::Empty {
            dir: dir.to_path_buf(),
        });
    }
    Ok(by_node
        .into_iter()
        .map(|(node, mut files)| {
            files.sort();
            (node, files.into_iter().map(|(_, p)| p).collect())
        })
        .collect())
}

/// Where a recorder's frames go.
pub enum Sink {
    /// Kept in memory (the simulator: written out on request or when a seed fails).
    Memory(Vec<u8>),
    /// Files in a directory, a new one past `file_bytes_max`, at most `files_max` kept.
    Files(Box<RotatingFiles>),
}

pub struct RotatingFiles {
    dir: PathBuf,
    node: NodeId,
    index: u64,
    out: BufWriter<File>,
    bytes: u64,
    file_bytes_max: u64,
    files_max: usize,
}

impl RotatingFiles {
    /// Starts a new file for `node` in `dir`, after any already there.
    pub fn create(
        dir: &Path,
        node: NodeId,
        file_bytes_max: u64,
        files_max: usize,
    ) -> Result<Self, TraceError> {
        assert!(
            file_bytes_max > 0 && files_max > 0,
            "limits must be positive"
        );
        let io = |source| TraceError::Io {
            path: dir.to_path_buf(),
            source,
        };
        fs::create_dir_all(dir).map_err(io)?;
        let next = match list_dir(dir) {
            Ok(by_node) => by_node
                .get(&node)
                .and_then(|files| files.last())
                .and_then(|p| parse_name(p.file_name()?.to_str()?))
                .map_or(0, |(_, i)| i + 1),
            Err(TraceError::Empty { .. }) => 0,
            Err(e) => return Err(e),
        };
        let (out, bytes) = open(dir, node, next)?;
        Ok(RotatingFiles {
            dir: dir.to_path_buf(),
            node,
            index: next,
            out,
            bytes,
            file_bytes_max,
            files_max,
        })
    }

    fn write(&mut self, frame: &[u8]) -> Result<(), TraceError> {
        let path = self.dir.join(file_name(self.node, self.index));
        self.out
            .write_all(frame)
            .map_err(|source| TraceError::Io { path, source })?;
        self.bytes += frame.len() as u64;
        Ok(())
    }

    fn full(&self) -> bool {
        self.bytes >= self.file_bytes_max
    }

    /// Closes this file and opens the next, deleting the oldest beyond `files_max`.
    fn rotate(&mut self) -> Result<(), TraceError> {
        self.flush()?;
        self.index += 1;
        (self.out, self.bytes) = open(&self.dir, self.node, self.index)?;
        if let Some(files) = list_dir(&self.dir)?.get(&self.node) {
            let excess = files.len().saturating_sub(self.files_max);
            for old in &files[..excess] {
                let _ = fs::remove_file(old);
            }
        }
        Ok(())
    }

    pub fn flush(&mut self) -> Result<(), TraceError> {
        let path = self.dir.join(file_name(self.node, self.index));
        self.out
            .flush()
            .map_err(|source| TraceError::Io { path, source })
    }
}

fn open(dir: &Path, node: NodeId, index: u64) -> Result<(BufWriter<File>, u64), TraceError> {
    let path = dir.join(file_name(node, index));
    let file = File::create(&path).map_err(|source| TraceError::Io { path, source })?;
    let mut out = BufWriter::with_capacity(64 << 10, file);
    let path = dir.join(file_name(node, index));
    out.write_all(&MAGIC)
        .map_err(|source| TraceError::Io { path, source })?;
    Ok((out, MAGIC.len() as u64))
}

impl Sink {
    pub fn memory() -> Self {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&MAGIC);
        Sink::Memory(bytes)
    }

    /// Appends one frame. `continue_with` is the header a new file starts with if this
    /// frame filled the current one.
    pub fn write(
        &mut self,
        frame: &Frame,
        continue_with: impl FnOnce() -> Header,
    ) -> Result<(), TraceError> {
        match self {
            Sink::Memory(bytes) => {
                frame.encode_into(bytes);
                Ok(())
            }
            Sink::Files(files) => {
                let mut buf = Vec::new();
                frame.encode_into(&mut buf);
                files.write(&buf)?;
                if files.full() {
                    files.rotate()?;
                    buf.clear();
                    Frame::Header(continue_with()).encode_into(&mut buf);
                    files.write(&buf)?;
                }
                Ok(())
            }
        }
    }

    pub fn flush(&mut self) -> Result<(), TraceError> {
        match self {
            Sink::Memory(_) => Ok(()),
            Sink::Files(files) => files.flush(),
        }
    }
}
