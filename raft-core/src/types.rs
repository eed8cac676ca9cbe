//! The vocabulary every other module speaks: identifiers, log entries, hard state.

use serde::{Deserialize, Serialize};

use crate::membership::Membership;

/// A cluster member's identifier. Zero is reserved as "nobody" in some wire formats, so
/// [`crate::Config::validate`] refuses it.
pub type NodeId = u64;
/// A Raft term: a logical clock that only grows.
pub type Term = u64;
/// A position in the replicated log; the first entry has index 1.
pub type Index = u64;

/// What an entry carries. The leader's no-op is its own kind so applications can skip it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntryKind {
    /// A command proposed by the application.
    Normal,
    /// The no-op a new leader appends so entries of its term can commit promptly.
    Empty,
    /// A configuration: `data` is the postcard encoding of the whole [`Membership`], in
    /// force once the entry commits.
    Membership,
}

/// One replicated log entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    pub term: Term,
    pub index: Index,
    pub kind: EntryKind,
    pub data: Vec<u8>,
}

/// Bytes an entry's fixed fields take on the wire at most (term, index as varints, kind, length).
pub const ENTRY_OVERHEAD_BYTES: usize = 24;

impl Entry {
    /// An upper bound on the entry's encoded size; used for message and window limits.
    pub fn size_bytes(&self) -> usize {
        ENTRY_OVERHEAD_BYTES + self.data.len()
    }

    pub fn position(&self) -> LogPosition {
        LogPosition {
            term: self.term,
            index: self.index,
        }
    }
}

/// A (term, index) pair naming one log slot as written in one term.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct LogPosition {
    pub term: Term,
    pub index: Index,
}

/// What must be durable before a node makes promises: its term, its vote, and how far it
/// knows the log to be committed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HardState {
    pub term: Term,
    pub vote: Option<NodeId>,
    pub commit: Index,
}

/// Where a snapshot ends: it covers every entry up to and including `index`, the last of
/// which had term `term`, and the configuration in force at `index`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SnapshotMeta {
    pub index: Index,
    pub term: Term,
    pub membership: Membership,
}

impl SnapshotMeta {
    pub fn position(&self) -> LogPosition {
        LogPosition {
            term: self.term,
            index: self.index,
        }
    }
}

/// The application's state after applying every entry up to `meta.index`, as opaque bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Snapshot {
    pub meta: SnapshotMeta,
    pub data: Vec<u8>,
}
