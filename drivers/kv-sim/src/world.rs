//! The simulated world for a replicated service: `kv-core` servers of any
//! [`SimService`] in the slots of a `sim-kit` [`World`] (which owns time, the queue,
//! the network, the disks and the Raft watch), plus clients and their traffic as the
//! world's own events. A seed fully determines a run. [`KvWorld`] is the key/value
//! service's world (lab 3), [`CtrlWorld`] the shard controller's (lab 4A).

use kv_core::service::{ClerkInput, Reply, Request, Server, ServerInput, ServerReady};
use kv_core::{KvState, ServerConfig, ShardCtrl};
use raft_core::{Config, Message, NodeId, ReadMode, WriteId};
use sim_kit::disk::Disk;
use sim_kit::watch::RaftWatch;
use sim_kit::{id_of, NetConfig, Sim, World, WorldConfig};

pub use crate::sim_server::SimServer;

use crate::client::{index_of, net_id, SimClient};
use crate::history::HistoryOp;
use crate::recording::{new_recording, ServiceRecording};
use crate::service::{RecorderStart, SimService};

pub type ServerTweak = Box<dyn Fn(&mut ServerConfig)>;

#[derive(Clone, Debug)]
pub struct KvSimConfig {
    /// `nodes` is the number of servers.
    pub world: WorldConfig,
    pub clients: usize,
    /// The course's maxraftstate; `None` = -1 (never snapshot).
    pub max_raft_state_bytes: Option<usize>,
    pub read_mode: ReadMode,
}

impl KvSimConfig {
    pub fn new(servers: usize, clients: usize, seed: u64, reliable: bool) -> Self {
        let net = if reliable {
            NetConfig::default()
        } else {
            NetConfig::unreliable()
        };
        KvSimConfig {
            world: WorldConfig {
                events_max: 100_000_000,
                ..WorldConfig::new(servers, seed, net)
            },
            clients,
            max_raft_state_bytes: None,
            read_mode: ReadMode::Safe,
        }
    }
}

/// The world's own events: client traffic (operations `O`, outputs `T`) and the
/// clients' clock.
#[derive(Debug)]
pub enum ClientEvent<O, T> {
    Tick,
    ToServer {
        client: usize,
        slot: usize,
        request: Request<O>,
    },
    ToClient {
        slot: usize,
        reply: Reply<T>,
    },
}

/// The event type of `S`'s world.
pub type EventOf<S> =
    ClientEvent<<S as kv_core::StateMachine>::Op, <S as kv_core::StateMachine>::Output>;

/// Client traffic counters (the world counts events, Raft messages and crashes: see
/// [`World::counters`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvCounters {
    pub client_requests: u64,
    pub client_replies: u64,
}

/// How every server is configured: alike but for its id and PRNG seed.
struct ServerSetup {
    servers: usize,
    max_raft_state_bytes: Option<usize>,
    read_mode: ReadMode,
    tweak: Option<ServerTweak>,
}

impl ServerSetup {
    fn config(&self, id: NodeId, seed: u64) -> ServerConfig {
        let voters = (0..self.servers).map(id_of).collect();
        let mut raft = Config::new(id, voters);
        raft.seed = seed;
        raft.read_mode = self.read_mode;
        let mut cfg = ServerConfig::new(raft);
        cfg.max_raft_state_bytes = self.max_raft_state_bytes;
        if let Some(tweak) = &self.tweak {
            tweak(&mut cfg);
        }
        cfg
    }
}

pub struct ServiceWorld<S: SimService> {
    pub(crate) world: World<SimServer<S>, EventOf<S>>,
    setup: ServerSetup,
    pub(crate) clients: Vec<SimClient<S>>,
    pub(crate) history: Vec<HistoryOp<S::Op, S::Output>>,
    pub(crate) last_history_time: u64,
    pub counters: KvCounters,
    /// Recording the run as a trace, when asked (`sim_kit::seeds::trace_request`).
    recording: Option<ServiceRecording<S>>,
}

/// Lab 3's world: key/value servers and clients.
pub type KvWorld = ServiceWorld<KvState>;
/// Lab 4A's world: shard controller servers (10 shards) and their clerks.
pub type CtrlWorld = ServiceWorld<ShardCtrl>;

impl<S: SimService> ServiceWorld<S> {
    pub fn new(cfg: KvSimConfig) -> Self {
        Self::with_tweak(cfg, None)
    }

    /// Like `new`, with a hook that edits every server's configuration (bug injection).
    pub fn with_tweak(cfg: KvSimConfig, tweak: Option<ServerTweak>) -> Self {
        let servers = cfg.world.nodes;
        let clients = (0..cfg.clients)
            .map(|i| SimClient::new(i, servers))
            .collect();
        let setup = ServerSetup {
            servers,
            max_raft_state_bytes: cfg.max_raft_state_bytes,
            read_mode: cfg.read_mode,
            tweak,
        };
        let recording = sim_kit::seeds::trace_request()
            .map(|dir| new_recording::<S>(dir.join(format!("seed{}", cfg.world.seed)), servers));
        let mut w = ServiceWorld {
            recording,
            world: World::new(cfg.world, RaftWatch::for_service()),
            setup,
            clients,
            history: Vec::new(),
            last_history_time: 0,
            counters: KvCounters::default(),
        };
        for slot in 0..servers {
            w.start(slot);
        }
        let tick_us = w.world.cfg().tick_us;
        w.world.schedule(tick_us, ClientEvent::Tick);
        w
    }

    pub fn id_of(slot: usize) -> NodeId {
        id_of(slot)
    }

    pub fn server(&self, slot: usize) -> Option<&Server<S>> {
        self.world.node(slot).map(|s| &s.0)
    }

    /// The disk of server `slot`, which outlives every restart.
    pub fn disk(&self, slot: usize) -> &Disk {
        self.world.disk(slot)
    }

    pub(crate) fn client_link_up(&self, client: usize, slot: usize) -> bool {
        let c = net_id(client);
        self.clients[client].reach.contains(&slot) && self.world.net.can_deliver(c, id_of(slot))
    }

    /// Steps a live server under the Raft watch and carries out its `ServerReady`.
    /// Steps the server at `slot`, after handing it the ticks it is owed (see
    /// `sim_kit::World::owed_ticks`), and carries out what it asks.
    pub(crate) fn step_server(&mut self, slot: usize, input: ServerInput<S::Op>) {
        loop {
            match self.world.owed_ticks(slot) {
                0 => break,
                1 => self.step_server_now(slot, ServerInput::Tick),
                count => self.step_server_now(slot, ServerInput::Ticks(count)),
            }
        }
        self.step_server_now(slot, input);
    }

    fn step_server_now(&mut self, slot: usize, input: ServerInput<S::Op>) {
        self.world.assert_no_ticks_owed(slot);
        let kept = self.recording.as_mut().and_then(|r| r.before(slot, &input));
        let (server, watch) = self.world.node_and_watch(slot);
        let mut view = watch.observer(slot);
        let ready = server.0.step_observed(input, &mut view);
        let verdict = view.verdict();
        if let (Some(r), Some(kept)) = (self.recording.as_mut(), kept) {
            r.record(slot, self.world.now_us(), kept, &ready);
        }
        if let Err(broken) = verdict {
            self.fail(&broken);
        }
        let ServerReady {
            messages,
            writes,
            replies,
        } = ready;
        for m in messages {
            self.world.send(m);
        }
        for write in writes {
            self.world.write(slot, write);
        }
        for reply in replies {
            self.send_reply(slot, reply);
        }
        self.world.rearm_tick(slot);
    }

    fn send_reply(&mut self, slot: usize, reply: Reply<S::Output>) {
        self.counters.client_replies += 1;
        let to = net_id(index_of(reply.client));
        let w = &mut self.world;
        for delay in w.net.plan_link(id_of(slot), to, false, &mut w.rng) {
            let reply = reply.clone();
            w.schedule(delay, ClientEvent::ToClient { slot, reply });
        }
    }

    /// Sends a clerk's request over the client's link.
    pub(crate) fn send_request(&mut self, client: usize, to: NodeId, request: Request<S::Op>) {
        self.counters.client_requests += 1;
        let slot = sim_kit::slot_of(to);
        let from = net_id(client);
        let w = &mut self.world;
        for delay in w.net.plan_link(from, to, true, &mut w.rng) {
            let request = request.clone();
            let event = ClientEvent::ToServer {
                client,
                slot,
                request,
            };
            w.schedule(delay, event);
        }
    }
}

/// What the kit's event loop asks of the service's world.
impl<S: SimService> Sim for ServiceWorld<S> {
    sim_kit::sim_world!(world: SimServer<S>, EventOf<S>);

    fn start(&mut self, slot: usize) {
        let setup = &self.setup;
        let recording = self.recording.is_some();
        let mut booted = None;
        self.world.start(slot, |boot| {
            let cfg = setup.config(boot.id, boot.seed);
            if recording {
                booted = Some((cfg.clone(), boot.restored.clone()));
            }
            let server = Server::new(cfg, boot.restored)
                .map_err(|e| format!("server {} cannot restart from its disk: {e}", slot + 1))?;
            Ok(SimServer(server))
        });
        if let (Some(r), Some((config, restored))) = (self.recording.as_mut(), booted) {
            let start = RecorderStart {
                earlier: r.end(slot),
                node: id_of(slot),
                incarnation: r.next_incarnation(slot),
                now_us: self.world.now_us(),
                config,
                restored,
            };
            r.begin(slot, S::recorder(start));
        }
    }

    fn on_tick(&mut self, slot: usize, count: u32) {
        let ticks = match count {
            1 => ServerInput::Tick,
            count => ServerInput::Ticks(count),
        };
        self.step_server(slot, ticks);
    }

    fn on_message(&mut self, slot: usize, message: Message) {
        self.step_server(slot, ServerInput::Message(message));
    }

    fn on_persisted(&mut self, slot: usize, id: WriteId) {
        self.step_server(slot, ServerInput::Persisted(id));
    }

    fn on_event(&mut self, event: EventOf<S>) {
        match event {
            ClientEvent::Tick => {
                for client in 0..self.clients.len() {
                    self.step_client(client, ClerkInput::Tick);
                }
                let tick_us = self.world.cfg().tick_us;
                self.world.schedule(tick_us, ClientEvent::Tick);
            }
            ClientEvent::ToServer {
                client,
                slot,
                request,
            } => {
                if self.client_link_up(client, slot) && self.is_alive(slot) {
                    self.step_server(slot, ServerInput::Request(request));
                }
            }
            ClientEvent::ToClient { slot, reply } => {
                let client = index_of(reply.client);
                if self.client_link_up(client, slot) {
                    let from = id_of(slot);
                    self.step_client(client, ClerkInput::Reply { from, reply });
                }
            }
        }
    }
}

/// A recording world writes its trace when it goes, also while a failed run unwinds.
impl<S: SimService> Drop for ServiceWorld<S> {
    fn drop(&mut self) {
        if let Some(r) = self.recording.as_mut() {
            if let Err(e) = r.write() {
                eprintln!("cannot write the trace to {}: {e}", r.dir.display());
            }
        }
    }
}
