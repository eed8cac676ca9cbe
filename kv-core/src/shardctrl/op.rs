//! What administrators and shard groups ask of the controller, and what it answers.
//! The request and reply envelopes around them are the generic service's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::config::{Config, Gid, Shard};

/// An operation on the controller. Join, Leave and Move are writes (log entries, each
/// accepted one makes a new configuration); Query is a read (ReadIndex, no log entry).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CtrlOp {
    /// Adds groups, with their servers, and rebalances.
    Join { groups: BTreeMap<Gid, Vec<String>> },
    /// Removes groups and rebalances; their shards go to the groups that remain.
    Leave { gids: Vec<Gid> },
    /// Puts one shard on one group, without rebalancing (until the next Join or Leave).
    Move { shard: Shard, gid: Gid },
    /// Configuration `num`; `None`, or a number not yet made, asks for the latest.
    Query { num: Option<u64> },
}

/// The writes: what goes through the log.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Change {
    Join { groups: BTreeMap<Gid, Vec<String>> },
    Leave { gids: Vec<Gid> },
    Move { shard: Shard, gid: Gid },
}

/// What an operation returns.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CtrlOutcome {
    /// A Join, Leave or Move was accepted and made configuration `num`.
    Configured { num: u64 },
    /// A Query's configuration.
    Config(Config),
    /// A Join, Leave or Move that could not be carried out as asked; nothing changed
    /// (a Join or Leave naming several groups is all or nothing).
    Refused(CtrlError),
}

/// Why a write was refused. These are answers, not faults: the same log entry gets the
/// same refusal on every replica, and a retry (same sequence number) gets it again from
/// the session table.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Error, Serialize, Deserialize)]
pub enum CtrlError {
    /// A Join with no groups, or a Leave with no gids: there would be nothing to do,
    /// and a configuration identical to the last would only cost shard groups a step.
    #[error("nothing to join or leave")]
    Empty,
    /// Group 0 means "no group" (the owner of every shard before any join).
    #[error("group 0 is reserved")]
    ReservedGid,
    /// Joining a live group again would silently replace its servers: leave first.
    #[error("group {gid} has already joined")]
    AlreadyJoined { gid: Gid },
    /// A Leave or Move named a group that is not live now.
    #[error("group {gid} is not a live group")]
    UnknownGroup { gid: Gid },
    /// A group must have at least one server to serve its shards.
    #[error("group {gid} has no servers")]
    NoServers { gid: Gid },
    #[error("shard {shard} does not exist ({shards} shards)")]
    ShardOutOfRange { shard: Shard, shards: usize },
}
