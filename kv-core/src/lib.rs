//! A linearizable replicated key/value service (MIT 6.824 lab 3) on `raft-core`, as pure
//! deterministic state machines.
//!
//! - [`KvState`]: the replicated state machine — Get / Put / Append / Delete /
//!   compare-and-set over string keys, plus a session table (client → last sequence number
//!   and its outcome) so a retried write applies at most once, across snapshots and
//!   restarts.
//! - [`Server`]: a `raft_core::Node` and a `KvState` stepped as one machine. Writes become
//!   log entries and are answered when their entry applies, matched by (term, index) so a
//!   lost leadership answers "wrong leader", never another command's outcome. Reads use
//!   ReadIndex (or the node's lease, if configured) and take no log entry. Requests time
//!   out in ticks. A snapshot is taken when the Raft state reaches `max_raft_state_bytes`.
//! - [`Clerk`]: the client as a state machine — leader cache, retries on timeout or wrong
//!   leader, one sequence number per operation — so the same clerk runs in the simulator
//!   and over TCP.
//!
//! What this crate is **not**: it does no I/O, reads no clock, owns no threads. It does not
//! route replies to clients or move bytes; drivers do. It is not sharded (that is the shard
//! KV, built on top), and it does not evict sessions: a client that never returns keeps
//! its session entry (a few dozen bytes) until a future session-expiry scheme lands.

mod clerk;
mod config;
mod op;
mod pending;
mod server;
mod state_machine;

pub use clerk::{Clerk, ClerkBusy, ClerkConfig, ClerkInput, ClerkReady, Completion};
pub use config::ServerConfig;
pub use op::{ClientId, KvError, Op, Outcome, Reply, Request};
pub use server::{Server, ServerError, ServerInput, ServerReady, ServerStats};
pub use state_machine::{Applied, Command, DecodeError, KvState, Session};
