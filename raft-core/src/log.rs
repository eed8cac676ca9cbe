//! The replicated log as one node holds it, with the bookkeeping the driver contract needs:
//! which suffix has not yet been handed out for persistence, how far writes are known
//! durable, how far entries are committed and handed to the application.
//!
//! Entries up to `snapshot.index` have been compacted into a snapshot; the log keeps only
//! the snapshot's position (so the entry after it can still be matched) and the suffix.
//!
//! Invariants (asserted): indexes are contiguous from `snapshot.index + 1`, terms never
//! decrease, `snapshot.index <= applied <= committed <= last_index`,
//! `snapshot.index <= persisted <= last_index`.

use crate::types::{Entry, Index, LogPosition, SnapshotMeta, Term};

#[derive(Clone, Debug, Default)]
pub struct RaftLog {
    /// The compacted prefix ends here; `(0, 0)` when nothing was compacted.
    snapshot: LogPosition,
    /// `entries[i].index == snapshot.index + i + 1`.
    entries: Vec<Entry>,
    /// `Entry::size_bytes` summed over `entries`, kept as they change: drivers and the
    /// service ask for it on every step to decide when to compact.
    entries_bytes: usize,
    committed: Index,
    applied: Index,
    /// Highest index the driver reported durable (`Input::Persisted`).
    persisted: Index,
    /// Lowest index written since the last `Ready`; that suffix goes out for persistence.
    unhanded_from: Option<Index>,
}

impl RaftLog {
    /// A log restored from disk: everything in it is durable; the application holds the
    /// snapshot's state, so nothing after it is applied yet.
    pub(crate) fn restored(snapshot: LogPosition, entries: Vec<Entry>, committed: Index) -> Self {
        let log = RaftLog {
            persisted: snapshot.index + entries.len() as Index,
            entries_bytes: bytes_of(&entries),
            snapshot,
            entries,
            committed: committed.max(snapshot.index),
            applied: snapshot.index,
            unhanded_from: None,
        };
        log.assert_invariants();
        log
    }

    /// The position of the last compacted entry (`(0, 0)` if none).
    pub fn snapshot_position(&self) -> LogPosition {
        self.snapshot
    }

    /// The first index still held as an entry.
    pub fn first_index(&self) -> Index {
        self.snapshot.index + 1
    }

    pub fn last_index(&self) -> Index {
        self.snapshot.index + self.entries.len() as Index
    }

    pub fn last_term(&self) -> Term {
        self.entries.last().map_or(self.snapshot.term, |e| e.term)
    }

    pub fn committed(&self) -> Index {
        self.committed
    }

    pub fn applied(&self) -> Index {
        self.applied
    }

    pub fn persisted(&self) -> Index {
        self.persisted
    }

    /// The term at `index`: the snapshot's position and held entries are known; compacted
    /// and future indexes are not.
    pub fn term(&self, index: Index) -> Option<Term> {
        if index == self.snapshot.index {
            return Some(self.snapshot.term);
        }
        self.entry(index).map(|e| e.term)
    }

    pub fn entry(&self, index: Index) -> Option<&Entry> {
        let pos = usize::try_from(index.checked_sub(self.first_index())?).ok()?;
        self.entries.get(pos)
    }

    /// Held entries in `[lo, hi]`, clamped to what the log still holds.
    pub fn entries(&self, lo: Index, hi: Index) -> &[Entry] {
        let lo = lo.max(self.first_index());
        let hi = hi.min(self.last_index());
        if lo > hi {
            return &[];
        }
        let base = self.first_index();
        &self.entries[(lo - base) as usize..=(hi - base) as usize]
    }

    /// Bytes of entries held in memory (what compaction bounds).
    pub fn entries_bytes(&self) -> usize {
        self.entries_bytes
    }

    pub fn matches(&self, index: Index, term: Term) -> bool {
        self.term(index) == Some(term)
    }

    /// Raft §5.4.1: a candidate's log is at least as up to date as ours.
    pub fn is_up_to_date(&self, last_index: Index, last_term: Term) -> bool {
        last_term > self.last_term()
            || (last_term == self.last_term() && last_index >= self.last_index())
    }

    /// The last index holding term `term`, if any (terms are sorted, so binary search).
    pub fn last_index_of_term(&self, term: Term) -> Option<Index> {
        let end = self.entries.partition_point(|e| e.term <= term);
        if end > 0 {
            return (self.entries[end - 1].term == term)
                .then_some(self.snapshot.index + end as Index);
        }
        (self.snapshot.term == term && self.snapshot.index > 0).then_some(self.snapshot.index)
    }

    /// The first held index whose term equals the term at `index` (which must be known);
    /// the snapshot's own index if the term reaches back into it.
    pub fn first_index_of_term_at(&self, index: Index) -> Index {
        let term = self
            .term(index)
            .expect("first_index_of_term_at: index in log");
        if index == self.snapshot.index {
            return index;
        }
        self.snapshot.index + self.entries.partition_point(|e| e.term < term) as Index + 1
    }

    /// The first of `entries` that is not already in the log with the same term.
    pub fn find_conflict(&self, entries: &[Entry]) -> Option<Index> {
        entries
            .iter()
            .find(|e| !self.matches(e.index, e.term))
            .map(|e| e.index)
    }

    /// Append at the end (leader path).
    pub(crate) fn append(&mut self, entry: Entry) {
        assert_eq!(
            entry.index,
            self.last_index() + 1,
            "append must extend the log"
        );
        assert!(
            entry.term >= self.last_term(),
            "terms never decrease in a log"
        );
        self.mark_written(entry.index);
        self.entries_bytes += entry.size_bytes();
        self.entries.push(entry);
    }

    /// Replace everything from `entries[0].index` on with `entries` (follower path). The
    /// caller guarantees no committed entry is replaced.
    pub(crate) fn truncate_and_append(&mut self, entries: Vec<Entry>) {
        let Some(first) = entries.first() else { return };
        assert!(
            first.index > self.committed,
            "never overwrite a committed entry"
        );
        assert!(first.index <= self.last_index() + 1, "no gaps");
        assert!(
            first.index > self.snapshot.index,
            "never overwrite the snapshot"
        );
        let keep = (first.index - self.first_index()) as usize;
        self.entries_bytes -= bytes_of(&self.entries[keep..]);
        self.entries.truncate(keep);
        self.entries_bytes += bytes_of(&entries);
        self.persisted = self.persisted.min(first.index - 1);
        self.mark_written(first.index);
        self.entries.extend(entries);
        self.assert_invariants();
    }

    fn mark_written(&mut self, index: Index) {
        self.unhanded_from = Some(self.unhanded_from.map_or(index, |i| i.min(index)));
    }

    /// Up to `bytes_max` worth of entries from `lo` (always at least one if any exist).
    pub(crate) fn slice_bytes(&self, lo: Index, bytes_max: usize) -> Vec<Entry> {
        let mut out = Vec::new();
        let mut bytes = 0;
        for e in self.entries(lo, self.last_index()) {
            if !out.is_empty() && bytes + e.size_bytes() > bytes_max {
                break;
            }
            bytes += e.size_bytes();
            out.push(e.clone());
        }
        out
    }

    pub(crate) fn commit_to(&mut self, index: Index) {
        assert!(
            index <= self.last_index(),
            "commit {index} beyond last {}",
            self.last_index()
        );
        self.committed = self.committed.max(index);
    }

    pub(crate) fn persisted_to(&mut self, pos: LogPosition) -> bool {
        // A stale report for a write since truncated names a position no longer in the log.
        if pos.index > self.persisted && self.matches(pos.index, pos.term) {
            self.persisted = pos.index;
            return true;
        }
        false
    }

    /// The suffix written since the last call: the driver must persist it (truncating
    /// anything it holds from the first index on).
    pub(crate) fn take_unhanded(&mut self) -> Vec<Entry> {
        match self.unhanded_from.take() {
            Some(lo) => self.entries(lo, self.last_index()).to_vec(),
            None => Vec::new(),
        }
    }

    /// Committed entries not yet handed to the application; marks them applied.
    pub(crate) fn take_committed(&mut self) -> Vec<Entry> {
        let out = self.entries(self.applied + 1, self.committed).to_vec();
        self.applied = self.committed;
        out
    }

    /// Drops every entry up to `index`, which the application has snapshotted. Only
    /// applied entries may be compacted: the snapshot must contain them.
    pub(crate) fn compact(&mut self, index: Index) {
        assert!(index <= self.applied, "compacting unapplied entry {index}");
        assert!(index > self.snapshot.index, "compaction goes forward");
        let term = self.term(index).expect("an applied index is held");
        let drop = (index - self.snapshot.index) as usize;
        self.entries_bytes -= bytes_of(&self.entries[..drop]);
        self.entries.drain(..drop);
        self.snapshot = LogPosition { term, index };
        self.persisted = self.persisted.max(index);
        self.unhanded_from = self.unhanded_from.map(|i| i.max(index + 1));
        self.assert_invariants();
    }

    /// Replaces the whole log with a snapshot received from the leader: its entries are
    /// committed and (once the application installs it) applied.
    pub(crate) fn restore(&mut self, meta: &SnapshotMeta) {
        assert!(meta.index > self.committed, "restore must move forward");
        self.snapshot = meta.position();
        self.entries.clear();
        self.entries_bytes = 0;
        self.committed = meta.index;
        self.applied = meta.index;
        // The snapshot write is in the same Ready; until it is durable nothing after it is.
        self.persisted = meta.index;
        self.unhanded_from = None;
        self.assert_invariants();
    }

    fn assert_invariants(&self) {
        let base = self.first_index();
        debug_assert!(self
            .entries
            .iter()
            .enumerate()
            .all(|(i, e)| e.index == base + i as Index));
        debug_assert!(self.entries.windows(2).all(|w| w[0].term <= w[1].term));
        debug_assert_eq!(self.entries_bytes, bytes_of(&self.entries));
        assert!(self.entries.is_empty() || self.entries_bytes > 0);
        assert!(self
            .entries
            .first()
            .is_none_or(|e| e.term >= self.snapshot.term));
        assert!(self.snapshot.index <= self.applied);
        assert!(self.applied <= self.committed && self.committed <= self.last_index());
        assert!(self.snapshot.index <= self.persisted && self.persisted <= self.last_index());
    }
}

fn bytes_of(entries: &[Entry]) -> usize {
    entries.iter().map(Entry::size_bytes).sum()
}

#[cfg(test)]
mod tests;
