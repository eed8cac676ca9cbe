//! The application's side of each node: what it asks of Raft (proposals, reads,
//! snapshots, membership changes) and what it does with a step's work.

use raft_core::{ConfChange, Index, Input, Membership, NodeId, ReadState, SnapshotWrite, Work};
use sim_kit::disk::PendingWrite;

use super::{id_of, Cluster};
use crate::raft_cluster::{Action, BATCH_ENTRIES_MAX};

impl Cluster {
    /// The actions that come from a node's application.
    pub(super) fn act_app(&mut self, action: Action) {
        let n = self.n;
        let node = |k: u8| usize::from(k) % n;
        match action {
            Action::Propose(k) => {
                let data = self.next_data();
                self.step(node(k), Input::Propose { data });
            }
            Action::ProposeBatch { node: k, count } => {
                let count = 1 + count % BATCH_ENTRIES_MAX;
                let batch = (0..count).map(|_| self.next_data()).collect();
                self.step(node(k), Input::ProposeBatch { batch });
            }
            // A selector of 192 or more asks for two to five reads in one batch.
            Action::Read(k) => {
                let count = if k >= 192 {
                    2 + usize::from((k >> 4) & 3)
                } else {
                    1
                };
                self.read(node(k), count)
            }
            Action::Snapshot(k) => self.snapshot(node(k)),
            Action::ChangeMembership {
                node: k,
                kind,
                target,
            } => {
                let changes = changes(kind, node(target), n);
                self.step(node(k), Input::ChangeMembership { changes });
            }
            other => unreachable!("{other:?} is the network's or the disk's, not the app's"),
        }
    }

    /// A distinct command, so the watch can tell entries apart.
    fn next_data(&mut self) -> Vec<u8> {
        self.next_proposal += 1;
        self.next_proposal.to_le_bytes().to_vec()
    }

    fn read(&mut self, slot: usize, count: usize) {
        let ids: Vec<u64> = (self.next_read..).take(count).collect();
        self.next_read += count as u64;
        let frontier = self.committed_anywhere();
        self.reads.extend(ids.iter().map(|&id| (id, frontier)));
        let input = match ids[..] {
            [id] => Input::Read { id },
            _ => Input::ReadBatch { ids },
        };
        self.step(slot, input);
    }

    /// The application at `slot` snapshots what it has applied. Its state is the
    /// applied index itself (repeated, to span several chunks): the watch checks
    /// entries, not the snapshot's bytes.
    fn snapshot(&mut self, slot: usize) {
        let index = self.peers[slot].pipeline.node().log().applied();
        let data = index.to_le_bytes().repeat(5);
        self.step(slot, Input::Snapshot { index, data });
    }

    fn committed_anywhere(&self) -> Index {
        let commits = self
            .peers
            .iter()
            .map(|p| p.pipeline.node().log().committed());
        commits.max().unwrap_or(0)
    }

    pub(super) fn carry_out(&mut self, slot: usize, work: Work) {
        for message in work.messages {
            self.net.send(message);
        }
        for write in &work.writes {
            match &write.snapshot {
                Some(SnapshotWrite::Received(_)) => self.summary.snapshots_installed += 1,
                Some(_) => self.summary.snapshots_taken += 1,
                None => {}
            }
        }
        let pending = work.writes.into_iter().map(|write| PendingWrite {
            write,
            done_at_us: 0,
        });
        self.peers[slot].disk.pending.extend(pending);
        for apply in &work.applies {
            for read in &apply.reads {
                self.check_read(slot, read);
                self.summary.reads_confirmed += 1;
            }
            let first = 1..=self.voters as NodeId;
            let bootstrap = |m: &Membership| {
                m.voters.iter().copied().eq(first.clone()) && m.learners.is_empty()
            };
            if apply.membership.as_deref().is_some_and(|m| !bootstrap(m)) {
                self.summary.memberships_changed += 1;
            }
        }
        let committed = self.peers[slot].pipeline.node().log().committed();
        self.summary.committed = self.summary.committed.max(committed);
        if self.peers[slot].pipeline.node().snapshot_wanted() {
            // A leader let its snapshot's bytes go and a follower needs them.
            self.summary.snapshots_wanted += 1;
            self.snapshot(slot);
        }
    }

    fn check_read(&self, slot: usize, read: &ReadState) {
        let floor = self.reads.get(&read.id).copied();
        let floor = floor.unwrap_or_else(|| {
            panic!(
                "node {} confirmed read {} never issued",
                id_of(slot),
                read.id
            )
        });
        assert!(
            read.index >= floor,
            "read freshness: node {} confirmed read {} at index {} but {} had committed when it was issued",
            id_of(slot),
            read.id,
            read.index,
            floor
        );
    }
}

/// The membership change `kind` picks about slot `target` (and the next slot): one
/// voter added, demoted or removed (entered directly), or two changed at once (through
/// a joint configuration). Changes the leader must refuse — removing the last voter,
/// naming one node twice — are proposed too, as any driver might.
fn changes(kind: u8, target: usize, n: usize) -> Vec<ConfChange> {
    let a = id_of(target);
    let b = id_of((target + 1) % n);
    match kind % 7 {
        0 => vec![ConfChange::AddVoter(a)],
        1 => vec![ConfChange::AddLearner(a)],
        2 => vec![ConfChange::Remove(a)],
        3 => vec![ConfChange::AddVoter(a), ConfChange::Remove(b)],
        4 => vec![ConfChange::AddVoter(a), ConfChange::AddVoter(b)],
        5 => vec![ConfChange::Remove(a), ConfChange::AddLearner(b)],
        _ => vec![ConfChange::AddVoter(a), ConfChange::Remove(a)],
    }
}
