//! The replicated key/value service in simulation: `kv-core` servers (each a Raft node
//! plus the key/value state machine) and clerks, in a `sim-kit` world (its network and
//! disk models, event loop and Raft watch), driven by one seeded PRNG in virtual time.
//!
//! Every client operation is recorded with its invocation and return times; [`history`]
//! hands the record to the `lincheck` linearizability checker. [`lab3`] ports the course's
//! lab 3 tests on top of [`world::KvWorld`]'s harness helpers.
//!
//! What this crate is **not**: a runtime. Clients and servers are the pure state machines
//! from `kv-core`; this crate only moves their messages, writes and ticks around.

pub mod client;
pub mod harness;
pub mod history;
pub mod lab3;
mod sim_server;
pub mod world;

pub use world::{KvSimConfig, KvWorld};
