//! Typed errors: what a caller did wrong (a proposal to a follower), or what a disk handed
//! back that cannot be a valid Raft state. Peer messages never produce errors; bad ones are
//! dropped and counted in [`crate::Stats`].

use thiserror::Error;

use crate::membership::MembershipError;
use crate::types::{Index, NodeId, Term};

/// Why [`crate::Node::step`] refused an input from the local application.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StepError {
    #[error("not the leader; known leader: {leader:?}")]
    NotLeader { leader: Option<NodeId> },
    #[error("proposal of {size_bytes} bytes exceeds the limit of {max_bytes} bytes")]
    ProposalTooLarge { size_bytes: usize, max_bytes: usize },
    #[error("an empty batch proposes nothing")]
    EmptyProposal,
    #[error("{uncommitted_bytes} bytes are awaiting commit; the limit is {limit_bytes}")]
    UncommittedLimit {
        uncommitted_bytes: usize,
        limit_bytes: usize,
    },
    #[error("the log is full: {last_index} entries, and no index passes {max}")]
    LogFull { last_index: Index, max: Index },
    #[error("leadership is being transferred to {to}")]
    TransferInProgress { to: NodeId },
    #[error("{id} is not a voter")]
    NotAVoter { id: NodeId },
    #[error("{max} reads are already awaiting confirmation")]
    TooManyReads { max: usize },
    #[error("snapshot at index {index} is outside the compactable range {first}..={applied}")]
    SnapshotOutOfRange {
        index: Index,
        first: Index,
        applied: Index,
    },
    #[error("snapshot of {size_bytes} bytes exceeds the limit of {max_bytes} bytes")]
    SnapshotTooLarge { size_bytes: usize, max_bytes: usize },
    #[error("a membership change at index {index} is not committed yet (commit {committed})")]
    ConfChangePending { index: Index, committed: Index },
    #[error(
        "learner {id} has {matched} of {committed} committed entries; promote it once caught up"
    )]
    LearnerBehind {
        id: NodeId,
        matched: Index,
        committed: Index,
    },
    #[error("durability is reported with Pipeline::persisted, not as an Input::Persisted step")]
    PersistedAsInput,
    #[error("write {id} reported durable, but the oldest write in flight is {oldest:?}")]
    PersistedOutOfOrder { id: u64, oldest: Option<u64> },
    #[error("{count} ticks in one input; at most {max} are accepted")]
    TooManyTicks { count: u32, max: u32 },
    #[error(transparent)]
    Membership(#[from] MembershipError),
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("node id 0 is reserved")]
    ZeroId,
    #[error("node {id} is not among the bootstrap voters {voters:?}")]
    NotAVoter { id: NodeId, voters: Vec<NodeId> },
    #[error("voter {0} is listed twice")]
    DuplicateVoter(NodeId),
    #[error(
        "heartbeat_ticks ({heartbeat}) must be positive and below election_ticks ({election})"
    )]
    BadTicks { heartbeat: u32, election: u32 },
    #[error("{name} is {value}; the largest accepted is {max}")]
    TooLarge {
        name: &'static str,
        value: usize,
        max: usize,
    },
    #[error("{name} must be positive")]
    ZeroLimit { name: &'static str },
    #[error("lease reads need check_quorum: without it a deposed leader never notices")]
    LeaseWithoutCheckQuorum,
}

/// Why a restored (persisted) state cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RestoreError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("persisted entry at position {position} has index {found}, expected {expected}")]
    NonContiguous {
        position: usize,
        found: Index,
        expected: Index,
    },
    #[error("persisted entry {index} has term {term}, below its predecessor's {previous}")]
    TermDecreases {
        index: Index,
        term: Term,
        previous: Term,
    },
    #[error("persisted entry {index} has term {term}, beyond the hard state's term {hard_term}")]
    TermBeyondHardState {
        index: Index,
        term: Term,
        hard_term: Term,
    },
    #[error("persisted commit index {commit} is beyond the last entry {last_index}")]
    CommitBeyondLog { commit: Index, last_index: Index },
    #[error("persisted snapshot ends at term {term}, beyond the hard state's term {hard_term}")]
    SnapshotBeyondHardState { term: Term, hard_term: Term },
    #[error("persisted term {term} is beyond the largest term a node uses ({max})")]
    TermTooLarge { term: Term, max: Term },
    #[error("persisted log reaches index {index}, beyond the largest index a node uses ({max})")]
    IndexTooLarge { index: Index, max: Index },
    #[error("persisted configuration at index {index} is invalid: {source}")]
    BadMembership {
        index: Index,
        source: MembershipError,
    },
}
