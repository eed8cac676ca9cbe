//! The scripted harness: three servers of any state machine, a hand-driven network and
//! instant storage. A test reads as a scenario: who is cut off, who ticks, what arrives.

// Each test binary drives the harness through a different subset of it.
#![allow(dead_code)]

use std::collections::{BTreeSet, VecDeque};

use kv_core::service::{Reply, Request, Server, ServerConfig, ServerInput, StateMachine};
use raft_core::{Config, Message, NodeId, RestoredState, Role};

/// One server step as data: its input and what it returned, postcard-encoded.
pub struct Recorded {
    pub node: NodeId,
    pub input: Vec<u8>,
    pub ready: Vec<u8>,
}

pub struct Net<S: StateMachine> {
    pub servers: Vec<Server<S>>,
    pub disks: Vec<RestoredState>,
    pub queue: VecDeque<Message>,
    pub cut: BTreeSet<NodeId>,
    pub replies: Vec<(NodeId, Reply<S::Output>)>,
    /// Every step of every server, in order: a run replays from this alone.
    pub trace: Vec<Recorded>,
    tweak: fn(&mut ServerConfig),
}

pub fn config(id: NodeId, tweak: fn(&mut ServerConfig)) -> ServerConfig {
    let mut cfg = ServerConfig::new(Config::new(id, vec![1, 2, 3]));
    cfg.raft.seed = id;
    tweak(&mut cfg);
    cfg
}

impl<S: StateMachine> Net<S> {
    pub fn new(tweak: fn(&mut ServerConfig)) -> Self {
        let servers = (1..=3)
            .map(|id| Server::new(config(id, tweak), RestoredState::default()).unwrap())
            .collect();
        Net {
            servers,
            disks: vec![RestoredState::default(); 3],
            queue: VecDeque::new(),
            cut: BTreeSet::new(),
            replies: Vec::new(),
            trace: Vec::new(),
            tweak,
        }
    }

    /// Storage is instant: each write lands on the disk and is reported at once, in
    /// the order handed out (reporting one may hand out more, which queue behind).
    pub fn step(&mut self, id: NodeId, input: ServerInput<S::Op>) {
        let slot = id as usize - 1;
        let mut writes = VecDeque::new();
        let mut input = Some(input);
        for _ in 0..10_000 {
            let Some(next) = input.take() else { return };
            let input_bytes = postcard::to_allocvec(&next).unwrap();
            let ready = self.servers[slot].step(next);
            self.trace.push(Recorded {
                node: id,
                input: input_bytes,
                ready: postcard::to_allocvec(&ready).unwrap(),
            });
            self.queue.extend(ready.messages);
            self.replies
                .extend(ready.replies.into_iter().map(|r| (id, r)));
            writes.extend(ready.writes);
            if let Some(w) = writes.pop_front() {
                w.apply_to(&mut self.disks[slot]);
                input = Some(ServerInput::Persisted(w.id));
            }
        }
        panic!("writes never stopped coming");
    }

    pub fn deliver(&mut self) {
        for _ in 0..100_000 {
            let Some(m) = self.queue.pop_front() else {
                return;
            };
            if !self.cut.contains(&m.from) && !self.cut.contains(&m.to) {
                self.step(m.to, ServerInput::Message(m));
            }
        }
        panic!("messages never stopped flowing");
    }

    /// Ticks only `ids` (others' clocks stand still) until `leader` leads.
    pub fn elect(&mut self, leader: NodeId, ids: &[NodeId]) {
        for _ in 0..1000 {
            for &id in ids {
                self.step(id, ServerInput::Tick);
            }
            self.deliver();
            if self.server(leader).node().role() == Role::Leader {
                return;
            }
        }
        panic!("{leader} was not elected");
    }

    /// Ticks `leader` through one heartbeat interval and delivers everything.
    pub fn heartbeat(&mut self, leader: NodeId) {
        for _ in 0..10 {
            self.step(leader, ServerInput::Tick);
        }
        self.deliver();
    }

    pub fn server(&self, id: NodeId) -> &Server<S> {
        &self.servers[id as usize - 1]
    }

    pub fn request(&mut self, to: NodeId, client: u64, seq: u64, op: S::Op) {
        self.step(to, ServerInput::Request(Request { client, seq, op }));
        self.deliver();
    }

    pub fn take_reply(&mut self, client: u64) -> Option<Reply<S::Output>> {
        let at = self.replies.iter().position(|(_, r)| r.client == client)?;
        Some(self.replies.remove(at).1)
    }

    pub fn restart(&mut self, id: NodeId) {
        let disk = self.disks[id as usize - 1].clone();
        self.servers[id as usize - 1] = Server::new(config(id, self.tweak), disk).unwrap();
    }
}
