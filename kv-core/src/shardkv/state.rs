//! A shard group's replicated state: where it stands in the sequence of configurations,
//! and, per shard it holds, the data with its sessions and how far that shard's move has
//! come. Every change — a client's write, a step to the next configuration, a pulled
//! shard arriving, the old owner's deletion — is a log entry, so every replica agrees
//! where a configuration change falls relative to client writes.
//!
//! A shard's life at a group, within configuration `num`:
//!
//! ```text
//!   (absent) ──Reconfigure: now ours, old owner g──▶ Pulling{g} ──Install──▶ Notifying{g}
//!      ▲                                                                     │ Delivered
//!      │ Delete{num} from the new owner            Reconfigure: not ours     ▼
//!   Leaving ◀──────────────────────────────────────────────────────────── Serving
//! ```
//!
//! Serving and Notifying serve clients (challenge 2: a shard is served as soon as it is
//! here, whatever else is still moving). The group steps to the next configuration only
//! when every shard it holds is Serving: nothing is being pulled, nobody still has to
//! delete what we pulled, and nobody still has to take what we gave away. So pulls,
//! deletions and acknowledgements always refer to the current configuration.

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
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardKv {
    /// This group's id; 0 until its first configuration step.
    gid: Gid,
    current: Config,
    previous: Config,
    slots: BTreeMap<Shard, (Status, ShardData)>,
}

impl Default for ShardKv {
    fn default() -> Self {
        ShardKv {
            gid: 0,
            current: Config::initial(SHARDS),
            previous: Config::initial(SHARDS),
            slots: BTreeMap::new(),
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

    /// Every shard is Serving: the group may step to the next configuration.
    pub fn settled(&self) -> bool {
        self.slots.values().all(|(s, _)| *s == Status::Serving)
    }

    /// Shards to pull (shard, from group) and shards whose old owner must still be told
    /// to delete (shard, that group), in the current configuration.
    pub fn pending_moves(&self) -> (Moves, Moves) {
        let (mut pulls, mut notifies) = (Vec::new(), Vec::new());
        for (&shard, (status, _)) in &self.slots {
            match *status {
                Status::Pulling { from } => pulls.push((shard, from)),
                Status::Notifying { from } => notifies.push((shard, from)),
                Status::Serving | Status::Leaving => {}
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
        let fits = config.num == self.current.num + 1 && config.shards.len() == SHARDS;
        if !fits || !self.settled() || gid == 0 || (self.gid != 0 && gid != self.gid) {
            return false;
        }
        for shard in 0..SHARDS {
            let was = self.current.shards[shard];
            let (had, has) = (was == gid, config.shards[shard] == gid);
            if has && !had {
                let status = match was {
                    0 => Status::Serving, // nobody held it: it starts empty
                    from => Status::Pulling { from },
                };
                self.slots.insert(shard, (status, ShardData::default()));
            } else if had && !has {
                let slot = self.slots.get_mut(&shard).expect("an owned shard is held");
                slot.0 = Status::Leaving;
            }
        }
        self.gid = gid;
        self.previous = std::mem::replace(&mut self.current, config.clone());
        if let Some(why) = self.invalid_because() {
            panic!("configuration step to {}: {why}", config.num);
        }
        true
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
        let unowned = |s: &Shard| self.current.shards[*s] != self.gid;
        let leaving_ok = self
            .slots
            .iter()
            .all(|(s, (st, _))| unowned(s) == (*st == Status::Leaving));
        // Every shard we own is here in some state (arriving, served or acknowledged).
        let held = self.gid == 0 || (0..SHARDS).all(|s| unowned(&s) || self.slots.contains_key(&s));
        (!leaving_ok || !held).then(|| "a shard's status disagrees with its owner".to_string())
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
