//! A configuration: which replica group serves each shard, and which servers make up
//! each group, under a number that only grows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A replica group's id. Group 0 is no group: the owner of every shard while no group
/// has joined, and never a group that can join.
pub type Gid = u64;

/// A shard's index, `0..shards`.
pub type Shard = usize;

/// Configuration `num`: shard `i` is served by group `shards[i]`, whose servers are
/// `groups[&shards[i]]`. Configuration 0 has no groups and every shard on group 0.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Config {
    pub num: u64,
    /// One owner per shard; its length is the controller's number of shards.
    pub shards: Vec<Gid>,
    /// Live groups and their servers (ordered, so a configuration has one encoding).
    pub groups: BTreeMap<Gid, Vec<String>>,
}

impl Config {
    /// Configuration 0 for `shards` shards.
    pub fn initial(shards: usize) -> Self {
        Config {
            num: 0,
            shards: vec![0; shards],
            groups: BTreeMap::new(),
        }
    }

    /// How many shards each live group serves (0 for a group serving none).
    pub fn shard_counts(&self) -> BTreeMap<Gid, usize> {
        let mut counts: BTreeMap<Gid, usize> = self.groups.keys().map(|&g| (g, 0)).collect();
        for gid in &self.shards {
            if let Some(n) = counts.get_mut(gid) {
                *n += 1;
            }
        }
        counts
    }

    /// Why this configuration cannot be one the controller made, if it cannot: every
    /// shard on a live group (group 0 when there are none), no group 0, no group without
    /// servers. Used on restored snapshots, whose bytes may be corrupt.
    pub fn invalid_because(&self) -> Option<String> {
        if self.groups.contains_key(&0) {
            return Some(format!("configuration {} has a group 0", self.num));
        }
        if let Some((gid, _)) = self.groups.iter().find(|(_, s)| s.is_empty()) {
            return Some(format!(
                "configuration {}: group {gid} has no servers",
                self.num
            ));
        }
        let live = |g: &Gid| self.groups.contains_key(g) || (self.groups.is_empty() && *g == 0);
        let orphan = self.shards.iter().position(|g| !live(g))?;
        Some(format!(
            "configuration {}: shard {orphan} is on group {}, which is not live",
            self.num, self.shards[orphan]
        ))
    }
}
