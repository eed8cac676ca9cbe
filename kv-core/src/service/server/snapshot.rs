//! When to compact: once the Raft state a driver persists (hard state plus the log after
//! the last snapshot) reaches `max_raft_state_bytes`, the server hands the node a
//! snapshot of everything applied, which lets it drop those entries. A leader also asks
//! for one when a follower needs the snapshot's bytes, which raft-core does not keep.

use raft_core::{Input, Observer, StepError};

use super::{Server, ServerReady};

/// A hard state's largest encoding: a term, a vote and a commit index as varints of at
/// most 10 bytes each, plus the option tag.
const HARD_STATE_BYTES_MAX: usize = 31;
use crate::service::state_machine::StateMachine;

impl<S: StateMachine> Server<S> {
    /// Bytes of Raft state as the driver stores it, from above: the hard state and every
    /// entry held after the snapshot, each counted at its largest encoded size. Entries
    /// not yet durable count too, so this bounds the disk. The log keeps the sum as it
    /// changes: this runs on every step, and encoding the log each time was the single
    /// largest cost of a loaded node (60% of its CPU).
    pub fn raft_state_bytes(&self) -> usize {
        HARD_STATE_BYTES_MAX + self.raft.node().log().entries_bytes()
    }

    pub(super) fn maybe_snapshot(
        &mut self,
        obs: &mut dyn Observer,
        out: &mut ServerReady<S::Output>,
    ) {
        let taken = self.raft.node().log().snapshot_position().index;
        let backing_off = self.applied < self.snapshot_retry_applied;
        // A leader let its snapshot's bytes go and a follower needs them: hand in the
        // state as applied, even at the snapshot's own index. (A received snapshot not
        // yet installed here is newer than the state: wait for it.)
        let wanted = self.raft.node().snapshot_wanted() && self.applied >= taken;
        let log_full = self
            .cfg
            .max_raft_state_bytes
            .is_some_and(|max_bytes| self.raft_state_bytes() >= max_bytes);
        if backing_off || !(wanted || (log_full && self.applied > taken)) {
            return;
        }
        let data = self.state.snapshot();
        let input = Input::Snapshot {
            index: self.applied,
            data,
        };
        // The node has applied (handed out) at least what this server applied, and its
        // snapshot is older (`taken` above): the index is always compactable. Only the
        // size can be refused.
        match self.raft.step_observed(input, obs) {
            Ok(work) => {
                self.stats.snapshots_taken += 1;
                self.absorb(work, out);
            }
            Err(StepError::SnapshotTooLarge { .. }) => {
                self.stats.snapshots_refused_too_large += 1;
                // Try again once as many entries again have applied: amortized, the
                // serializing costs O(1) per applied entry.
                self.snapshot_retry_applied = self.applied + (self.applied - taken).max(1);
            }
            Err(e) => panic!("a snapshot at the applied index was refused: {e}"),
        }
    }

    pub(super) fn assert_invariants(&self) {
        assert!(
            self.applied <= self.raft.node().log().applied(),
            "the server applies only what the node handed out"
        );
        assert!(
            self.pending.len() <= self.cfg.pending_max,
            "pending is bounded"
        );
    }
}
