//! The replicated key/value service in simulation: `kv-core` servers (each a Raft node
//! plus the key/value state machine) and clerks, in a `sim-kit` world (its network and
//! disk models, event loop and Raft watch), driven by one seeded PRNG in virtual time.
//!
//! Every client operation is recorded with its invocation and return times; [`history`]
//! hands the record to the `lincheck` linearizability checker. [`lab3`] ports the course's
//! lab 3 tests on top of [`world::KvWorld`]'s harness helpers. The world is generic over
//! the replicated state machine ([`SimService`]): [`lab4a`] runs the shard controller's
//! tests in [`world::CtrlWorld`], the same servers, clerks, network and Raft watch.
//! [`shard`] is the shard KV's world (a controller group and three shard groups in one
//! kit world, a Raft watch per group) and [`lab4b`] runs the course's lab 4B tests in it.
//!
//! What this crate is **not**: a runtime. Clients and servers are the pure state machines
//! from `kv-core`; this crate only moves their messages, writes and ticks around.

pub mod client;
pub mod harness;
pub mod history;
pub mod lab3;
pub mod lab4a;
pub mod lab4b;
pub mod recording;
pub mod service;
pub mod shard;
mod sim_server;
pub mod world;

pub use service::SimService;
pub use world::{CtrlWorld, KvSimConfig, KvWorld, ServiceWorld};
