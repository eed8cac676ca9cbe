//! A shard group's replicated state: where it stands in the sequence of configurations,
//! and, per shard it holds, the data with its sessions and how far that shard's move has
//! come. Every change — a client's write, a step to the next configuration, a pulled
//! shard arriving, the old owner's deletion — is a log entry, so every replica agrees
//! where a configuration change falls relative to client writes.
//!
//! A shard's life at a group, within configuration `num`:
//!
//! ```text
//!   (absent) ──Reconfigure: now ours, last held by g──▶ Pulling{g} ──Install──▶ Notifying{g}
//!      ▲                                                                       │ Delivered
//!      │ Delete{num} from the new owner              Reconfigure: not ours     ▼
//!   Leaving ◀──────────────────────────────────────────────────────────────── Serving
//!      ▲ Reconfigure: another group's         Reconfigure: no group's ▲ │ Reconfigure: ours
//!      └─────────────────────────────── Parked ◀───────────────────────┘ ▼ (Serving again)
//! ```
//!
//! Serving and Notifying serve clients (challenge 2: a shard is served as soon as it is
//! here, whatever else is still moving). The group steps to the next configuration only
//! when every shard it holds is Serving or Parked: nothing is being pulled, nobody still
//! has to delete what we pulled, and nobody still has to take what we gave away. So
//! pulls, deletions and acknowledgements always refer to the current configuration.
//!
//! A shard is Parked when a configuration gives it to no group, which the controller
//! does once every group has left: its last holder keeps it, frozen and unserved, and
//! steps on. Every group steps through every configuration, so each knows who last
//! held every shard (`holders`) and where that group's servers are (`homes`, kept
//! after the group has left); whoever the shard is given to next pulls it from there.
//! Without this, a shard given to nobody would come back empty and its holder would
//! wait for a new owner that never asks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::data::{ShardData, Write};
use super::op::{key_shard, ShardOp, ShardOutput, ShardQuery, SHARDS};
use crate::service::state_machine::{decode, encode, Access, DecodeError, StateMachine};
use crate::service::ClientId;
use crate::shardctrl::{Config, Gid, Shard};

/// Shards with the group on the other side of their move.
pub type Moves = Vec<(Shard, Gid)>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Serving,
    /// Ours in the current configuration; group `from` still has it.
    Pulling {
        from: Gid,
    },
    /// Here and served; group `from` has not yet confirmed deleting its copy.
    Notifying {
        from: Gid,
    },
    /// Given away in the current configuration; kept, frozen, until the new owner has it.
    Leaving,
    /// Given to no group in the current configuration; kept, frozen, until a later one
    /// names an owner (us again, or a group that then pulls it).
    Parked,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardKv {
    /// This group's id; 0 until its first configuration step.
    gid: Gid,
    current: Config,
    previous: Config,
    slots: BTreeMap<Shard, (Status, ShardData)>,
    /// Per shard, the last group to own it up to the current configuration (0: none
    /// ever has): where its data is when the current configuration gives it to nobody.
    holders: Vec<Gid>,
    /// The servers of every group named in `holders` or in a move under way, from the
    /// last configuration that listed the group (it may have left since).
    homes: BTreeMap<Gid, Vec<String>>,
}

impl Default for ShardKv {
    fn default() -> Self {
        ShardKv {
            gid: 0,
            current: Config::initial(SHARDS),
            previous: Config::initial(SHARDS),
            slots: BTreeMap::new(),
            holders: vec![0; SHARDS],
            homes: BTreeMap::new(),
        }
    }
}

impl ShardKv {
    pub fn gid(&self) -> Gid {
        self.gid
    }

    pub fn current(&self) -> &Config {
        &self.current
    }

    /// The configuration before the current one: where pulled shards come from.
    pub fn previous(&self) -> &Config {
        &self.previous
    }

    pub fn slots(&self) -> &BTreeMap<Shard, (Status, ShardData)> {
        &self.slots
    }

    /// The servers of group `gid` as the last configuration naming it listed them, if it
    /// holds a shard or is the other side of a move: where pulls and deletes go.
    pub fn home(&self, gid: Gid) -> Option<&[String]> {
        self.homes.get(&gid).map(Vec::as_slice)
    }

    pub fn homes(&self) -> &BTreeMap<Gid, Vec<String>> {
        &self.homes
    }

    /// Every shard is Serving or Parked: the group may step to the next configuration.
    pub fn settled(&self) -> bool {
        let still = |s: &Status| matches!(s, Status::Serving | Status::Parked);
        self.slots.values().all(|(s, _)| still(s))
    }

    /// Shards to pull (shard, from group) and shards whose old owner must still be told
    /// to delete (shard, that group), in the current configuration.
    pub fn pending_moves(&self) -> (Moves, Moves) {
        let (mut pulls, mut notifies) = (Vec::new(), Vec::new());
        for (&shard, (status, _)) in &self.slots {
            match *status {
                Status::Pulling { from } => pulls.push((shard, from)),
                Status::Notifying { from } => notifies.push((shard, from)),
                Status::Serving | Status::Leaving | Status::Parked => {}
            }
        }
        (pulls, notifies)
    }

    /// Whether clients are served `shard` here now.
    pub fn serves(&self, shard: Shard) -> bool {
        self.gid != 0
            && self.current.shards.get(shard) == Some(&self.gid)
            && matches!(
                self.slots.get(&shard),
                Some((Status::Serving | Status::Notifying { .. }, _))
            )
    }

    fn client_write(&mut self, client: ClientId, seq: u64, key: &str, w: Write) -> ShardOutput {
        let shard = key_shard(key);
        if !self.serves(shard) {
            return ShardOutput::WrongGroup;
        }
        let (_, data) = self.slots.get_mut(&shard).expect("a served shard is held");
        data.write(client, seq, key, w);
        ShardOutput::Done
    }

    fn reconfigure(&mut self, gid: Gid, config: &Config) -> bool {
        let fits = config.num == self.current.num + 1
            && config.shards.len() == SHARDS
            && config.invalid_because().is_none();
        if !fits || !self.settled() || gid == 0 || (self.gid != 0 && gid != self.gid) {
            return false;
        }
        for shard in 0..SHARDS {
            let (was, now) = (self.current.shards[shard], config.shards[shard]);
            if now == gid && was != gid {
                self.gain(shard);
            } else if now != gid {
                if let Some(slot) = self.slots.get_mut(&shard) {
                    slot.0 = if now == 0 {
                        Status::Parked
                    } else {
                        Status::Leaving
                    };
                }
            }
        }
        for (holder, &now) in self.holders.iter_mut().zip(&config.shards) {
            if now != 0 {
                *holder = now;
            }
        }
        self.gid = gid;
        self.previous = std::mem::replace(&mut self.current, config.clone());
        self.update_homes();
        if let Some(why) = self.invalid_because() {
            panic!("configuration step to {}: {why}", config.num);
        }
        true
    }

    /// A shard the next configuration gives us: ours again if parked here, else pulled
    /// from its last holder, or new and empty if nobody has ever held it.
    fn gain(&mut self, shard: Shard) {
        if let Some(slot) = self.slots.get_mut(&shard) {
            assert_eq!(slot.0, Status::Parked, "a shard we did not own was held");
            slot.0 = Status::Serving;
            return;
        }
        let status = match self.holders[shard] {
            0 => Status::Serving,
            from => Status::Pulling { from },
        };
        self.slots.insert(shard, (status, ShardData::default()));
    }

    /// Keeps the servers of every group a shard or a move still refers to, as the
    /// current configuration lists them or, for a group that left, as last listed.
    fn update_homes(&mut self) {
        for (gid, names) in &self.current.groups {
            self.homes.insert(*gid, names.clone());
        }
        let mut needed: Vec<Gid> = self.holders.clone();
        needed.extend(self.movers());
        self.homes.retain(|gid, _| needed.contains(gid));
    }

    /// The groups on the other side of the moves under way.
    fn movers(&self) -> impl Iterator<Item = Gid> + '_ {
        self.slots.values().filter_map(|(status, _)| match *status {
            Status::Pulling { from } | Status::Notifying { from } => Some(from),
            _ => None,
        })
    }

    fn install(&mut self, shard: Shard, num: u64, data: &ShardData) -> bool {
        match self.slots.get_mut(&shard) {
            Some(slot) if num == self.current.num => match slot.0 {
                Status::Pulling { from } => {
                    *slot = (Status::Notifying { from }, data.clone());
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }

    fn delivered(&mut self, shard: Shard, num: u64) -> bool {
        match self.slots.get_mut(&shard) {
            Some(slot) if num == self.current.num => {
                let notifying = matches!(slot.0, Status::Notifying { .. });
                if notifying {
                    slot.0 = Status::Serving;
                }
                notifying
            }
            _ => false,
        }
    }

    /// The new owner of `shard` in config `num` has it: drop our frozen copy.
    fn delete(&mut self, shard: Shard, num: u64) -> ShardOutput {
        if num > self.current.num {
            return ShardOutput::NotReady;
        }
        if num == self.current.num && matches!(self.slots.get(&shard), Some((Status::Leaving, _))) {
            self.slots.remove(&shard);
        }
        // Otherwise it is gone already: we could not have left `num` while holding it.
        ShardOutput::Deleted { shard, num }
    }

    fn fetch(&self, shard: Shard, num: u64) -> ShardOutput {
        match self.slots.get(&shard) {
            Some((Status::Leaving, data)) if num == self.current.num => ShardOutput::Shard {
                shard,
                num,
                data: data.clone(),
            },
            // Behind `num`, or past it (then the new owner has it: it told us to delete).
            _ => ShardOutput::NotReady,
        }
    }

    fn invalid_because(&self) -> Option<String> {
        for c in [&self.current, &self.previous] {
            if c.shards.len() != SHARDS {
                return Some(format!(
                    "configuration {} has {} shards",
                    c.num,
                    c.shards.len()
                ));
            }
            if let Some(why) = c.invalid_because() {
                return Some(why);
            }
        }
        if self.slots.keys().any(|&s| s >= SHARDS) {
            return Some("a shard out of range".to_string());
        }
        if self.holders.len() != SHARDS {
            return Some(format!("{} shard holders", self.holders.len()));
        }
        self.placement_invalid_because()
    }

    /// Whether each held shard's status, each shard's holder and the homes agree with
    /// the current configuration (the shapes are already checked).
    fn placement_invalid_because(&self) -> Option<String> {
        let owner = |s: Shard| self.current.shards[s];
        let status_ok = |s: Shard, status: &Status| match status {
            Status::Serving | Status::Pulling { .. } | Status::Notifying { .. } => {
                owner(s) == self.gid
            }
            Status::Leaving => owner(s) != self.gid && owner(s) != 0,
            Status::Parked => owner(s) == 0,
        };
        if !self
            .slots
            .iter()
            .all(|(&s, (status, _))| status_ok(s, status))
        {
            return Some("a shard's status disagrees with its owner".to_string());
        }
        // Every shard we own is here in some state (arriving, served or acknowledged).
        let held = self.gid == 0
            || (0..SHARDS).all(|s| owner(s) != self.gid || self.slots.contains_key(&s));
        // The last holder of a shard someone owns is that owner.
        let holders_ok = (0..SHARDS).all(|s| owner(s) == 0 || self.holders[s] == owner(s));
        // Every group a shard is with, or a move waits on, can be reached.
        let homes_ok = (self.holders.iter().copied().chain(self.movers()))
            .all(|g| g == 0 || self.homes.contains_key(&g));
        if !held || !holders_ok || !homes_ok {
            return Some("a shard's holder disagrees with the configuration".to_string());
        }
        None
    }
}

impl StateMachine for ShardKv {
    type Op = ShardOp;
    type Command = ShardOp;
    type Query = ShardQuery;
    type Output = ShardOutput;

    const OWN_SESSIONS: bool = true;

    fn route(op: ShardOp) -> Access<ShardOp, ShardQuery> {
        match op {
            ShardOp::Get { key } => Access::Read(ShardQuery::Get { key }),
            ShardOp::Fetch { shard, num } => Access::Read(ShardQuery::Fetch { shard, num }),
            write => Access::Write(write),
        }
    }

    fn apply(&mut self, cmd: &ShardOp) -> ShardOutput {
        // Only reached without a session, which a machine with its own never is.
        self.apply_in_session(0, 0, cmd)
    }

    fn apply_in_session(&mut self, client: ClientId, seq: u64, cmd: &ShardOp) -> ShardOutput {
        match cmd {
            ShardOp::Put { key, value } => self.client_write(client, seq, key, Write::Put(value)),
            ShardOp::Append { key, value } => {
                self.client_write(client, seq, key, Write::Append(value))
            }
            ShardOp::Delete { shard, num } => self.delete(*shard, *num),
            ShardOp::Reconfigure { gid, config } => {
                ShardOutput::Stepped(self.reconfigure(*gid, config))
            }
            ShardOp::Install { shard, num, data } => {
                ShardOutput::Stepped(self.install(*shard, *num, data))
            }
            ShardOp::Delivered { shard, num } => ShardOutput::Stepped(self.delivered(*shard, *num)),
            // Reads are never routed to the log; an entry holding one changes nothing.
            ShardOp::Get { .. } | ShardOp::Fetch { .. } => ShardOutput::Stepped(false),
        }
    }

    fn query(&self, query: &ShardQuery) -> ShardOutput {
        match query {
            ShardQuery::Get { key } if self.serves(key_shard(key)) => {
                let (_, data) = &self.slots[&key_shard(key)];
                ShardOutput::Value(data.get(key))
            }
            ShardQuery::Get { .. } => ShardOutput::WrongGroup,
            ShardQuery::Fetch { shard, num } => self.fetch(*shard, *num),
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        encode(self)
    }

    fn restore(bytes: &[u8]) -> Result<Self, DecodeError> {
        let state: ShardKv = decode(bytes)?;
        match state.invalid_because() {
            Some(reason) => Err(DecodeError::Invalid { reason }),
            None => Ok(state),
        }
    }
}

#[cfg(test)]
mod tests;
