//! The sharded key/value service of lab 4B: shard groups, each a Raft group running
//! [`ShardKv`] on the generic [`crate::service::Server`], that follow the shard
//! controller's configurations one at a time and move shards between them.
//!
//! - [`ShardKv`] (state.rs): the replicated state — current and previous configuration,
//!   and per held shard its data, its sessions and how far its move has come.
//! - [`ShardGroup`] (group.rs): a group server — the generic server plus the
//!   controller's clerk; its leader polls, pulls, and acknowledges, all through the log.
//! - [`ShardClerk`] (clerk.rs): the client — key → shard → group → leader, refreshing
//!   the configuration on "wrong group".
//! - [`ShardData`] (data.rs): one shard's keys and the sessions that move with them.
//!
//! Shards are pulled (the new owner asks the old one) and garbage-collected when the
//! new owner confirms (a Delete write at the old owner); see ARCHITECTURE.md for why.

mod clerk;
mod data;
mod group;
mod op;
mod state;

pub use clerk::{ShardClerk, ShardClerkInput, ShardClerkReady};
pub use data::ShardData;
pub use group::{
    server_addr, server_id, server_ids, GroupInput, GroupReady, ShardGroup, ShardGroupConfig,
};
pub use op::{key_shard, ShardOp, ShardOutput, ShardQuery, SHARDS};
pub use state::{ShardKv, Status};

use crate::service;

pub type ShardKvReply = service::Reply<ShardOutput>;
pub type ShardKvRequest = service::Request<ShardOp>;
pub type ShardKvCompletion = service::Completion<ShardOp, ShardOutput>;
