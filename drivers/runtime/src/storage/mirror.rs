//! What the disk holds, in memory, without snapshot bytes: the hard state, the snapshot's
//! reference, and the log tail after the snapshot. A checkpoint record is this, written
//! out; replaying a write record applies it here.
//!
//! `apply` carries out `raft_core::Write::apply_to`'s semantics on a reference instead of
//! a snapshot (the tests check the two agree), and checks its preconditions first so a
//! bad write is refused, not a panic, and leaves the mirror as it was.

use std::borrow::Cow;

use raft_core::{Entry, HardState, Index, RestoredState, Snapshot};

use super::record::Record;
use super::snapshot_file::SnapshotRef;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Mirror {
    pub(crate) hard_state: HardState,
    pub(crate) snapshot: Option<SnapshotRef>,
    /// Contiguous, starting right after the snapshot's index.
    pub(crate) entries: Vec<Entry>,
}

impl Mirror {
    /// A checkpoint's state, after checking the entries continue the snapshot.
    pub(crate) fn from_checkpoint(
        hard_state: HardState,
        snapshot: Option<SnapshotRef>,
        entries: Vec<Entry>,
    ) -> Result<Mirror, String> {
        let mirror = Mirror {
            hard_state,
            snapshot,
            entries,
        };
        let base = mirror.snapshot_index();
        if let Some(first) = mirror.entries.first() {
            if Some(first.index) != base.checked_add(1) {
                let found = first.index;
                return Err(format!(
                    "checkpoint log starts at {found}, snapshot ends at {base}"
                ));
            }
        }
        check_contiguous(&mirror.entries)?;
        Ok(mirror)
    }

    pub(crate) fn snapshot_index(&self) -> Index {
        self.snapshot.as_ref().map_or(0, |s| s.meta.index)
    }

    pub(crate) fn checkpoint(&self) -> Record<'_> {
        Record::Checkpoint {
            hard_state: self.hard_state,
            snapshot: self.snapshot.clone(),
            entries: Cow::Borrowed(&self.entries),
        }
    }

    /// `Write::apply_to`, or an error (and no change) if the write breaks its
    /// preconditions: a snapshot not newer than the stored one, entries that are not
    /// contiguous, that reach into the snapshot, or that leave a gap.
    pub(crate) fn apply(
        &mut self,
        snapshot: Option<SnapshotRef>,
        hard_state: Option<HardState>,
        entries: &[Entry],
    ) -> Result<(), String> {
        let covered = self.check(snapshot.as_ref(), entries)?;
        if let Some(s) = snapshot {
            self.entries.drain(..covered);
            self.snapshot = Some(s);
        }
        if let Some(hs) = hard_state {
            self.hard_state = hs;
        }
        if let Some(first) = entries.first() {
            let keep = first.index - 1 - self.snapshot_index();
            let keep = usize::try_from(keep).expect("checked: at most entries.len()");
            self.entries.truncate(keep);
            self.entries.extend_from_slice(entries);
        }
        self.assert_tail_continues_snapshot();
        Ok(())
    }

    fn assert_tail_continues_snapshot(&self) {
        if let (Some(first), Some(last)) = (self.entries.first(), self.entries.last()) {
            assert_eq!(first.index, self.snapshot_index() + 1);
            assert_eq!(last.index - first.index + 1, self.entries.len() as u64);
        }
    }

    /// Checks `apply`'s preconditions; returns how many entries the snapshot drops.
    pub(crate) fn check(
        &self,
        snapshot: Option<&SnapshotRef>,
        entries: &[Entry],
    ) -> Result<usize, String> {
        let (base, covered) = match snapshot {
            None => (self.snapshot_index(), 0),
            Some(s) => {
                let index = s.meta.index;
                if index <= self.snapshot_index() {
                    let stored = self.snapshot_index();
                    return Err(format!(
                        "snapshot at {index} is not newer than the stored {stored}"
                    ));
                }
                let covered = match s.received {
                    true => self.entries.len(),
                    false => self.entries.partition_point(|e| e.index <= index),
                };
                (index, covered)
            }
        };
        check_contiguous(entries)?;
        if let Some(first) = entries.first() {
            let Some(keep) = first.index.checked_sub(base).and_then(|n| n.checked_sub(1)) else {
                let found = first.index;
                return Err(format!(
                    "entry {found} reaches into the snapshot ending at {base}"
                ));
            };
            let held = (self.entries.len() - covered) as u64;
            if keep > held {
                let found = first.index;
                return Err(format!("entry {found} leaves a gap after {}", base + held));
            }
        }
        Ok(covered)
    }

    /// The state `Node::new` starts from, given the snapshot bytes this mirror names.
    pub(crate) fn into_restored(self, snapshot: Option<Snapshot>) -> RestoredState {
        assert_eq!(
            self.snapshot.as_ref().map(|s| &s.meta),
            snapshot.as_ref().map(|s| &s.meta)
        );
        RestoredState {
            hard_state: self.hard_state,
            snapshot,
            entries: self.entries,
        }
    }
}

fn check_contiguous(entries: &[Entry]) -> Result<(), String> {
    for pair in entries.windows(2) {
        if pair[0].index.checked_add(1) != Some(pair[1].index) {
            let (a, b) = (pair[0].index, pair[1].index);
            return Err(format!("entry {b} follows entry {a}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft_core::{EntryKind, SnapshotMeta, SnapshotWrite, Write};

    fn entries(first: Index, last: Index, term: u64) -> Vec<Entry> {
        (first..=last)
            .map(|index| Entry {
                term,
                index,
                kind: EntryKind::Normal,
                data: index.to_le_bytes().to_vec().into(),
            })
            .collect()
    }

    fn snapshot_write(index: Index, received: bool) -> SnapshotWrite {
        let snapshot = Snapshot {
            meta: SnapshotMeta {
                index,
                term: 1,
                membership: Default::default(),
            },
            data: Vec::new(),
        };
        match received {
            true => SnapshotWrite::Received(snapshot),
            false => SnapshotWrite::Taken(snapshot),
        }
    }

    /// Applies `write` both ways and checks they agree.
    fn apply_both(mirror: &mut Mirror, state: &mut RestoredState, write: Write) {
        let r = write.snapshot.as_ref().map(SnapshotRef::of);
        mirror.apply(r, write.hard_state, &write.entries).unwrap();
        write.apply_to(state);
        let expected = mirror.clone().into_restored(state.snapshot.clone());
        assert_eq!(&expected, state);
    }

    #[test]
    fn agrees_with_apply_to() {
        let (mut mirror, mut state) = (Mirror::default(), RestoredState::default());
        let write = |snapshot, entries| Write {
            id: 0,
            snapshot,
            hard_state: None,
            entries,
            must_sync: true,
        };
        apply_both(&mut mirror, &mut state, write(None, entries(1, 5, 1)));
        apply_both(&mut mirror, &mut state, write(None, entries(4, 6, 2)));
        apply_both(
            &mut mirror,
            &mut state,
            write(Some(snapshot_write(3, false)), vec![]),
        );
        assert_eq!(mirror.entries.len(), 3);
        apply_both(
            &mut mirror,
            &mut state,
            write(Some(snapshot_write(5, true)), entries(6, 6, 3)),
        );
        assert_eq!(mirror.entries.len(), 1);
    }

    #[test]
    fn refuses_without_change() {
        let mut mirror = Mirror::default();
        mirror.apply(None, None, &entries(1, 3, 1)).unwrap();
        let before = mirror.clone();
        assert!(mirror.apply(None, None, &entries(5, 5, 1)).is_err());
        assert!(mirror.apply(None, None, &entries(0, 0, 1)).is_err());
        let mut gappy = entries(4, 5, 1);
        gappy[1].index = 7;
        assert!(mirror.apply(None, None, &gappy).is_err());
        let old = SnapshotRef::of(&snapshot_write(0, false));
        assert!(mirror.apply(Some(old), None, &[]).is_err());
        assert_eq!(mirror, before);
    }
}
