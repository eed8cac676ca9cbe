//! The generic replicated service: everything lab 3's key/value server, lab 4's shard
//! controller and its shard groups share, over any [`StateMachine`].
//!
//! - [`StateMachine`]: the application — apply a write, answer a read, snapshot, restore.
//! - [`Replicated`]: the state machine plus the session table (client → last seq and its
//!   output), so a retried write applies once and gets its first outcome, and a write
//!   older than the client's last is `Stale`. Snapshots carry both.
//! - [`Server`]: a Raft node (inside a `raft_core::Pipeline`) and a `Replicated`, stepped as
//!   one machine. Writes wait under the (term, index) their proposal got; reads go through
//!   ReadIndex (or the lease) and take no log entry; requests time out in ticks; a
//!   snapshot is taken when the Raft state reaches `max_raft_state_bytes`.
//! - [`Clerk`]: the client — leader cache, retries, one sequence number per operation. It
//!   carries operations and outcomes without looking inside them.
//!
//! Every input and output of a step ([`ServerInput`], [`ServerReady`], [`ClerkInput`],
//! [`ClerkReady`], ...) is a serde type, so a driver's run can be recorded and replayed as
//! data.

mod clerk;
mod config;
mod message;
mod pending;
mod replicated;
mod server;
mod session;
pub mod state_machine;

pub use clerk::{Clerk, ClerkBusy, ClerkConfig, ClerkInput, ClerkReady, Completion};
pub use config::ServerConfig;
pub use message::{ClientId, Reply, Request, ServiceError};
pub use replicated::{Replicated, SNAPSHOT_VERSION};
pub use server::{Server, ServerError, ServerInput, ServerReady, ServerStats};
pub use session::{Applied, Command, Session, Sessions, Standing};
pub use state_machine::{Access, DecodeError, StateMachine};
