//! The simulated world: virtual time, an event queue, nodes with their disks, the network,
//! and the invariant checker run after every step. One thread; every random choice comes
//! from one seeded PRNG, so a seed fully determines a run.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use raft_core::{
    Apply, Config, Entry, Input, Membership, Message, Node, NodeId, Pipeline, StepError, Work,
};

use crate::disk::{Disk, PendingWrite};
use crate::net::{NetConfig, Network, MS};
use crate::queue::EventQueue;
use crate::watch::RaftWatch;

/// Everything that defines a simulated run besides the test's own script.
#[derive(Clone, Debug)]
pub struct SimConfig {
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
    /// The application snapshots whenever it has applied an index divisible by this
    /// (the course's service snapshots every 10 entries); `None` never snapshots.
    pub snapshot_interval: Option<u64>,
    /// The first this many slots form the bootstrap configuration; the others start
    /// empty, as nodes waiting to be added (`None`: every slot is a voter).
    pub initial_voters: Option<usize>,
}

impl SimConfig {
    pub fn new(nodes: usize, seed: u64, net: NetConfig) -> Self {
        SimConfig {
            nodes,
            seed,
            net,
            tick_us: 10 * MS,
            disk_latency_us: (100, 2 * MS),
            clock_drift_ppm: 0,
            events_max: 200_000_000,
            snapshot_interval: None,
            initial_voters: None,
        }
    }
}

/// Traffic and activity counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub requests: u64,
    pub request_bytes: u64,
    pub responses: u64,
    pub response_bytes: u64,
    pub delivered: u64,
    pub lost: u64,
    pub events: u64,
    pub steps: u64,
    pub crashes: u64,
    pub writes_lost: u64,
    /// Restarts whose disk recovery cut off a write torn by the crash.
    pub torn_writes_repaired: u64,
    /// Largest single message, in encoded bytes.
    pub message_bytes_max: u64,
    pub snapshots_taken: u64,
    pub snapshots_installed: u64,
    pub reads_issued: u64,
    pub reads_confirmed: u64,
    pub reads_aborted: u64,
    /// Membership changes a leader accepted (nemesis).
    pub membership_changes_proposed: u64,
}

/// Events pending at once: a storm fails instead of exhausting memory.
const QUEUE_LEN_MAX: usize = 1 << 20;

#[derive(Debug)]
enum Event {
    Tick { slot: usize, incarnation: u32 },
    Deliver(Message),
    DiskDone { slot: usize, incarnation: u32 },
}

pub(crate) struct Slot {
    pub(crate) node: Option<Pipeline>,
    pub(crate) incarnation: u32,
    pub(crate) disk: Disk,
    tick_period_us: u64,
    /// What this node's state machine applied, by index. Kept across a restart without a
    /// snapshot; replaced by the snapshot's contents when one is installed or restored.
    pub(crate) applied: Vec<Entry>,
}

pub type ConfigTweak = Box<dyn Fn(&mut Config)>;

pub struct Cluster {
    pub(crate) cfg: SimConfig,
    now_us: u64,
    pub(crate) rng: ChaCha8Rng,
    queue: EventQueue<Event>,
    pub(crate) slots: Vec<Slot>,
    pub net: Network,
    watch: RaftWatch,
    tweak: Option<ConfigTweak>,
    pub counters: Counters,
    /// The highest index committed anywhere so far: every read issued now must return at
    /// least this (a write acknowledged to anyone is at or below it).
    commit_frontier: u64,
    /// Reads awaiting confirmation, by (slot, id), with the frontier when issued.
    reads_open: BTreeMap<(usize, u64), u64>,
    next_read_id: u64,
    /// Ids of every confirmed read, in confirmation order.
    reads_confirmed_ids: Vec<u64>,
}

impl Cluster {
    pub fn new(cfg: SimConfig) -> Self {
        Self::with_tweak(cfg, None)
    }

    /// Like `new`, with a hook that edits every node's `Config` (tests, bug injection).
    pub fn with_tweak(cfg: SimConfig, tweak: Option<ConfigTweak>) -> Self {
        assert!(cfg.nodes >= 1, "a cluster needs a node");
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let slots = (0..cfg.nodes)
            .map(|_| {
                let drift = cfg.clock_drift_ppm as i64;
                let ppm = if drift > 0 {
                    rng.gen_range(-drift..=drift)
                } else {
                    0
                };
                Slot {
                    node: None,
                    incarnation: 0,
                    disk: Disk::default(),
                    tick_period_us: (cfg.tick_us as i64 * (1_000_000 + ppm) / 1_000_000) as u64,
                    applied: Vec::new(),
                }
            })
            .collect();
        let mut cluster = Cluster {
            net: Network::new(cfg.net.clone()),
            cfg,
            now_us: 0,
            rng,
            queue: EventQueue::new(QUEUE_LEN_MAX),
            slots,
            watch: RaftWatch::default(),
            tweak,
            counters: Counters::default(),
            commit_frontier: 0,
            reads_open: BTreeMap::new(),
            next_read_id: 0,
            reads_confirmed_ids: Vec::new(),
        };
        for slot in 0..cluster.cfg.nodes {
            cluster.start(slot);
        }
        cluster
    }

    /// The highest index committed on any node so far.
    pub fn commit_frontier(&self) -> u64 {
        self.commit_frontier
    }

    pub fn now_us(&self) -> u64 {
        self.now_us
    }

    pub fn n(&self) -> usize {
        self.cfg.nodes
    }

    pub fn seed(&self) -> u64 {
        self.cfg.seed
    }

    /// A digest of every `Ready` produced so far, in order: equal digests mean equal runs.
    pub fn output_digest(&self) -> u64 {
        self.watch.output_digest()
    }

    pub fn node(&self, slot: usize) -> Option<&Node> {
        self.slots[slot].node.as_ref().map(Pipeline::node)
    }

    pub fn is_alive(&self, slot: usize) -> bool {
        self.slots[slot].node.is_some()
    }

    /// Bytes of persisted Raft state (hard state and log) on `slot`'s disk.
    pub fn raft_state_bytes(&self, slot: usize) -> usize {
        self.slots[slot].disk.raft_state_bytes()
    }

    pub fn applied(&self, slot: usize) -> &[Entry] {
        &self.slots[slot].applied
    }

    pub fn id_of(slot: usize) -> NodeId {
        slot as NodeId + 1
    }

    /// The bootstrap voters; a slot outside them starts with an empty configuration.
    fn voters(&self, slot: usize) -> Vec<NodeId> {
        let k = self.cfg.initial_voters.unwrap_or(self.cfg.nodes);
        if slot >= k {
            return Vec::new();
        }
        (0..k).map(Self::id_of).collect()
    }

    /// Starts (or restarts) a node from what its disk holds. Connectivity is unchanged.
    pub fn start(&mut self, slot: usize) {
        assert!(
            self.slots[slot].node.is_none(),
            "start of a running node {slot}"
        );
        let incarnation = self.slots[slot].incarnation;
        let mut cfg = Config::new(Self::id_of(slot), self.voters(slot));
        cfg.seed = self.cfg.seed ^ (u64::from(incarnation) << 32) ^ (slot as u64) << 48;
        if let Some(tweak) = &self.tweak {
            tweak(&mut cfg);
        }
        let torn_before = self.slots[slot].disk.torn_bytes_repaired;
        let restored = self.slots[slot].disk.recover();
        let torn = self.slots[slot].disk.torn_bytes_repaired > torn_before;
        self.counters.torn_writes_repaired += u64::from(torn);
        if let Some(snapshot) = &restored.snapshot {
            self.install_app_snapshot(slot, &snapshot.data);
        }
        let node = match Node::new(cfg, restored) {
            Ok(node) => node,
            Err(e) => self.fail(&format!(
                "node {} cannot restart from its own disk: {e}",
                slot + 1
            )),
        };
        self.watch.on_start(slot, &node);
        let restored_app = self.slots[slot]
            .applied
            .len()
            .min(node.log().applied() as usize);
        let restored_entries = &self.slots[slot].applied[..restored_app];
        if let Err(why) = self.watch.on_install(node.id(), restored_entries) {
            self.fail(&why);
        }
        self.slots[slot].node = Some(Pipeline::new(node));
        let phase = self.rng.gen_range(0..self.slots[slot].tick_period_us);
        self.schedule(phase, Event::Tick { slot, incarnation });
    }

    /// Kills a node: its memory and unsynced writes are gone; its disk stays.
    pub fn kill(&mut self, slot: usize) {
        let s = &mut self.slots[slot];
        if s.node.take().is_none() {
            return;
        }
        s.incarnation += 1;
        self.counters.writes_lost += s.disk.crash() as u64;
        // A crashed node's open reads will never be answered.
        self.reads_open.retain(|&(at, _), _| at != slot);
        self.counters.crashes += 1;
    }

    /// Proposes `data` at `slot`; the error says why it was refused.
    pub fn propose(
        &mut self,
        slot: usize,
        data: Vec<u8>,
    ) -> Result<raft_core::LogPosition, StepError> {
        if !self.is_alive(slot) {
            return Err(StepError::NotLeader { leader: None });
        }
        let proposed = self.step(slot, Input::Propose { data })?;
        Ok(proposed.expect("an accepted proposal has a position"))
    }

    /// Asks `slot` for a linearizable read; its confirmation is checked against every
    /// commit that happened anywhere before now.
    pub fn read(&mut self, slot: usize) -> Result<u64, StepError> {
        if !self.is_alive(slot) {
            return Err(StepError::NotLeader { leader: None });
        }
        self.next_read_id += 1;
        let id = self.next_read_id;
        self.reads_open.insert((slot, id), self.commit_frontier);
        match self.step(slot, Input::Read { id }) {
            Ok(_) => {
                self.counters.reads_issued += 1;
                Ok(id)
            }
            Err(e) => {
                self.reads_open.remove(&(slot, id));
                Err(e)
            }
        }
    }

    /// The id the next read will get: reads issued from now on have ids at least this.
    pub fn next_read_id(&self) -> u64 {
        self.next_read_id + 1
    }

    /// How many reads with an id of at least `first_id` were confirmed.
    pub fn reads_confirmed_from(&self, first_id: u64) -> u64 {
        self.reads_confirmed_ids
            .iter()
            .filter(|&&id| id >= first_id)
            .count() as u64
    }

    /// Checks confirmed reads against the frontier at their issue, closes aborted ones.
    fn check_reads(&mut self, slot: usize, apply: &Apply) {
        for r in &apply.reads {
            let Some(required) = self.reads_open.remove(&(slot, r.id)) else {
                self.fail(&format!(
                    "node {} confirmed unknown read {}",
                    slot + 1,
                    r.id
                ));
            };
            if r.index < required {
                self.fail(&format!(
                    "stale read: node {} confirmed read {} at index {}, but {} was committed before it was issued",
                    slot + 1, r.id, r.index, required
                ));
            }
            self.counters.reads_confirmed += 1;
            self.reads_confirmed_ids.push(r.id);
        }
        for id in &apply.reads_aborted {
            self.reads_open.remove(&(slot, *id));
            self.counters.reads_aborted += 1;
        }
    }

    /// Steps a live node with a local request (transfer, membership...), carrying out
    /// its `Ready`.
    pub(crate) fn step_input(&mut self, slot: usize, input: Input) -> Result<(), StepError> {
        self.step(slot, input).map(|_| ())
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
            Event::Tick { slot, incarnation } if self.slots[slot].incarnation == incarnation => {
                let _ = self.step(slot, Input::Tick);
                let period = self.slots[slot].tick_period_us;
                self.schedule(period, Event::Tick { slot, incarnation });
            }
            Event::Deliver(m) => self.deliver(m),
            Event::DiskDone { slot, incarnation }
                if self.slots[slot].incarnation == incarnation =>
            {
                self.disk_done(slot)
            }
            _ => {} // addressed to a previous incarnation
        }
    }

    fn deliver(&mut self, m: Message) {
        let slot = (m.to - 1) as usize;

        if !self.net.can_deliver(m.from, m.to) || !self.is_alive(slot) {
            self.counters.lost += 1;
            return;
        }
        self.counters.delivered += 1;
        let _ = self.step(slot, Input::Message(m));
    }

    /// Steps a live node and carries out its work; returns an accepted proposal's position.
    pub(crate) fn step(
        &mut self,
        slot: usize,
        input: Input,
    ) -> Result<Option<raft_core::LogPosition>, StepError> {
        let pipeline = self.slots[slot]
            .node
            .as_mut()
            .expect("only live nodes are stepped");
        let work = match self.watch.step(slot, pipeline, input) {
            Ok(work) => work,
            Err(Ok(broken)) => self.fail(&broken),
            Err(Err(refused)) => return Err(refused),
        };
        let proposed = work.proposed;
        self.carry_out(slot, work);
        Ok(proposed)
    }

    /// The effects of the pipeline's work: messages onto the network, writes onto the
    /// disk (each completing after a random latency, in order), applies to the
    /// application.
    fn carry_out(&mut self, slot: usize, work: Work) {
        self.counters.steps = self.watch.steps;
        let node = self.node(slot).expect("stepped node is alive");
        self.commit_frontier = self.commit_frontier.max(node.log().committed());
        for m in work.messages {
            self.transmit(m);
        }
        for write in work.writes {
            if let Some(snapshot) = &write.snapshot {
                self.check_snapshot_membership(slot, snapshot.snapshot());
            }
            let (lo, hi) = self.cfg.disk_latency_us;
            let latency = self.rng.gen_range(lo..=hi);
            let incarnation = self.slots[slot].incarnation;
            let disk = &mut self.slots[slot].disk;
            let done_at_us = disk.next_done_at(self.now_us, latency);
            disk.pending.push_back(PendingWrite { write, done_at_us });
            let delay_us = done_at_us - self.now_us;
            self.schedule(delay_us, Event::DiskDone { slot, incarnation });
        }
        for apply in work.applies {
            self.apply(slot, apply);
        }
    }

    fn disk_done(&mut self, slot: usize) {
        let Some(w) = self.slots[slot].disk.sync_one() else {
            self.fail("disk completion without a pending write");
        };
        let pipeline = self.slots[slot]
            .node
            .as_mut()
            .expect("a live incarnation's write completed");
        match self.watch.persisted(slot, pipeline, w.write.id) {
            Ok(work) => self.carry_out(slot, work),
            Err(broken) => self.fail(&broken),
        }
    }

    /// The simulated application: its state is the list of applied entries.
    fn apply(&mut self, slot: usize, apply: Apply) {
        self.check_reads(slot, &apply);
        let id = Self::id_of(slot);
        if let Some(snapshot) = &apply.install {
            self.counters.snapshots_installed += 1;
            self.install_app_snapshot(slot, &snapshot.data);
            if let Err(why) = self.watch.on_install(id, &self.slots[slot].applied) {
                self.fail(&why);
            }
        }
        if let Err(why) = self.watch.on_apply(id, &apply.committed) {
            self.fail(&why);
        }
        let applied = &mut self.slots[slot].applied;
        for e in apply.committed {
            if e.index as usize > applied.len() {
                applied.push(e);
            }
        }
        self.maybe_take_snapshot(slot);
    }

    /// A snapshot must carry the configuration in force at its index: the last
    /// configuration entry among the entries it holds (the simulated application's state
    /// is exactly those entries).
    fn check_snapshot_membership(&self, slot: usize, snapshot: &raft_core::Snapshot) {
        let Ok(entries) = postcard::from_bytes::<Vec<Entry>>(&snapshot.data) else {
            self.fail(&format!("node {} made an undecodable snapshot", slot + 1));
        };
        let last_conf = entries
            .iter()
            .take(snapshot.meta.index as usize)
            .rev()
            .find(|e| e.kind == raft_core::EntryKind::Membership);
        let in_force = last_conf.map(|e| postcard::from_bytes::<Membership>(&e.data));
        if let Some(Ok(m)) = in_force.filter(|m| m.as_ref() != Ok(&snapshot.meta.membership)) {
            self.fail(&format!(
                "node {} snapshot at {} names {:?}, but {:?} was in force there",
                slot + 1,
                snapshot.meta.index,
                snapshot.meta.membership,
                m
            ));
        }
    }

    /// The application's state is the list of applied entries; a snapshot encodes it.
    fn install_app_snapshot(&mut self, slot: usize, data: &[u8]) {
        match postcard::from_bytes::<Vec<Entry>>(data) {
            Ok(entries) => self.slots[slot].applied = entries,
            Err(e) => self.fail(&format!(
                "node {} got an undecodable snapshot: {e}",
                slot + 1
            )),
        }
    }

    /// The course's service: snapshot each time the applied index reaches (or, applying a
    /// batch, passes) a multiple of the interval.
    fn maybe_take_snapshot(&mut self, slot: usize) {
        let Some(interval) = self.cfg.snapshot_interval else {
            return;
        };
        let index = self.slots[slot].applied.len() as u64;
        let taken = self
            .node(slot)
            .map_or(u64::MAX, |n| n.log().snapshot_position().index);
        if index / interval <= taken / interval {
            return;
        }
        let data = postcard::to_allocvec(&self.slots[slot].applied).expect("entries encode");
        self.counters.snapshots_taken += 1;
        // Refused only if a snapshot from the leader overtook this one: nothing to do.
        if let Err(e) = self.step(slot, Input::Snapshot { index, data }) {
            assert!(
                matches!(e, StepError::SnapshotOutOfRange { .. }),
                "unexpected refusal: {e}"
            );
        }
    }

    fn transmit(&mut self, m: Message) {
        let bytes = postcard::experimental::serialized_size(&m).expect("message encodes") as u64;
        self.counters.message_bytes_max = self.counters.message_bytes_max.max(bytes);
        if m.is_request() {
            self.counters.requests += 1;
            self.counters.request_bytes += bytes;
        } else {
            self.counters.responses += 1;
            self.counters.response_bytes += bytes;
        }
        let delays = self.net.plan(&m, &mut self.rng);
        if delays.is_empty() {
            self.counters.lost += 1;
        }
        // Only duplicates pay for a clone; the last copy takes the message itself.
        if let Some((&last, extra)) = delays.split_last() {
            for &delay in extra {
                self.schedule(delay, Event::Deliver(m.clone()));
            }
            self.schedule(last, Event::Deliver(m));
        }
    }

    fn schedule(&mut self, delay_us: u64, event: Event) {
        self.queue.push(self.now_us + delay_us, event);
    }

    pub(crate) fn fail(&self, what: &str) -> ! {
        panic!(
            "{what} (seed {}, t = {} ms)\n{}",
            self.cfg.seed,
            self.now_us / MS,
            self.describe()
        )
    }

    /// One line per node: liveness, connectivity, role, term, log and commit positions.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (i, slot) in self.slots.iter().enumerate() {
            let id = Self::id_of(i);
            let link = if self.net.is_connected(id) {
                "connected"
            } else {
                "disconnected"
            };
            let state = match slot.node.as_ref().map(Pipeline::node) {
                None => "down".to_string(),
                Some(n) => format!(
                    "{:?} term {} leader {:?} last {} (term {}) commit {} persisted {} pending writes {} voters {:?} outgoing {:?} learners {:?}",
                    n.role(),
                    n.term(),
                    n.leader(),
                    n.log().last_index(),
                    n.log().last_term(),
                    n.log().committed(),
                    n.log().persisted(),
                    slot.disk.pending.len(),
                    n.membership().voters,
                    n.membership().voters_outgoing,
                    n.membership().learners
                ),
            };
            out += &format!("  node {id}: {link}, {state}\n");
        }
        out
    }

    pub fn committed_count(&self) -> usize {
        self.watch.checker.committed_count()
    }
}
