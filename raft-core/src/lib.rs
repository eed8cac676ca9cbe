//! Raft consensus as a pure, deterministic state machine.
//!
//! A [`Node`] is driven entirely through [`Node::step`]: every timer tick, peer message,
//! local proposal and storage acknowledgement is an [`Input`], and each step returns a
//! [`Ready`] describing what the driver must persist, send and apply — in the order
//! documented on [`Ready`]. The same [`Config`] (including its seed) and the same inputs
//! always produce the same outputs, byte for byte.
//!
//! What this crate is **not**: it does no I/O, owns no threads, reads no clock and draws
//! no global randomness. It does not know about networks, disks, or serialization formats
//! beyond deriving serde. Transports, storage, timers and the simulator live in `drivers/`.
//!
//! Peer input never panics a node: stale, misaddressed or malformed messages are dropped
//! and counted in [`Stats`]. Assertions guard the node's own invariants only.
//!
//! Layout, one concept per file: `log` (the log and its persistence/apply cursors),
//! `progress` (the leader's view of one follower), `quorum` (majority arithmetic),
//! `election` (timers, pre-votes, votes), `leader` and `follower` (role step functions),
//! `snapshot` (compaction, sending and installing snapshots in chunks), `read_only`
//! (ReadIndex and lease reads), `transfer` (leadership transfer), `membership` (configurations and
//! how a change request becomes one) and `conf_change` (carrying changes out),
//! `node` (shared state, term rules, the `step` entry point), `pipeline` (the `Ready`
//! contract carried out once, for every driver), `display` (the compact text forms of
//! messages, inputs, `Ready`s and pipeline work that protocol scripts print).

mod bounds;
mod conf_change;
mod config;
mod display;
mod election;
mod error;
mod follower;
mod leader;
pub mod log;
mod membership;
mod message;
mod node;
pub mod pipeline;
pub mod progress;
pub mod quorum;
mod read_only;
mod ready;
mod rng;
mod snapshot;
mod stats;
mod timers;
mod transfer;
mod types;

pub use bounds::{INDEX_HEADROOM, INDEX_MAX, TERM_JUMP_MAX, TERM_MAX};
pub use config::Config;
#[cfg(feature = "bug-injection")]
pub use config::InjectedBug;
pub use error::{ConfigError, RestoreError, StepError};
pub use membership::{ConfChange, Membership, MembershipError};
pub use message::{Message, MessageBody};
pub use node::{Node, RestoredState, Role};
pub use pipeline::{Apply, Observer, Pipeline, Work, Write, WriteId};
pub use read_only::{lease_ticks, ReadMode, ReadState};
pub use ready::{Input, Ready, SnapshotWrite};
pub use stats::Stats;
pub use timers::TICKS_PER_INPUT_MAX;
pub use types::{
    Entry, EntryKind, HardState, Index, LogPosition, NodeId, Payload, Snapshot, SnapshotMeta, Term,
};
