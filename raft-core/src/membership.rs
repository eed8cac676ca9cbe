//! Cluster membership: who votes, who only learns, and how a requested change becomes the
//! next configuration.
//!
//! A configuration takes effect on a node when the log entry carrying it is **committed**
//! (as etcd-io/raft does, rather than on append as in the Raft dissertation). Safety rests
//! on two rules kept elsewhere: a leader proposes a change only once every configuration
//! entry in its log is committed (`Node::pending_conf_index`), and every append carries
//! the leader's commit index, so a node holding configuration k+1 already knows k is
//! committed. Two nodes therefore differ by at most one step, and each step keeps
//! quorums intersecting: a simple change moves at most one voter; otherwise the cluster
//! passes through a joint configuration (old and new majorities both needed) and leaves
//! it automatically.
//!
//! Each configuration entry holds the whole resulting [`Membership`], not a delta, so a
//! node that joins with an empty configuration learns it from the log or a snapshot.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::types::NodeId;

/// Who takes part in the cluster. Joint while `voters_outgoing` is non-empty: decisions
/// then need a majority of `voters` **and** a majority of `voters_outgoing`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Membership {
    /// The (incoming) voters.
    pub voters: BTreeSet<NodeId>,
    /// The previous voters while joint; empty otherwise.
    pub voters_outgoing: BTreeSet<NodeId>,
    /// Members that receive the log but neither vote nor count toward commit.
    pub learners: BTreeSet<NodeId>,
    /// Outgoing voters being demoted: they become learners when the joint state is left.
    pub learners_next: BTreeSet<NodeId>,
}

/// One edit in a membership change request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConfChange {
    /// Make `id` a voter (a learner is promoted; a voter stays one).
    AddVoter(NodeId),
    /// Make `id` a learner (a voter is demoted).
    AddLearner(NodeId),
    /// Remove `id` entirely.
    Remove(NodeId),
}

impl ConfChange {
    pub fn id(self) -> NodeId {
        match self {
            ConfChange::AddVoter(id) | ConfChange::AddLearner(id) | ConfChange::Remove(id) => id,
        }
    }
}

/// Why a membership change request (or a configuration read from a peer or a disk) was
/// refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MembershipError {
    #[error("a membership change must name at least one edit")]
    Empty,
    #[error("node id 0 is reserved")]
    ZeroId,
    #[error("node {0} appears twice in one change")]
    Duplicate(NodeId),
    #[error("node {0} is not a member")]
    Unknown(NodeId),
    #[error("the change leaves no voter")]
    NoVoters,
    #[error("the configuration is joint; it must be left before another change")]
    AlreadyJoint,
    #[error("a configuration entry does not decode")]
    Undecodable,
    #[error("configuration is inconsistent: {0}")]
    Inconsistent(&'static str),
}

impl Membership {
    /// The single-configuration membership of `voters`.
    pub fn with_voters(voters: impl IntoIterator<Item = NodeId>) -> Self {
        Membership {
            voters: voters.into_iter().collect(),
            ..Membership::default()
        }
    }

    pub fn is_joint(&self) -> bool {
        !self.voters_outgoing.is_empty()
    }

    /// Whether `id` votes in either half of the configuration.
    pub fn is_voter(&self, id: NodeId) -> bool {
        self.voters.contains(&id) || self.voters_outgoing.contains(&id)
    }

    /// Whether `id` belongs in any role.
    pub fn contains(&self, id: NodeId) -> bool {
        self.is_voter(id) || self.learners.contains(&id) || self.learners_next.contains(&id)
    }

    /// Every voter of either half, ascending, without repeats.
    pub fn all_voters(&self) -> BTreeSet<NodeId> {
        self.voters.union(&self.voters_outgoing).copied().collect()
    }

    /// Every member in any role, ascending.
    pub fn members(&self) -> BTreeSet<NodeId> {
        let mut all = self.all_voters();
        all.extend(&self.learners);
        all.extend(&self.learners_next);
        all
    }

    /// Checks the invariants every configuration carried in an entry or a snapshot must
    /// satisfy (at least one voter, no role overlaps). Only a joining node's empty
    /// bootstrap configuration is exempt.
    pub fn validate(&self) -> Result<(), MembershipError> {
        use MembershipError::Inconsistent;
        if self.voters.is_empty() {
            return Err(MembershipError::NoVoters);
        }
        if self.members().contains(&0) {
            return Err(MembershipError::ZeroId);
        }
        if !self.learners.is_disjoint(&self.all_voters()) {
            return Err(Inconsistent("a learner is also a voter"));
        }
        if !self.learners_next.is_subset(&self.voters_outgoing) {
            return Err(Inconsistent("a demoted voter is not an outgoing voter"));
        }
        if !self.learners_next.is_disjoint(&self.voters) {
            return Err(Inconsistent("a demoted voter is an incoming voter"));
        }
        Ok(())
    }

    /// The configuration that results from applying `changes` to this (non-joint) one:
    /// simple when at most one voter changes, else joint with these voters outgoing.
    pub fn apply(&self, changes: &[ConfChange]) -> Result<Membership, MembershipError> {
        let (voters, learners) = self.edited(changes)?;
        let next = if self.voters.symmetric_difference(&voters).count() <= 1 {
            Membership {
                voters,
                learners,
                ..Membership::default()
            }
        } else {
            self.enter_joint(voters, learners)
        };
        next.validate()?;
        Ok(next)
    }

    /// The injected bug `SkipJoint`: the edited configuration, entered directly however
    /// many voters change.
    #[cfg(feature = "bug-injection")]
    pub(crate) fn apply_skipping_joint(
        &self,
        changes: &[ConfChange],
    ) -> Result<Membership, MembershipError> {
        let (voters, learners) = self.edited(changes)?;
        let next = Membership {
            voters,
            learners,
            ..Membership::default()
        };
        next.validate()?;
        Ok(next)
    }

    /// The voters and learners `changes` ask for, checked against this (non-joint)
    /// configuration.
    fn edited(
        &self,
        changes: &[ConfChange],
    ) -> Result<(BTreeSet<NodeId>, BTreeSet<NodeId>), MembershipError> {
        if self.is_joint() {
            return Err(MembershipError::AlreadyJoint);
        }
        check_request(changes)?;
        let (mut voters, mut learners) = (self.voters.clone(), self.learners.clone());
        for &change in changes {
            match change {
                ConfChange::AddVoter(id) => {
                    learners.remove(&id);
                    voters.insert(id);
                }
                ConfChange::AddLearner(id) => {
                    voters.remove(&id);
                    learners.insert(id);
                }
                ConfChange::Remove(id) if !self.contains(id) => {
                    return Err(MembershipError::Unknown(id))
                }
                ConfChange::Remove(id) => {
                    voters.remove(&id);
                    learners.remove(&id);
                }
            }
        }
        Ok((voters, learners))
    }

    /// Joint: new voters incoming, the current ones outgoing. An outgoing voter that is
    /// to become a learner waits in `learners_next`, since it still votes until the
    /// joint configuration is left.
    fn enter_joint(&self, voters: BTreeSet<NodeId>, learners: BTreeSet<NodeId>) -> Membership {
        let outgoing = self.voters.clone();
        let (learners_next, learners) = learners.into_iter().partition(|id| outgoing.contains(id));
        Membership {
            voters,
            voters_outgoing: outgoing,
            learners,
            learners_next,
        }
    }

    /// The configuration after leaving the joint state: the incoming half alone.
    pub fn leave_joint(&self) -> Membership {
        assert!(self.is_joint(), "only a joint configuration can be left");
        let mut learners = self.learners.clone();
        learners.extend(&self.learners_next);
        Membership {
            voters: self.voters.clone(),
            learners,
            ..Membership::default()
        }
    }
}

fn check_request(changes: &[ConfChange]) -> Result<(), MembershipError> {
    if changes.is_empty() {
        return Err(MembershipError::Empty);
    }
    let mut seen = BTreeSet::new();
    for c in changes {
        if c.id() == 0 {
            return Err(MembershipError::ZeroId);
        }
        if !seen.insert(c.id()) {
            return Err(MembershipError::Duplicate(c.id()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
