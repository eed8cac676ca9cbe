//! The world of one `shard_cluster` run: group servers with their disks, clerks, the
//! controller, the network carrying all of it, a watch per group and the history.
//!
//! Addresses: server slot `s` is Raft node `s + 1`, in group `s / per_group + 1`
//! (its gid); clerk `c` is client `CLERK_BASE + c`; a server's own client id (its
//! proposals, pulls and queries) is `OWN_BASE + 16 * incarnation + slot`, fresh at
//! every restart as `ShardGroupConfig` asks; the controller is node `CTRL_ID`.

use std::collections::BTreeSet;

use kv_core::service::{ClerkConfig, ClientId, Reply, Request, ServerConfig};
use kv_core::shardkv::{GroupInput, GroupReady, ShardClerk, ShardGroup, ShardGroupConfig};
use kv_core::shardkv::{ShardOp, ShardOutput, Status};
use kv_core::{CtrlOp, CtrlOutcome, Gid, Op, Outcome, ShardCtrl};
use kv_sim::history::HistoryOp;
use raft_core::{Config, Message, NodeId, ReadMode, RestoredState};
use sim_kit::disk::{Disk, PendingWrite};
use sim_kit::watch::RaftWatch;

use super::{Action, Setup, Summary, SETTLE_ROUNDS_MAX, TICKS_PER_ACTION_MAX};
use crate::net::Network;

pub(super) const CLERK_BASE: ClientId = 1000;
pub(super) const OWN_BASE: ClientId = 1_000_000;
pub(super) const CTRL_ID: NodeId = 900;
/// Slots fit the 16 values an own client id keeps for them.
const SLOTS_MAX: usize = 16;

#[derive(Clone, Debug)]
pub(super) enum Packet {
    Raft(Message),
    /// From a clerk (`from: None`) or the server in slot `from`, to server node `to`.
    ToGroup {
        from: Option<usize>,
        to: NodeId,
        request: Request<ShardOp>,
    },
    /// The answer of the server in slot `from`, to whoever `reply.client` is.
    FromGroup {
        from: usize,
        reply: Reply<ShardOutput>,
    },
    ToCtrl(Request<CtrlOp>),
    FromCtrl(Reply<CtrlOutcome>),
}

pub(super) struct Replica {
    pub(super) group: ShardGroup,
    pub(super) disk: Disk,
    pub(super) incarnation: u64,
}

pub(super) struct Client {
    pub(super) clerk: ShardClerk,
    /// The operation in flight, as an index into the history.
    pub(super) current: Option<usize>,
}

pub struct World {
    pub(super) setup: Setup,
    pub(super) per_group: usize,
    pub(super) servers: Vec<Replica>,
    pub(super) clients: Vec<Client>,
    pub(super) ctrl: ShardCtrl,
    pub(super) net: Network<Packet>,
    /// One per group: groups share no log.
    watches: Vec<RaftWatch>,
    pub(super) history: Vec<HistoryOp<Op, Outcome>>,
    pub(super) clock: u64,
    pub(super) writes: u64,
    /// (gid, config, shard) of every shard a group installed, and parked.
    installs: BTreeSet<(Gid, u64, usize)>,
    parks: BTreeSet<(Gid, u64, usize)>,
    /// The schedule is over: the end is settling (moves are no longer counted).
    pub(super) finishing: bool,
    pub(super) summary: Summary,
}

/// Where a reply to `client` goes: a clerk or the server in a slot.
pub(super) enum Address {
    Clerk(usize),
    Server(usize),
}

impl World {
    pub fn new(setup: Setup) -> Self {
        let groups = 2 + usize::from(setup.groups % 2);
        let per_group = 1 + usize::from(setup.servers % 3);
        let clerks = 1 + usize::from(setup.clerks % 3);
        let n = groups * per_group;
        assert!(n <= SLOTS_MAX);
        let mut world = World {
            setup,
            per_group,
            servers: Vec::with_capacity(n),
            clients: Vec::with_capacity(clerks),
            ctrl: ShardCtrl::default(),
            net: Network::new(),
            watches: (0..groups).map(|_| RaftWatch::for_service()).collect(),
            history: Vec::new(),
            clock: 0,
            writes: 0,
            installs: BTreeSet::new(),
            parks: BTreeSet::new(),
            finishing: false,
            summary: Summary {
                groups,
                servers: n,
                clerks,
                ..Summary::default()
            },
        };
        for slot in 0..n {
            let group = world.start(slot, 0, RestoredState::default());
            let (disk, incarnation) = (Disk::default(), 0);
            world.servers.push(Replica {
                group,
                disk,
                incarnation,
            });
        }
        for c in 0..clerks {
            let clerk = ShardClerk::new(ctrl_clerk(CLERK_BASE + c as ClientId), 5);
            world.clients.push(Client {
                clerk,
                current: None,
            });
        }
        world.join_initial();
        world
    }

    pub(super) fn groups(&self) -> usize {
        self.watches.len()
    }

    pub(super) fn gid_of(&self, slot: usize) -> Gid {
        (slot / self.per_group + 1) as Gid
    }

    /// The servers of group `gid`, as the controller names them.
    pub(super) fn names(&self, gid: Gid) -> Vec<String> {
        let first = (gid as usize - 1) * self.per_group;
        (first..first + self.per_group)
            .map(|s| id_of(s).to_string())
            .collect()
    }

    fn config(&self, slot: usize, incarnation: u64) -> ShardGroupConfig {
        let gid = self.gid_of(slot);
        let first = (gid as usize - 1) * self.per_group;
        let voters = (first..first + self.per_group).map(id_of).collect();
        let mut raft = Config::new(id_of(slot), voters);
        raft.election_ticks = 10;
        raft.heartbeat_ticks = 2;
        raft.pre_vote = self.setup.pre_vote;
        raft.check_quorum = self.setup.check_quorum;
        if self.setup.lease_reads && self.setup.check_quorum {
            raft.read_mode = ReadMode::Lease;
        }
        raft.seed = self.setup.seed ^ slot as u64;
        #[cfg(feature = "bug-injection")]
        {
            raft.bug = crate::planted_bug();
        }
        let mut server = ServerConfig::new(raft);
        server.max_raft_state_bytes = self.setup.snapshots.then_some(600);
        server.request_timeout_ticks = 20;
        let own = OWN_BASE + incarnation * SLOTS_MAX as u64 + slot as u64;
        let mut cfg = ShardGroupConfig::new(server, gid, ctrl_clerk(own));
        cfg.poll_ticks = 4;
        cfg
    }

    /// The server at `slot` (re)starting from `disk`; refusing its own durable state
    /// is a finding too.
    fn start(&mut self, slot: usize, incarnation: u64, disk: RestoredState) -> ShardGroup {
        let group = ShardGroup::new(self.config(slot, incarnation), disk)
            .unwrap_or_else(|e| panic!("server {} refuses its own disk: {e}", id_of(slot)));
        self.watches[slot / self.per_group].on_start(slot, group.server().node());
        group
    }

    /// Where a reply addressed to `client` goes, if anywhere.
    pub(super) fn address(&self, client: ClientId) -> Option<Address> {
        if client >= OWN_BASE {
            let slot = ((client - OWN_BASE) % SLOTS_MAX as u64) as usize;
            (slot < self.servers.len()).then_some(Address::Server(slot))
        } else {
            let c = usize::try_from(client.checked_sub(CLERK_BASE)?).ok()?;
            (c < self.clients.len()).then_some(Address::Clerk(c))
        }
    }

    pub fn act(&mut self, action: Action) {
        let n = self.servers.len();
        let server = |k: u8| usize::from(k) % n;
        let ticks = |times: u8| 1 + times % TICKS_PER_ACTION_MAX;
        match action {
            Action::Deliver(i) => self.deliver(i),
            Action::Drop(i) => self.net.lose(i),
            Action::Duplicate(i) => self.net.duplicate(i),
            Action::DeliverAll => self.deliver_all(),
            Action::Settle(rounds) => (0..=rounds % SETTLE_ROUNDS_MAX).for_each(|_| self.settle()),
            Action::Tick { server: k, times } => {
                for _ in 0..ticks(times) {
                    self.step_server(server(k), GroupInput::Tick);
                }
            }
            Action::TickClerks(times) => (0..ticks(times)).for_each(|_| self.tick_clerks()),
            Action::TickAll(times) => (0..ticks(times)).for_each(|_| self.tick_all()),
            Action::Crash(k) => self.crash(server(k)),
            Action::Persist(k) => self.persist(server(k)),
            Action::PersistAll(k) => self.persist_all(server(k)),
            Action::Partition(mask) => self.net.partition(u64::from(mask)),
            Action::Heal => self.net.partition(0),
            Action::Submit { clerk, ask } => {
                let c = usize::from(clerk) % self.clients.len();
                self.submit(c, ask);
            }
            Action::Join(g) => self.admin_join(g),
            Action::Leave(g) => self.admin_leave(g),
            Action::Move { shard, group } => self.admin_move(shard, group),
        }
    }

    pub(super) fn tick_all(&mut self) {
        (0..self.servers.len()).for_each(|slot| self.step_server(slot, GroupInput::Tick));
        self.tick_clerks();
    }

    /// Every server's writes become durable, then the packets in flight are delivered.
    pub(super) fn settle(&mut self) {
        (0..self.servers.len()).for_each(|slot| self.persist_all(slot));
        self.deliver_all();
    }

    /// Delivers the packets in flight now (not the ones they cause).
    fn deliver_all(&mut self) {
        (0..self.net.len()).for_each(|_| self.deliver(0));
    }

    fn deliver(&mut self, i: u8) {
        let Some(packet) = self.net.take(i) else {
            return;
        };
        let n = self.servers.len();
        match packet {
            Packet::Raft(m) => {
                let (Some(from), Some(to)) = (slot_of(m.from, n), slot_of(m.to, n)) else {
                    panic!("a Raft message from {} to {} names no server", m.from, m.to);
                };
                if !self.net.cut_off(from, to) {
                    self.step_server(to, GroupInput::Message(m));
                }
            }
            Packet::ToGroup { from, to, request } => {
                let Some(to) = slot_of(to, n) else { return };
                if !from.is_some_and(|from| self.net.cut_off(from, to)) {
                    self.step_server(to, GroupInput::Request(request));
                }
            }
            Packet::FromGroup { from, reply } => self.deliver_reply(from, reply),
            Packet::ToCtrl(request) => self.answer_ctrl(request),
            Packet::FromCtrl(reply) => self.deliver_ctrl_reply(reply),
        }
    }

    fn deliver_reply(&mut self, from: usize, reply: Reply<ShardOutput>) {
        match self.address(reply.client) {
            Some(Address::Clerk(c)) => {
                let input = kv_core::shardkv::ShardClerkInput::Reply {
                    from: id_of(from),
                    reply,
                };
                self.step_clerk(c, input);
            }
            Some(Address::Server(to)) if !self.net.cut_off(from, to) => {
                let from = id_of(from);
                self.step_server(to, GroupInput::GroupReply { from, reply });
            }
            Some(Address::Server(_)) => {}
            None => panic!(
                "server {} answered client {}, which does not exist",
                id_of(from),
                reply.client
            ),
        }
    }

    /// Steps the server at `slot` under its group's watch and carries out what it asks.
    pub(super) fn step_server(&mut self, slot: usize, input: GroupInput) {
        let replica = &mut self.servers[slot];
        let mut view = self.watches[slot / self.per_group].observer(slot);
        let ready = replica.group.step_observed(input, &mut view);
        if let Err(broken) = view.verdict() {
            panic!(
                "server {} (group {}): {broken}",
                id_of(slot),
                self.gid_of(slot)
            );
        }
        if let Some(e) = replica.group.server().failure() {
            panic!("server {} cannot apply its own log: {e}", id_of(slot));
        }
        self.count_moves(slot);
        self.carry_out(slot, ready);
    }

    fn carry_out(&mut self, slot: usize, ready: GroupReady) {
        let GroupReady {
            messages,
            writes,
            replies,
            to_groups,
            to_ctrl,
        } = ready;
        messages
            .into_iter()
            .for_each(|m| self.net.send(Packet::Raft(m)));
        let pending = writes.into_iter().map(|write| PendingWrite {
            write,
            done_at_us: 0,
        });
        self.servers[slot].disk.pending.extend(pending);
        for reply in replies {
            self.net.send(Packet::FromGroup { from: slot, reply });
        }
        for (to, request) in to_groups {
            let from = Some(slot);
            self.net.send(Packet::ToGroup { from, to, request });
        }
        for (to, request) in to_ctrl {
            assert_eq!(
                to,
                CTRL_ID,
                "server {} asked {to} for a configuration",
                id_of(slot)
            );
            self.net.send(Packet::ToCtrl(request));
        }
    }

    /// Counts the shards the server at `slot` holds as just installed (Notifying) or
    /// parked (given to no group).
    fn count_moves(&mut self, slot: usize) {
        if self.finishing {
            return;
        }
        let state = self.servers[slot].group.state();
        let num = state.current().num;
        for (&shard, (status, _)) in state.slots() {
            match status {
                Status::Notifying { .. } => self.installs.insert((state.gid(), num, shard)),
                Status::Parked => self.parks.insert((state.gid(), num, shard)),
                _ => false,
            };
        }
        self.summary.shards_installed = self.installs.len() as u64;
        self.summary.shards_parked = self.parks.len() as u64;
    }

    fn persist(&mut self, slot: usize) {
        let Some(done) = self.servers[slot].disk.sync_one() else {
            return;
        };
        self.step_server(slot, GroupInput::Persisted(done.write.id));
    }

    fn persist_all(&mut self, slot: usize) {
        while !self.servers[slot].disk.pending.is_empty() {
            self.persist(slot);
        }
    }

    fn crash(&mut self, slot: usize) {
        let disk = &mut self.servers[slot].disk;
        disk.crash();
        let state = disk.recover();
        self.count_stats(slot);
        let incarnation = self.servers[slot].incarnation + 1;
        self.servers[slot].group = self.start(slot, incarnation, state);
        self.servers[slot].incarnation = incarnation;
        self.summary.crashes += 1;
    }

    /// Adds what the server at `slot` counted since it started to the summary.
    pub(super) fn count_stats(&mut self, slot: usize) {
        let stats = self.servers[slot].group.server().stats();
        self.summary.snapshots_taken += stats.snapshots_taken;
        self.summary.snapshots_installed += stats.snapshots_installed;
    }
}

/// The controller clerk of client `client`: the one controller, short timers.
fn ctrl_clerk(client: ClientId) -> ClerkConfig {
    let mut cfg = ClerkConfig::new(client, vec![CTRL_ID]);
    cfg.retry_ticks = 5;
    cfg.backoff_ticks = 2;
    cfg
}

pub(super) fn id_of(slot: usize) -> NodeId {
    slot as NodeId + 1
}

fn slot_of(id: NodeId, n: usize) -> Option<usize> {
    let slot = usize::try_from(id.checked_sub(1)?).ok()?;
    (slot < n).then_some(slot)
}
