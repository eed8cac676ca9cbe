//! Messages between peers. Every request names the sender's term; responses carry the
//! responder's term so a stale sender learns it is behind.

use serde::{Deserialize, Serialize};

use crate::types::{Entry, Index, NodeId, SnapshotMeta, Term};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    pub from: NodeId,
    pub to: NodeId,
    /// For a PreVote request and a granted PreVoteResponse this is the *proposed* term
    /// (sender's term + 1); the sender has not adopted it.
    pub term: Term,
    pub body: MessageBody,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageBody {
    /// "Would you vote for me if I campaigned?" Changes no state on either side.
    PreVote {
        last_index: Index,
        last_term: Term,
    },
    PreVoteResponse {
        reject: bool,
    },
    /// `transfer`: the election was requested by the current leader (TimeoutNow), so a
    /// voter's leader lease does not apply.
    Vote {
        last_index: Index,
        last_term: Term,
        transfer: bool,
    },
    VoteResponse {
        reject: bool,
    },
    /// Entries follow `prev_index`; `commit` is the leader's commit index.
    Append {
        prev_index: Index,
        prev_term: Term,
        entries: Vec<Entry>,
        commit: Index,
    },
    /// On success `index` is the follower's last index matching the leader. On rejection
    /// `index` is the rejected `prev_index` and the conflict fields let the leader skip a
    /// whole term at once: `conflict_term` is the follower's term at `prev_index` (None if
    /// its log is shorter) and `conflict_index` the first index of that term (or its log
    /// length + 1).
    AppendResponse {
        reject: bool,
        index: Index,
        conflict_term: Option<Term>,
        conflict_index: Index,
    },
    /// Carries `min(follower's match, leader's commit)` so it never commits unknown entries.
    /// `round` numbers the leader's heartbeat rounds (for ReadIndex and leases); the
    /// response echoes it.
    Heartbeat {
        commit: Index,
        round: u64,
    },
    HeartbeatResponse {
        round: u64,
    },
    /// Leadership transfer: the leader asks this up-to-date follower to campaign now.
    TimeoutNow,
    /// One chunk of the leader's snapshot: bytes `[offset, offset + data.len())` of a
    /// snapshot `total_bytes` long. The last chunk completes it. `meta` is boxed because
    /// it is most of this variant's size, and every message is as large as its largest
    /// variant: unboxed, each append and acknowledgement was moved at twice its size.
    InstallSnapshot {
        meta: Box<SnapshotMeta>,
        total_bytes: u64,
        offset: u64,
        #[serde(with = "crate::types::bytes")]
        data: Vec<u8>,
    },
    /// The follower holds the first `received_bytes` of the snapshot ending at `index`
    /// and wants the chunk starting there (0 = start over). A completed install is
    /// acknowledged with an `AppendResponse` instead, once it is durable.
    SnapshotResponse {
        index: Index,
        received_bytes: u64,
    },
}

/// Upper bound of a message's fixed fields on the wire.
const MESSAGE_OVERHEAD_BYTES: usize = 48;

impl Message {
    /// True for the messages that start an exchange (the course counts these as RPCs).
    pub fn is_request(&self) -> bool {
        matches!(
            self.body,
            MessageBody::PreVote { .. }
                | MessageBody::Vote { .. }
                | MessageBody::Append { .. }
                | MessageBody::Heartbeat { .. }
                | MessageBody::InstallSnapshot { .. }
                | MessageBody::TimeoutNow
        )
    }

    /// An upper bound on the encoded size, cheap to compute.
    pub fn size_bytes(&self) -> usize {
        let entries: usize = match &self.body {
            MessageBody::Append { entries, .. } => entries.iter().map(Entry::size_bytes).sum(),
            MessageBody::InstallSnapshot { data, .. } => data.len(),
            _ => 0,
        };
        MESSAGE_OVERHEAD_BYTES + entries
    }

    /// True for messages a node may send before its pending writes are durable: they
    /// promise nothing about local state (a leader's appends run in parallel with its own
    /// write; a pre-vote changes no state). Votes and acknowledgements must wait.
    pub fn may_precede_persist(&self) -> bool {
        matches!(
            self.body,
            MessageBody::Append { .. }
                | MessageBody::Heartbeat { .. }
                | MessageBody::InstallSnapshot { .. }
                | MessageBody::SnapshotResponse { .. }
                | MessageBody::TimeoutNow
                | MessageBody::PreVote { .. }
                | MessageBody::PreVoteResponse { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::EntryKind;

    #[test]
    fn size_bound_covers_postcard_encoding() {
        let entries = (1..=3)
            .map(|i| Entry {
                term: u64::MAX,
                index: i,
                kind: EntryKind::Normal,
                data: vec![7; 100 * i as usize].into(),
            })
            .collect();
        let m = Message {
            from: u64::MAX,
            to: u64::MAX,
            term: u64::MAX,
            body: MessageBody::Append {
                prev_index: u64::MAX,
                prev_term: u64::MAX,
                entries,
                commit: u64::MAX,
            },
        };
        let encoded = postcard::to_allocvec(&m).unwrap();
        assert!(
            encoded.len() <= m.size_bytes(),
            "{} > {}",
            encoded.len(),
            m.size_bytes()
        );
    }
}
