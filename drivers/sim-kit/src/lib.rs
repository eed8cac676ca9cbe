//! The simulation kit: what every deterministic simulator in this workspace is built from.
//!
//! One thread, virtual time in microseconds, one seeded PRNG, so a seed fully determines
//! a run. The parts:
//!
//! - [`queue`]: the event queue, popped in (time, insertion) order, with a bound.
//! - [`net`]: the network model (drops, delays, duplicates, reordering, one-way cuts).
//! - [`disk`]: the disk model (a FIFO of writes that complete after a latency; a crash
//!   loses the unsynced ones and tears the one in progress).
//! - [`World`] and [`Sim`]: the world skeleton. A `World` holds `n` slots, each running
//!   one [`SimNode`] (a bare `raft_core::Pipeline` in raft-sim, a `kv_core::Server` in
//!   kv-sim) with its disk, incarnation and drifting tick; it starts, kills and restarts
//!   them, carries their messages and writes, and fails a run with its seed, time and
//!   [`World::describe`]. A simulator implements [`Sim`] (how to start its node, what
//!   a tick, a message, a durable write and its own events do; [`sim_world!`] writes
//!   the rest of the impl) and gets the event loop, kill / crash / restart, and the
//!   skeleton's queries.
//! - [`watch`]: the Raft invariant checker, the lease watch and the output digest, as
//!   a `raft_core::Observer` on every step of every slot's node.
//! - [`seeds`]: running a scenario over many seeds, and the command that reruns a failure.
//!
//! What this crate is **not**: a simulator by itself (raft-sim, kv-sim and mr-driver's
//! coordinator simulation build theirs on it), nor a runtime: no sockets, files, threads
//! or wall clocks, except the seed runner's timing of sweeps. It knows Raft (node ids,
//! messages, writes, the watch) but no service above it.

pub mod digest;
pub mod disk;
mod event_loop;
pub mod net;
mod node;
mod pipeline;
pub mod queue;
pub mod seeds;
mod sim;
mod slot;
pub mod watch;
mod world;
mod world_nodes;
mod world_traffic;

pub use net::{NetConfig, Network, MS};
pub use node::{raft_summary, SimNode};
pub use sim::Sim;
pub use world::{id_of, slot_of, World, WorldConfig, WorldCounters};
pub use world_nodes::Boot;
