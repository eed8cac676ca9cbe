//! The world skeleton: virtual time, the PRNG, the event queue, the network, and one
//! [`Slot`] per node, with the Raft watch on every node. What the slots run is generic
//! ([`SimNode`]), and so are the world's own events (`E`: client traffic in kv-sim;
//! none in raft-sim). Starting and killing nodes is in `world_nodes.rs`, messages and
//! writes in `world_traffic.rs`, the event loop in `sim.rs`.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use raft_core::{Message, NodeId};

use crate::disk::Disk;
use crate::net::{NetConfig, Network, MS};
use crate::node::SimNode;
use crate::queue::EventQueue;
use crate::slot::Slot;
use crate::watch::RaftWatch;

/// Everything that defines a world besides what runs in it.
#[derive(Clone, Debug)]
pub struct WorldConfig {
    pub nodes: usize,
    pub seed: u64,
    pub net: NetConfig,
    pub tick_us: u64,
    /// Range of one write's time to durability.
    pub disk_latency_us: (u64, u64),
    /// Each node's clock runs fast or slow by up to this many parts per million.
    pub clock_drift_ppm: u64,
    /// Upper bound on events in one run: a runaway loop fails instead of hanging.
    pub events_max: u64,
    /// Upper bound on events pending at once: a storm fails instead of exhausting memory.
    pub queue_len_max: usize,
    /// Wake every node at every tick, as if each said it is due on its next one, instead
    /// of sleeping it to the tick it is due (`SimNode::ticks_until_due`). Equivalent runs
    /// in theory, and much slower; `SIM_EAGER_TICKS=1` sets it, to rule lazy ticking out
    /// of a failure or to measure it.
    pub eager_ticks: bool,
}

impl WorldConfig {
    pub fn new(nodes: usize, seed: u64, net: NetConfig) -> Self {
        WorldConfig {
            nodes,
            seed,
            net,
            tick_us: 10 * MS,
            disk_latency_us: (100, 2 * MS),
            clock_drift_ppm: 0,
            events_max: 200_000_000,
            queue_len_max: 1 << 20,
            eager_ticks: std::env::var_os("SIM_EAGER_TICKS").is_some_and(|v| v == "1"),
        }
    }
}

/// What the skeleton counts; simulators count their own traffic besides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorldCounters {
    /// Events popped, including those addressed to a previous incarnation.
    pub events: u64,
    /// Raft messages that reached a live node.
    pub delivered: u64,
    /// Raft messages dropped by the network, cut links or a dead recipient.
    pub lost: u64,
    pub crashes: u64,
    /// Writes pending at a crash (never durable).
    pub writes_lost: u64,
    /// Restarts whose disk recovery cut off a write torn by the crash.
    pub torn_writes_repaired: u64,
}

/// What the queue holds: the skeleton's events and the world's own.
pub(crate) enum Event<E> {
    Tick { slot: usize, incarnation: u32 },
    Deliver(Message),
    DiskDone { slot: usize, incarnation: u32 },
    World(E),
}

/// Node ids are slot + 1 (Raft reserves 0 for "nobody").
pub fn id_of(slot: usize) -> NodeId {
    slot as NodeId + 1
}

pub fn slot_of(id: NodeId) -> usize {
    assert!(id > 0, "node id 0 names nobody");
    (id - 1) as usize
}

pub struct World<N, E> {
    pub(crate) cfg: WorldConfig,
    pub(crate) now_us: u64,
    /// The run's one source of randomness: every choice draws from it, in event order.
    pub rng: ChaCha8Rng,
    pub(crate) queue: EventQueue<Event<E>>,
    pub(crate) slots: Vec<Slot<N>>,
    pub net: Network,
    /// Raft's invariants, checked on every step of every slot's node.
    pub watch: RaftWatch,
    pub(crate) counters: WorldCounters,
}

impl<N: SimNode, E> World<N, E> {
    /// A world of empty slots (start each with [`World::start`]). Draws each slot's
    /// clock drift from the PRNG first, in slot order, when there is drift.
    pub fn new(cfg: WorldConfig, watch: RaftWatch) -> Self {
        assert!(cfg.nodes >= 1, "a world needs a node");
        let (lo, hi) = cfg.disk_latency_us;
        assert!(lo <= hi, "disk latency range {lo}..={hi} is empty");
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let slots = (0..cfg.nodes)
            .map(|_| Slot::new(cfg.tick_us, cfg.clock_drift_ppm, &mut rng))
            .collect();
        World {
            net: Network::new(cfg.net.clone()),
            queue: EventQueue::new(cfg.queue_len_max),
            cfg,
            now_us: 0,
            rng,
            slots,
            watch,
            counters: WorldCounters::default(),
        }
    }

    pub fn cfg(&self) -> &WorldConfig {
        &self.cfg
    }

    pub fn seed(&self) -> u64 {
        self.cfg.seed
    }

    pub fn now_us(&self) -> u64 {
        self.now_us
    }

    /// The number of slots.
    pub fn n(&self) -> usize {
        self.slots.len()
    }

    pub fn counters(&self) -> &WorldCounters {
        &self.counters
    }

    /// The node running at `slot`, if it is up.
    pub fn node(&self, slot: usize) -> Option<&N> {
        self.slots[slot].node.as_ref()
    }

    pub fn is_alive(&self, slot: usize) -> bool {
        self.slots[slot].node.is_some()
    }

    /// The disk of `slot`, which outlives every node that runs there.
    pub fn disk(&self, slot: usize) -> &Disk {
        &self.slots[slot].disk
    }

    /// Fails the run: panics with `what`, the seed, the virtual time and every slot.
    pub fn fail(&self, what: &str) -> ! {
        panic!(
            "{what} (seed {}, t = {} ms)\n{}",
            self.cfg.seed,
            self.now_us / MS,
            self.describe()
        )
    }

    /// One line per slot: connectivity, then "down" or what the node says of itself.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (i, slot) in self.slots.iter().enumerate() {
            let id = id_of(i);
            let link = if self.net.is_connected(id) {
                "connected"
            } else {
                "disconnected"
            };
            let state = match &slot.node {
                None => "down".to_string(),
                Some(node) => node.describe(&slot.disk),
            };
            out += &format!("  {} {id}: {link}, {state}\n", N::KIND);
        }
        out
    }
}
