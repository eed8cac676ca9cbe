//! The disk model: each node's durable state plus a FIFO of writes not yet synced. A crash
//! discards the FIFO, so exactly the unsynced writes are lost.
//!
//! The driver contract requires each `Ready`'s write to be atomic (see `raft_core::Ready`).
//! The disk achieves it the way a real driver would: every write is one checksummed
//! record appended to a log, and a write is durable once its record is whole. A crash in
//! the middle of a write leaves a torn prefix of its record at the end of the log;
//! recovery (`Disk::recover`, at every restart) decodes records up to the first torn
//! one, cuts it off, and must arrive at exactly the state of the completed writes.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use raft_core::{RestoredState, Write};

use crate::digest::Fnv;

/// Record header: payload length (u32) and its FNV-1a digest (u64), little-endian.
const HEADER_BYTES: usize = 12;
/// The record log is rewritten as one checkpoint record once it grows past this, or past
/// twice the last checkpoint (so rewriting costs amortized constant time per byte).
const LOG_BYTES_MAX: usize = 8 << 20;

/// One record of the log, as written (borrowing) ...
#[derive(Serialize)]
enum RecordRef<'a> {
    Checkpoint(&'a RestoredState),
    Write(&'a Write),
}

/// ... and as read back.
#[derive(Deserialize)]
enum Record {
    Checkpoint(RestoredState),
    Write(Write),
}

/// A write handed out by the node's pipeline, not yet durable.
#[derive(Debug)]
pub struct PendingWrite {
    pub write: Write,
    /// Completion time (µs) scheduled for this write.
    pub done_at_us: u64,
}

#[derive(Debug, Default)]
pub struct Disk {
    /// The state the completed writes add up to.
    pub durable: RestoredState,
    pub pending: VecDeque<PendingWrite>,
    /// The completed writes as framed records (and any torn tail a crash left).
    log: Vec<u8>,
    /// Size of the checkpoint the log starts with.
    checkpoint_bytes: usize,
    crashes: u64,
    /// Bytes of torn records recovery has cut off.
    pub torn_bytes_repaired: u64,
}

impl Disk {
    /// Completion time for a write issued now: writes complete in issue order.
    pub fn next_done_at(&self, now_us: u64, latency_us: u64) -> u64 {
        let after = self.pending.back().map_or(0, |w| w.done_at_us);
        (now_us + latency_us).max(after)
    }

    /// Makes the oldest pending write durable (its record whole) and returns it.
    pub fn sync_one(&mut self) -> Option<PendingWrite> {
        let w = self.pending.pop_front()?;
        self.log = append_frame(std::mem::take(&mut self.log), &RecordRef::Write(&w.write));
        w.write.apply_to(&mut self.durable);
        let log_max = LOG_BYTES_MAX.max(2 * self.checkpoint_bytes);
        if w.write.snapshot.is_some() || self.log.len() > log_max {
            // Compaction: one checkpoint replaces the records it sums up.
            self.log = frame(&RecordRef::Checkpoint(&self.durable));
            self.checkpoint_bytes = self.log.len();
        }
        Some(w)
    }

    /// What a restarting node reads: the records up to the first torn one, which is cut
    /// off. Atomic writes mean that is exactly the state of the completed writes.
    pub fn recover(&mut self) -> RestoredState {
        let mut state = RestoredState::default();
        let mut at = 0;
        while let Some((record, next)) = read_record(&self.log[at..]) {
            match record {
                Record::Checkpoint(base) => state = base,
                Record::Write(write) => write.apply_to(&mut state),
            }
            at += next;
        }
        self.torn_bytes_repaired += (self.log.len() - at) as u64;
        self.log.truncate(at);
        assert_eq!(
            state, self.durable,
            "recovery must find exactly the completed writes"
        );
        state
    }

    /// Bytes of Raft state (hard state and log, not the snapshot) as a driver would store
    /// them: the course's `RaftStateSize`.
    pub fn raft_state_bytes(&self) -> usize {
        let state = (&self.durable.hard_state, &self.durable.entries);
        postcard::experimental::serialized_size(&state).expect("raft state encodes")
    }

    /// A crash: unsynced writes vanish; the oldest of them was being written, and leaves
    /// a torn prefix of its record (its length a fixed function of the record and the
    /// crash count, so runs stay reproducible).
    pub fn crash(&mut self) -> usize {
        self.crashes += 1;
        if let Some(w) = self.pending.front() {
            let bytes = frame(&RecordRef::Write(&w.write));
            let mut h = Fnv::default();
            h.write(&bytes);
            h.write(&self.crashes.to_le_bytes());
            let torn = (h.finish() % bytes.len() as u64) as usize;
            self.log.extend_from_slice(&bytes[..torn]);
        }
        let lost = self.pending.len();
        self.pending.clear();
        lost
    }
}

fn frame(record: &RecordRef) -> Vec<u8> {
    append_frame(Vec::new(), record)
}

/// `log` with `record` framed at its end, encoded in place (no intermediate buffer: this
/// runs for every write).
fn append_frame(mut log: Vec<u8>, record: &RecordRef) -> Vec<u8> {
    let start = log.len();
    log.extend_from_slice(&[0; HEADER_BYTES]);
    let mut log = postcard::to_extend(record, log).expect("a record encodes");
    let payload = &log[start + HEADER_BYTES..];
    let mut h = Fnv::default();
    h.write(payload);
    let len = u32::try_from(payload.len()).expect("a record under 4 GiB");
    let digest = h.finish();
    log[start..start + 4].copy_from_slice(&len.to_le_bytes());
    log[start + 4..start + HEADER_BYTES].copy_from_slice(&digest.to_le_bytes());
    log
}

/// The record at the start of `bytes` and its framed length; `None` if it is torn.
fn read_record(bytes: &[u8]) -> Option<(Record, usize)> {
    let header = bytes.get(..HEADER_BYTES)?;
    let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
    let digest = u64::from_le_bytes(header[4..].try_into().expect("8 bytes"));
    let payload = bytes.get(HEADER_BYTES..HEADER_BYTES + len)?;
    let mut h = Fnv::default();
    h.write(payload);
    if h.finish() != digest {
        return None;
    }
    let record = postcard::from_bytes(payload).expect("a whole record decodes");
    Some((record, HEADER_BYTES + len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft_core::{Entry, EntryKind};

    fn write(entries: &[(u64, u64)], done_at_us: u64) -> PendingWrite {
        let entries = entries
            .iter()
            .map(|&(index, term)| Entry {
                term,
                index,
                kind: EntryKind::Normal,
                data: vec![].into(),
            })
            .collect();
        let write = Write {
            id: done_at_us,
            snapshot: None,
            hard_state: None,
            entries,
            must_sync: true,
        };
        PendingWrite { write, done_at_us }
    }

    #[test]
    fn sync_truncates_conflicting_suffix_and_crash_loses_pending() {
        let mut disk = Disk::default();
        disk.pending.push_back(write(&[(1, 1), (2, 1), (3, 1)], 10));
        disk.pending.push_back(write(&[(2, 2)], 20));
        disk.pending.push_back(write(&[(3, 2)], 30));
        assert_eq!(disk.next_done_at(0, 5), 30, "writes complete in order");
        disk.sync_one();
        disk.sync_one();
        let terms: Vec<u64> = disk.durable.entries.iter().map(|e| e.term).collect();
        assert_eq!(terms, vec![1, 2], "entry 3 of term 1 was replaced");
        assert_eq!(disk.crash(), 1, "the unsynced write is lost");
        assert_eq!(disk.durable.entries.len(), 2);
        assert!(disk.sync_one().is_none());
    }

    #[test]
    fn a_torn_write_is_cut_off_at_recovery_and_nothing_else_is_lost() {
        for crashes in 0..50 {
            let mut disk = Disk::default();
            disk.pending.push_back(write(&[(1, 1), (2, 1)], 10));
            disk.pending.push_back(write(&[(3, 1), (4, 1)], 20));
            disk.sync_one();
            disk.crashes = crashes; // vary where the second write tears
            disk.crash();
            let recovered = disk.recover();
            assert_eq!(recovered.entries.len(), 2, "exactly the completed write");
            // Recovery cut the torn bytes: later writes append cleanly.
            disk.pending.push_back(write(&[(3, 2)], 30));
            disk.sync_one();
            assert_eq!(disk.recover().entries.len(), 3);
        }
    }
}
