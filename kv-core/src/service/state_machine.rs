//! The contract between the generic service and the application it replicates.
//!
//! A [`StateMachine`] knows only its own data: how a write changes it, how a read looks
//! at it, and how to save and load it. Everything about clients — sessions, sequence
//! numbers, retries, who waits for which log entry — belongs to the service around it
//! ([`super::Replicated`], [`super::Server`], [`super::Clerk`]).

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;
use thiserror::Error;

use super::message::ClientId;

/// The application a [`super::Server`] replicates: the key/value map of lab 3, the shard
/// controller of lab 4, a counter in a test.
///
/// Every replica applies the same commands in the same (log) order, so `apply` must be
/// deterministic: no clock, no randomness, no iteration over a randomly seeded hash map.
/// `Default` is the state before the first command (and what an empty snapshot means).
pub trait StateMachine: Default {
    /// What a client submits: a write or a read, in the form clerks carry and users build.
    type Op: Clone + Debug + Serialize + DeserializeOwned;
    /// A write. It travels through the log inside a [`super::Command`] envelope that names
    /// its session, and applies at most once per (client, seq).
    type Command: Debug + Serialize + DeserializeOwned;
    /// A read. It takes no log entry: it is answered from local state once ReadIndex (or
    /// the lease) has confirmed this replica is up to date.
    type Query: Debug;
    /// What a write or a read returns. A session keeps its client's last write's output,
    /// so a retry gets the first answer, not a re-execution's.
    type Output: Clone + Debug + PartialEq + Serialize + DeserializeOwned;

    /// Whether this machine keeps its own sessions. The service's table is one per
    /// replica; a machine whose data moves between replicas (shard KV: a shard leaves a
    /// group with its sessions) must keep them next to the data instead. When set, the
    /// service neither deduplicates nor records writes: every committed command reaches
    /// [`StateMachine::apply_in_session`], which must make a retry harmless itself.
    const OWN_SESSIONS: bool = false;

    /// Whether `op` writes (and becomes a command) or only reads.
    fn route(op: Self::Op) -> Access<Self::Command, Self::Query>;

    /// Applies one committed write.
    fn apply(&mut self, cmd: &Self::Command) -> Self::Output;

    /// Applies one committed write of operation `seq` of `client`. Only machines with
    /// [`StateMachine::OWN_SESSIONS`] see this call; the others get `apply` once per
    /// (client, seq).
    fn apply_in_session(
        &mut self,
        client: ClientId,
        seq: u64,
        cmd: &Self::Command,
    ) -> Self::Output {
        let _ = (client, seq);
        self.apply(cmd)
    }

    /// Answers a read; must not change anything observable.
    fn query(&self, query: &Self::Query) -> Self::Output;

    /// Everything `restore` needs to rebuild this state (sessions are saved by the
    /// service, next to these bytes).
    fn snapshot(&self) -> Vec<u8>;

    /// [`StateMachine::snapshot`]'s bytes, appended to `out`. A large state overrides it
    /// to encode in place: the default builds a second buffer as large as the state.
    fn snapshot_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.snapshot());
    }

    /// Rebuilds the state from `snapshot`'s bytes. The bytes come from a leader or from
    /// disk, so they may be corrupt: return an error, never panic. Their length is already
    /// bounded (raft-core assembles a snapshot within its limits); a decoder must not
    /// allocate much more than that on a length field's say-so ([`decode`] does not).
    fn restore(bytes: &[u8]) -> Result<Self, DecodeError>;

    /// This state with whatever it hashes client-chosen data by keyed from `seed` (a
    /// server's `raft.seed`), so that a client cannot choose keys that all collide (hash
    /// flooding). Equal states still encode to equal bytes whatever their seeds. The
    /// default has nothing to key.
    fn with_hash_seed(self, _seed: u64) -> Self {
        self
    }

    /// [`StateMachine::restore`], then [`StateMachine::with_hash_seed`]; a state that can
    /// key its tables while it decodes overrides it.
    fn restore_with_hash_seed(bytes: &[u8], seed: u64) -> Result<Self, DecodeError> {
        Self::restore(bytes).map(|state| state.with_hash_seed(seed))
    }
}

/// Where a client's operation goes: through the log, or to a ReadIndex read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Access<C, Q> {
    Write(C),
    Read(Q),
}

/// Bytes that do not decode: a log entry, a snapshot, or part of one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("log entry is not a command: {0}")]
    Command(#[source] postcard::Error),
    #[error("snapshot of {size_bytes} bytes does not decode: {source}")]
    Snapshot {
        size_bytes: usize,
        #[source]
        source: postcard::Error,
    },
    #[error("snapshot format version {found}; this build reads version {expected}")]
    Version { found: u8, expected: u8 },
    /// The bytes decode but describe an impossible state (a state machine's own check).
    #[error("snapshot describes an invalid state: {reason}")]
    Invalid { reason: String },
}

/// Decodes a postcard snapshot, for state machines that store themselves with serde.
///
/// postcard reads from the slice: a string or byte field's length is checked against the
/// bytes left before anything is copied, and serde caps the capacity it reserves for a
/// sequence (at 1 MiB), so a lying length field cannot make this allocate much more than
/// `bytes.len()`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    postcard::from_bytes(bytes).map_err(|source| DecodeError::Snapshot {
        size_bytes: bytes.len(),
        source,
    })
}

/// Encodes a value with postcard, for state machines that store themselves with serde.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("in-memory values always encode")
}

/// [`encode`], appending to `out`.
pub fn encode_into<T: Serialize>(value: &T, out: &mut Vec<u8>) {
    let buffer = std::mem::take(out);
    *out = postcard::to_extend(value, buffer).expect("in-memory values always encode");
}
