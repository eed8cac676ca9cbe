//! The simulated Raft cluster: bare `raft_core::Pipeline`s in the slots of a `sim-kit`
//! [`World`], a simulated application per node (`app.rs`), and the read check
//! (`read_check.rs`). The kit runs the event loop, disks, network and watch; this file
//! says what a tick, a message and a durable write do to a node, and carries out the
//! pipeline's work.

use std::collections::BTreeMap;
use std::convert::Infallible;

use raft_core::{Config, Entry, Input, Message, Node, NodeId, Pipeline, StepError, Work, WriteId};
use sim_kit::watch::RaftWatch;
use sim_kit::{NetConfig, Sim, World, WorldConfig};
use trace::machine::{Boot, RaftInput, RaftMachine};
use trace::sim::{Messages, SimRecording};

mod app;
mod read_check;

/// Everything that defines a simulated run besides the test's own script.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub world: WorldConfig,
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
            world: WorldConfig::new(nodes, seed, net),
            snapshot_interval: None,
            initial_voters: None,
        }
    }
}

/// Raft traffic and activity counters (the world counts events, deliveries, losses and
/// crashes: see [`World::counters`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub requests: u64,
    pub request_bytes: u64,
    pub responses: u64,
    pub response_bytes: u64,
    pub steps: u64,
    /// Largest single message, in encoded bytes.
    pub message_bytes_max: u64,
    pub snapshots_taken: u64,
    /// Snapshots a leader asked for because a follower needed one (`snapshot_wanted`).
    pub snapshots_wanted: u64,
    pub snapshots_installed: u64,
    pub reads_issued: u64,
    pub reads_confirmed: u64,
    pub reads_aborted: u64,
    /// Membership changes a leader accepted (nemesis).
    pub membership_changes_proposed: u64,
}

pub type ConfigTweak = Box<dyn Fn(&mut Config)>;

pub struct Cluster {
    pub(crate) world: World<Pipeline, Infallible>,
    snapshot_interval: Option<u64>,
    initial_voters: Option<usize>,
    tweak: Option<ConfigTweak>,
    /// What each node's state machine applied, by index. Kept across a restart without a
    /// snapshot; replaced by the snapshot's contents when one is installed or restored.
    applied: Vec<Vec<Entry>>,
    pub counters: Counters,
    /// The highest index committed anywhere so far: every read issued now must return at
    /// least this (a write acknowledged to anyone is at or below it).
    commit_frontier: u64,
    /// Reads awaiting confirmation, by (slot, id), with the frontier when issued.
    reads_open: BTreeMap<(usize, u64), u64>,
    next_read_id: u64,
    /// Ids of every confirmed read, in confirmation order.
    reads_confirmed_ids: Vec<u64>,
    /// The run as a replayable trace, when asked (`sim_kit::seeds::trace_request`).
    recording: Option<Recording>,
}

type Recording = SimRecording<RaftInput, Result<Work, String>>;

impl Cluster {
    pub fn new(cfg: SimConfig) -> Self {
        Self::with_tweak(cfg, None)
    }

    /// Like `new`, with a hook that edits every node's `Config` (tests, bug injection).
    pub fn with_tweak(cfg: SimConfig, tweak: Option<ConfigTweak>) -> Self {
        let n = cfg.world.nodes;
        let recording = sim_kit::seeds::trace_request().map(|dir| {
            let dir = dir.join(format!("seed{}", cfg.world.seed));
            SimRecording::new(dir, n, Messages::of::<RaftMachine>(), sim_kit::id_of)
        });
        let mut cluster = Cluster {
            recording,
            world: World::new(cfg.world, RaftWatch::default()),
            snapshot_interval: cfg.snapshot_interval,
            initial_voters: cfg.initial_voters,
            tweak,
            applied: vec![Vec::new(); n],
            counters: Counters::default(),
            commit_frontier: 0,
            reads_open: BTreeMap::new(),
            next_read_id: 0,
            reads_confirmed_ids: Vec::new(),
        };
        for slot in 0..n {
            cluster.start(slot);
        }
        cluster
    }

    /// The highest index committed on any node so far.
    pub fn commit_frontier(&self) -> u64 {
        self.commit_frontier
    }

    pub fn node(&self, slot: usize) -> Option<&Node> {
        self.world.node(slot).map(Pipeline::node)
    }

    /// Bytes of persisted Raft state (hard state and log) on `slot`'s disk.
    pub fn raft_state_bytes(&self, slot: usize) -> usize {
        self.world.disk(slot).raft_state_bytes()
    }

    pub fn applied(&self, slot: usize) -> &[Entry] {
        &self.applied[slot]
    }

    pub fn id_of(slot: usize) -> NodeId {
        sim_kit::id_of(slot)
    }

    pub fn committed_count(&self) -> usize {
        self.world.watch.checker.committed_count()
    }

    /// The bootstrap voters; a slot outside them starts with an empty configuration.
    fn voters(&self, slot: usize) -> Vec<NodeId> {
        let k = self.initial_voters.unwrap_or(self.n());
        if slot >= k {
            return Vec::new();
        }
        (0..k).map(Self::id_of).collect()
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

    /// Steps a live node with a local request (transfer, membership...), carrying out
    /// its `Ready`.
    pub(crate) fn step_input(&mut self, slot: usize, input: Input) -> Result<(), StepError> {
        self.step(slot, input).map(|_| ())
    }

    /// Steps a live node and carries out its work; returns an accepted proposal's
    /// position. The ticks the node is owed go first (see `sim_kit::World::owed_ticks`).
    pub(crate) fn step(
        &mut self,
        slot: usize,
        input: Input,
    ) -> Result<Option<raft_core::LogPosition>, StepError> {
        self.hand_in_owed_ticks(slot);
        self.step_now(slot, input)
    }

    /// The node's clock ticked while it slept: hand it those ticks, as a driver that
    /// wakes a node only when it is due would.
    fn hand_in_owed_ticks(&mut self, slot: usize) {
        while let Some(ticks) = self.world.owed_ticks_input(slot) {
            if let Err(e) = self.step_now(slot, ticks) {
                self.fail(&format!("node {} refused its ticks: {e}", slot + 1));
            }
        }
    }

    fn step_now(
        &mut self,
        slot: usize,
        input: Input,
    ) -> Result<Option<raft_core::LogPosition>, StepError> {
        let kept = self
            .recording
            .as_mut()
            .and_then(|r| r.before(slot, &RaftInput::Step(input.clone())));
        let stepped = self.world.step_pipeline(slot, input);
        if let (Some(r), Some(kept)) = (self.recording.as_mut(), kept) {
            let out = stepped.clone().map_err(|e| e.to_string());
            r.record(slot, self.world.now_us(), kept, &out);
        }
        let work = stepped?;
        let proposed = work.proposed;
        self.carry_out(slot, work);
        Ok(proposed)
    }

    /// The effects of the pipeline's work: messages onto the network, writes onto the
    /// disk (each completing after a random latency, in order), applies to the
    /// application.
    fn carry_out(&mut self, slot: usize, work: Work) {
        self.counters.steps = self.world.watch.steps;
        let node = self.node(slot).expect("stepped node is alive");
        self.commit_frontier = self.commit_frontier.max(node.log().committed());
        for m in work.messages {
            self.transmit(m);
        }
        for write in work.writes {
            if let Some(snapshot) = &write.snapshot {
                self.check_snapshot_membership(slot, snapshot.snapshot());
            }
            self.world.write(slot, write);
        }
        for apply in work.applies {
            self.apply(slot, apply);
        }
        self.answer_snapshot_wanted(slot);
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
        self.world.send(m);
    }
}

/// What the kit's event loop asks of a Raft cluster.
impl Sim for Cluster {
    sim_kit::sim_world!(world: Pipeline, Infallible);

    fn start(&mut self, slot: usize) {
        let voters = self.voters(slot);
        let tweak = &self.tweak;
        let applied = &mut self.applied[slot];
        let recording = self.recording.is_some();
        let mut booted = None;
        self.world.start(slot, |boot| {
            let mut cfg = Config::new(boot.id, voters);
            cfg.seed = boot.seed;
            if let Some(tweak) = tweak {
                tweak(&mut cfg);
            }
            if recording {
                booted = Some(Boot {
                    config: cfg.clone(),
                    restored: boot.restored.clone(),
                });
            }
            if let Some(snapshot) = &boot.restored.snapshot {
                *applied = app::decode(slot, &snapshot.data)?;
            }
            let node = Node::new(cfg, boot.restored)
                .map_err(|e| format!("node {} cannot restart from its own disk: {e}", slot + 1))?;
            Ok(Pipeline::new(node))
        });
        if let (Some(r), Some(boot)) = (self.recording.as_mut(), booted) {
            let note = format!("raft-sim node {}", boot.config.id);
            r.start_node::<RaftMachine>(slot, &boot, self.world.now_us(), note);
        }
        // The application restarts with what it applied up to the node's applied index.
        let node = self.node(slot).expect("just started");
        let restored = self.applied[slot].len().min(node.log().applied() as usize);
        let (id, entries) = (node.id(), &self.applied[slot][..restored]);
        if let Err(why) = self.world.watch.on_install(id, entries) {
            self.fail(&why);
        }
    }

    fn on_tick(&mut self, slot: usize, count: u32) {
        let ticks = match count {
            1 => Input::Tick,
            count => Input::Ticks { count },
        };
        let _ = self.step(slot, ticks);
    }

    fn on_message(&mut self, slot: usize, message: Message) {
        let _ = self.step(slot, Input::Message(message));
    }

    fn on_persisted(&mut self, slot: usize, id: WriteId) {
        self.hand_in_owed_ticks(slot);
        let kept = self
            .recording
            .as_mut()
            .and_then(|r| r.before(slot, &RaftInput::Persisted(id)));
        let work = self.world.persist_pipeline(slot, id);
        if let (Some(r), Some(kept)) = (self.recording.as_mut(), kept) {
            r.record(slot, self.world.now_us(), kept, &Ok(work.clone()));
        }
        self.carry_out(slot, work);
    }

    fn on_event(&mut self, event: Infallible) {
        match event {}
    }

    fn on_kill(&mut self, slot: usize) {
        // A crashed node's open reads will never be answered.
        self.reads_open.retain(|&(at, _), _| at != slot);
    }
}

/// A recording cluster writes its trace when it goes, also while a failed run unwinds.
impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(r) = self.recording.as_mut() {
            if let Err(e) = r.write() {
                eprintln!("cannot write the trace to {}: {e}", r.dir.display());
            }
        }
    }
}
