//! The world of one `raft_cluster` run: pipelines, their disks, the network, the watch.
//! What the application does (propose, read, snapshot, change membership) and how a
//! step's work is carried out is in `app.rs`.

use std::collections::BTreeMap;

use raft_core::{Config, Index, Input, Message, Node, NodeId, Pipeline, ReadMode};
use raft_core::{RestoredState, Role};
use sim_kit::disk::Disk;
use sim_kit::watch::RaftWatch;

use super::summary::{input_kind, role_index, PERSISTED_KIND};
use super::{Action, Setup, Summary, SETTLE_ROUNDS_MAX, SLEEP_SELECTOR_MIN, TICKS_PER_ACTION_MAX};
use crate::net::Network;

mod app;

/// Snapshot chunks are this small, and an application's snapshot a few chunks long.
const SNAPSHOT_CHUNK_BYTES: usize = 16;

/// One node: the running pipeline and its disk (the simulator's: what is durable, the
/// writes handed out but not yet durable, lost on a crash, and a record log whose torn
/// tail recovery must cut off).
struct Peer {
    pipeline: Pipeline,
    disk: Disk,
}

pub struct Cluster {
    setup: Setup,
    /// Slots; the first `voters` are the bootstrap voters, the rest join later (or not).
    n: usize,
    voters: usize,
    peers: Vec<Peer>,
    net: Network<Message>,
    watch: RaftWatch,
    /// For each read issued: the highest index any node knew committed when it was
    /// issued. A confirmed read below that would miss a write that finished before it.
    reads: BTreeMap<u64, Index>,
    next_read: u64,
    next_proposal: u32,
    summary: Summary,
}

impl Cluster {
    pub fn new(setup: Setup) -> Self {
        let n = 3 + usize::from(setup.nodes % 3);
        let voters = n - usize::from(setup.joiners) % (n - 2);
        assert!((3..=n).contains(&voters));
        let mut cluster = Cluster {
            setup,
            n,
            voters,
            peers: Vec::with_capacity(n),
            net: Network::new(),
            // Applies are checked as each Ready hands them out: this harness has no
            // application of its own to report them.
            watch: RaftWatch::for_service(),
            reads: BTreeMap::new(),
            next_read: 1,
            next_proposal: 0,
            summary: Summary {
                nodes: n,
                ..Summary::default()
            },
        };
        for slot in 0..n {
            let node = cluster.start(slot, RestoredState::default());
            cluster.peers.push(Peer {
                pipeline: Pipeline::new(node),
                disk: Disk::default(),
            });
        }
        cluster
    }

    fn config(&self, slot: usize) -> Config {
        let voters = if slot < self.voters {
            (1..=self.voters as NodeId).collect()
        } else {
            Vec::new()
        };
        let mut config = Config::new(id_of(slot), voters);
        config.election_ticks = 10;
        config.heartbeat_ticks = 2;
        config.pre_vote = self.setup.pre_vote;
        config.check_quorum = self.setup.check_quorum;
        // Leases rest on check-quorum (the config refuses one without the other).
        if self.setup.lease_reads && self.setup.check_quorum {
            config.read_mode = ReadMode::Lease;
        }
        // Small limits, so short schedules reach flow control, appends split across
        // messages and snapshots sent in several chunks.
        config.inflight_msgs_max = 4;
        config.append_bytes_max = 64;
        config.snapshot_chunk_bytes = SNAPSHOT_CHUNK_BYTES;
        config.seed = self.setup.seed;
        #[cfg(feature = "bug-injection")]
        {
            config.bug = crate::planted_bug();
        }
        config
    }

    /// A node at `slot` (re)starting from `disk`; refusing its own durable state is a
    /// finding too.
    fn start(&mut self, slot: usize, disk: RestoredState) -> Node {
        let node = Node::new(self.config(slot), disk)
            .unwrap_or_else(|e| panic!("node {} refuses its own disk: {e}", id_of(slot)));
        self.watch.on_start(slot, &node);
        node
    }

    pub fn act(&mut self, action: Action) {
        let n = self.n;
        let node = |k: u8| usize::from(k) % n;
        match action {
            Action::Deliver(i) => self.deliver(i),
            Action::Drop(i) => self.net.lose(i),
            Action::Duplicate(i) => self.net.duplicate(i),
            Action::Tick { node: k, times } if times >= SLEEP_SELECTOR_MIN => {
                // As a driver that sleeps until the node is due hands in its ticks.
                let slot = node(k);
                let count = self.peers[slot].pipeline.node().ticks_until_due();
                self.step(slot, Input::Ticks { count });
            }
            Action::Tick { node: k, times } => {
                for _ in 0..=times % TICKS_PER_ACTION_MAX {
                    self.step(node(k), Input::Tick);
                }
            }
            Action::TickAll(times) => {
                for _ in 0..=times % TICKS_PER_ACTION_MAX {
                    (0..n).for_each(|slot| self.step(slot, Input::Tick));
                }
            }
            Action::Crash(k) => self.crash(node(k)),
            Action::Campaign(k) => self.step(node(k), Input::Campaign),
            Action::TransferLeadership { node: k, to } => {
                let to = id_of(node(to));
                self.step(node(k), Input::TransferLeadership { to });
            }
            Action::Persist(k) => self.persist(node(k)),
            Action::PersistAll(k) => self.persist_all(node(k)),
            Action::DeliverAll => self.deliver_all(),
            Action::Settle(rounds) => {
                for _ in 0..=rounds % SETTLE_ROUNDS_MAX {
                    for slot in 0..n {
                        self.persist_all(slot);
                    }
                    self.deliver_all();
                }
            }
            Action::Partition(mask) => self.net.partition(u64::from(mask)),
            Action::Heal => self.net.partition(0),
            other => self.act_app(other),
        }
    }

    pub fn summary(&self) -> Summary {
        Summary {
            partitioned: self.net.partitioned,
            ..self.summary
        }
    }

    /// One line per node (role, term, log, membership) and the messages in flight: for
    /// reading a finding action by action.
    pub fn status(&self) -> String {
        let mut out = String::new();
        for (slot, peer) in self.peers.iter().enumerate() {
            let node = peer.pipeline.node();
            let log = node.log();
            out += &format!(
                "  node {}: {:?} term {} last {} commit {} applied {} unsynced {} {:?}\n",
                id_of(slot),
                node.role(),
                node.term(),
                log.last_index(),
                log.committed(),
                log.applied(),
                peer.disk.pending.len(),
                node.membership(),
            );
        }
        out + &format!("  in flight: {}\n", self.net.len())
    }

    /// Delivers the messages in flight now (not the ones they cause).
    fn deliver_all(&mut self) {
        for _ in 0..self.net.len() {
            self.deliver(0);
        }
    }

    fn deliver(&mut self, i: u8) {
        let Some(message) = self.net.take(i) else {
            return;
        };
        // Only nodes of the cluster are ever addressed, but a hostile id must not panic
        // the harness instead of the node.
        let (Some(from), Some(to)) = (slot_of(message.from, self.n), slot_of(message.to, self.n))
        else {
            return;
        };
        if !self.net.cut_off(from, to) {
            self.step(to, Input::Message(message));
        }
    }

    /// Steps the node at `slot` under the watch. A refused input (a proposal to a
    /// follower) is an ordinary outcome; a broken invariant is the finding.
    fn step(&mut self, slot: usize, input: Input) {
        let pipeline = &mut self.peers[slot].pipeline;
        let was = pipeline.node().role();
        let kind = input_kind(&input);
        match self.watch.step(slot, pipeline, input) {
            Ok(work) => {
                self.summary.inputs_accepted |= 1 << kind;
                self.role_changed(was, self.peers[slot].pipeline.node().role());
                self.carry_out(slot, work);
            }
            Err(Ok(broken)) => panic!("node {}: {broken}", id_of(slot)),
            Err(Err(_refused)) => {}
        }
    }

    fn role_changed(&mut self, was: Role, now: Role) {
        if was != now {
            self.summary.role_changes |= 1 << (4 * role_index(was) + role_index(now));
        }
        if was != Role::Leader && now == Role::Leader {
            self.summary.leaders_elected += 1;
        }
    }

    fn persist(&mut self, slot: usize) {
        let peer = &mut self.peers[slot];
        let Some(done) = peer.disk.sync_one() else {
            return;
        };
        let was = peer.pipeline.node().role();
        match self
            .watch
            .persisted(slot, &mut peer.pipeline, done.write.id)
        {
            Ok(work) => {
                self.summary.inputs_accepted |= 1 << PERSISTED_KIND;
                self.role_changed(was, self.peers[slot].pipeline.node().role());
                self.carry_out(slot, work);
            }
            Err(broken) => panic!("node {}: {broken}", id_of(slot)),
        }
    }

    fn persist_all(&mut self, slot: usize) {
        while !self.peers[slot].disk.pending.is_empty() {
            self.persist(slot);
        }
    }

    /// Power loss: the writes not yet durable are gone with the process, and what was
    /// waiting for them (acknowledgements, applies) with it.
    fn crash(&mut self, slot: usize) {
        let disk = &mut self.peers[slot].disk;
        disk.crash();
        let state = disk.recover();
        let node = self.start(slot, state);
        self.peers[slot].pipeline = Pipeline::new(node);
        self.summary.crashes += 1;
    }
}

fn id_of(slot: usize) -> NodeId {
    slot as NodeId + 1
}

fn slot_of(id: NodeId, n: usize) -> Option<usize> {
    let slot = usize::try_from(id.checked_sub(1)?).ok()?;
    (slot < n).then_some(slot)
}
