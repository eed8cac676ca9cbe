//! Durable storage for one Raft node: a segmented append-only log of checksummed
//! records, snapshot files written atomically, and recovery that repairs a torn tail but
//! refuses corruption of the durable prefix.
//!
//! # On disk
//!
//! One data directory, locked by `LOCK` (see `lock`) while a [`Storage`] lives:
//!
//! - `seg-{seqno:016x}.log`: a segment: a 16-byte header (magic `raftseg\n`, format
//!   version u32 LE, reserved zero u32), then records framed as
//!   `[len: u32 LE][crc32c: u32 LE over payload][payload]`. A payload is the postcard
//!   encoding of either a **checkpoint** (hard state, snapshot reference, log tail: the
//!   whole state but the snapshot's bytes) or a **write** (one `raft_core::Write`, with
//!   a snapshot reference in place of the snapshot). See `record` and `segment`.
//! - `snap-{index:016x}-{term:016x}.snap`: a snapshot: magic, version, a checksummed
//!   header (meta, data length, data crc), then the data. See `snapshot_file`.
//! - `*.tmp`: a file being written before its rename; never read, removed at recovery.
//!
//! The log is the segments from the newest one that **starts with a checkpoint** to the
//! newest one. Its meaning: start from that checkpoint, apply each write record in order
//! as `raft_core::Write::apply_to` does.
//!
//! # Writing
//!
//! [`Storage::append`] writes one record per `Write` into a buffer; [`Storage::sync`]
//! flushes and fsyncs the segment (and the directory if a segment was created since the
//! last sync). When a segment has reached `segment_bytes_max`, the next append fsyncs it
//! and starts the next one, so every segment but the newest is durable whole.
//!
//! A write carrying a snapshot is done at once and durably: (1) the snapshot file is
//! written as `.tmp`, fsynced, renamed, and the directory fsynced; (2) the write is
//! applied to the in-memory mirror; (3) a new segment starting with a checkpoint of the
//! mirror is written as `.tmp`, fsynced, renamed, and the directory fsynced; (4) older
//! segments (oldest first) and older snapshot files are removed.
//!
//! # The crash argument
//!
//! Each write is one record with a checksum, and a record is acknowledged (by `sync`
//! returning) only once it and everything before it is fsynced, along with the names of
//! the files holding it. So after a crash the log is an acknowledged prefix, plus
//! perhaps a suffix of unacknowledged records of which only the **last** can be
//! incomplete, and only in the **last** segment (earlier segments were fsynced whole
//! before a later one existed). Recovery therefore cuts off a record at the very end of
//! the last segment that is cut short or reads as zeros (blocks never written) and
//! refuses anything else: a checksum mismatch over written bytes, a bad record in an
//! earlier segment, or a bad record followed by more data is damage to acknowledged
//! data, and starting anyway would let this node deny promises it made to its peers.
//!
//! For a snapshot write, a crash after (1) leaves an unreferenced snapshot file (removed
//! at recovery; the state is as before the write); after (3) the new checkpoint is the
//! newest, and recovery starts there (state after the write) and removes what (4) had not.
//! The new segment is complete or absent thanks to its rename; if it were found with a
//! torn checkpoint, it is the last segment with a torn tail, cut off like any other.
//!
//! Recovery checks everything (records, segment sequence, the snapshot file's checksum
//! against its reference) before changing anything, so a refused directory is left as
//! found for an operator to inspect.
//!
//! [`decode_segment`] and [`decode_snapshot_file`] run the same reading code over bytes
//! already in memory (the `decoders` fuzz target; tools that look at one file).
//!
//! # Memory
//!
//! [`Storage`] keeps a mirror of the durable state without snapshot bytes: hard state,
//! snapshot reference, and the entries after the snapshot. That log tail is as large as
//! the service lets it grow between snapshots; taking snapshots keeps it bounded. A
//! checkpoint record is the tail written out, so it must fit `record_bytes_max`.
//! Recovery holds the mirror plus one record at a time (and the latest snapshot's bytes,
//! which it returns); the returned `RestoredState` is a second copy of the tail, which
//! the caller drops once the node is built.
//!
//! # Errors while running
//!
//! A write is checked against the mirror before anything is written, so a write that
//! breaks `Write::apply_to`'s preconditions is refused (`InvalidWrite`) with disk and
//! mirror unchanged. An I/O error part way through an append or sync poisons the
//! `Storage`: what is on disk (and, after a failed fsync, in the page cache) is no
//! longer known, so every later call fails with `Poisoned`, and the way on is to drop
//! it and reopen, letting recovery read what the disk really holds.
//!
//! `Write::must_sync` is the caller's to read: `append` never syncs a write without a
//! snapshot, and `sync` syncs everything appended.

mod decode;
mod error;
mod layout;
mod lock;
mod mirror;
mod record;
mod recovery;
mod report;
mod segment;
mod snapshot_file;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use raft_core::{RestoredState, SnapshotWrite, Write};

pub use decode::{decode_segment, decode_snapshot_file, SegmentContents};
pub use error::StorageError;
pub use report::{RecoveryReport, TornTail};

use lock::DirLock;
use mirror::Mirror;
use record::Record;
use segment::SegmentWriter;
use snapshot_file::SnapshotRef;

/// Limits of one [`Storage`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageOptions {
    /// A segment that has reached this size is closed by the next append.
    pub segment_bytes_max: u64,
    /// The largest record payload written or read; a length prefix beyond it is refused
    /// before anything is allocated.
    pub record_bytes_max: u32,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            segment_bytes_max: 64 * 1024 * 1024,
            record_bytes_max: 256 * 1024 * 1024,
        }
    }
}

/// What [`Storage::open`] found.
#[derive(Debug)]
pub struct Recovered {
    /// What the node starts from (`Node::new`), snapshot bytes included.
    pub state: RestoredState,
    pub report: RecoveryReport,
}

/// The durable state of one node. See the module docs.
#[derive(Debug)]
pub struct Storage {
    dir: PathBuf,
    opts: StorageOptions,
    mirror: Mirror,
    segment: SegmentWriter,
    /// Bytes of the live segments before `segment`.
    sealed_bytes: u64,
    snapshot_bytes: u64,
    /// A segment was created whose name is not yet durable.
    dir_unsynced: bool,
    /// An I/O error left disk and mirror possibly apart: see `StorageError::Poisoned`.
    poisoned: bool,
    _lock: DirLock,
}

const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Storage>();
};

impl Storage {
    /// Creates `dir` if missing, takes an exclusive lock (`DIR/LOCK`) held as long as the
    /// `Storage` lives, and recovers. A fresh directory gets segment 0 with a checkpoint
    /// of `RestoredState::default()`, durably.
    pub fn open(dir: &Path, opts: StorageOptions) -> Result<(Storage, Recovered), StorageError> {
        assert!(opts.segment_bytes_max > 0);
        assert!(opts.record_bytes_max > 0);
        layout::ensure_dir(dir)?;
        let lock = DirLock::acquire(dir)?;
        let recovery = recovery::recover(dir, &opts)?;
        let storage = Storage {
            dir: dir.to_path_buf(),
            opts,
            mirror: recovery.mirror,
            segment: recovery.segment,
            sealed_bytes: recovery.sealed_bytes,
            snapshot_bytes: recovery.snapshot_bytes,
            dir_unsynced: false,
            poisoned: false,
            _lock: lock,
        };
        let recovered = Recovered {
            state: recovery.state,
            report: recovery.report,
        };
        Ok((storage, recovered))
    }

    /// Writes one `raft_core::Write` as one record: after a crash, recovery sees all of
    /// it or none of it. Buffered: durable only after [`Storage::sync`]. A write carrying
    /// a snapshot is done at once and is durable on return (with every write before it).
    ///
    /// A write that breaks `Write::apply_to`'s preconditions (`InvalidWrite`, which also
    /// refuses a snapshot not newer than the stored one), or a write without a snapshot
    /// whose record exceeds `record_bytes_max` (`RecordTooLarge`), is refused with
    /// nothing changed. Any other error, including a checkpoint too large for a snapshot
    /// write, poisons the `Storage`: every later call returns `Poisoned`.
    pub fn append(&mut self, write: &Write) -> Result<(), StorageError> {
        self.check_usable()?;
        match &write.snapshot {
            None => self.append_record(write),
            Some(snapshot) => self.append_snapshot(write, snapshot),
        }
    }

    /// Makes everything appended so far durable.
    pub fn sync(&mut self) -> Result<(), StorageError> {
        self.check_usable()?;
        self.poison_on_error(|storage| {
            storage.segment.sync()?;
            if storage.dir_unsynced {
                layout::sync_dir(&storage.dir)?;
                storage.dir_unsynced = false;
            }
            Ok(())
        })
    }

    /// Bytes of the live segment files (appended bytes, durable or not).
    pub fn log_bytes(&self) -> u64 {
        self.sealed_bytes + self.segment.bytes()
    }

    /// Bytes of the current snapshot file (0 if none).
    pub fn snapshot_bytes(&self) -> u64 {
        self.snapshot_bytes
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn append_record(&mut self, write: &Write) -> Result<(), StorageError> {
        self.mirror
            .check(None, &write.entries)
            .map_err(|reason| StorageError::InvalidWrite { reason })?;
        let record = Record::Write {
            hard_state: write.hard_state,
            snapshot: None,
            entries: Cow::Borrowed(&write.entries),
        };
        let framed = record::frame(&record, self.opts.record_bytes_max)?;
        self.poison_on_error(|storage| {
            if storage.segment.bytes() >= storage.opts.segment_bytes_max
                && storage.segment.has_records()
            {
                storage.rotate()?;
            }
            storage.segment.append(&framed)
        })?;
        self.mirror
            .apply(None, write.hard_state, &write.entries)
            .expect("checked above");
        Ok(())
    }

    /// Closes the full segment (fsynced, so only the newest segment can ever be torn)
    /// and starts the next.
    fn rotate(&mut self) -> Result<(), StorageError> {
        self.segment.sync()?;
        let next = SegmentWriter::create(&self.dir, self.segment.seqno() + 1)?;
        self.sealed_bytes += self.segment.bytes();
        self.segment = next;
        self.dir_unsynced = true;
        Ok(())
    }

    /// Steps (1)–(4) of the module docs.
    fn append_snapshot(
        &mut self,
        write: &Write,
        snapshot: &SnapshotWrite,
    ) -> Result<(), StorageError> {
        let r = SnapshotRef::of(snapshot);
        self.mirror
            .check(Some(&r), &write.entries)
            .map_err(|reason| StorageError::InvalidWrite { reason })?;
        self.poison_on_error(|storage| {
            // Applied before anything is written, so the checkpoint can be framed from the
            // mirror without a copy of the log tail; any failure from here on poisons.
            let mirror = &mut storage.mirror;
            mirror
                .apply(Some(r.clone()), write.hard_state, &write.entries)
                .expect("checked above");
            let framed = record::frame(&mirror.checkpoint(), storage.opts.record_bytes_max)?;
            // The segment it supersedes is complete before a newer one exists.
            storage.segment.sync()?;
            let snapshot_bytes = snapshot_file::write(&storage.dir, snapshot.snapshot(), &r)?;
            let seqno = storage.segment.seqno() + 1;
            let segment = SegmentWriter::create_durable(&storage.dir, seqno, &framed)?;
            storage.segment = segment;
            storage.sealed_bytes = 0;
            storage.snapshot_bytes = snapshot_bytes;
            storage.dir_unsynced = false;
            storage.remove_superseded(seqno, &r)
        })
    }

    /// Removes segments before `seqno` (oldest first) and snapshot files other than
    /// `current`. Not fsynced: a removal lost in a crash is redone by recovery.
    fn remove_superseded(&mut self, seqno: u64, current: &SnapshotRef) -> Result<(), StorageError> {
        let listing = layout::list(&self.dir)?;
        let segments = listing.segments.iter().filter(|(s, _)| *s < seqno);
        let current = current.path(&self.dir);
        let snapshots = listing
            .snapshots
            .iter()
            .filter(|(_, path)| *path != current);
        for (_, path) in segments {
            layout::remove(path)?;
        }
        for (_, path) in snapshots {
            layout::remove(path)?;
        }
        Ok(())
    }

    fn check_usable(&self) -> Result<(), StorageError> {
        match self.poisoned {
            true => Err(StorageError::Poisoned {
                dir: self.dir.clone(),
            }),
            false => Ok(()),
        }
    }

    fn poison_on_error<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let result = f(self);
        if result.is_err() {
            self.poisoned = true;
        }
        result
    }
}
