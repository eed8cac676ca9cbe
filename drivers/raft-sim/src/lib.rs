//! A deterministic simulator for `raft-core` clusters.
//!
//! [`Cluster`] is a `sim-kit` world of bare `raft_core::Pipeline`s plus a simulated
//! application per node (its state is the list of applied entries, so its snapshots are
//! checkable) and a check of every linearizable read. The kit supplies the rest: one
//! thread, virtual time, one seeded PRNG, the event queue, the network model (drops,
//! delays, duplicates, reordering, one-way cuts), the disk model (a crash loses exactly
//! the unsynced writes and tears the one in progress), and the Raft watch, which after
//! every step of every node checks Raft's safety properties and the promise lease reads
//! rest on; a violation fails the run with its seed.
//!
//! What this crate is **not**: a real runtime (no sockets, files, threads or wall
//! clocks), nor the simulation machinery itself, which is `sim-kit`'s and shared with
//! kv-sim.
//!
//! [`harness`] mirrors the course's test configuration so the 6.824 lab tests port
//! directly; [`lab2`] holds those scenarios (run by `tests/` and by the speed bench);
//! `sim_kit::seeds` runs a scenario over many seeds and prints how to rerun a failing one.

pub mod actor;
pub mod catchup;
pub mod cluster;
pub mod harness;
pub mod lab2;
pub mod membership;
pub mod nemesis;
pub mod reads;
pub mod transfer;

pub use cluster::{Cluster, Counters, SimConfig};
pub use harness::cmd;
pub use sim_kit::{NetConfig, Sim, MS};
