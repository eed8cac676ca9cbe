//! The simulated world for the key/value service: servers with their disks, clients, the
//! network, and one event queue in virtual time. A seed fully determines a run.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use kv_core::{ClerkInput, Reply, Request, Server, ServerConfig, ServerInput, ServerReady};
use raft_core::{Config, Message, NodeId, ReadMode, Write};
use raft_sim::disk::{Disk, PendingWrite};
use raft_sim::queue::EventQueue;
use raft_sim::watch::RaftWatch;
use raft_sim::{NetConfig, MS};

use crate::client::SimClient;
use crate::history::HistoryOp;

pub type ServerTweak = Box<dyn Fn(&mut ServerConfig)>;

#[derive(Clone, Debug)]
pub struct KvSimConfig {
    pub servers: usize,
    pub clients: usize,
    pub seed: u64,
    pub net: NetConfig,
    pub tick_us: u64,
    pub disk_latency_us: (u64, u64),
    /// The course's maxraftstate; `None` = -1 (never snapshot).
    pub max_raft_state_bytes: Option<usize>,
    pub read_mode: ReadMode,
    /// Upper bound on events in one run: a runaway loop fails instead of hanging.
    pub events_max: u64,
}

impl KvSimConfig {
    pub fn new(servers: usize, clients: usize, seed: u64, reliable: bool) -> Self {
        let net = if reliable {
            NetConfig::default()
        } else {
            NetConfig::unreliable()
        };
        KvSimConfig {
            servers,
            clients,
            seed,
            net,
            tick_us: 10 * MS,
            disk_latency_us: (100, 2 * MS),
            max_raft_state_bytes: None,
            read_mode: ReadMode::Safe,
            events_max: 100_000_000,
        }
    }
}

/// Events pending at once: a storm fails instead of exhausting memory.
const QUEUE_LEN_MAX: usize = 1 << 20;

#[derive(Debug)]
enum Event {
    ServerTick {
        slot: usize,
        incarnation: u32,
    },
    ClientTick,
    Raft(Message),
    ToServer {
        client: usize,
        slot: usize,
        request: Request,
    },
    ToClient {
        slot: usize,
        reply: Reply,
    },
    DiskDone {
        slot: usize,
        incarnation: u32,
    },
}

pub(crate) struct ServerSlot {
    pub(crate) server: Option<Server>,
    pub(crate) incarnation: u32,
    pub(crate) disk: Disk,
}

/// Traffic and activity counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvCounters {
    pub events: u64,
    pub client_requests: u64,
    pub client_replies: u64,
    pub crashes: u64,
    pub writes_lost: u64,
}

pub struct KvWorld {
    pub(crate) cfg: KvSimConfig,
    now_us: u64,
    pub(crate) rng: ChaCha8Rng,
    queue: EventQueue<Event>,
    pub(crate) slots: Vec<ServerSlot>,
    pub(crate) clients: Vec<SimClient>,
    pub net: raft_sim::net::Network,
    tweak: Option<ServerTweak>,
    pub(crate) history: Vec<HistoryOp>,
    pub(crate) last_history_time: u64,
    pub counters: KvCounters,
    /// Raft's invariant checker and lease watch, on every step of every server's node.
    watch: RaftWatch,
}

impl KvWorld {
    pub fn new(cfg: KvSimConfig) -> Self {
        Self::with_tweak(cfg, None)
    }

    /// Like `new`, with a hook that edits every server's configuration (bug injection).
    pub fn with_tweak(cfg: KvSimConfig, tweak: Option<ServerTweak>) -> Self {
        assert!(cfg.servers >= 1, "a cluster needs a server");
        let slots = (0..cfg.servers)
            .map(|_| ServerSlot {
                server: None,
                incarnation: 0,
                disk: Disk::default(),
            })
            .collect();
        let clients = (0..cfg.clients)
            .map(|i| SimClient::new(i, cfg.servers))
            .collect();
        let mut world = KvWorld {
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            net: raft_sim::net::Network::new(cfg.net.clone()),
            cfg,
            now_us: 0,
            queue: EventQueue::new(QUEUE_LEN_MAX),
            slots,
            clients,
            tweak,
            history: Vec::new(),
            last_history_time: 0,
            counters: KvCounters::default(),
            watch: RaftWatch::for_service(),
        };
        for slot in 0..world.cfg.servers {
            world.start(slot);
        }
        world.schedule(world.cfg.tick_us, Event::ClientTick);
        world
    }

    pub fn now_us(&self) -> u64 {
        self.now_us
    }

    pub fn seed(&self) -> u64 {
        self.cfg.seed
    }

    pub fn n(&self) -> usize {
        self.cfg.servers
    }

    pub fn id_of(slot: usize) -> NodeId {
        slot as NodeId + 1
    }

    pub fn server(&self, slot: usize) -> Option<&Server> {
        self.slots[slot].server.as_ref()
    }

    pub fn disk(&self, slot: usize) -> &Disk {
        &self.slots[slot].disk
    }

    fn server_config(&self, slot: usize, incarnation: u32) -> ServerConfig {
        let voters = (0..self.cfg.servers).map(Self::id_of).collect();
        let mut raft = Config::new(Self::id_of(slot), voters);
        raft.seed = self.cfg.seed ^ (u64::from(incarnation) << 32) ^ ((slot as u64) << 48);
        raft.read_mode = self.cfg.read_mode;
        let mut cfg = ServerConfig::new(raft);
        cfg.max_raft_state_bytes = self.cfg.max_raft_state_bytes;
        if let Some(tweak) = &self.tweak {
            tweak(&mut cfg);
        }
        cfg
    }

    /// Starts (or restarts) a server from what its disk holds. Connectivity is unchanged.
    pub fn start(&mut self, slot: usize) {
        assert!(
            self.slots[slot].server.is_none(),
            "start of a running server {slot}"
        );
        let incarnation = self.slots[slot].incarnation;
        let cfg = self.server_config(slot, incarnation);
        let restored = self.slots[slot].disk.recover();
        let server = match Server::new(cfg, restored) {
            Ok(s) => s,
            Err(e) => self.fail(&format!(
                "server {} cannot restart from its disk: {e}",
                slot + 1
            )),
        };
        let node = server.node();
        self.watch.on_start(slot, node);
        self.watch
            .checker
            .on_install_at(node.id(), node.log().applied());
        self.slots[slot].server = Some(server);
        let phase = self.rng.gen_range(0..self.cfg.tick_us);
        self.schedule(phase, Event::ServerTick { slot, incarnation });
    }

    /// Kills a server: its memory and unsynced writes are gone; its disk stays.
    pub fn kill(&mut self, slot: usize) {
        let s = &mut self.slots[slot];
        if s.server.take().is_none() {
            return;
        }
        s.incarnation += 1;
        self.counters.writes_lost += s.disk.crash() as u64;
        self.counters.crashes += 1;
    }

    /// Runs events until virtual time reaches `now + us`.
    pub fn advance_us(&mut self, us: u64) {
        let until = self.now_us + us;
        while let Some((at_us, event)) = self.queue.pop_due(until) {
            self.now_us = at_us;
            self.counters.events += 1;
            if self.counters.events > self.cfg.events_max {
                self.fail("event budget exhausted: runaway simulation");
            }
            self.dispatch(event);
        }
        self.now_us = until;
    }

    pub fn sleep_ms(&mut self, ms: u64) {
        self.advance_us(ms * MS);
    }

    fn dispatch(&mut self, event: Event) {
        match event {
            Event::ServerTick { slot, incarnation } => {
                if self.slots[slot].incarnation == incarnation {
                    self.step_server(slot, ServerInput::Tick);
                    self.schedule(self.cfg.tick_us, Event::ServerTick { slot, incarnation });
                }
            }
            Event::ClientTick => {
                for client in 0..self.clients.len() {
                    self.step_client(client, ClerkInput::Tick);
                }
                self.schedule(self.cfg.tick_us, Event::ClientTick);
            }
            Event::Raft(m) => self.deliver_raft(m),
            Event::ToServer {
                client,
                slot,
                request,
            } => {
                if self.client_link_up(client, slot) && self.slots[slot].server.is_some() {
                    self.step_server(slot, ServerInput::Request(request));
                }
            }
            Event::ToClient { slot, reply } => {
                let client = crate::client::SimClient::index_of(reply.client);
                if self.client_link_up(client, slot) {
                    let from = Self::id_of(slot);
                    self.step_client(client, ClerkInput::Reply { from, reply });
                }
            }
            Event::DiskDone { slot, incarnation } => {
                if self.slots[slot].incarnation == incarnation {
                    self.disk_done(slot);
                }
            }
        }
    }

    fn deliver_raft(&mut self, m: Message) {
        let slot = (m.to - 1) as usize;
        if self.net.can_deliver(m.from, m.to) && self.slots[slot].server.is_some() {
            self.step_server(slot, ServerInput::Message(m));
        }
    }

    pub(crate) fn client_link_up(&self, client: usize, slot: usize) -> bool {
        let c = SimClient::net_id(client);
        self.clients[client].reach.contains(&slot) && self.net.can_deliver(c, Self::id_of(slot))
    }

    pub(crate) fn step_server(&mut self, slot: usize, input: ServerInput) {
        let server = self.slots[slot]
            .server
            .as_mut()
            .expect("only live servers are stepped");
        let mut view = self.watch.observer(slot);
        let ready = server.step_observed(input, &mut view);
        if let Err(broken) = view.verdict() {
            self.fail(&broken);
        }
        let ServerReady {
            messages,
            writes,
            replies,
        } = ready;
        for m in messages {
            self.transmit(m);
        }
        for write in writes {
            self.start_write(slot, write);
        }
        for reply in replies {
            self.counters.client_replies += 1;
            let client = SimClient::index_of(reply.client);
            let to = SimClient::net_id(client);
            let delays = self
                .net
                .plan_link(Self::id_of(slot), to, false, &mut self.rng);
            for delay in delays {
                let reply = reply.clone();
                self.schedule(delay, Event::ToClient { slot, reply });
            }
        }
    }

    /// The disk makes `write` durable after a random latency, after every earlier one.
    fn start_write(&mut self, slot: usize, write: Write) {
        let (lo, hi) = self.cfg.disk_latency_us;
        let latency = self.rng.gen_range(lo..=hi);
        let incarnation = self.slots[slot].incarnation;
        let disk = &mut self.slots[slot].disk;
        let done_at_us = disk.next_done_at(self.now_us, latency);
        disk.pending.push_back(PendingWrite { write, done_at_us });
        let delay_us = done_at_us - self.now_us;
        self.schedule(delay_us, Event::DiskDone { slot, incarnation });
    }

    fn disk_done(&mut self, slot: usize) {
        let Some(w) = self.slots[slot].disk.sync_one() else {
            self.fail("disk completion without a pending write");
        };
        self.step_server(slot, ServerInput::Persisted(w.write.id));
    }

    fn transmit(&mut self, m: Message) {
        for delay in self.net.plan(&m, &mut self.rng) {
            self.schedule(delay, Event::Raft(m.clone()));
        }
    }

    /// Sends a clerk's request over the client's link.
    pub(crate) fn send_request(&mut self, client: usize, to: NodeId, request: Request) {
        self.counters.client_requests += 1;
        let slot = (to - 1) as usize;
        let from = SimClient::net_id(client);
        for delay in self.net.plan_link(from, to, true, &mut self.rng) {
            let request = request.clone();
            self.schedule(
                delay,
                Event::ToServer {
                    client,
                    slot,
                    request,
                },
            );
        }
    }

    fn schedule(&mut self, delay_us: u64, event: Event) {
        self.queue.push(self.now_us + delay_us, event);
    }

    pub fn fail(&self, what: &str) -> ! {
        panic!(
            "{what} (seed {}, t = {} ms)\n{}",
            self.cfg.seed,
            self.now_us / MS,
            self.describe()
        )
    }

    /// One line per server: liveness, connectivity, role, term, log, applied, disk.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (i, slot) in self.slots.iter().enumerate() {
            let id = Self::id_of(i);
            let link = if self.net.is_connected(id) {
                "connected"
            } else {
                "disconnected"
            };
            let state = match &slot.server {
                None => "down".to_string(),
                Some(s) => {
                    let n = s.node();
                    format!(
                        "{:?} term {} leader {:?} last {} commit {} applied {} raft state {} B, snapshot at {}",
                        n.role(),
                        n.term(),
                        n.leader(),
                        n.log().last_index(),
                        n.log().committed(),
                        s.applied(),
                        slot.disk.raft_state_bytes(),
                        n.log().snapshot_position().index
                    )
                }
            };
            out += &format!("  server {id}: {link}, {state}\n");
        }
        out
    }
}
