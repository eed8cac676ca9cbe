//! What clients ask for and what they get back: the operations, their outcomes, and the
//! request/reply envelopes that travel between a clerk and a server.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use raft_core::NodeId;

/// Identifies one clerk. Together with a sequence number it names one operation, which
/// is how a retried write is recognised and applied at most once.
pub type ClientId = u64;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    Get {
        key: String,
    },
    Put {
        key: String,
        value: String,
    },
    /// Concatenates `value` to the current value (an absent key counts as "").
    Append {
        key: String,
        value: String,
    },
    Delete {
        key: String,
    },
    /// Sets `new` iff the current value equals `expected` (`None`: only if absent).
    Cas {
        key: String,
        expected: Option<String>,
        new: String,
    },
}

impl Op {
    pub fn key(&self) -> &str {
        match self {
            Op::Get { key }
            | Op::Put { key, .. }
            | Op::Append { key, .. }
            | Op::Delete { key }
            | Op::Cas { key, .. } => key,
        }
    }

    /// Reads change nothing, so they need no log entry and no deduplication.
    pub fn is_read(&self) -> bool {
        matches!(self, Op::Get { .. })
    }

    /// Bytes of keys and values carried (what request size limits count).
    pub fn payload_bytes(&self) -> usize {
        let value = match self {
            Op::Get { .. } | Op::Delete { .. } => 0,
            Op::Put { value, .. } | Op::Append { value, .. } => value.len(),
            Op::Cas { expected, new, .. } => expected.as_ref().map_or(0, String::len) + new.len(),
        };
        self.key().len() + value
    }
}

/// The result of an operation that took effect.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// A Get's value (`None`: the key is absent).
    Value(Option<String>),
    /// A Put, Append or Delete took effect.
    Done,
    /// Whether a Cas swapped.
    Swapped(bool),
}

/// A clerk's request: operation `seq` of client `client`. Sequence numbers start at 1
/// and grow by one per operation; a clerk has one operation outstanding at a time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub client: ClientId,
    pub seq: u64,
    pub op: Op,
}

/// A server's answer to `Request { client, seq, .. }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub client: ClientId,
    pub seq: u64,
    pub result: Result<Outcome, KvError>,
}

/// Why a server did not carry out a request. None of these mean the operation did not
/// happen (except `Rejected`): a retry with the same sequence number is always safe.
#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize, Deserialize)]
pub enum KvError {
    #[error("not the leader (known leader: {leader:?})")]
    WrongLeader { leader: Option<NodeId> },
    #[error("no answer within the server's request timeout")]
    Timeout,
    #[error("server busy: {reason}")]
    Busy { reason: String },
    /// The request can never succeed (too large, malformed); retrying will not help.
    #[error("request rejected: {reason}")]
    Rejected { reason: String },
}
