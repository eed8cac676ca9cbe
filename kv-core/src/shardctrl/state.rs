//! The controller's state as a [`StateMachine`]: every configuration ever made, and
//! the writes that make the next one.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::config::{Config, Gid, Shard};
use super::op::{Change, CtrlError, CtrlOp, CtrlOutcome};
use super::rebalance::rebalance;
use crate::service::state_machine::{decode, encode, Access, DecodeError, StateMachine};

/// The course's number of shards.
pub const DEFAULT_SHARDS: usize = 10;

/// The shard controller of lab 4A over `SHARDS` shards: configurations `0..=latest`,
/// each kept forever (shard groups walk them one by one, and Query may ask for any).
///
/// # Why the number of shards is a const generic
///
/// It must be the same on every replica from before the first log entry, and it never
/// changes. The generic server starts every replica from `S::default()` (and an empty
/// snapshot means `S::default()` too), so a count chosen at run time would need either a
/// server constructor that takes an initial state (every replica and every restart must
/// be given the same one, with nothing to check they were) or an "Init" log entry (and
/// then a state with no shard count, answering queries before it). As a type parameter
/// the count is part of the type every replica runs, `Default` is correct by
/// construction, and a snapshot with another count fails to restore instead of mixing
/// counts. `ShardCtrl` alone means the course's 10 shards. The price: the count is fixed
/// at compile time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ShardCtrl<const SHARDS: usize = DEFAULT_SHARDS> {
    /// `configs[i].num == i`; never empty.
    configs: Vec<Config>,
}

impl<const SHARDS: usize> Default for ShardCtrl<SHARDS> {
    fn default() -> Self {
        const { assert!(SHARDS > 0, "a shard controller needs at least one shard") };
        ShardCtrl {
            configs: vec![Config::initial(SHARDS)],
        }
    }
}

impl<const SHARDS: usize> StateMachine for ShardCtrl<SHARDS> {
    type Op = CtrlOp;
    type Command = Change;
    /// The configuration number asked for (`None`: the latest).
    type Query = Option<u64>;
    type Output = CtrlOutcome;

    fn route(op: CtrlOp) -> Access<Change, Option<u64>> {
        match op {
            CtrlOp::Join { groups } => Access::Write(Change::Join { groups }),
            CtrlOp::Leave { gids } => Access::Write(Change::Leave { gids }),
            CtrlOp::Move { shard, gid } => Access::Write(Change::Move { shard, gid }),
            CtrlOp::Query { num } => Access::Read(num),
        }
    }

    fn apply(&mut self, change: &Change) -> CtrlOutcome {
        let next = match change {
            Change::Join { groups } => self.join(groups),
            Change::Leave { gids } => self.leave(gids),
            Change::Move { shard, gid } => self.move_shard(*shard, *gid),
        };
        match next {
            Ok(config) => CtrlOutcome::Configured {
                num: self.push(config),
            },
            Err(e) => CtrlOutcome::Refused(e),
        }
    }

    fn query(&self, num: &Option<u64>) -> CtrlOutcome {
        CtrlOutcome::Config(self.config(*num).clone())
    }

    fn snapshot(&self) -> Vec<u8> {
        encode(&Saved {
            shards: SHARDS,
            configs: self.configs.clone(),
        })
    }

    fn restore(bytes: &[u8]) -> Result<Self, DecodeError> {
        let saved: Saved = decode(bytes)?;
        let invalid = |reason| Err(DecodeError::Invalid { reason });
        if saved.shards != SHARDS {
            return invalid(format!(
                "snapshot of a controller over {} shards; this one has {SHARDS}",
                saved.shards
            ));
        }
        if let Some(reason) = Self::invalid_history(&saved.configs) {
            return invalid(reason);
        }
        Ok(ShardCtrl {
            configs: saved.configs,
        })
    }
}

/// What a snapshot holds: the shard count (so a mismatch is caught, not misread) and
/// every configuration.
#[derive(Serialize, Deserialize)]
struct Saved {
    shards: usize,
    configs: Vec<Config>,
}

impl<const SHARDS: usize> ShardCtrl<SHARDS> {
    /// Configuration `num`, or the latest if `num` is `None` or not yet made.
    pub fn config(&self, num: Option<u64>) -> &Config {
        let latest = self.latest();
        let at = num.and_then(|n| usize::try_from(n).ok());
        at.and_then(|i| self.configs.get(i)).unwrap_or(latest)
    }

    pub fn latest(&self) -> &Config {
        self.configs.last().expect("configuration 0 always exists")
    }

    /// Appends the next configuration; returns its number.
    fn push(&mut self, mut config: Config) -> u64 {
        config.num = self.latest().num + 1;
        debug_assert_eq!(config.invalid_because(), None, "{config:?}");
        assert_eq!(config.shards.len(), SHARDS);
        self.configs.push(config);
        self.latest().num
    }

    /// All or nothing: every group must be new, non-zero and have servers.
    fn join(&self, groups: &BTreeMap<Gid, Vec<String>>) -> Result<Config, CtrlError> {
        let mut next = self.latest().clone();
        if groups.is_empty() {
            return Err(CtrlError::Empty);
        }
        for (&gid, servers) in groups {
            if gid == 0 {
                return Err(CtrlError::ReservedGid);
            }
            if next.groups.contains_key(&gid) {
                return Err(CtrlError::AlreadyJoined { gid });
            }
            if servers.is_empty() {
                return Err(CtrlError::NoServers { gid });
            }
        }
        next.groups.extend(groups.clone());
        next.shards = rebalance(&next.shards, &live(&next));
        Ok(next)
    }

    /// All or nothing: every gid must be live. A gid listed twice leaves once.
    fn leave(&self, gids: &[Gid]) -> Result<Config, CtrlError> {
        let mut next = self.latest().clone();
        if gids.is_empty() {
            return Err(CtrlError::Empty);
        }
        // Checked in sorted order, so the refusal names the same gid whatever the order.
        let gids: BTreeSet<Gid> = gids.iter().copied().collect();
        if let Some(&gid) = gids.iter().find(|g| !next.groups.contains_key(g)) {
            return Err(CtrlError::UnknownGroup { gid });
        }
        next.groups.retain(|g, _| !gids.contains(g));
        next.shards = rebalance(&next.shards, &live(&next));
        Ok(next)
    }

    /// Any live group may take any shard; a move to the current owner still makes a
    /// configuration (the course: every Move makes one).
    fn move_shard(&self, shard: Shard, gid: Gid) -> Result<Config, CtrlError> {
        let mut next = self.latest().clone();
        if shard >= SHARDS {
            return Err(CtrlError::ShardOutOfRange {
                shard,
                shards: SHARDS,
            });
        }
        if !next.groups.contains_key(&gid) {
            return Err(CtrlError::UnknownGroup { gid });
        }
        next.shards[shard] = gid;
        Ok(next)
    }

    /// Why a restored list of configurations cannot be this controller's history.
    fn invalid_history(configs: &[Config]) -> Option<String> {
        if configs.first() != Some(&Config::initial(SHARDS)) {
            return Some("the history does not start at configuration 0".into());
        }
        for (i, c) in configs.iter().enumerate() {
            if c.num != i as u64 {
                return Some(format!("configuration {} stored at {i}", c.num));
            }
            if c.shards.len() != SHARDS {
                return Some(format!("configuration {i} has {} shards", c.shards.len()));
            }
            if let Some(reason) = c.invalid_because() {
                return Some(reason);
            }
        }
        None
    }
}

fn live(config: &Config) -> BTreeSet<Gid> {
    config.groups.keys().copied().collect()
}

#[cfg(test)]
mod tests;
