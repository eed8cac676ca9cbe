//! The simulated application on every node: its state is the list of entries it
//! applied, so its snapshots (that list, encoded) are checkable against what committed.

use raft_core::{Apply, Entry, EntryKind, Index, Input, Membership, Snapshot, StepError, Term};
use serde::Deserialize;
use sim_kit::Sim;

use super::Cluster;

/// The application state a snapshot holds; `Err` fails the run with `slot` named.
pub(super) fn decode(slot: usize, data: &[u8]) -> Result<Vec<Entry>, String> {
    postcard::from_bytes(data)
        .map_err(|e| format!("node {} got an undecodable snapshot: {e}", slot + 1))
}

/// An [`Entry`] as encoded, borrowing its data from the encoding (a payload encodes as
/// its length and bytes, which is what a borrowed byte slice decodes from).
#[derive(Deserialize)]
struct EntryView<'a> {
    // Positional in postcard: read past, not used.
    _term: Term,
    _index: Index,
    kind: EntryKind,
    data: &'a [u8],
}

impl Cluster {
    /// Carries out one released `Apply` on the application at `slot`.
    pub(super) fn apply(&mut self, slot: usize, apply: Apply) {
        self.check_reads(slot, &apply);
        let id = Self::id_of(slot);
        if let Some(snapshot) = &apply.install {
            self.counters.snapshots_installed += 1;
            self.applied[slot] = decode(slot, &snapshot.data).unwrap_or_else(|why| self.fail(&why));
            if let Err(why) = self.world.watch.on_install(id, &self.applied[slot]) {
                self.fail(&why);
            }
        }
        if let Err(why) = self.world.watch.on_apply(id, &apply.committed) {
            self.fail(&why);
        }
        let applied = &mut self.applied[slot];
        for e in apply.committed {
            if e.index as usize > applied.len() {
                applied.push(e);
            }
        }
        self.maybe_take_snapshot(slot);
    }

    /// A snapshot must carry the configuration in force at its index: the last
    /// configuration entry among the entries it holds (the simulated application's state
    /// is exactly those entries).
    pub(super) fn check_snapshot_membership(&self, slot: usize, snapshot: &Snapshot) {
        // Read in place: the snapshot holds every entry applied so far, and copying each
        // out on every snapshot write was a tenth of the nemesis's time.
        let Ok(entries) = postcard::from_bytes::<Vec<EntryView>>(&snapshot.data) else {
            self.fail(&format!("node {} made an undecodable snapshot", slot + 1));
        };
        let last_conf = entries
            .iter()
            .take(snapshot.meta.index as usize)
            .rev()
            .find(|e| e.kind == EntryKind::Membership);
        let in_force = last_conf.map(|e| postcard::from_bytes::<Membership>(e.data));
        if let Some(Ok(m)) = in_force.filter(|m| m.as_ref() != Ok(&snapshot.meta.membership)) {
            self.fail(&format!(
                "node {} snapshot at {} names {:?}, but {:?} was in force there",
                slot + 1,
                snapshot.meta.index,
                snapshot.meta.membership,
                m
            ));
        }
    }

    /// A leader lets its snapshot's bytes go once no follower needs them; when one does
    /// again, the application hands in its state as applied (possibly at the snapshot's
    /// own index).
    pub(super) fn answer_snapshot_wanted(&mut self, slot: usize) {
        let Some(node) = self.node(slot) else {
            return;
        };
        let taken = node.log().snapshot_position().index;
        let index = self.applied[slot].len() as u64;
        // Below `taken`, a received snapshot is not installed yet: ask again after.
        if !node.snapshot_wanted() || index < taken {
            return;
        }
        let data = postcard::to_allocvec(&self.applied[slot]).expect("entries encode");
        self.counters.snapshots_wanted += 1;
        if let Err(e) = self.step(slot, Input::Snapshot { index, data }) {
            self.fail(&format!(
                "node {} refused the snapshot it asked for: {e}",
                slot + 1
            ));
        }
    }

    /// The course's service: snapshot each time the applied index reaches (or, applying a
    /// batch, passes) a multiple of the interval.
    fn maybe_take_snapshot(&mut self, slot: usize) {
        let Some(interval) = self.snapshot_interval else {
            return;
        };
        let index = self.applied[slot].len() as u64;
        let taken = self
            .node(slot)
            .map_or(u64::MAX, |n| n.log().snapshot_position().index);
        if index / interval <= taken / interval {
            return;
        }
        let data = postcard::to_allocvec(&self.applied[slot]).expect("entries encode");
        self.counters.snapshots_taken += 1;
        // Refused only if a snapshot from the leader overtook this one: nothing to do.
        if let Err(e) = self.step(slot, Input::Snapshot { index, data }) {
            assert!(
                matches!(e, StepError::SnapshotOutOfRange { .. }),
                "unexpected refusal: {e}"
            );
        }
    }
}
