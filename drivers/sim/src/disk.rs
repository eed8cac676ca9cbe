//! The disk model: each node's durable state plus a FIFO of writes not yet synced. A crash
//! discards the FIFO, so exactly the unsynced writes are lost.

use std::collections::VecDeque;

use raft_core::{Entry, HardState, LogPosition, Message, RestoredState, Snapshot};

/// One `Ready`'s deferred half: what to write, and what may happen only once it is durable.
#[derive(Debug)]
pub struct PendingWrite {
    pub snapshot: Option<Snapshot>,
    /// The snapshot came from the leader: it replaces the whole log and the state machine.
    pub install_snapshot: bool,
    pub hard_state: Option<HardState>,
    pub entries: Vec<Entry>,
    pub after_persist: Vec<Message>,
    pub committed: Vec<Entry>,
    /// Completion time (µs) scheduled for this write.
    pub done_at_us: u64,
}

impl PendingWrite {
    pub fn last_position(&self) -> Option<LogPosition> {
        let snapshot = self.snapshot.as_ref().map(|s| s.meta.position());
        self.entries.last().map(Entry::position).or(snapshot)
    }
}

#[derive(Debug, Default)]
pub struct Disk {
    pub durable: RestoredState,
    pub pending: VecDeque<PendingWrite>,
}

impl Disk {
    /// Completion time for a write issued now: writes complete in issue order.
    pub fn next_done_at(&self, now_us: u64, latency_us: u64) -> u64 {
        let after = self.pending.back().map_or(0, |w| w.done_at_us);
        (now_us + latency_us).max(after)
    }

    /// Makes the oldest pending write durable and returns it.
    pub fn sync_one(&mut self) -> Option<PendingWrite> {
        let w = self.pending.pop_front()?;
        if let Some(snapshot) = &w.snapshot {
            self.store_snapshot(snapshot, w.install_snapshot);
        }
        if let Some(hs) = w.hard_state {
            self.durable.hard_state = hs;
        }
        if let Some(first) = w.entries.first() {
            let keep = first
                .index
                .checked_sub(1 + self.snapshot_index())
                .expect("a write never reaches into the snapshot") as usize;
            assert!(
                keep <= self.durable.entries.len(),
                "write leaves a gap in the durable log"
            );
            self.durable.entries.truncate(keep);
            self.durable.entries.extend_from_slice(&w.entries);
        }
        Some(w)
    }

    fn snapshot_index(&self) -> u64 {
        self.durable.snapshot.as_ref().map_or(0, |s| s.meta.index)
    }

    /// Replaces the stored snapshot and drops the entries it covers (all of them when it
    /// came from the leader, since the log it replaces may conflict).
    fn store_snapshot(&mut self, snapshot: &Snapshot, install: bool) {
        let entries = &mut self.durable.entries;
        if install {
            entries.clear();
        } else {
            let covered = entries.partition_point(|e| e.index <= snapshot.meta.index);
            entries.drain(..covered);
        }
        self.durable.snapshot = Some(snapshot.clone());
    }

    /// Bytes of Raft state (hard state and log, not the snapshot) as a driver would store
    /// them: the course's `RaftStateSize`.
    pub fn raft_state_bytes(&self) -> usize {
        let state = (&self.durable.hard_state, &self.durable.entries);
        postcard::experimental::serialized_size(&state).expect("raft state encodes")
    }

    /// A crash: unsynced writes vanish.
    pub fn crash(&mut self) -> usize {
        let lost = self.pending.len();
        self.pending.clear();
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft_core::EntryKind;

    fn write(entries: &[(u64, u64)], done_at_us: u64) -> PendingWrite {
        let entries = entries
            .iter()
            .map(|&(index, term)| Entry {
                term,
                index,
                kind: EntryKind::Normal,
                data: vec![],
            })
            .collect();
        PendingWrite {
            snapshot: None,
            install_snapshot: false,
            hard_state: None,
            entries,
            after_persist: vec![],
            committed: vec![],
            done_at_us,
        }
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
}
