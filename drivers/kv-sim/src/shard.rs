//! The sharded key/value service (lab 4B) in simulation: a controller group and three
//! shard groups (gids 100, 101, 102) of three servers each in one `sim-kit` world, with
//! shard clients and the administrator's controller clerk. Every Raft group runs the
//! invariant checker; client histories are checked for linearizability.

mod harness;
mod node;
mod recording;
mod world;

pub use harness::{to_kv, to_outcome};
pub use node::ShardNode;
pub use world::{group_slots, raft_group_of, ShardEvent, ShardSimConfig, ShardWorld};
pub use world::{ADMIN, CLIENT_BASE, CTRL_SERVERS, GIDS, GROUP_CLIENT_BASE, GROUP_SERVERS};
