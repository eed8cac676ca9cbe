//! Server configuration: the Raft node's, plus the service's own limits.

use raft_core::Config;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerConfig {
    pub raft: Config,
    /// Take a snapshot once the Raft state (hard state and log, as persisted) reaches this
    /// many bytes; `None` never snapshots (the course's `maxraftstate = -1`).
    pub max_raft_state_bytes: Option<usize>,
    /// A request not answered within this many ticks gets `ServiceError::Timeout`, so a client
    /// stuck on a leader in a minority moves on.
    pub request_timeout_ticks: u64,
    /// Requests awaiting an answer before new ones get `ServiceError::Busy`.
    pub pending_max: usize,
}

impl ServerConfig {
    /// Defaults for a 10 ms tick: a request waits at most 1 s (one election timeout).
    pub fn new(raft: Config) -> Self {
        ServerConfig {
            raft,
            max_raft_state_bytes: None,
            request_timeout_ticks: 100,
            pending_max: 4096,
        }
    }
}
