//! A shard group's server: the generic [`Server`] over [`ShardKv`] (a Raft node and the
//! shard state), with the controller's clerk as one more pure state machine inside it,
//! driven by the group's ticks. The leader of the group
//!
//! - polls the controller for the configuration after the current one, and proposes
//!   the step once the group has settled (everything of the current one moved);
//! - pulls each shard it gained from the group that held it, as a Fetch (a ReadIndex
//!   read at the old owner), and proposes the arrived shard as an Install;
//! - then tells the old owner to Delete its copy (a write at the old owner, idempotent),
//!   and once that is acknowledged proposes Delivered, which lets the group step on.
//!
//! Every message to another group or to the controller is resent each poll period
//! until answered, and every answer is checked against the current state before it is
//! proposed, so lost, duplicated or late answers do no harm. Followers start nothing
//! (a query begun while leading may still be retried).
//! Server names in configurations are the servers' Raft node ids in decimal, each
//! optionally followed by `@` and where it listens (`"4@127.0.0.1:7004"`): the simulator
//! needs only the id, a deployment finds the server by its address.

use raft_core::{Message, NodeId, Observer, Role, Write, WriteId};
use serde::{Deserialize, Serialize};

use super::op::{ShardOp, ShardOutput};
use super::state::ShardKv;
use crate::service::{ClerkConfig, ClientId, Reply, Request, Server, ServerError, ServerInput};
use crate::service::{ServerConfig, ServerReady, ServiceError};
use crate::shardctrl::{Config, CtrlOp, CtrlOutcome, Gid, ShardCtrlClerk};
use crate::ShardCtrlClerkInput;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardGroupConfig {
    pub server: ServerConfig,
    pub gid: Gid,
    /// The controller's servers and this server's client id, which it uses for the
    /// controller, for other groups and for its own proposals. Unique per server
    /// incarnation, as any clerk's.
    pub ctrl: ClerkConfig,
    /// How often the leader polls the controller and resends pulls and deletes.
    pub poll_ticks: u64,
}

impl ShardGroupConfig {
    /// Defaults for a 10 ms tick: poll every 100 ms, as the course.
    pub fn new(server: ServerConfig, gid: Gid, ctrl: ClerkConfig) -> Self {
        ShardGroupConfig {
            server,
            gid,
            ctrl,
            poll_ticks: 10,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupInput {
    Tick,
    Message(Message),
    Persisted(WriteId),
    /// A request from a client or from another group's server.
    Request(Request<ShardOp>),
    /// Another group's answer to this server's Fetch or Delete.
    GroupReply {
        from: NodeId,
        reply: Reply<ShardOutput>,
    },
    /// The controller's answer to this server's query.
    CtrlReply {
        from: NodeId,
        reply: Reply<CtrlOutcome>,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[must_use = "a GroupReady carries writes, messages and replies"]
pub struct GroupReady {
    pub messages: Vec<Message>,
    pub writes: Vec<Write>,
    /// Replies to clients and to other groups' servers, by `Reply::client`.
    pub replies: Vec<Reply<ShardOutput>>,
    pub to_groups: Vec<(NodeId, Request<ShardOp>)>,
    pub to_ctrl: Vec<(NodeId, Request<CtrlOp>)>,
}

pub struct ShardGroup {
    server: Server<ShardKv>,
    ctrl: ShardCtrlClerk,
    gid: Gid,
    client: ClientId,
    poll_ticks: u64,
    ticks: u64,
    /// Sequence numbers of this server's own requests (only replies to them are read,
    /// by content, so they need only differ).
    seq: u64,
    /// The configuration after the current one, learnt from the controller.
    next: Option<Config>,
}

/// The Raft node ids named by a configuration's server names (names that do not parse
/// name no server: a group that cannot be reached, not a fault of this one).
pub fn server_ids(names: &[String]) -> Vec<NodeId> {
    names.iter().filter_map(|n| server_id(n)).collect()
}

/// The node id of a server name, `ID` or `ID@ADDRESS`.
pub fn server_id(name: &str) -> Option<NodeId> {
    name.split_once('@').map_or(name, |(id, _)| id).parse().ok()
}

/// The address part of a server name `ID@ADDRESS`, if it has one.
pub fn server_addr(name: &str) -> Option<&str> {
    name.split_once('@').map(|(_, addr)| addr)
}

impl ShardGroup {
    pub fn new(
        cfg: ShardGroupConfig,
        restored: raft_core::RestoredState,
    ) -> Result<Self, ServerError> {
        assert!(
            cfg.gid != 0 && cfg.poll_ticks > 0,
            "a group needs a gid and a poll period"
        );
        Ok(ShardGroup {
            server: Server::new(cfg.server, restored)?,
            client: cfg.ctrl.client,
            ctrl: ShardCtrlClerk::new(cfg.ctrl),
            gid: cfg.gid,
            poll_ticks: cfg.poll_ticks,
            ticks: 0,
            seq: 0,
            next: None,
        })
    }

    pub fn server(&self) -> &Server<ShardKv> {
        &self.server
    }

    pub fn state(&self) -> &ShardKv {
        self.server.state()
    }

    pub fn gid(&self) -> Gid {
        self.gid
    }

    pub fn step(&mut self, input: GroupInput) -> GroupReady {
        self.step_observed(input, &mut ())
    }

    pub fn step_observed(&mut self, input: GroupInput, obs: &mut dyn Observer) -> GroupReady {
        let mut out = GroupReady::default();
        match input {
            GroupInput::Tick => {
                self.server_step(ServerInput::Tick, obs, &mut out);
                self.tick(obs, &mut out);
            }
            GroupInput::Message(m) => self.server_step(ServerInput::Message(m), obs, &mut out),
            GroupInput::Persisted(id) => {
                self.server_step(ServerInput::Persisted(id), obs, &mut out)
            }
            GroupInput::Request(r) if r.op.is_internal() || r.client == self.client => {
                let reason = "configuration steps and shard installs are the group's own".into();
                out.replies.push(Reply::err(
                    r.client,
                    r.seq,
                    ServiceError::Rejected { reason },
                ));
            }
            GroupInput::Request(r) => self.server_step(ServerInput::Request(r), obs, &mut out),
            GroupInput::GroupReply { reply, .. } => self.on_group_reply(reply, obs, &mut out),
            GroupInput::CtrlReply { from, reply } => {
                let input = ShardCtrlClerkInput::Reply { from, reply };
                self.ctrl_step(input, obs, &mut out);
            }
        }
        out
    }

    fn is_leader(&self) -> bool {
        self.server.node().role() == Role::Leader
    }

    fn server_step(
        &mut self,
        input: ServerInput<ShardOp>,
        obs: &mut dyn Observer,
        out: &mut GroupReady,
    ) {
        let ServerReady {
            messages,
            writes,
            replies,
        } = self.server.step_observed(input, obs);
        out.messages.extend(messages);
        out.writes.extend(writes);
        // Answers to our own proposals: their effect is read from the state instead.
        out.replies
            .extend(replies.into_iter().filter(|r| r.client != self.client));
    }

    fn propose(&mut self, op: ShardOp, obs: &mut dyn Observer, out: &mut GroupReady) {
        self.seq += 1;
        let request = Request {
            client: self.client,
            seq: self.seq,
            op,
        };
        self.server_step(ServerInput::Request(request), obs, out);
    }

    fn tick(&mut self, obs: &mut dyn Observer, out: &mut GroupReady) {
        self.ticks += 1;
        self.ctrl_step(ShardCtrlClerkInput::Tick, obs, out);
        if !self.is_leader() || !self.ticks.is_multiple_of(self.poll_ticks) {
            return;
        }
        let num = self.state().current().num;
        if self.ctrl.is_idle() {
            let query = CtrlOp::Query { num: Some(num + 1) };
            self.ctrl_step(ShardCtrlClerkInput::Submit(query), obs, out);
        }
        self.maybe_step_config(obs, out);
        self.send_moves(out);
    }

    /// Proposes the next configuration if it is known and the group has settled.
    fn maybe_step_config(&mut self, obs: &mut dyn Observer, out: &mut GroupReady) {
        let num = self.state().current().num;
        self.next.take_if(|c| c.num <= num);
        let Some(config) = self.next.clone() else {
            return;
        };
        if self.is_leader() && self.state().settled() {
            let gid = self.gid;
            self.propose(ShardOp::Reconfigure { gid, config }, obs, out);
        }
    }

    /// Asks old owners for the shards still to pull, and for the deletion of those
    /// pulled, at every server of the owner (only its leader answers).
    fn send_moves(&mut self, out: &mut GroupReady) {
        let state = self.server.state();
        let num = state.current().num;
        let (pulls, notifies) = state.pending_moves();
        let fetches = pulls
            .into_iter()
            .map(|(shard, g)| (g, ShardOp::Fetch { shard, num }));
        let deletes = notifies
            .into_iter()
            .map(|(shard, g)| (g, ShardOp::Delete { shard, num }));
        let sends: Vec<_> = fetches.chain(deletes).collect();
        for (gid, op) in sends {
            let names = self.state().home(gid).unwrap_or_default();
            for to in server_ids(names) {
                self.seq += 1;
                let (client, seq, op) = (self.client, self.seq, op.clone());
                out.to_groups.push((to, Request { client, seq, op }));
            }
        }
    }

    fn ctrl_step(
        &mut self,
        input: ShardCtrlClerkInput,
        obs: &mut dyn Observer,
        out: &mut GroupReady,
    ) {
        let ready = self
            .ctrl
            .step(input)
            .expect("a query is submitted only when idle");
        out.to_ctrl.extend(ready.send);
        let Some(done) = ready.completed else { return };
        if let Ok(CtrlOutcome::Config(config)) = done.result {
            if config.num == self.state().current().num + 1 {
                self.next = Some(config);
                self.maybe_step_config(obs, out);
            }
        }
    }

    fn on_group_reply(
        &mut self,
        reply: Reply<ShardOutput>,
        obs: &mut dyn Observer,
        out: &mut GroupReady,
    ) {
        if reply.client != self.client || !self.is_leader() {
            return;
        }
        let (pulls, notifies) = self.state().pending_moves();
        let num_now = self.state().current().num;
        match reply.result {
            Ok(ShardOutput::Shard { shard, num, data })
                if num == num_now && pulls.iter().any(|&(s, _)| s == shard) =>
            {
                self.propose(ShardOp::Install { shard, num, data }, obs, out);
            }
            Ok(ShardOutput::Deleted { shard, num })
                if num == num_now && notifies.iter().any(|&(s, _)| s == shard) =>
            {
                self.propose(ShardOp::Delivered { shard, num }, obs, out);
            }
            _ => {}
        }
    }
}
