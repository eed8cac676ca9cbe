//! The scripted network shared by the interaction tests.

#![allow(dead_code)] // each test binary uses its own subset

use raft_core::{
    Config, Input, LogPosition, Message, Node, Pipeline, ReadState, RestoredState, Role, StepError,
    Work,
};

/// A tiny synchronous network: persistence is instant, messages queue until delivered.
pub struct Net {
    pub nodes: Vec<Pipeline>,
    /// What each node's writes add up to.
    pub disks: Vec<RestoredState>,
    pub queue: Vec<Message>,
    /// Confirmed reads and installed snapshots, by node.
    pub reads: Vec<(u64, ReadState)>,
    pub reads_aborted: Vec<(u64, u64)>,
    pub installs: Vec<(u64, LogPosition)>,
    /// How many times a leader wanted its snapshot's bytes and was handed them.
    pub snapshots_handed_back: u64,
}

impl Net {
    pub fn new(n: u64) -> Self {
        Self::with(n, |_| {})
    }

    pub fn with(n: u64, tweak: impl Fn(&mut Config)) -> Self {
        Self::joining(n, n, tweak)
    }

    /// `total` nodes of which the first `voters` are the bootstrap configuration; the
    /// others start empty, waiting to be added.
    pub fn joining(voters: u64, total: u64, tweak: impl Fn(&mut Config)) -> Self {
        let bootstrap: Vec<u64> = (1..=voters).collect();
        let nodes = (1..=total)
            .map(|id| {
                let initial = if id <= voters {
                    bootstrap.clone()
                } else {
                    Vec::new()
                };
                let mut cfg = Config {
                    seed: 7,
                    ..Config::new(id, initial)
                };
                tweak(&mut cfg);
                Pipeline::new(Node::new(cfg, RestoredState::default()).unwrap())
            })
            .collect();
        Net {
            nodes,
            disks: vec![RestoredState::default(); total as usize],
            queue: Vec::new(),
            reads: Vec::new(),
            reads_aborted: Vec::new(),
            installs: Vec::new(),
            snapshots_handed_back: 0,
        }
    }

    pub fn node(&self, id: u64) -> &Node {
        self.nodes[(id - 1) as usize].node()
    }

    /// Steps a node and carries its work out at once (every write durable on the spot,
    /// messages queued).
    pub fn step(&mut self, id: u64, input: Input) -> Result<(), StepError> {
        self.step_work(id, input).map(drop)
    }

    /// [`Net::step`], returning all the work carried out, for tests that look at it.
    pub fn step_work(&mut self, id: u64, input: Input) -> Result<Work, StepError> {
        let slot = (id - 1) as usize;
        let mut work = self.nodes[slot].step(input)?;
        let mut done = 0;
        while let Some(write) = work.writes.get(done) {
            write.apply_to(&mut self.disks[slot]);
            let id = write.id;
            done += 1;
            work.extend(self.nodes[slot].persisted(id));
        }
        self.queue.extend(work.messages.iter().cloned());
        for apply in &work.applies {
            self.reads.extend(apply.reads.iter().map(|r| (id, *r)));
            self.reads_aborted
                .extend(apply.reads_aborted.iter().map(|&r| (id, r)));
            if let Some(s) = &apply.install {
                self.installs.push((id, s.meta.position()));
            }
        }
        self.answer_snapshot_wanted(id);
        Ok(work)
    }

    /// The nodes here have no state machine, so a leader that wants its snapshot's bytes
    /// back (`Node::snapshot_wanted`) is handed the ones on its disk.
    fn answer_snapshot_wanted(&mut self, id: u64) {
        let slot = (id - 1) as usize;
        if !self.node(id).snapshot_wanted() {
            return;
        }
        let stored = self.disks[slot].snapshot.clone();
        let stored = stored.expect("a snapshot is wanted only after one was stored");
        let input = Input::Snapshot {
            index: stored.meta.index,
            data: stored.data,
        };
        self.snapshots_handed_back += 1;
        self.step(id, input)
            .expect("the stored snapshot is handed back");
        assert!(
            !self.node(id).snapshot_wanted(),
            "handing it in answers the wish"
        );
    }

    /// Delivers queued messages until quiet, dropping those `keep` rejects.
    pub fn deliver(&mut self, mut keep: impl FnMut(&Message) -> bool) {
        for _ in 0..10_000 {
            if self.queue.is_empty() {
                return;
            }
            let m = self.queue.remove(0);
            if keep(&m) {
                let to = m.to;
                self.step(to, Input::Message(m)).unwrap();
            }
        }
        panic!("message storm");
    }

    /// Removes and returns the queued messages `pick` selects (to hold, reorder or drop).
    pub fn take(&mut self, mut pick: impl FnMut(&Message) -> bool) -> Vec<Message> {
        let (taken, kept) = std::mem::take(&mut self.queue)
            .into_iter()
            .partition(|m| pick(m));
        self.queue = kept;
        taken
    }

    /// Delivers one message now, whatever is queued.
    pub fn inject(&mut self, m: Message) {
        let to = m.to;
        self.step(to, Input::Message(m)).unwrap();
    }

    pub fn tick(&mut self, id: u64, ticks: u32) {
        for _ in 0..ticks {
            self.step(id, Input::Tick).unwrap();
        }
    }

    /// Ticks enough for any randomized election timeout to expire.
    pub fn timeout(&mut self, id: u64) {
        let ticks = 2 * self.node(id).config().election_ticks;
        self.tick(id, ticks);
    }

    /// Every node's clock runs (a booting node in lease mode refuses votes for an
    /// election timeout, so ticking one is not enough) until some node leads; returns it.
    pub fn elect_any(&mut self) -> u64 {
        let ids: Vec<u64> = (1..=self.nodes.len() as u64).collect();
        for _ in 0..1_000 {
            ids.iter().for_each(|&id| self.tick(id, 1));
            self.deliver(|_| true);
            if let Some(&l) = ids.iter().find(|&&id| self.node(id).role() == Role::Leader) {
                return l;
            }
        }
        panic!("no leader after 1000 ticks of every clock");
    }

    /// Node `id` times out and wins.
    pub fn elect(&mut self, id: u64) {
        self.timeout(id);
        self.deliver(|_| true);
        assert_eq!(self.node(id).role(), Role::Leader);
    }
}
