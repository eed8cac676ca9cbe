//! A deterministic simulator for `raft-core` clusters.
//!
//! One thread, virtual time in microseconds, one seeded PRNG, a priority queue of events
//! (ticks, message deliveries, disk completions), all from the `sim-kit` crate. The
//! network model ([`net`]) drops, delays, duplicates and reorders messages and cuts links
//! one way or both; the disk model ([`disk`]) keeps writes pending until synced, so a
//! crash loses exactly the unsynced ones. After every step of every node the kit's
//! [`watch`] checks Raft's safety properties, and the promise lease reads rest on (no
//! vote within an election timeout of accepting leader traffic); a violation fails the
//! run with its seed.
//!
//! What this crate is **not**: a real runtime. No sockets, files, threads or wall clocks.
//!
//! [`harness`] mirrors the course's test configuration so the 6.824 lab tests port
//! directly; [`lab2`] holds those scenarios (run by `tests/` and by the speed bench);
//! [`seeds`] runs a scenario over many seeds and prints how to rerun a failing one.

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
pub use sim_kit::{digest, disk, net, queue, seeded_test, seeds, watch};
pub use sim_kit::{NetConfig, Sim, MS};
