//! Traces of nodes — from the simulator or from real processes — and what to do with
//! them. A trace is what one node did, recorded as the inputs to its step function: a
//! [`Header`](format::Header) per incarnation (kind, node, configuration with its seed,
//! the state restored from disk) and a [`Step`](format::Step) per input (the input, a
//! digest of the output, link numbers matching each message's send with its receipt).
//! See [`format`] for the bytes.
//!
//! - [`replay`]: rebuild each node from its header, feed it its inputs through the
//!   very code that ran (`raft_core::Pipeline`, `kv_core::service::Server`,
//!   `kv_core::shardkv::ShardGroup`), and compare every output digest: "identical", or
//!   the first divergence with its input and both outputs.
//! - [`check`]: merge the nodes' traces by time and replay them together under the
//!   simulator's invariant watch; the first violation and the steps before it.
//! - [`view`]: the space-time picture (one self-contained HTML page), and [`dump`] the
//!   same steps as text.
//! - [`Recorder`]: what the simulator and the runtime record with.
//!
//! What this crate is **not**: a second implementation of anything it replays, nor a
//! specification to keep in sync (etcd validates traces against a TLA+ spec; here the
//! trace runs through the same code, checked by the same watch as the simulator).

pub mod check;
pub mod dump;
pub mod file;
pub mod format;
mod live;
pub mod machine;
mod recorder;
pub mod replay;
pub mod sim;
pub mod view;

pub use file::{Sink, TraceError};
pub use format::{Frame, Header, Kind, LinkSeq, Step};
pub use machine::{Boot, Machine, RaftInput, RaftMachine};
pub use recorder::Recorder;
