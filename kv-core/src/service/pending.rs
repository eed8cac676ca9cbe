//! Client requests a server has accepted but not answered yet.
//!
//! A write waits for the log entry it was proposed as, named by (term, index): if the
//! entry applied at that index has another term, someone else's command took the slot
//! and the client is told "wrong leader" — never handed another command's outcome. A
//! read waits for ReadIndex confirmation and then for the state machine to reach the
//! confirmed index. Every entry carries a deadline so nothing waits forever in a
//! minority.

use std::collections::BTreeMap;

use raft_core::{Index, Term};

use super::message::ClientId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingWrite {
    pub term: Term,
    pub client: ClientId,
    pub seq: u64,
    pub deadline_tick: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRead<Q> {
    pub client: ClientId,
    pub seq: u64,
    pub query: Q,
    pub deadline_tick: u64,
    /// Set once the leader confirmed the read: serve when applied reaches it.
    pub index: Option<Index>,
}

/// A request leaving the table, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expired {
    pub client: ClientId,
    pub seq: u64,
}

/// Writes by the index their proposal got; reads (of query type `Q`) by the id handed
/// to raft-core.
#[derive(Debug)]
pub struct Pending<Q> {
    writes: BTreeMap<Index, PendingWrite>,
    reads: BTreeMap<u64, PendingRead<Q>>,
    next_read_id: u64,
    capacity: usize,
}

impl<Q> Pending<Q> {
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "a server must accept at least one request");
        Pending {
            writes: BTreeMap::new(),
            reads: BTreeMap::new(),
            next_read_id: 0,
            capacity,
        }
    }

    pub fn len(&self) -> usize {
        self.writes.len() + self.reads.len()
    }

    pub fn is_full(&self) -> bool {
        self.len() >= self.capacity
    }

    pub fn add_write(&mut self, index: Index, write: PendingWrite) {
        assert!(!self.is_full(), "caller checks capacity first");
        let previous = self.writes.insert(index, write);
        assert!(previous.is_none(), "two proposals landed at index {index}");
    }

    /// Registers a read and returns the id to hand to `raft_core::Input::Read`.
    pub fn add_read(&mut self, read: PendingRead<Q>) -> u64 {
        assert!(!self.is_full(), "caller checks capacity first");
        let last = self.reads.last_key_value().map(|(_, r)| r.deadline_tick);
        assert!(
            last.is_none_or(|t| t <= read.deadline_tick),
            "reads' deadlines rise with their ids"
        );
        self.next_read_id += 1;
        self.reads.insert(self.next_read_id, read);
        self.next_read_id
    }

    /// Forgets a read that raft refused.
    pub fn cancel_read(&mut self, id: u64) {
        self.reads.remove(&id);
    }

    /// The write waiting at `index`, if any (removed).
    pub fn take_write(&mut self, index: Index) -> Option<PendingWrite> {
        self.writes.remove(&index)
    }

    /// Writes at or below `index`: their entries were replaced by an installed snapshot,
    /// so their outcome is unknown here.
    pub fn take_writes_through(&mut self, index: Index) -> Vec<PendingWrite> {
        let rest = self.writes.split_off(&(index + 1));
        std::mem::replace(&mut self.writes, rest)
            .into_values()
            .collect()
    }

    /// Writes proposed in a term other than `term`: this node no longer leads them.
    pub fn take_writes_not_of(&mut self, term: Term) -> Vec<PendingWrite> {
        let (keep, gone) = std::mem::take(&mut self.writes)
            .into_iter()
            .partition(|(_, w)| w.term == term);
        self.writes = keep;
        gone.into_values().collect()
    }

    pub fn confirm_read(&mut self, id: u64, index: Index) {
        if let Some(r) = self.reads.get_mut(&id) {
            r.index = Some(index);
        }
    }

    pub fn take_read(&mut self, id: u64) -> Option<PendingRead<Q>> {
        self.reads.remove(&id)
    }

    /// Confirmed reads whose index the state machine has reached (removed).
    pub fn take_reads_servable(&mut self, applied: Index) -> Vec<PendingRead<Q>> {
        let ready: Vec<u64> = self
            .reads
            .iter()
            .filter(|(_, r)| r.index.is_some_and(|i| i <= applied))
            .map(|(&id, _)| id)
            .collect();
        ready
            .iter()
            .filter_map(|id| self.reads.remove(id))
            .collect()
    }

    /// The earliest deadline of a waiting request. Reads' ids, and so their deadlines,
    /// rise in the order they were added; writes are scanned (a leader's, each waiting
    /// for its entry: at most `capacity`).
    pub fn deadline_tick_min(&self) -> Option<u64> {
        let read = self.reads.first_key_value().map(|(_, r)| r.deadline_tick);
        let write = self.writes.values().map(|w| w.deadline_tick).min();
        match (read, write) {
            (Some(r), Some(w)) => Some(r.min(w)),
            (r, w) => r.or(w),
        }
    }

    /// Every request whose deadline has passed (removed).
    pub fn take_expired(&mut self, now_tick: u64) -> Vec<Expired> {
        let mut out = Vec::new();
        self.writes.retain(|_, w| {
            let keep = w.deadline_tick > now_tick;
            if !keep {
                out.push(Expired {
                    client: w.client,
                    seq: w.seq,
                });
            }
            keep
        });
        self.reads.retain(|_, r| {
            let keep = r.deadline_tick > now_tick;
            if !keep {
                out.push(Expired {
                    client: r.client,
                    seq: r.seq,
                });
            }
            keep
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(term: Term, seq: u64, deadline_tick: u64) -> PendingWrite {
        PendingWrite {
            term,
            client: 1,
            seq,
            deadline_tick,
        }
    }

    #[test]
    fn writes_leave_by_index_term_snapshot_and_deadline() {
        let mut p = Pending::<()>::new(8);
        p.add_write(3, write(2, 1, 100));
        p.add_write(4, write(2, 2, 50));
        p.add_write(5, write(3, 3, 100));
        assert_eq!(p.take_write(3).map(|w| w.seq), Some(1));
        assert_eq!(p.take_expired(50), vec![Expired { client: 1, seq: 2 }]);
        assert_eq!(p.take_writes_not_of(2).len(), 1, "term 3 write gone");
        p.add_write(6, write(2, 4, 100));
        p.add_write(9, write(2, 5, 100));
        assert_eq!(p.take_writes_through(6).len(), 1);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn reads_are_served_only_once_confirmed_and_applied() {
        let mut p = Pending::new(2);
        let read = PendingRead {
            client: 1,
            seq: 1,
            query: "k",
            deadline_tick: 10,
            index: None,
        };
        let a = p.add_read(read.clone());
        let b = p.add_read(read);
        assert!(p.is_full());
        assert!(p.take_reads_servable(100).is_empty(), "unconfirmed");
        p.confirm_read(a, 7);
        assert!(p.take_reads_servable(6).is_empty(), "not applied yet");
        assert_eq!(p.take_reads_servable(7).len(), 1);
        p.cancel_read(b);
        assert_eq!(p.len(), 0);
    }
}
