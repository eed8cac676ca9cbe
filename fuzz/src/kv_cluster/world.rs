//! The world of one `kv_cluster` run: servers with their disks, clerks, the network
//! carrying both, the watch and the clients' history.

use kv_core::service::{Clerk, Reply, Request, Server, ServerInput};
use kv_core::service::{ClerkInput, ServerConfig};
use kv_core::{ClerkConfig, ClientId};
use kv_sim::history::HistoryOp;
use raft_core::{Config, Message, NodeId, ReadMode};
use sim_kit::disk::{Disk, PendingWrite};
use sim_kit::watch::RaftWatch;

use super::{Action, Service, Setup, SETTLE_ROUNDS_MAX, SLEEP_SELECTOR_MIN, TICKS_PER_ACTION_MAX};
use crate::net::Network;

mod clients;

use clients::clerk_of;

/// Client ids start here, far from server ids, so a mix-up cannot go unnoticed.
pub(super) const CLIENT_ID_BASE: ClientId = 1000;

#[derive(Clone, Debug)]
enum Packet<O, T> {
    Raft(Message),
    Request {
        to: NodeId,
        request: Request<O>,
    },
    Reply {
        from: NodeId,
        clerk: usize,
        reply: Reply<T>,
    },
}

struct Replica<S: Service> {
    server: Server<S>,
    disk: Disk,
}

struct Client<S: Service> {
    clerk: Clerk<S::Op, S::Output>,
    /// The operation in flight, as an index into the history.
    current: Option<usize>,
}

pub struct World<S: Service> {
    setup: Setup,
    servers: Vec<Replica<S>>,
    clients: Vec<Client<S>>,
    net: Network<Packet<S::Op, S::Output>>,
    watch: RaftWatch,
    history: Vec<HistoryOp<S::Op, S::Output>>,
    /// History timestamps: strictly increasing, one per call and per return.
    clock: u64,
    /// Values written so far (each unique, so the checker can tell writes apart).
    writes: u64,
    summary: Summary,
}

/// What a run reached.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub servers: usize,
    pub clerks: usize,
    pub ops_called: u64,
    /// Operations answered with a result (not an error).
    pub ops_ok: u64,
    pub crashes: u64,
    /// Snapshots servers took, and received from a leader.
    pub snapshots_taken: u64,
    pub snapshots_installed: u64,
    /// Retried writes a session table recognised (applied once, answered again).
    pub duplicates: u64,
    pub reads_served: u64,
    /// Requests a server took together (two or more in one step).
    pub requests_together: u64,
    pub partitioned: u64,
    /// The checker ran out of budget on this history (never counted as a pass).
    pub check_unknown: bool,
}

impl<S: Service> World<S> {
    pub fn new(setup: Setup) -> Self {
        let n = 3 + usize::from(setup.servers % 3);
        let clerks = 1 + usize::from(setup.clerks % 3);
        let mut world = World {
            setup,
            servers: Vec::with_capacity(n),
            clients: Vec::with_capacity(clerks),
            net: Network::new(),
            watch: RaftWatch::for_service(),
            history: Vec::new(),
            clock: 0,
            writes: 0,
            summary: Summary {
                servers: n,
                clerks,
                ..Summary::default()
            },
        };
        for slot in 0..n {
            let server = world.start(slot, raft_core::RestoredState::default());
            let disk = Disk::default();
            world.servers.push(Replica { server, disk });
        }
        let ids: Vec<NodeId> = (0..n).map(id_of).collect();
        for c in 0..clerks {
            let mut cfg = ClerkConfig::new(CLIENT_ID_BASE + c as ClientId, ids.clone());
            cfg.retry_ticks = 5;
            cfg.backoff_ticks = 2;
            let clerk = Clerk::new(cfg);
            world.clients.push(Client {
                clerk,
                current: None,
            });
        }
        world
    }

    fn config(&self, slot: usize) -> ServerConfig {
        let n = 3 + usize::from(self.setup.servers % 3);
        let mut raft = Config::new(id_of(slot), (0..n).map(id_of).collect());
        raft.election_ticks = 10;
        raft.heartbeat_ticks = 2;
        raft.pre_vote = self.setup.pre_vote;
        raft.check_quorum = self.setup.check_quorum;
        if self.setup.lease_reads && self.setup.check_quorum {
            raft.read_mode = ReadMode::Lease;
        }
        raft.seed = self.setup.seed;
        #[cfg(feature = "bug-injection")]
        {
            raft.bug = crate::planted_bug();
        }
        let mut cfg = ServerConfig::new(raft);
        cfg.max_raft_state_bytes = self.setup.snapshots.then_some(400);
        cfg.request_timeout_ticks = 20;
        cfg
    }

    /// A server at `slot` (re)starting from `disk`; refusing its own durable state is
    /// a finding too.
    fn start(&mut self, slot: usize, disk: raft_core::RestoredState) -> Server<S> {
        let server = Server::new(self.config(slot), disk)
            .unwrap_or_else(|e| panic!("server {} refuses its own disk: {e}", id_of(slot)));
        self.watch.on_start(slot, server.node());
        server
    }

    pub fn act(&mut self, action: Action<S::Ask>) {
        let n = self.servers.len();
        let server = |k: u8| usize::from(k) % n;
        let ticks = |times: u8| 1 + times % TICKS_PER_ACTION_MAX;
        match action {
            Action::Deliver(i) => self.deliver(i),
            Action::Drop(i) => self.net.lose(i),
            Action::Duplicate(i) => self.net.duplicate(i),
            Action::DeliverAll => self.deliver_all(),
            Action::Settle(rounds) => {
                for _ in 0..=rounds % SETTLE_ROUNDS_MAX {
                    (0..n).for_each(|slot| self.persist_all(slot));
                    self.deliver_all();
                }
            }
            Action::Tick { server: k, times } if times >= SLEEP_SELECTOR_MIN => {
                // As a driver that sleeps until the server is due hands in its ticks.
                let slot = server(k);
                let due = self.servers[slot].server.ticks_until_due();
                self.step_server(slot, ServerInput::Ticks(due));
            }
            Action::Tick { server: k, times } => {
                for _ in 0..ticks(times) {
                    self.step_server(server(k), ServerInput::Tick);
                }
            }
            Action::TickClerks(times) => (0..ticks(times)).for_each(|_| self.tick_clerks()),
            Action::TickAll(times) => {
                for _ in 0..ticks(times) {
                    (0..n).for_each(|slot| self.step_server(slot, ServerInput::Tick));
                    self.tick_clerks();
                }
            }
            Action::Crash(k) => self.crash(server(k)),
            Action::Persist(k) => self.persist(server(k)),
            Action::PersistAll(k) => self.persist_all(server(k)),
            Action::Partition(mask) => self.net.partition(u64::from(mask)),
            Action::Heal => self.net.partition(0),
            Action::Submit { clerk, ask } => {
                let c = usize::from(clerk) % self.clients.len();
                self.submit(c, ask);
            }
        }
    }

    /// Delivers the packets in flight now (not the ones they cause). Requests to one
    /// server next to each other arrive together, as one `ServerInput::Requests`: what
    /// the runtime's event loop does with the requests waiting in its inbox.
    fn deliver_all(&mut self) {
        let mut left = self.net.len();
        while left > 0 {
            let Some((slot, requests)) = self.requests_at_front(left) else {
                self.deliver(0);
                left -= 1;
                continue;
            };
            left -= requests.len();
            self.summary.requests_together += requests.len() as u64;
            self.step_server(slot, ServerInput::Requests(requests));
        }
    }

    /// Takes the requests at the front of the network (among the next `left` packets)
    /// if two or more in a row go to one server: that server's slot and the requests.
    fn requests_at_front(&mut self, left: usize) -> Option<(usize, Vec<Request<S::Op>>)> {
        let n = self.servers.len();
        let slot_at = |net: &Network<Packet<S::Op, S::Output>>, i: usize| match net.peek(i) {
            Some(Packet::Request { to, .. }) => slot_of(*to, n),
            _ => None,
        };
        let slot = slot_at(&self.net, 0)?;
        let run = (0..left)
            .take_while(|&i| slot_at(&self.net, i) == Some(slot))
            .count();
        if run < 2 {
            return None;
        }
        let requests: Vec<_> = (0..run)
            .filter_map(|_| match self.net.take(0) {
                Some(Packet::Request { request, .. }) => Some(request),
                _ => None,
            })
            .collect();
        assert_eq!(requests.len(), run, "the run was all requests");
        Some((slot, requests))
    }

    fn deliver(&mut self, i: u8) {
        let Some(packet) = self.net.take(i) else {
            return;
        };
        let n = self.servers.len();
        match packet {
            Packet::Raft(m) => {
                let (Some(from), Some(to)) = (slot_of(m.from, n), slot_of(m.to, n)) else {
                    return;
                };
                if !self.net.cut_off(from, to) {
                    self.step_server(to, ServerInput::Message(m));
                }
            }
            Packet::Request { to, request, .. } => {
                if let Some(slot) = slot_of(to, n) {
                    self.step_server(slot, ServerInput::Request(request));
                }
            }
            Packet::Reply { from, clerk, reply } => {
                self.step_clerk(clerk, ClerkInput::Reply { from, reply });
            }
        }
    }

    /// Steps the server at `slot` under the watch and carries out what it asks.
    fn step_server(&mut self, slot: usize, input: ServerInput<S::Op>) {
        let replica = &mut self.servers[slot];
        let mut view = self.watch.observer(slot);
        let ready = replica.server.step_observed(input, &mut view);
        if let Err(broken) = view.verdict() {
            panic!("server {}: {broken}", id_of(slot));
        }
        if let Some(e) = replica.server.failure() {
            panic!("server {} cannot apply its own log: {e}", id_of(slot));
        }
        for m in ready.messages {
            self.net.send(Packet::Raft(m));
        }
        let pending = ready.writes.into_iter().map(|write| PendingWrite {
            write,
            done_at_us: 0,
        });
        replica.disk.pending.extend(pending);
        for reply in ready.replies {
            let Some(clerk) = clerk_of(reply.client, self.clients.len()) else {
                panic!(
                    "server {} answered client {}, which does not exist",
                    id_of(slot),
                    reply.client
                );
            };
            self.net.send(Packet::Reply {
                from: id_of(slot),
                clerk,
                reply,
            });
        }
    }

    fn persist(&mut self, slot: usize) {
        let Some(done) = self.servers[slot].disk.sync_one() else {
            return;
        };
        self.step_server(slot, ServerInput::Persisted(done.write.id));
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
        self.servers[slot].server = self.start(slot, state);
        self.summary.crashes += 1;
    }

    /// Adds what the server at `slot` counted since it started to the summary.
    fn count_stats(&mut self, slot: usize) {
        let stats = self.servers[slot].server.stats();
        self.summary.snapshots_taken += stats.snapshots_taken;
        self.summary.snapshots_installed += stats.snapshots_installed;
        self.summary.duplicates += stats.duplicates_applied + stats.duplicates_answered;
        self.summary.reads_served += stats.reads_served;
    }
}

fn id_of(slot: usize) -> NodeId {
    slot as NodeId + 1
}

fn slot_of(id: NodeId, n: usize) -> Option<usize> {
    let slot = usize::try_from(id.checked_sub(1)?).ok()?;
    (slot < n).then_some(slot)
}
