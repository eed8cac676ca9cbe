//! The real world for the cores. `raft-core` and `kv-core` are pure state machines; this
//! crate supplies what they leave out:
//!
//! - [`storage`]: a segmented append-only log with a CRC per record, group commit,
//!   snapshot files written atomically, recovery that repairs a torn tail and refuses
//!   corruption inside the durable prefix, and a lock on the data directory;
//! - [`resp`]: the Redis protocol (RESP2) parser and encoder, with limits checked before
//!   anything is allocated.
//!
//! What it is **not**: a second implementation of the `Ready` contract. Every node here
//! runs its service inside `raft_core::Pipeline` (through `kv_core::Server`) and supplies
//! only effects: sockets, fsyncs, a monotonic clock.

pub mod clerk_loop;
pub mod client;
pub mod dialer;
pub mod frame;
pub mod local_cluster;
pub mod node;
pub mod redis;
pub mod resp;
pub mod shard;
pub mod storage;
pub mod wire;
pub mod workload;
