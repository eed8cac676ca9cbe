//! One shard's data: its keys and the sessions of the clients that wrote to it. The
//! sessions travel with the keys, so a write retried across a migration is recognised
//! by the new owner.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::service::ClientId;

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShardData {
    pub kv: BTreeMap<String, String>,
    /// Client → seq of its last write applied to this shard. A clerk runs one operation
    /// at a time, so a write with a seq at or below this one is a retry (or one the
    /// client gave up on): it is answered `Done` and not applied again.
    pub sessions: BTreeMap<ClientId, u64>,
}

/// A write to one shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write<'a> {
    Put(&'a str),
    Append(&'a str),
}

impl ShardData {
    /// Applies a client's write once per (client, seq); returns whether it applied now.
    pub fn write(&mut self, client: ClientId, seq: u64, key: &str, w: Write<'_>) -> bool {
        if self.sessions.get(&client).is_some_and(|&last| seq <= last) {
            return false;
        }
        self.sessions.insert(client, seq);
        match w {
            Write::Put(v) => {
                self.kv.insert(key.to_string(), v.to_string());
            }
            Write::Append(v) => self.kv.entry(key.to_string()).or_default().push_str(v),
        }
        true
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.kv.get(key).cloned()
    }
}
