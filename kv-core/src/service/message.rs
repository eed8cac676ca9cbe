//! What travels between a clerk and a server: a request naming one operation of one
//! client, and the reply to it. The operation and its output are the state machine's;
//! the envelope and the errors are the service's.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use raft_core::{NodeId, StepError};

/// Identifies one clerk. Together with a sequence number it names one operation, which
/// is how a retried write is recognised and applied at most once.
pub type ClientId = u64;

/// A clerk's request: operation `seq` of client `client`. Sequence numbers start at 1
/// and grow by one per operation; a clerk has one operation outstanding at a time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request<O> {
    pub client: ClientId,
    pub seq: u64,
    pub op: O,
}

/// A server's answer to `Request { client, seq, .. }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply<T> {
    pub client: ClientId,
    pub seq: u64,
    pub result: Result<T, ServiceError>,
}

impl<T> Reply<T> {
    pub fn err(client: ClientId, seq: u64, e: ServiceError) -> Self {
        Reply {
            client,
            seq,
            result: Err(e),
        }
    }

    pub fn wrong_leader(client: ClientId, seq: u64, leader: Option<NodeId>) -> Self {
        Self::err(client, seq, ServiceError::WrongLeader { leader })
    }
}

/// Why a server did not carry out a request. None of these mean the operation did not
/// happen (except `Rejected`): a retry with the same sequence number is always safe.
#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize, Deserialize)]
pub enum ServiceError {
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

impl ServiceError {
    /// How a proposal or read that Raft refused looks to the client.
    pub(crate) fn from_refusal(e: StepError) -> Self {
        match e {
            StepError::NotLeader { leader } => ServiceError::WrongLeader { leader },
            StepError::TransferInProgress { to } => ServiceError::WrongLeader { leader: Some(to) },
            StepError::ProposalTooLarge { .. } => ServiceError::Rejected {
                reason: e.to_string(),
            },
            other => ServiceError::Busy {
                reason: other.to_string(),
            },
        }
    }
}
