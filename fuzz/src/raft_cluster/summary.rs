//! What a `raft_cluster` run reached: the corpus test asserts the checked-in corpus
//! reaches every milestone, input kind and role change between its files.

use raft_core::{Index, Input, Role};

/// What a run reached.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub nodes: usize,
    /// The highest commit index any node reached.
    pub committed: Index,
    pub leaders_elected: u64,
    pub reads_confirmed: u64,
    pub crashes: u64,
    /// Snapshots taken by an application, and received from a leader.
    pub snapshots_taken: u64,
    pub snapshots_installed: u64,
    /// Snapshots a leader asked its application for (`Node::snapshot_wanted`).
    pub snapshots_wanted: u64,
    /// Configurations other than the bootstrap one a node's application was told came
    /// into force.
    pub memberships_changed: u64,
    /// Messages lost to a partition.
    pub partitioned: u64,
    /// Bit `k` set: some node accepted an input of kind `INPUT_KINDS[k]`.
    pub inputs_accepted: u16,
    /// Bit `4 * from + to` set (roles numbered by `role_index`): some node went from
    /// role `from` to role `to` in one step.
    pub role_changes: u16,
}

/// The kinds of `Input`, in the order of the bits of `Summary::inputs_accepted`.
pub const INPUT_KINDS: [&str; 12] = [
    "Tick",
    "Campaign",
    "Message",
    "Propose",
    "ProposeBatch",
    "Persisted",
    "Snapshot",
    "Read",
    "TransferLeadership",
    "ChangeMembership",
    "ReadBatch",
    "Ticks",
];

/// `Persisted` reaches the node through `Pipeline::persisted`, not as an `Input`.
pub(super) const PERSISTED_KIND: usize = 5;

pub(super) fn input_kind(input: &Input) -> usize {
    match input {
        Input::Tick => 0,
        Input::Campaign => 1,
        Input::Message(_) => 2,
        Input::Propose { .. } => 3,
        Input::ProposeBatch { .. } => 4,
        Input::Persisted(_) => PERSISTED_KIND,
        Input::Snapshot { .. } => 6,
        Input::Read { .. } => 7,
        Input::TransferLeadership { .. } => 8,
        Input::ChangeMembership { .. } => 9,
        Input::ReadBatch { .. } => 10,
        Input::Ticks { .. } => 11,
    }
}

/// A role's number in `Summary::role_changes`.
pub fn role_index(role: Role) -> usize {
    match role {
        Role::Follower => 0,
        Role::PreCandidate => 1,
        Role::Candidate => 2,
        Role::Leader => 3,
    }
}
