//! Membership changes as the node carries them out: proposing a configuration entry,
//! switching configuration when such an entry commits, leaving a joint configuration
//! automatically, and a leader stepping down once its own removal commits. The rules
//! that make this safe are on [`crate::Membership`].

use crate::error::StepError;
use crate::membership::{ConfChange, Membership, MembershipError};
use crate::node::Node;
use crate::progress::Progress;
use crate::types::{Entry, EntryKind, Index, LogPosition, NodeId};

impl Node {
    /// `Input::ChangeMembership`: appends the entry carrying the resulting configuration.
    pub(crate) fn propose_conf_change(
        &mut self,
        changes: &[ConfChange],
    ) -> Result<LogPosition, StepError> {
        self.check_leader_accepts()?;
        let committed = self.log.committed();
        if self.pending_conf_index > committed {
            return Err(StepError::ConfChangePending {
                index: self.pending_conf_index,
                committed,
            });
        }
        let next = self.next_membership(changes)?;
        for &change in changes {
            if let ConfChange::AddVoter(id) = change {
                self.check_promotion_caught_up(id)?;
            }
        }
        Ok(self.append_conf_entry(&next))
    }

    /// The configuration `changes` lead to from the one in force.
    #[cfg(not(feature = "bug-injection"))]
    fn next_membership(&self, changes: &[ConfChange]) -> Result<Membership, MembershipError> {
        self.membership.apply(changes)
    }

    #[cfg(feature = "bug-injection")]
    fn next_membership(&self, changes: &[ConfChange]) -> Result<Membership, MembershipError> {
        if self.cfg.has_bug(crate::config::InjectedBug::SkipJoint) {
            return self.membership.apply_skipping_joint(changes);
        }
        self.membership.apply(changes)
    }

    /// A learner becomes a voter only once it holds everything committed when asked: a
    /// voter that is far behind weakens the quorum it joins.
    fn check_promotion_caught_up(&self, id: u64) -> Result<(), StepError> {
        if !self.membership.learners.contains(&id) {
            return Ok(());
        }
        let matched = self.progress.get(&id).map_or(0, |p| p.match_index);
        let committed = self.log.committed();
        if matched < committed {
            return Err(StepError::LearnerBehind {
                id,
                matched,
                committed,
            });
        }
        Ok(())
    }

    pub(crate) fn append_conf_entry(&mut self, next: &Membership) -> LogPosition {
        assert!(next.validate().is_ok(), "a proposed configuration is valid");
        let data = postcard::to_allocvec(next).expect("a configuration encodes");
        let pos = self.append_entry(EntryKind::Membership, data);
        self.pending_conf_index = pos.index;
        pos
    }

    /// Moves commit to `index` and switches to any configuration committed on the way.
    pub(crate) fn commit_to(&mut self, index: Index) {
        let old = self.log.committed();
        self.log.commit_to(index);
        if index <= old {
            return;
        }
        let latest = self
            .log
            .entries(old + 1, index)
            .iter()
            .rev()
            .find(|e| e.kind == EntryKind::Membership)
            .map(decode_checked);
        if let Some((m, at)) = latest {
            self.set_membership(m, at);
        }
    }

    /// Adopts a configuration (from a committed entry or an installed snapshot).
    pub(crate) fn set_membership(&mut self, m: Membership, index: Index) {
        assert!(
            m.validate().is_ok(),
            "configurations are validated on receipt"
        );
        assert!(index >= self.membership_index, "configurations go forward");
        self.membership = m;
        self.membership_index = index;
        self.refresh_peers();
        self.membership_changed = true;
        self.stats.membership_changes_applied += 1;
        if self
            .transfer
            .is_some_and(|t| !self.membership.voters.contains(&t.to))
        {
            self.transfer = None;
        }
    }

    /// After this leader's commit moved (and its progress map follows the configuration):
    /// step down if no longer a voter, and leave a joint configuration once nothing else
    /// is pending.
    pub(crate) fn after_leader_commit(&mut self) {
        if !self.membership.is_voter(self.cfg.id) {
            // Tell everyone how far the log is committed before going quiet, so the
            // remaining voters learn of the configuration without this node.
            self.broadcast_heartbeat();
            self.stats.leaderships_ended_by_removal += 1;
            self.become_follower(self.term, None);
            return;
        }
        if self.membership.is_joint() && self.pending_conf_index <= self.log.committed() {
            let next = self.membership.leave_joint();
            self.append_conf_entry(&next);
        }
    }

    /// Adds progress for new members (probing from the end of the log) and drops it for
    /// members that left.
    /// Returns the members that had no progress yet.
    pub(crate) fn sync_progress(&mut self) -> Vec<NodeId> {
        let peers = self.peers().to_vec();
        self.progress.retain(|id, _| peers.contains(id));
        let next = self.log.last_index() + 1;
        let (window, bytes) = (self.cfg.inflight_msgs_max, self.cfg.inflight_bytes_max);
        let mut added = Vec::new();
        for peer in peers {
            if let std::collections::btree_map::Entry::Vacant(slot) = self.progress.entry(peer) {
                added.push(peer);
                slot.insert(Progress::new(next, window, bytes));
            }
        }
        added
    }

    /// The configuration in force at `index` (at or below commit): the last configuration
    /// entry up to it, or else the snapshot's (or the bootstrap) configuration.
    pub(crate) fn membership_at(&self, index: Index) -> Membership {
        assert!(
            index <= self.log.committed(),
            "only committed configurations"
        );
        if index >= self.membership_index {
            return self.membership.clone();
        }
        match self.last_conf_entry(index) {
            Some((m, _)) => m,
            None => self.base_membership(),
        }
    }

    /// The last configuration entry still in the log at or below `index`.
    pub(crate) fn last_conf_entry(&self, index: Index) -> Option<(Membership, Index)> {
        let first = self.log.first_index();
        self.log
            .entries(first, index)
            .iter()
            .rev()
            .find(|e| e.kind == EntryKind::Membership)
            .map(decode_checked)
    }

    /// The configuration below the log: the snapshot's, or the bootstrap voters.
    pub(crate) fn base_membership(&self) -> Membership {
        match &self.snapshot {
            Some(meta) => meta.membership.clone(),
            None => Membership::with_voters(self.cfg.voters.iter().copied()),
        }
    }
}

/// Decodes and checks a configuration entry's payload. Entries from peers and disks pass
/// through this before they are accepted.
pub(crate) fn decode_membership(data: &[u8]) -> Result<Membership, MembershipError> {
    let m: Membership = postcard::from_bytes(data).map_err(|_| MembershipError::Undecodable)?;
    m.validate()?;
    Ok(m)
}

/// Whether every configuration entry among `entries` decodes to a valid configuration.
pub(crate) fn conf_entries_valid(entries: &[Entry]) -> bool {
    entries
        .iter()
        .filter(|e| e.kind == EntryKind::Membership)
        .all(|e| decode_membership(&e.data).is_ok())
}

fn decode_checked(e: &Entry) -> (Membership, Index) {
    let m = decode_membership(&e.data).expect("configuration entries are checked on receipt");
    (m, e.index)
}
