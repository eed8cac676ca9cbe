//! The world of one `raft_cluster` run: pipelines, their disks, the network, the watch.

use std::collections::{BTreeMap, VecDeque};

use raft_core::{Config, Index, Input, Message, Node, NodeId, Pipeline, RestoredState};
use raft_core::{ReadState, Role, Work, Write};
use sim_kit::watch::RaftWatch;

use super::{Action, Setup, PENDING_MAX, TICKS_PER_ACTION_MAX};

/// One node: the running pipeline and its disk, split into what is durable and the
/// writes handed out but not yet durable (lost on a crash).
struct Peer {
    pipeline: Pipeline,
    durable: RestoredState,
    unsynced: VecDeque<Write>,
}

pub struct Cluster {
    setup: Setup,
    /// Nodes, all voters from the start.
    n: usize,
    peers: Vec<Peer>,
    net: Vec<Message>,
    watch: RaftWatch,
    /// For each read issued: the highest index any node knew committed when it was
    /// issued. A confirmed read below that would miss a write that finished before it.
    reads: BTreeMap<u64, Index>,
    next_read: u64,
    next_proposal: u32,
    summary: Summary,
}

/// What a run reached.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub nodes: usize,
    /// The highest commit index any node reached.
    pub committed: Index,
    pub leaders_elected: u64,
    pub reads_confirmed: u64,
    pub crashes: u64,
}

impl Cluster {
    pub fn new(setup: Setup) -> Self {
        let n = 3 + usize::from(setup.nodes % 3);
        let mut cluster = Cluster {
            setup,
            n,
            peers: Vec::with_capacity(n),
            net: Vec::new(),
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
                durable: RestoredState::default(),
                unsynced: VecDeque::new(),
            });
        }
        cluster
    }

    fn config(&self, slot: usize) -> Config {
        let voters = (1..=self.n as NodeId).collect();
        let mut config = Config::new(id_of(slot), voters);
        config.election_ticks = 10;
        config.heartbeat_ticks = 2;
        config.pre_vote = self.setup.pre_vote;
        config.check_quorum = self.setup.check_quorum;
        config.seed = self.setup.seed;
        #[cfg(feature = "bug-injection")]
        {
            config.bug = super::planted_bug();
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
            Action::Drop(i) => {
                if let Some(i) = self.pick(i) {
                    self.net.swap_remove(i);
                }
            }
            Action::Duplicate(i) => {
                if let Some(i) = self.pick(i) {
                    let copy = self.net[i].clone();
                    self.send(copy);
                }
            }
            Action::Tick { node: k, times } => {
                for _ in 0..=times % TICKS_PER_ACTION_MAX {
                    self.step(node(k), Input::Tick);
                }
            }
            Action::Crash(k) => self.crash(node(k)),
            Action::Propose(k) => self.propose(node(k)),
            Action::Read(k) => self.read(node(k)),
            Action::Campaign(k) => self.step(node(k), Input::Campaign),
            Action::TransferLeadership { node: k, to } => {
                let to = id_of(node(to));
                self.step(node(k), Input::TransferLeadership { to });
            }
            Action::Persist(k) => self.persist(node(k)),
            Action::PersistAll(k) => {
                while !self.peers[node(k)].unsynced.is_empty() {
                    self.persist(node(k));
                }
            }
            Action::DeliverAll => {
                for _ in 0..self.net.len() {
                    self.deliver(0);
                }
            }
        }
    }

    pub fn summary(&self) -> Summary {
        self.summary
    }

    fn pick(&self, i: u8) -> Option<usize> {
        (!self.net.is_empty()).then(|| usize::from(i) % self.net.len())
    }

    fn deliver(&mut self, i: u8) {
        let Some(i) = self.pick(i) else { return };
        let message = self.net.remove(i);
        // Only nodes of the cluster are ever addressed, but a hostile id must not panic
        // the harness instead of the node.
        if let Some(slot) = slot_of(message.to, self.peers.len()) {
            self.step(slot, Input::Message(message));
        }
    }

    fn send(&mut self, message: Message) {
        if self.net.len() < PENDING_MAX {
            self.net.push(message);
        }
    }

    /// Steps the node at `slot` under the watch. A refused input (a proposal to a
    /// follower) is an ordinary outcome; a broken invariant is the finding.
    fn step(&mut self, slot: usize, input: Input) {
        let pipeline = &mut self.peers[slot].pipeline;
        let was_leader = pipeline.node().role() == Role::Leader;
        match self.watch.step(slot, pipeline, input) {
            Ok(work) => {
                let node = self.peers[slot].pipeline.node();
                if !was_leader && node.role() == Role::Leader {
                    self.summary.leaders_elected += 1;
                }
                self.carry_out(slot, work);
            }
            Err(Ok(broken)) => panic!("node {}: {broken}", id_of(slot)),
            Err(Err(_refused)) => {}
        }
    }

    fn persist(&mut self, slot: usize) {
        let peer = &mut self.peers[slot];
        let Some(write) = peer.unsynced.pop_front() else {
            return;
        };
        write.apply_to(&mut peer.durable);
        match self.watch.persisted(slot, &mut peer.pipeline, write.id) {
            Ok(work) => self.carry_out(slot, work),
            Err(broken) => panic!("node {}: {broken}", id_of(slot)),
        }
    }

    /// Power loss: the writes not yet durable are gone with the process, and what was
    /// waiting for them (acknowledgements, applies) with it.
    fn crash(&mut self, slot: usize) {
        let disk = self.peers[slot].durable.clone();
        let node = self.start(slot, disk);
        let peer = &mut self.peers[slot];
        peer.unsynced.clear();
        peer.pipeline = Pipeline::new(node);
        self.summary.crashes += 1;
    }

    fn propose(&mut self, slot: usize) {
        self.next_proposal += 1;
        let data = self.next_proposal.to_le_bytes().to_vec();
        self.step(slot, Input::Propose { data });
    }

    fn read(&mut self, slot: usize) {
        let id = self.next_read;
        self.next_read += 1;
        self.reads.insert(id, self.committed_anywhere());
        self.step(slot, Input::Read { id });
    }

    fn committed_anywhere(&self) -> Index {
        let commits = self
            .peers
            .iter()
            .map(|p| p.pipeline.node().log().committed());
        commits.max().unwrap_or(0)
    }

    fn carry_out(&mut self, slot: usize, work: Work) {
        for message in work.messages {
            self.send(message);
        }
        self.peers[slot].unsynced.extend(work.writes);
        for apply in &work.applies {
            for read in &apply.reads {
                self.check_read(slot, read);
                self.summary.reads_confirmed += 1;
            }
        }
        let committed = self.peers[slot].pipeline.node().log().committed();
        self.summary.committed = self.summary.committed.max(committed);
    }

    fn check_read(&self, slot: usize, read: &ReadState) {
        let floor = self.reads.get(&read.id).copied();
        let floor = floor.unwrap_or_else(|| {
            panic!(
                "node {} confirmed read {} never issued",
                id_of(slot),
                read.id
            )
        });
        assert!(
            read.index >= floor,
            "read freshness: node {} confirmed read {} at index {} but {} had committed when it was issued",
            id_of(slot),
            read.id,
            read.index,
            floor
        );
    }
}

fn id_of(slot: usize) -> NodeId {
    slot as NodeId + 1
}

fn slot_of(id: NodeId, n: usize) -> Option<usize> {
    let slot = usize::try_from(id.checked_sub(1)?).ok()?;
    (slot < n).then_some(slot)
}
