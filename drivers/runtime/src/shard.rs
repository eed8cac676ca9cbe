//! The sharded key/value service (lab 4) as processes: controller nodes are plain
//! service nodes of `kv_core::ShardCtrl`; a shard group's node runs
//! [`GroupReplica`] (a `ShardGroup` that calls the controller and other groups over
//! TCP); [`ShardClient`] is the client; the Redis front end of a group node serves keys
//! of every shard through one.

mod client;
mod group_node;

pub use client::{addr_in, ShardClient};
pub use group_node::{GroupAnswer, GroupCall, GroupReplica};
