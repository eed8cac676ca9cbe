//! Sessions: what makes a retried write apply at most once.
//!
//! A clerk numbers its operations 1, 2, 3 ... and keeps the number across every retry, so
//! (client, seq) names one operation however often it is sent. The session table keeps,
//! per client, the last write applied and its output: a command with that seq is a retry
//! (answered with the first output, not applied again), one below it is a retry the
//! client has already given up on (stale). Every replica applies the same commands in the
//! same order, so every replica's table agrees.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::message::ClientId;
use super::state_machine::DecodeError;

/// A write as it travels through the log: the state machine's command, named by its
/// session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command<C> {
    pub client: ClientId,
    pub seq: u64,
    pub op: C,
}

impl<C: Serialize> Command<C> {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("a command always encodes")
    }
}

impl<C: DeserializeOwned> Command<C> {
    /// Decodes a log entry. Entries are bounded by raft-core (`entry_bytes_max`), and
    /// postcard allocates no more than the entry's length on a length field's say-so.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        postcard::from_bytes(data).map_err(DecodeError::Command)
    }
}

/// The last write applied for one client, with its output for retries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session<O> {
    pub seq: u64,
    pub outcome: O,
}

/// What applying a command did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied<O> {
    /// First time: this is its output.
    Fresh(O),
    /// Already applied: the output it had then.
    Duplicate(O),
    /// Older than the client's last write: the client has moved on; nothing to answer.
    Stale,
}

impl<O> Applied<O> {
    pub fn outcome(&self) -> Option<&O> {
        match self {
            Applied::Fresh(o) | Applied::Duplicate(o) => Some(o),
            Applied::Stale => None,
        }
    }
}

/// Where a (client, seq) stands against its client's session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing<'a, O> {
    /// Never applied, and newer than anything applied for this client.
    New,
    /// Applied already, with this output.
    Applied(&'a O),
    /// Older than the client's last applied write.
    Stale,
}

/// The session table: client → last applied write and its output. Sorted, so its
/// encoding (part of every snapshot) is the same on every replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sessions<O> {
    by_client: BTreeMap<ClientId, Session<O>>,
}

impl<O> Default for Sessions<O> {
    fn default() -> Self {
        Sessions {
            by_client: BTreeMap::new(),
        }
    }
}

impl<O> Sessions<O> {
    pub fn standing(&self, client: ClientId, seq: u64) -> Standing<'_, O> {
        match self.by_client.get(&client) {
            Some(s) if seq == s.seq => Standing::Applied(&s.outcome),
            Some(s) if seq < s.seq => Standing::Stale,
            _ => Standing::New,
        }
    }

    /// Records that `seq` applied with `outcome`.
    pub fn record(&mut self, client: ClientId, seq: u64, outcome: O) {
        let session = Session { seq, outcome };
        let previous = self.by_client.insert(client, session);
        assert!(
            previous.is_none_or(|p| p.seq < seq),
            "client {client}: seq {seq} recorded over a newer or equal one"
        );
    }

    pub fn get(&self, client: ClientId) -> Option<&Session<O>> {
        self.by_client.get(&client)
    }

    pub fn len(&self) -> usize {
        self.by_client.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_client.is_empty()
    }
}
