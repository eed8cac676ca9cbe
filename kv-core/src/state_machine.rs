//! The replicated state machine: the key/value map plus the session table that makes a
//! retried write apply at most once. Every server applies the same commands in log
//! order, so every copy agrees; a snapshot carries both the map and the sessions, so
//! deduplication survives compaction and restarts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::op::{ClientId, Op, Outcome};

/// A write as it travels through the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    pub client: ClientId,
    pub seq: u64,
    pub op: Op,
}

impl Command {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("a command always encodes")
    }

    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        postcard::from_bytes(data).map_err(|e| DecodeError::Command(e.to_string()))
    }
}

/// The last write applied for one client, with its outcome for retries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub seq: u64,
    pub outcome: Outcome,
}

/// What applying a command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// First time: this is its outcome.
    Fresh(Outcome),
    /// Already applied: the outcome it had then.
    Duplicate(Outcome),
    /// Older than the client's last write: the client has moved on; nothing to answer.
    Stale,
}

impl Applied {
    pub fn outcome(&self) -> Option<&Outcome> {
        match self {
            Applied::Fresh(o) | Applied::Duplicate(o) => Some(o),
            Applied::Stale => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("log entry is not a command: {0}")]
    Command(String),
    #[error("snapshot of {size_bytes} bytes does not decode: {reason}")]
    Snapshot { size_bytes: usize, reason: String },
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvState {
    data: BTreeMap<String, String>,
    sessions: BTreeMap<ClientId, Session>,
}

impl KvState {
    /// Applies a write once per (client, seq); a Get is answered without touching sessions.
    pub fn apply(&mut self, cmd: &Command) -> Applied {
        if cmd.op.is_read() {
            return Applied::Fresh(self.execute(&cmd.op));
        }
        if let Some(s) = self.sessions.get(&cmd.client) {
            if cmd.seq == s.seq {
                return Applied::Duplicate(s.outcome.clone());
            }
            if cmd.seq < s.seq {
                return Applied::Stale;
            }
        }
        let outcome = self.execute(&cmd.op);
        let session = Session {
            seq: cmd.seq,
            outcome: outcome.clone(),
        };
        self.sessions.insert(cmd.client, session);
        Applied::Fresh(outcome)
    }

    /// The reply a retried write gets without a new log entry, if it was applied already.
    pub fn cached(&self, client: ClientId, seq: u64) -> Option<&Outcome> {
        self.sessions
            .get(&client)
            .filter(|s| s.seq == seq)
            .map(|s| &s.outcome)
    }

    /// Whether `seq` is older than the client's last applied write.
    pub fn is_stale(&self, client: ClientId, seq: u64) -> bool {
        self.sessions.get(&client).is_some_and(|s| seq < s.seq)
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.data.get(key)
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    fn execute(&mut self, op: &Op) -> Outcome {
        match op {
            Op::Get { key } => Outcome::Value(self.data.get(key).cloned()),
            Op::Put { key, value } => {
                self.data.insert(key.clone(), value.clone());
                Outcome::Done
            }
            Op::Append { key, value } => {
                self.data.entry(key.clone()).or_default().push_str(value);
                Outcome::Done
            }
            Op::Delete { key } => {
                self.data.remove(key);
                Outcome::Done
            }
            Op::Cas { key, expected, new } => {
                let swap = self.data.get(key) == expected.as_ref();
                if swap {
                    self.data.insert(key.clone(), new.clone());
                }
                Outcome::Swapped(swap)
            }
        }
    }

    pub fn snapshot(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("the state always encodes")
    }

    /// Decodes a snapshot. Its size is already bounded: raft-core assembled it from
    /// chunks within the node's limits, or the driver read it from its own disk.
    pub fn restore(data: &[u8]) -> Result<Self, DecodeError> {
        if data.is_empty() {
            return Ok(KvState::default());
        }
        postcard::from_bytes(data).map_err(|e| DecodeError::Snapshot {
            size_bytes: data.len(),
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests;
