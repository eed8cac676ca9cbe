//! The state every replica holds: the application's [`StateMachine`] plus the
//! [`Sessions`] that make a retried write apply at most once. A snapshot carries both,
//! so deduplication survives compaction, snapshot installs and restarts.
//!
//! Snapshot format: one version byte, the session table (postcard), then the state
//! machine's own bytes to the end. The machine's bytes need no length prefix and are
//! handed to [`StateMachine::restore`] without a copy.

use super::message::ClientId;
use super::session::{Applied, Command, Sessions, Standing};
use super::state_machine::{DecodeError, StateMachine};

/// The snapshot format this build writes and reads.
pub const SNAPSHOT_VERSION: u8 = 1;

pub struct Replicated<S: StateMachine> {
    machine: S,
    sessions: Sessions<S::Output>,
}

impl<S: StateMachine> Default for Replicated<S> {
    fn default() -> Self {
        Replicated {
            machine: S::default(),
            sessions: Sessions::default(),
        }
    }
}

impl<S: StateMachine + Clone> Clone for Replicated<S> {
    fn clone(&self) -> Self {
        Replicated {
            machine: self.machine.clone(),
            sessions: self.sessions.clone(),
        }
    }
}

impl<S: StateMachine + std::fmt::Debug> std::fmt::Debug for Replicated<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replicated")
            .field("machine", &self.machine)
            .field("sessions", &self.sessions)
            .finish()
    }
}

impl<S: StateMachine + PartialEq> PartialEq for Replicated<S> {
    fn eq(&self, other: &Self) -> bool {
        self.machine == other.machine && self.sessions == other.sessions
    }
}

impl<S: StateMachine + Eq> Eq for Replicated<S> where S::Output: Eq {}

impl<S: StateMachine> Replicated<S> {
    /// Applies a write once per (client, seq): a retry gets its first output back, an
    /// operation older than the client's last gets `Stale`.
    pub fn apply(&mut self, cmd: &Command<S::Command>) -> Applied<S::Output> {
        if S::OWN_SESSIONS {
            let output = self.machine.apply_in_session(cmd.client, cmd.seq, &cmd.op);
            return Applied::Fresh(output);
        }
        match self.sessions.standing(cmd.client, cmd.seq) {
            Standing::Applied(o) => return Applied::Duplicate(o.clone()),
            Standing::Stale => return Applied::Stale,
            Standing::New => {}
        }
        let outcome = self.machine.apply(&cmd.op);
        self.sessions.record(cmd.client, cmd.seq, outcome.clone());
        Applied::Fresh(outcome)
    }

    /// The answer a retried write gets without a new log entry, if it applied already.
    pub fn cached(&self, client: ClientId, seq: u64) -> Option<&S::Output> {
        match self.sessions.standing(client, seq) {
            Standing::Applied(o) => Some(o),
            Standing::New | Standing::Stale => None,
        }
    }

    /// Whether `seq` is older than the client's last applied write.
    pub fn is_stale(&self, client: ClientId, seq: u64) -> bool {
        self.sessions.standing(client, seq) == Standing::Stale
    }

    pub fn query(&self, query: &S::Query) -> S::Output {
        self.machine.query(query)
    }

    pub fn machine(&self) -> &S {
        &self.machine
    }

    pub fn sessions(&self) -> &Sessions<S::Output> {
        &self.sessions
    }

    pub fn snapshot(&self) -> Vec<u8> {
        let mut out = postcard::to_extend(&self.sessions, vec![SNAPSHOT_VERSION])
            .expect("sessions always encode");
        self.machine.snapshot_into(&mut out);
        out
    }

    /// Decodes a snapshot (empty bytes: the initial state). Its size is already bounded:
    /// raft-core assembled it from chunks within the node's limits, or the driver read it
    /// from its own disk. The machine is keyed from seed 0 (tools and tests; a server
    /// keys its own from its seed with [`Replicated::restore_with_hash_seed`]), so this
    /// decodes through the same path a server's restore takes.
    pub fn restore(data: &[u8]) -> Result<Self, DecodeError> {
        Self::restore_with_hash_seed(data, 0)
    }

    /// The empty state, its machine keyed by `seed` ([`StateMachine::with_hash_seed`]).
    pub fn with_hash_seed(seed: u64) -> Self {
        Replicated {
            machine: S::default().with_hash_seed(seed),
            sessions: Sessions::default(),
        }
    }

    /// [`Replicated::restore`] with the machine keyed by `seed`, as a server's is.
    pub fn restore_with_hash_seed(data: &[u8], seed: u64) -> Result<Self, DecodeError> {
        let Some((&version, rest)) = data.split_first() else {
            return Ok(Self::with_hash_seed(seed));
        };
        if version != SNAPSHOT_VERSION {
            return Err(DecodeError::Version {
                found: version,
                expected: SNAPSHOT_VERSION,
            });
        }
        let (sessions, machine) =
            postcard::take_from_bytes(rest).map_err(|source| DecodeError::Snapshot {
                size_bytes: data.len(),
                source,
            })?;
        Ok(Replicated {
            machine: S::restore_with_hash_seed(machine, seed)?,
            sessions,
        })
    }
}

#[cfg(test)]
mod tests;
