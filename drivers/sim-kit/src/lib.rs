//! The simulation kit: what every deterministic simulator in this workspace is built from.
//!
//! One thread, virtual time in microseconds, one seeded PRNG, so a seed fully determines
//! a run. The parts:
//!
//! - [`queue`]: the event queue, popped in (time, insertion) order, with a bound.
//! - [`net`]: the network model (drops, delays, duplicates, reordering, one-way cuts).
//! - [`disk`]: the disk model (a FIFO of writes that complete after a latency; a crash
//!   loses the unsynced ones and tears the one in progress).
//! - [`watch`]: the Raft invariant checker, the lease watch and the output digest, as
//!   a `raft_core::Observer` on every step of every node.
//! - [`seeds`]: running a scenario over many seeds, and the command that reruns a failure.
//!
//! What this crate is **not**: a simulator by itself (raft-sim and kv-sim build theirs on
//! it), nor a runtime: no sockets, files, threads or wall clocks, except the seed
//! runner's timing of sweeps. It knows Raft (node ids, messages, writes, the watch) but
//! no service above it.

pub mod digest;
pub mod disk;
pub mod net;
pub mod queue;
pub mod seeds;
pub mod watch;

pub use net::{NetConfig, Network, MS};
