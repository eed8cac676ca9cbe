//! Linearizable replicated services on `raft-core`, as pure deterministic state machines:
//! a generic service layer, the key/value service of MIT 6.824 lab 3 and the shard
//! controller of lab 4A built on it.
//!
//! # The generic layer: [`service`]
//!
//! Lab 3's key/value server, lab 4's shard controller and its shard groups are one
//! pattern over different data, so the pattern is written once:
//!
//! - [`service::StateMachine`]: what an application supplies — `route` an operation to a
//!   write (a `Command`, through the log) or a read (a `Query`, by ReadIndex), `apply` a
//!   committed write, answer a `query`, `snapshot` and `restore` itself.
//! - [`service::Replicated`]: the state machine plus the session table (client → last
//!   sequence number and its output). A retried write applies once and gets its first
//!   outcome; a write older than the client's last is `Stale`. Snapshots carry the table,
//!   so the guarantee survives compaction, installs and restarts. Applications never see
//!   sessions.
//! - [`service::Server`]: a `raft_core::Node` (in a `raft_core::Pipeline`) and a
//!   `Replicated`, stepped as one machine. Writes become log entries and are answered when
//!   their entry applies, matched by (term, index), so a lost leadership answers "wrong
//!   leader", never another command's outcome. Reads use ReadIndex (or the node's lease,
//!   if configured) and take no log entry. Requests time out in ticks. A snapshot is taken
//!   when the Raft state reaches `max_raft_state_bytes`.
//! - [`service::Clerk`]: the client as a state machine — leader cache, retries on timeout
//!   or wrong leader, one sequence number per operation — generic only in the operation
//!   and outcome it carries, so the same clerk runs in the simulator and over TCP.
//!
//! Every input and output of a server or clerk step is a serde type (postcard on the
//! wire), so a run can be recorded and replayed as data.
//!
//! # The key/value service: [`KvState`] and the names at the crate root
//!
//! [`KvState`] is the map: Get / Put / Append / Delete / compare-and-set over string
//! keys. [`Server`], [`ServerInput`], [`ServerReady`], [`Request`], [`Reply`], [`Clerk`],
//! [`ClerkInput`], [`ClerkReady`], [`Completion`] ... are the generic types instantiated
//! for it, so lab 3 code reads as if the service were written for key/value alone.
//!
//! # The shard controller: [`shardctrl`]
//!
//! [`ShardCtrl`] keeps the numbered configurations of a sharded service (shard → group,
//! group → servers): Join / Leave rebalance with the fewest shard moves a balanced
//! result allows ([`shardctrl::rebalance()`]), Move pins a shard, Query reads any
//! configuration (by ReadIndex, like a Get). [`ShardCtrlServer`], [`ShardCtrlClerk`] ...
//! are the generic types instantiated for it. The controller only decides who should
//! serve what; the shard groups that store keys and hand shards to each other are
//! in [`shardkv`].
//!
//! # The shard KV: [`shardkv`]
//!
//! Shard groups ([`shardkv::ShardGroup`]: the generic server over [`shardkv::ShardKv`]
//! plus the controller's clerk) step through the controller's configurations one at a
//! time through their logs, pull shards with their sessions from the previous owner,
//! serve a shard as soon as it is here, and have the previous owner delete it once it
//! arrived. [`shardkv::ShardClerk`] routes each key to its group.
//!
//! # What this crate is not
//!
//! It does no I/O, reads no clock, owns no threads. It does not route replies to clients
//! or move bytes; drivers do. It does not evict sessions: a client that never returns keeps its session
//! entry (its id, seq and last output) until a future session-expiry scheme lands.
//! A shard group proposes its own commands (configuration steps, installs) as requests
//! under its own client id, which the generic server treats like any other.

mod kv;
pub mod service;
pub mod shardctrl;
pub mod shardkv;

pub use kv::{Applied, Clerk, ClerkInput, ClerkReady, Command, Completion, KvError, Session};
pub use kv::{
    HashKey, KvState, Op, Outcome, Read, Reply, Request, Server, ServerInput, ServerReady,
    KEY_BYTES_MAX, READ_BYTES_MAX, VALUE_BYTES_MAX,
};
pub use service::{ClerkBusy, ClerkConfig, ClientId, DecodeError, ServerConfig};
pub use service::{ServerError, ServerStats, ServiceError, StateMachine};
pub use shardctrl::{Change, Config, CtrlError, CtrlOp, CtrlOutcome, Gid, Shard, ShardCtrl};
pub use shardctrl::{ShardCtrlClerk, ShardCtrlClerkInput, ShardCtrlClerkReady, ShardCtrlServer};
pub use shardctrl::{ShardCtrlCompletion, ShardCtrlReply, ShardCtrlRequest};
pub use shardctrl::{ShardCtrlServerInput, ShardCtrlServerReady};
