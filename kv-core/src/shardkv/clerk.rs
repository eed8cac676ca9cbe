//! The shard KV client as a pure state machine: it keeps the latest configuration it
//! knows, sends each operation to the leader of the group that owns the key's shard,
//! and, on "wrong group" or when no server of that group answers, asks the controller
//! (through the controller's own clerk, inside this one) for the latest configuration
//! and tries again — always with the same sequence number, so a write retried at the
//! shard's next owner is recognised by the session that moved with the shard.

use std::collections::BTreeMap;

use raft_core::NodeId;
use serde::{Deserialize, Serialize};

use super::group::server_ids;
use super::op::{key_shard, ShardOp, ShardOutput};
use crate::service::{ClerkConfig, ClientId, Completion, Reply, Request, ServiceError};
use crate::shardctrl::{Config, CtrlOp, CtrlOutcome, Gid, ShardCtrlClerk};
use crate::ShardCtrlClerkInput;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShardClerkInput {
    /// Start a Get, Put or Append; refused (`Err`) while one is outstanding.
    Submit(ShardOp),
    Reply {
        from: NodeId,
        reply: Reply<ShardOutput>,
    },
    CtrlReply {
        from: NodeId,
        reply: Reply<CtrlOutcome>,
    },
    Tick,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[must_use = "a ShardClerkReady carries requests to send"]
pub struct ShardClerkReady {
    pub send: Vec<(NodeId, Request<ShardOp>)>,
    pub to_ctrl: Vec<(NodeId, Request<CtrlOp>)>,
    pub completed: Option<Completion<ShardOp, ShardOutput>>,
}

#[derive(Clone, Debug)]
struct InFlight {
    seq: u64,
    op: ShardOp,
    /// The server asked last and when; `None` while waiting for a configuration.
    asked: Option<(NodeId, u64)>,
    /// Servers of the owning group asked since the configuration last changed.
    tries: usize,
    /// A leader named by a server: asked next.
    hint: Option<NodeId>,
}

/// Ticks to wait before asking the controller again after a wrong group or a group
/// none of whose servers answered (the course's 100 ms).
const BACKOFF_TICKS: u64 = 10;

pub struct ShardClerk {
    client: ClientId,
    ctrl: ShardCtrlClerk,
    config: Config,
    /// The last server of each group that answered, to ask first next time.
    leaders: BTreeMap<Gid, NodeId>,
    retry_ticks: u64,
    ticks: u64,
    /// No configuration query before this tick.
    wait_until_tick: u64,
    seq: u64,
    inflight: Option<InFlight>,
}

impl ShardClerk {
    /// `ctrl` names the controller's servers and this clerk's client id (fresh per
    /// clerk); `retry_ticks` is how long to wait for a group's server.
    pub fn new(ctrl: ClerkConfig, retry_ticks: u64) -> Self {
        assert!(retry_ticks > 0, "retry_ticks must be positive");
        ShardClerk {
            client: ctrl.client,
            ctrl: ShardCtrlClerk::new(ctrl),
            config: Config::initial(super::SHARDS),
            leaders: BTreeMap::new(),
            retry_ticks,
            ticks: 0,
            wait_until_tick: 0,
            seq: 0,
            inflight: None,
        }
    }

    pub fn client(&self) -> ClientId {
        self.client
    }

    pub fn is_idle(&self) -> bool {
        self.inflight.is_none()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn step(&mut self, input: ShardClerkInput) -> Result<ShardClerkReady, crate::ClerkBusy> {
        let mut out = ShardClerkReady::default();
        match input {
            ShardClerkInput::Submit(op) => {
                if let Some(f) = &self.inflight {
                    return Err(crate::ClerkBusy { seq: f.seq });
                }
                assert!(op.key().is_some(), "clients submit Get, Put or Append");
                self.seq += 1;
                let seq = self.seq;
                self.inflight = Some(InFlight {
                    seq,
                    op,
                    asked: None,
                    tries: 0,
                    hint: None,
                });
                self.send(&mut out);
            }
            ShardClerkInput::Reply { from, reply } => self.on_reply(from, reply, &mut out),
            ShardClerkInput::CtrlReply { from, reply } => {
                self.ctrl_step(ShardCtrlClerkInput::Reply { from, reply }, &mut out)
            }
            ShardClerkInput::Tick => {
                self.ticks += 1;
                self.ctrl_step(ShardCtrlClerkInput::Tick, &mut out);
                let late = self
                    .inflight
                    .as_ref()
                    .and_then(|f| f.asked)
                    .is_some_and(|(_, at)| self.ticks - at >= self.retry_ticks);
                let waiting = self.inflight.as_ref().is_some_and(|f| f.asked.is_none());
                if late {
                    self.next_server(None, &mut out);
                } else if waiting && self.ticks >= self.wait_until_tick {
                    self.refresh(&mut out);
                }
            }
        }
        Ok(out)
    }

    /// Sends the operation to the owning group, or asks for a configuration when the
    /// one we have names no live owner or every server of the owner has been tried.
    fn send(&mut self, out: &mut ShardClerkReady) {
        let Some(f) = &mut self.inflight else { return };
        let shard = key_shard(f.op.key().expect("a client operation"));
        let gid = self.config.shards[shard];
        let servers = self
            .config
            .groups
            .get(&gid)
            .map(|n| server_ids(n))
            .unwrap_or_default();
        if servers.is_empty() || f.tries >= servers.len() {
            f.asked = None;
            self.wait_until_tick = self.ticks + BACKOFF_TICKS;
            return;
        }
        let first = self
            .leaders
            .get(&gid)
            .and_then(|l| servers.iter().position(|s| s == l));
        let rotated = servers[(first.unwrap_or(0) + f.tries) % servers.len()];
        let to = f
            .hint
            .take()
            .filter(|h| servers.contains(h))
            .unwrap_or(rotated);
        f.tries += 1;
        f.asked = Some((to, self.ticks));
        let request = Request {
            client: self.client,
            seq: f.seq,
            op: f.op.clone(),
        };
        out.send.push((to, request));
    }

    fn next_server(&mut self, leader: Option<NodeId>, out: &mut ShardClerkReady) {
        let f = self
            .inflight
            .as_mut()
            .expect("retrying an operation in flight");
        f.hint = leader;
        self.send(out);
    }

    fn refresh(&mut self, out: &mut ShardClerkReady) {
        if self.ctrl.is_idle() {
            let query = CtrlOp::Query { num: None };
            self.ctrl_step(ShardCtrlClerkInput::Submit(query), out);
        }
    }

    fn ctrl_step(&mut self, input: ShardCtrlClerkInput, out: &mut ShardClerkReady) {
        let ready = self
            .ctrl
            .step(input)
            .expect("a query is submitted only when idle");
        out.to_ctrl.extend(ready.send);
        let Some(done) = ready.completed else { return };
        if let Ok(CtrlOutcome::Config(config)) = done.result {
            if config.num >= self.config.num && config.shards.len() == super::SHARDS {
                self.config = config;
            }
        }
        if let Some(f) = &mut self.inflight {
            f.tries = 0;
            if f.asked.is_none() {
                self.send(out);
            }
        }
    }

    fn on_reply(&mut self, from: NodeId, reply: Reply<ShardOutput>, out: &mut ShardClerkReady) {
        let Some(f) = &self.inflight else { return };
        if reply.client != self.client || reply.seq != f.seq {
            return;
        }
        let from_asked = f.asked.is_some_and(|(to, _)| to == from);
        match reply.result {
            Ok(ShardOutput::WrongGroup) if from_asked => {
                self.inflight.as_mut().expect("in flight").asked = None;
                self.wait_until_tick = self.ticks + BACKOFF_TICKS;
            }
            Ok(output @ (ShardOutput::Value(_) | ShardOutput::Done)) => {
                let f = self.inflight.take().expect("in flight");
                let gid = self.config.shards[key_shard(f.op.key().expect("a client op"))];
                self.leaders.insert(gid, from);
                out.completed = Some(Completion {
                    seq: f.seq,
                    op: f.op,
                    result: Ok(output),
                });
            }
            Err(ServiceError::WrongLeader { leader }) if from_asked => {
                self.next_server(leader.filter(|&l| l != from), out)
            }
            Err(e @ ServiceError::Rejected { .. }) => {
                let f = self.inflight.take().expect("in flight");
                out.completed = Some(Completion {
                    seq: f.seq,
                    op: f.op,
                    result: Err(e),
                });
            }
            Err(_) if from_asked => self.next_server(None, out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
