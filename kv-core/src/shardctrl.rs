//! Lab 4A's shard controller: the [`ShardCtrl`] state machine, its operations, the
//! rebalancing it does on Join and Leave, and the generic service's types named for it.
//!
//! The controller numbers configurations (shard → group, group → servers) from 0, where
//! every shard is on group 0 and no group exists. Join adds groups, Leave removes them,
//! each followed by a [`rebalance()`] that leaves every group `N / G` or `N / G + 1`
//! shards and moves no shard that does not have to move; Move pins one shard to one
//! group; Query reads any configuration, or the latest. Every accepted write makes
//! exactly one new configuration; a refused one ([`CtrlError`]) makes none. Replication,
//! at-most-once writes and ReadIndex queries come from the generic service
//! ([`crate::service`]), as for the key/value map.
//!
//! # What this module is not
//!
//! - Not the shard groups: nothing here stores keys, polls for configurations, or moves
//!   shard data between groups; that is the shard KV (the next step), a client of this
//!   controller.
//! - Not a membership service for the groups' own Raft clusters: a group's server list
//!   is an address book handed to clients and other groups, not a Raft configuration.
//! - Not compacted: every configuration is kept (shard groups may need any of them), so
//!   the state grows with the number of accepted writes; snapshots keep it off the log.

mod config;
mod op;
pub mod rebalance;
mod state;

pub use config::{Config, Gid, Shard};
pub use op::{Change, CtrlError, CtrlOp, CtrlOutcome};
pub use rebalance::rebalance;
pub use state::{ShardCtrl, DEFAULT_SHARDS};

use crate::service;

/// A controller server over `SHARDS` shards (the course's 10 by default).
pub type ShardCtrlServer<const SHARDS: usize = DEFAULT_SHARDS> = service::Server<ShardCtrl<SHARDS>>;
pub type ShardCtrlServerInput = service::ServerInput<CtrlOp>;
pub type ShardCtrlServerReady = service::ServerReady<CtrlOutcome>;
pub type ShardCtrlRequest = service::Request<CtrlOp>;
pub type ShardCtrlReply = service::Reply<CtrlOutcome>;
pub type ShardCtrlCommand = service::Command<Change>;
pub type ShardCtrlSession = service::Session<CtrlOutcome>;
/// Clerks carry operations and outcomes only, so one clerk type serves every count.
pub type ShardCtrlClerk = service::Clerk<CtrlOp, CtrlOutcome>;
pub type ShardCtrlClerkInput = service::ClerkInput<CtrlOp, CtrlOutcome>;
pub type ShardCtrlClerkReady = service::ClerkReady<CtrlOp, CtrlOutcome>;
pub type ShardCtrlCompletion = service::Completion<CtrlOp, CtrlOutcome>;
