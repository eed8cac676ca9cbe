//! The disk model: each node's durable state plus a FIFO of writes not yet synced. A crash
//! discards the FIFO, so exactly the unsynced writes are lost.

use std::collections::VecDeque;

use raft_core::{Entry, HardState, LogPosition, Message, RestoredState};

/// One `Ready`'s deferred half: what to write, and what may happen only once it is durable.
#[derive(Debug)]
pub struct PendingWrite {
    pub hard_state: Option<HardState>,
    pub entries: Vec<Entry>,
    pub after_persist: Vec<Message>,
    pub committed: Vec<Entry>,
    /// Completion time (µs) scheduled for this write.
    pub done_at_us: u64,
}

impl PendingWrite {
    pub fn last_position(&self) -> Option<LogPosition> {
        self.entries.last().map(Entry::position)
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
        if let Some(hs) = w.hard_state {
            self.durable.hard_state = hs;
        }
        if let Some(first) = w.entries.first() {
            let keep = (first.index - 1) as usize;
            assert!(
                keep <= self.durable.entries.len(),
                "write leaves a gap in the durable log"
            );
            self.durable.entries.truncate(keep);
            self.durable.entries.extend_from_slice(&w.entries);
        }
        Some(w)
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
