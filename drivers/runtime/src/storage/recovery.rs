//! Recovery: find the newest checkpoint, replay the log after it, check the snapshot it
//! names, and only then repair (cut a torn tail, remove leftovers). A directory that
//! fails any check is refused untouched.

use std::io::Read;
use std::path::{Path, PathBuf};

use raft_core::RestoredState;

use super::error::StorageError;
use super::layout::{self, Listing};
use super::mirror::Mirror;
use super::record::{self, Record};
use super::segment::{self, Next, Opened, SegmentReader, SegmentWriter, SEGMENT_HEADER_BYTES};
use super::snapshot_file;
use super::{RecoveryReport, SegmentContents, StorageOptions, TornTail};

/// What `Storage::open` continues from.
#[derive(Debug)]
pub(crate) struct Recovery {
    pub(crate) mirror: Mirror,
    pub(crate) state: RestoredState,
    pub(crate) report: RecoveryReport,
    /// The newest segment, open for appending.
    pub(crate) segment: SegmentWriter,
    /// Bytes of the live segments before `segment`.
    pub(crate) sealed_bytes: u64,
    pub(crate) snapshot_bytes: u64,
}

/// The end of the last segment, where an append was interrupted.
#[derive(Debug)]
struct Torn {
    offset: u64,
    file_bytes: u64,
    /// Not even the segment header is there: the whole file goes.
    header: bool,
}

/// The log after the checkpoint, read back.
#[derive(Debug, Default)]
struct Replay {
    mirror: Mirror,
    records_read: u64,
    /// The bytes each replayed segment keeps (all of it but a torn tail).
    kept_bytes: Vec<u64>,
    torn: Option<Torn>,
}

pub(crate) fn recover(dir: &Path, opts: &StorageOptions) -> Result<Recovery, StorageError> {
    let listing = layout::list(dir)?;
    if listing.segments.is_empty() {
        return fresh(dir, opts, &listing);
    }
    let start = find_checkpoint(&listing.segments, opts.record_bytes_max)?;
    let chain = &listing.segments[start..];
    check_consecutive(chain)?;
    let replay = replay(chain, opts.record_bytes_max)?;
    let snapshot = match &replay.mirror.snapshot {
        Some(r) => Some(snapshot_file::read(dir, r, opts.record_bytes_max)?),
        None => None,
    };
    let mut report = RecoveryReport {
        segments_read: chain.len(),
        records_read: replay.records_read,
        torn_tail: None,
        files_removed: Vec::new(),
        fresh: false,
    };
    let keep_snapshot = replay.mirror.snapshot.as_ref().map(|r| r.path(dir));
    repair(dir, &listing, start, &replay, keep_snapshot, &mut report)?;
    let mut live: Vec<(u64, &PathBuf, u64)> = chain
        .iter()
        .zip(&replay.kept_bytes)
        .map(|((seqno, path), bytes)| (*seqno, path, *bytes))
        .collect();
    let (seqno, path, bytes) = live.pop().expect("the checkpoint's segment is live");
    let segment = SegmentWriter::open(path, seqno, bytes)?;
    let (snapshot, snapshot_bytes) = snapshot.map_or((None, 0), |(s, bytes)| (Some(s), bytes));
    Ok(Recovery {
        state: replay.mirror.clone().into_restored(snapshot),
        mirror: replay.mirror,
        report,
        segment,
        sealed_bytes: live.iter().map(|(_, _, bytes)| bytes).sum(),
        snapshot_bytes,
    })
}

/// No segment yet: a new node. Segment 0 starts with a checkpoint of the empty state.
fn fresh(dir: &Path, opts: &StorageOptions, listing: &Listing) -> Result<Recovery, StorageError> {
    // Snapshots are written only after segment 0 exists, and segments are removed only
    // once a newer one is durable: a snapshot without segments means the log was lost.
    if let Some((_, path)) = listing.snapshots.first() {
        let reason = "snapshot file without any log segment: the log was removed";
        return Err(StorageError::corrupt(path, 0, reason));
    }
    for path in &listing.temps {
        layout::remove(path)?;
    }
    let mirror = Mirror::default();
    let first = record::frame(&mirror.checkpoint(), opts.record_bytes_max)?;
    // Also makes the removals above durable: it fsyncs the directory.
    let segment = SegmentWriter::create_durable(dir, 0, &first)?;
    let report = RecoveryReport {
        segments_read: 0,
        records_read: 0,
        torn_tail: None,
        files_removed: listing.temps.clone(),
        fresh: true,
    };
    Ok(Recovery {
        state: RestoredState::default(),
        mirror,
        report,
        segment,
        sealed_bytes: 0,
        snapshot_bytes: 0,
    })
}

/// The newest segment whose first record is a valid checkpoint. Older segments are
/// leftovers of a snapshot write interrupted before it removed them.
fn find_checkpoint(
    segments: &[(u64, PathBuf)],
    record_bytes_max: u32,
) -> Result<usize, StorageError> {
    let mut oldest_problem = None;
    for (i, (_, path)) in segments.iter().enumerate().rev() {
        let first = SegmentReader::open(path, record_bytes_max).and_then(|opened| match opened {
            Opened::Reader(mut reader) => reader.next().map(Some),
            Opened::TornHeader { .. } => Ok(None),
        });
        match first {
            Ok(Some(Next::Record {
                record: Record::Checkpoint { .. },
                ..
            })) => return Ok(i),
            Ok(_) => oldest_problem = None,
            Err(e @ StorageError::Corrupt { .. }) => oldest_problem = Some(e),
            Err(e) => return Err(e),
        }
    }
    let (_, oldest) = &segments[0];
    let reason = "no segment starts with a checkpoint record";
    Err(oldest_problem
        .unwrap_or_else(|| StorageError::corrupt(oldest, SEGMENT_HEADER_BYTES, reason)))
}

/// A missing segment in the middle would silently drop the writes it held.
fn check_consecutive(chain: &[(u64, PathBuf)]) -> Result<(), StorageError> {
    for pair in chain.windows(2) {
        let ((before, _), (after, path)) = (&pair[0], &pair[1]);
        if before.checked_add(1) != Some(*after) {
            let reason = format!("segment {:016x} is missing", before + 1);
            return Err(StorageError::corrupt(path, 0, reason));
        }
    }
    Ok(())
}

fn replay(chain: &[(u64, PathBuf)], record_bytes_max: u32) -> Result<Replay, StorageError> {
    let mut replay = Replay::default();
    for (i, (_, path)) in chain.iter().enumerate() {
        let is_last = i + 1 == chain.len();
        replay_segment(path, is_last, record_bytes_max, &mut replay)?;
    }
    assert!(
        replay.records_read > 0,
        "the first segment starts with a checkpoint"
    );
    Ok(replay)
}

/// Replays one segment. Only the last may end torn: every other one was fsynced whole
/// before the next was created, so damage there is damage to acknowledged data.
fn replay_segment(
    path: &Path,
    is_last: bool,
    record_bytes_max: u32,
    replay: &mut Replay,
) -> Result<(), StorageError> {
    let opened = SegmentReader::open(path, record_bytes_max)?;
    replay_opened(path, opened, is_last, replay)
}

/// What `storage::decode_segment` reports: `bytes` replayed as the one (so last) segment
/// of a log, by the code recovery runs over a file.
pub(crate) fn replay_bytes(
    name: &Path,
    bytes: &[u8],
    record_bytes_max: u32,
) -> Result<SegmentContents, StorageError> {
    let file_bytes = bytes.len() as u64;
    let opened = SegmentReader::start(name, bytes, file_bytes, record_bytes_max)?;
    let mut replay = Replay::default();
    replay_opened(name, opened, true, &mut replay)?;
    Ok(SegmentContents {
        records: replay.records_read,
        entries: replay.mirror.entries.len(),
        torn_tail_offset: replay.torn.map(|torn| torn.offset),
    })
}

fn replay_opened<R: Read>(
    path: &Path,
    opened: Opened<R>,
    is_last: bool,
    replay: &mut Replay,
) -> Result<(), StorageError> {
    let mut reader = match opened {
        Opened::Reader(reader) => reader,
        Opened::TornHeader { file_bytes } if is_last => {
            replay.torn = Some(Torn {
                offset: 0,
                file_bytes,
                header: true,
            });
            return Ok(());
        }
        Opened::TornHeader { .. } => {
            let reason = "segment header missing in a segment that is not the last";
            return Err(StorageError::corrupt(path, 0, reason));
        }
    };
    loop {
        match reader.next()? {
            Next::End => {
                replay.kept_bytes.push(reader.file_bytes());
                return Ok(());
            }
            Next::Torn { offset, .. } if is_last => {
                replay.kept_bytes.push(offset);
                let file_bytes = reader.file_bytes();
                let header = false;
                replay.torn = Some(Torn {
                    offset,
                    file_bytes,
                    header,
                });
                return Ok(());
            }
            Next::Torn { offset, reason } => {
                let reason = format!("{reason}, in a segment that is not the last");
                return Err(StorageError::corrupt(path, offset, reason));
            }
            Next::Record { record, offset } => {
                apply(replay, record).map_err(|r| StorageError::corrupt(path, offset, r))?;
            }
        }
    }
}

fn apply(replay: &mut Replay, record: Record<'static>) -> Result<(), String> {
    let first = replay.records_read == 0;
    match record {
        Record::Checkpoint {
            hard_state,
            snapshot,
            entries,
        } if first => {
            replay.mirror = Mirror::from_checkpoint(hard_state, snapshot, entries.into_owned())?;
        }
        Record::Checkpoint { .. } => return Err("checkpoint after the log's start".to_string()),
        Record::Write { .. } if first => return Err("log does not start with a checkpoint".into()),
        Record::Write {
            hard_state,
            snapshot,
            entries,
        } => replay.mirror.apply(snapshot, hard_state, &entries)?,
    }
    replay.records_read += 1;
    Ok(())
}

/// Cuts the torn tail and removes what recovery did not use: segments before the
/// checkpoint (oldest first), snapshot files the log does not name, temporary files.
fn repair(
    dir: &Path,
    listing: &Listing,
    start: usize,
    replay: &Replay,
    keep_snapshot: Option<PathBuf>,
    report: &mut RecoveryReport,
) -> Result<(), StorageError> {
    let mut removed = Vec::new();
    if let Some(torn) = &replay.torn {
        let (_, path) = listing.segments.last().expect("a torn segment exists");
        report.torn_tail = Some(TornTail {
            file: path.clone(),
            offset: torn.offset,
            bytes_dropped: torn.file_bytes - torn.offset,
        });
        if torn.header {
            layout::remove(path)?;
            removed.push(path.clone());
        } else {
            segment::truncate(path, torn.offset)?;
        }
    }
    let old_segments = listing.segments[..start].iter().map(|(_, path)| path);
    let snapshots = listing.snapshots.iter().map(|(_, path)| path);
    let unused_snapshots = snapshots.filter(|path| Some(*path) != keep_snapshot.as_ref());
    for path in old_segments.chain(unused_snapshots).chain(&listing.temps) {
        layout::remove(path)?;
        removed.push(path.clone());
    }
    if !removed.is_empty() {
        layout::sync_dir(dir)?;
    }
    report.files_removed = removed;
    Ok(())
}
