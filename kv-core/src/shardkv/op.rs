//! What shard KV clients, and shard groups, ask of a group, and what it answers. The
//! request and reply envelopes are the generic service's.

use serde::{Deserialize, Serialize};

use super::data::ShardData;
use crate::shardctrl::{Config, Gid, Shard};

/// The course's shard count and key → shard rule.
pub const SHARDS: usize = crate::shardctrl::DEFAULT_SHARDS;

/// The shard of `key`: its first byte mod the shard count (the course's `key2shard`;
/// the empty key lives in shard 0).
pub fn key_shard(key: &str) -> Shard {
    key.as_bytes()
        .first()
        .map_or(0, |&b| usize::from(b) % SHARDS)
}

/// An operation on a shard group. Clients send Get / Put / Append; other groups send
/// Fetch and Delete; the group's own leader proposes Reconfigure, Install and
/// Delivered (a group refuses those from anyone else).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ShardOp {
    Get {
        key: String,
    },
    Put {
        key: String,
        value: String,
    },
    Append {
        key: String,
        value: String,
    },
    /// Another group asks for `shard` as this group froze it on entering config `num`.
    Fetch {
        shard: Shard,
        num: u64,
    },
    /// The new owner of `shard` in config `num` has it: the old owner may delete it.
    Delete {
        shard: Shard,
        num: u64,
    },
    /// Step to the next configuration (the group's own proposal).
    Reconfigure {
        gid: Gid,
        config: Config,
    },
    /// Install a pulled shard for config `num` (the group's own proposal).
    Install {
        shard: Shard,
        num: u64,
        data: ShardData,
    },
    /// The old owner deleted `shard` of config `num` (the group's own proposal).
    Delivered {
        shard: Shard,
        num: u64,
    },
}

impl ShardOp {
    /// Operations only a group's own leader may propose.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            ShardOp::Reconfigure { .. } | ShardOp::Install { .. } | ShardOp::Delivered { .. }
        )
    }

    /// The key a client operation names.
    pub fn key(&self) -> Option<&str> {
        match self {
            ShardOp::Get { key } | ShardOp::Put { key, .. } | ShardOp::Append { key, .. } => {
                Some(key)
            }
            _ => None,
        }
    }
}

/// The reads: answered by ReadIndex, no log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShardQuery {
    Get { key: String },
    Fetch { shard: Shard, num: u64 },
}

/// What an operation returns.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ShardOutput {
    /// A Get's value (`None`: absent; the course's "").
    Value(Option<String>),
    /// A Put or Append applied (now or by an earlier attempt of the same operation).
    Done,
    /// This group does not serve the key's shard now: not its shard in its current
    /// configuration, or not arrived yet. Nothing was applied; ask the controller.
    WrongGroup,
    /// A Fetch's answer: the shard with its sessions.
    Shard {
        shard: Shard,
        num: u64,
        data: ShardData,
    },
    /// A Fetch or Delete that this group cannot answer yet (it is behind `num`).
    NotReady,
    /// A Delete's answer: the shard of config `num` is gone from here (now or before).
    Deleted { shard: Shard, num: u64 },
    /// A group's own proposal applied (`true`) or was a duplicate or out of date.
    Stepped(bool),
}
