//! The shard KV world: a controller group and shard groups, each a Raft group of
//! servers in the slots of one `sim-kit` [`World`] (one clock, one network, one PRNG),
//! plus shard clients and the administrator's controller clerk. Every Raft group has
//! its own [`RaftWatch`]: groups share no log, so election safety and log matching are
//! per group; the kit's own watch sees only (re)starts.
//!
//! Slots: 0..3 the controller; then 3 servers per group, gids 100, 101, 102.
//! Addresses: a server's Raft id; client `i` is `CLIENT_BASE + i` (its client id too);
//! the administrator `ADMIN`; a group server's own client id is `GROUP_CLIENT_BASE +
//! slot`, and its replies go to its Raft id.

use std::collections::VecDeque;

use kv_core::service::{ClerkConfig, Reply, Request, ServiceError};
use kv_core::shardkv::{GroupInput, GroupReady, ShardClerk, ShardGroup, ShardGroupConfig};
use kv_core::shardkv::{ShardOp, ShardOutput};
use kv_core::{CtrlOp, CtrlOutcome, Gid, ServerConfig, ShardCtrlClerk, ShardCtrlServer};
use kv_core::{Op, Outcome, ShardCtrlServerInput};
use raft_core::{Config, Message, NodeId, Observer, WriteId};
use sim_kit::watch::RaftWatch;
use sim_kit::{id_of, slot_of, NetConfig, Sim, World, WorldConfig};

use super::node::ShardNode;
use super::recording::ShardRecording;
use crate::client::Workload;
use crate::history::HistoryOp;

pub const CTRL_SERVERS: usize = 3;
pub const GROUP_SERVERS: usize = 3;
pub const GIDS: [Gid; 3] = [100, 101, 102];
pub const CLIENT_BASE: u64 = 1_000_000;
pub const ADMIN: u64 = 2_000_000;
pub const GROUP_CLIENT_BASE: u64 = 3_000_000;

#[derive(Clone, Debug)]
pub struct ShardSimConfig {
    pub seed: u64,
    pub reliable: bool,
    pub clients: usize,
    /// The course's maxraftstate for every group server (`None`: -1).
    pub max_raft_state_bytes: Option<usize>,
}

#[derive(Debug)]
pub enum ShardEvent {
    ClientTick,
    ToGroup {
        from: NodeId,
        slot: usize,
        request: Request<ShardOp>,
    },
    ToCtrl {
        from: NodeId,
        slot: usize,
        request: Request<CtrlOp>,
    },
    FromGroup {
        slot: usize,
        to: NodeId,
        reply: Reply<ShardOutput>,
    },
    FromCtrl {
        slot: usize,
        to: NodeId,
        reply: Reply<CtrlOutcome>,
    },
}

pub struct ShardClient {
    pub clerk: ShardClerk,
    pub script: VecDeque<ShardOp>,
    pub workload: Option<Workload>,
    /// The course's appender goroutine: append to one key until stopped.
    pub appender: Option<Appender>,
    /// Index into the history of the operation in flight.
    pub current: Option<usize>,
    pub completed: Vec<(ShardOp, ShardOutput)>,
}

/// Appends "x CLIENT J y" to `key`, J = 0, 1, ...; `appended` is what it appended.
#[derive(Clone, Debug, Default)]
pub struct Appender {
    pub key: String,
    pub appended: String,
    pub count: u64,
    pub running: bool,
}

pub struct Admin {
    pub clerk: ShardCtrlClerk,
    pub done: Option<Result<CtrlOutcome, ServiceError>>,
}

pub struct ShardWorld {
    pub(crate) world: World<ShardNode, ShardEvent>,
    max_raft_state_bytes: Option<usize>,
    /// One per Raft group: 0 the controller, 1 + g group `GIDS[g]`.
    watches: Vec<RaftWatch>,
    pub(crate) clients: Vec<ShardClient>,
    pub(crate) admin: Admin,
    pub(crate) history: Vec<HistoryOp<Op, Outcome>>,
    pub(crate) last_history_time: u64,
    /// The run as replayable traces, when asked (`sim_kit::seeds::trace_request`).
    recording: Option<ShardRecording>,
}

/// The Raft group a slot belongs to: 0 the controller, 1 + g group g.
pub fn raft_group_of(slot: usize) -> usize {
    if slot < CTRL_SERVERS {
        0
    } else {
        1 + (slot - CTRL_SERVERS) / GROUP_SERVERS
    }
}

/// The slots of group `gid`.
pub fn group_slots(gid: Gid) -> Vec<usize> {
    let g = GIDS.iter().position(|&x| x == gid).expect("a known gid");
    let first = CTRL_SERVERS + g * GROUP_SERVERS;
    (first..first + GROUP_SERVERS).collect()
}

fn ctrl_ids() -> Vec<NodeId> {
    (0..CTRL_SERVERS).map(id_of).collect()
}

/// Where a reply to `client` goes.
fn address_of(client: u64) -> NodeId {
    if client >= GROUP_CLIENT_BASE {
        id_of((client - GROUP_CLIENT_BASE) as usize)
    } else {
        client
    }
}

impl ShardWorld {
    pub fn new(cfg: ShardSimConfig) -> Self {
        let net = if cfg.reliable {
            NetConfig::default()
        } else {
            NetConfig::unreliable()
        };
        let nodes = CTRL_SERVERS + GIDS.len() * GROUP_SERVERS;
        let wc = WorldConfig {
            events_max: 100_000_000,
            ..WorldConfig::new(nodes, cfg.seed, net)
        };
        let clients = (0..cfg.clients)
            .map(|i| ShardClient {
                clerk: ShardClerk::new(ClerkConfig::new(CLIENT_BASE + i as u64, ctrl_ids()), 25),
                script: VecDeque::new(),
                workload: None,
                appender: None,
                current: None,
                completed: Vec::new(),
            })
            .collect();
        let recording = sim_kit::seeds::trace_request()
            .map(|dir| ShardRecording::new(dir.join(format!("seed{}", cfg.seed)), nodes));
        let mut w = ShardWorld {
            recording,
            world: World::new(wc, RaftWatch::for_service()),
            max_raft_state_bytes: cfg.max_raft_state_bytes,
            watches: (0..=GIDS.len()).map(|_| RaftWatch::for_service()).collect(),
            clients,
            admin: Admin {
                clerk: ShardCtrlClerk::new(ClerkConfig::new(ADMIN, ctrl_ids())),
                done: None,
            },
            history: Vec::new(),
            last_history_time: 0,
        };
        for slot in 0..nodes {
            w.start(slot);
        }
        let tick_us = w.world.cfg().tick_us;
        w.world.schedule(tick_us, ShardEvent::ClientTick);
        w
    }

    /// The servers of group `gid`, named as the controller knows them.
    pub fn server_names(gid: Gid) -> Vec<String> {
        group_slots(gid)
            .into_iter()
            .map(|s| id_of(s).to_string())
            .collect()
    }

    pub fn group(&self, slot: usize) -> Option<&ShardGroup> {
        match self.world.node(slot)? {
            ShardNode::Group(g) => Some(g),
            ShardNode::Ctrl(_) => None,
        }
    }
}

fn server_config(slot: usize, seed: u64, max_raft_state_bytes: Option<usize>) -> ServerConfig {
    let group = raft_group_of(slot);
    let voters = if group == 0 {
        ctrl_ids()
    } else {
        group_slots(GIDS[group - 1])
            .into_iter()
            .map(id_of)
            .collect()
    };
    let mut raft = Config::new(id_of(slot), voters);
    raft.seed = seed;
    let mut cfg = ServerConfig::new(raft);
    if group != 0 {
        cfg.max_raft_state_bytes = max_raft_state_bytes;
    }
    cfg
}

/// How the node in `slot` is configured: a controller server or a group server.
pub(crate) enum NodeConfig {
    Ctrl(ServerConfig),
    Group(ShardGroupConfig),
}

pub(crate) fn node_config(
    slot: usize,
    seed: u64,
    max_raft_state_bytes: Option<usize>,
) -> NodeConfig {
    let cfg = server_config(slot, seed, max_raft_state_bytes);
    match raft_group_of(slot) {
        0 => NodeConfig::Ctrl(cfg),
        g => {
            let ctrl = ClerkConfig::new(GROUP_CLIENT_BASE + slot as u64, ctrl_ids());
            NodeConfig::Group(ShardGroupConfig::new(cfg, GIDS[g - 1], ctrl))
        }
    }
}

fn build(
    slot: usize,
    config: NodeConfig,
    restored: raft_core::RestoredState,
) -> Result<ShardNode, String> {
    let why = |e: kv_core::ServerError| format!("server {} cannot restart: {e}", slot + 1);
    match config {
        NodeConfig::Ctrl(cfg) => Ok(ShardNode::Ctrl(
            ShardCtrlServer::new(cfg, restored).map_err(why)?,
        )),
        NodeConfig::Group(gcfg) => Ok(ShardNode::Group(
            ShardGroup::new(gcfg, restored).map_err(why)?,
        )),
    }
}

impl ShardWorld {
    pub(crate) fn recording_mut(&mut self) -> Option<&mut ShardRecording> {
        self.recording.as_mut()
    }

    /// Steps the node at `slot` under its group's watch.
    fn step_node<R>(
        &mut self,
        slot: usize,
        f: impl FnOnce(&mut ShardNode, &mut dyn Observer) -> R,
    ) -> R {
        let watch = &mut self.watches[raft_group_of(slot)];
        let (node, _) = self.world.node_and_watch(slot);
        let mut view = watch.observer(slot);
        let r = f(node, &mut view);
        if let Err(broken) = view.verdict() {
            self.fail(&broken);
        }
        r
    }

    pub(crate) fn step_group(&mut self, slot: usize, input: GroupInput) {
        let kept = self
            .recording
            .as_mut()
            .and_then(|r| r.groups.before(slot, &input));
        let ready = self.step_node(slot, |node, obs| match node {
            ShardNode::Group(g) => Some(g.step_observed(input, obs)),
            ShardNode::Ctrl(_) => None,
        });
        if let (Some(r), Some(kept), Some(ready)) = (self.recording.as_mut(), kept, &ready) {
            r.groups.record(slot, self.world.now_us(), kept, ready);
        }
        if let Some(ready) = ready {
            self.carry_out_group(slot, ready);
        }
    }

    fn step_ctrl(&mut self, slot: usize, input: ShardCtrlServerInput) {
        let kept = self
            .recording
            .as_mut()
            .and_then(|r| r.ctrl.before(slot, &input));
        let ready = self.step_node(slot, |node, obs| match node {
            ShardNode::Ctrl(s) => Some(s.step_observed(input, obs)),
            ShardNode::Group(_) => None,
        });
        let Some(ready) = ready else { return };
        if let (Some(r), Some(kept)) = (self.recording.as_mut(), kept) {
            r.ctrl.record(slot, self.world.now_us(), kept, &ready);
        }
        for m in ready.messages {
            self.world.send(m);
        }
        for w in ready.writes {
            self.world.write(slot, w);
        }
        for reply in ready.replies {
            let to = address_of(reply.client);
            self.link(
                id_of(slot),
                to,
                false,
                |reply| ShardEvent::FromCtrl { slot, to, reply },
                reply,
            );
        }
    }

    fn carry_out_group(&mut self, slot: usize, ready: GroupReady) {
        let from = id_of(slot);
        for m in ready.messages {
            self.world.send(m);
        }
        for w in ready.writes {
            self.world.write(slot, w);
        }
        for reply in ready.replies {
            let to = address_of(reply.client);
            self.link(
                from,
                to,
                false,
                |reply| ShardEvent::FromGroup { slot, to, reply },
                reply,
            );
        }
        for (to, request) in ready.to_groups {
            let s = slot_of(to);
            self.link(
                from,
                to,
                true,
                |request| ShardEvent::ToGroup {
                    from,
                    slot: s,
                    request,
                },
                request,
            );
        }
        for (to, request) in ready.to_ctrl {
            let s = slot_of(to);
            self.link(
                from,
                to,
                true,
                |request| ShardEvent::ToCtrl {
                    from,
                    slot: s,
                    request,
                },
                request,
            );
        }
    }

    /// Sends `what` from `from` to `to` through the network model.
    pub(crate) fn link<T: Clone>(
        &mut self,
        from: NodeId,
        to: NodeId,
        request: bool,
        event: impl Fn(T) -> ShardEvent,
        what: T,
    ) {
        let w = &mut self.world;
        for delay in w.net.plan_link(from, to, request, &mut w.rng) {
            w.schedule(delay, event(what.clone()));
        }
    }

    fn deliverable(&self, from: NodeId, to: NodeId) -> bool {
        let alive = |id: NodeId| id >= CLIENT_BASE || self.world.is_alive(slot_of(id));
        alive(to) && self.world.net.can_deliver(from, to)
    }

    fn deliver_group_reply(&mut self, slot: usize, to: NodeId, reply: Reply<ShardOutput>) {
        let from = id_of(slot);
        if to >= CLIENT_BASE {
            let client = (to - CLIENT_BASE) as usize;
            self.step_client(
                client,
                kv_core::shardkv::ShardClerkInput::Reply { from, reply },
            );
        } else {
            self.step_group(slot_of(to), GroupInput::GroupReply { from, reply });
        }
    }

    fn deliver_ctrl_reply(&mut self, slot: usize, to: NodeId, reply: Reply<CtrlOutcome>) {
        let from = id_of(slot);
        if to == ADMIN {
            self.step_admin(kv_core::ShardCtrlClerkInput::Reply { from, reply });
        } else if to >= CLIENT_BASE {
            let client = (to - CLIENT_BASE) as usize;
            let input = kv_core::shardkv::ShardClerkInput::CtrlReply { from, reply };
            self.step_client(client, input);
        } else {
            self.step_group(slot_of(to), GroupInput::CtrlReply { from, reply });
        }
    }
}

impl Sim for ShardWorld {
    sim_kit::sim_world!(world: ShardNode, ShardEvent);

    fn start(&mut self, slot: usize) {
        let max_bytes = self.max_raft_state_bytes;
        let recording = self.recording.is_some();
        let mut booted = None;
        self.world.start(slot, |boot| {
            if recording {
                booted = Some((
                    node_config(slot, boot.seed, max_bytes),
                    boot.restored.clone(),
                ));
            }
            build(slot, node_config(slot, boot.seed, max_bytes), boot.restored)
        });
        if let (Some(r), Some((config, restored))) = (self.recording.as_mut(), booted) {
            r.begin(slot, config, restored, self.world.now_us());
        }
        let node = self.world.node(slot).expect("just started");
        let raft = sim_kit::SimNode::raft(node);
        let watch = &mut self.watches[raft_group_of(slot)];
        watch.on_start(slot, raft);
    }

    fn on_tick(&mut self, slot: usize, count: u32) {
        // A server is due at every tick (its own timers are not told apart yet).
        for _ in 0..count {
            if raft_group_of(slot) == 0 {
                self.step_ctrl(slot, ShardCtrlServerInput::Tick);
            } else {
                self.step_group(slot, GroupInput::Tick);
            }
        }
    }

    fn on_message(&mut self, slot: usize, message: Message) {
        if raft_group_of(slot) == 0 {
            self.step_ctrl(slot, ShardCtrlServerInput::Message(message));
        } else {
            self.step_group(slot, GroupInput::Message(message));
        }
    }

    fn on_persisted(&mut self, slot: usize, id: WriteId) {
        if raft_group_of(slot) == 0 {
            self.step_ctrl(slot, ShardCtrlServerInput::Persisted(id));
        } else {
            self.step_group(slot, GroupInput::Persisted(id));
        }
    }

    fn on_event(&mut self, event: ShardEvent) {
        match event {
            ShardEvent::ClientTick => {
                self.tick_clients();
                let tick_us = self.world.cfg().tick_us;
                self.world.schedule(tick_us, ShardEvent::ClientTick);
            }
            ShardEvent::ToGroup {
                from,
                slot,
                request,
            } => {
                if self.deliverable(from, id_of(slot)) && raft_group_of(slot) != 0 {
                    self.step_group(slot, GroupInput::Request(request));
                }
            }
            ShardEvent::ToCtrl {
                from,
                slot,
                request,
            } => {
                if self.deliverable(from, id_of(slot)) && raft_group_of(slot) == 0 {
                    self.step_ctrl(slot, ShardCtrlServerInput::Request(request));
                }
            }
            ShardEvent::FromGroup { slot, to, reply } => {
                if self.deliverable(id_of(slot), to) {
                    self.deliver_group_reply(slot, to, reply);
                }
            }
            ShardEvent::FromCtrl { slot, to, reply } => {
                if self.deliverable(id_of(slot), to) {
                    self.deliver_ctrl_reply(slot, to, reply);
                }
            }
        }
    }
}
