//! Scripted interaction tests of the KV server: three servers, a hand-driven network and
//! instant storage. Each reads as a scenario: who is cut off, who ticks, what arrives.

use std::collections::{BTreeSet, VecDeque};

use kv_core::{KvError, Op, Outcome, Reply, Request, Server, ServerConfig, ServerInput};
use raft_core::{Config, Message, NodeId, RestoredState, Role};

struct Net {
    servers: Vec<Server>,
    disks: Vec<RestoredState>,
    queue: VecDeque<Message>,
    cut: BTreeSet<NodeId>,
    replies: Vec<(NodeId, Reply)>,
    tweak: fn(&mut ServerConfig),
}

fn config(id: NodeId, tweak: fn(&mut ServerConfig)) -> ServerConfig {
    let mut cfg = ServerConfig::new(Config::new(id, vec![1, 2, 3]));
    cfg.raft.seed = id;
    tweak(&mut cfg);
    cfg
}

impl Net {
    fn new(tweak: fn(&mut ServerConfig)) -> Self {
        let servers = (1..=3)
            .map(|id| Server::new(config(id, tweak), RestoredState::default()).unwrap())
            .collect();
        Net {
            servers,
            disks: vec![RestoredState::default(); 3],
            queue: VecDeque::new(),
            cut: BTreeSet::new(),
            replies: Vec::new(),
            tweak,
        }
    }

    /// Storage is instant: each write lands on the disk and is reported at once, in
    /// the order handed out (reporting one may hand out more, which queue behind).
    fn step(&mut self, id: NodeId, input: ServerInput) {
        let slot = id as usize - 1;
        let mut writes = VecDeque::new();
        let mut input = Some(input);
        for _ in 0..10_000 {
            let Some(next) = input.take() else { return };
            let ready = self.servers[slot].step(next);
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

    fn deliver(&mut self) {
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
    fn elect(&mut self, leader: NodeId, ids: &[NodeId]) {
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
    fn heartbeat(&mut self, leader: NodeId) {
        for _ in 0..10 {
            self.step(leader, ServerInput::Tick);
        }
        self.deliver();
    }

    fn server(&self, id: NodeId) -> &Server {
        &self.servers[id as usize - 1]
    }

    fn request(&mut self, to: NodeId, client: u64, seq: u64, op: Op) {
        self.step(to, ServerInput::Request(Request { client, seq, op }));
        self.deliver();
    }

    fn take_reply(&mut self, client: u64) -> Option<Reply> {
        let at = self.replies.iter().position(|(_, r)| r.client == client)?;
        Some(self.replies.remove(at).1)
    }

    fn restart(&mut self, id: NodeId) {
        let disk = self.disks[id as usize - 1].clone();
        self.servers[id as usize - 1] = Server::new(config(id, self.tweak), disk).unwrap();
    }
}

fn put(value: &str) -> Op {
    Op::Put {
        key: "k".into(),
        value: value.into(),
    }
}

fn get() -> Op {
    Op::Get { key: "k".into() }
}

fn no_tweak(_: &mut ServerConfig) {}

#[test]
fn a_write_cut_off_from_its_quorum_gets_wrong_leader_not_another_clients_outcome() {
    let mut net = Net::new(no_tweak);
    net.elect(1, &[1]);
    net.request(1, 7, 1, put("a"));
    assert_eq!(net.take_reply(7).unwrap().result, Ok(Outcome::Done));
    net.cut.insert(1);
    net.request(1, 10, 1, put("x"));
    assert!(net.take_reply(10).is_none(), "no quorum: the write waits");
    net.elect(2, &[2, 3]);
    net.request(2, 20, 1, put("y"));
    assert_eq!(net.take_reply(20).unwrap().result, Ok(Outcome::Done));
    net.cut.clear();
    net.heartbeat(2);
    let reply = net
        .take_reply(10)
        .expect("the old leader answers once deposed");
    assert!(
        matches!(reply.result, Err(KvError::WrongLeader { leader: Some(2) })),
        "{reply:?}"
    );
    assert_eq!(
        net.server(1).state().get("k").map(String::as_str),
        Some("y")
    );
    // The retry goes to the new leader and applies once.
    net.request(2, 10, 1, put("x"));
    assert_eq!(net.take_reply(10).unwrap().result, Ok(Outcome::Done));
    net.request(2, 10, 2, get());
    let value = net.take_reply(10).unwrap().result;
    assert_eq!(value, Ok(Outcome::Value(Some("x".into()))));
}

#[test]
fn a_request_in_a_minority_times_out_instead_of_hanging() {
    let mut net = Net::new(|c| c.raft.check_quorum = false);
    net.elect(1, &[1]);
    net.cut.insert(1);
    net.request(1, 7, 1, put("a"));
    net.request(1, 8, 1, get());
    for _ in 0..99 {
        net.step(1, ServerInput::Tick);
    }
    assert!(net.replies.is_empty(), "not before request_timeout_ticks");
    net.step(1, ServerInput::Tick);
    assert_eq!(net.take_reply(7).unwrap().result, Err(KvError::Timeout));
    assert_eq!(net.take_reply(8).unwrap().result, Err(KvError::Timeout));
    assert_eq!(net.server(1).stats().timeouts, 2);
}

#[test]
fn a_retry_of_an_applied_write_is_answered_from_the_session_table() {
    let mut net = Net::new(no_tweak);
    net.elect(1, &[1]);
    let cas = Op::Cas {
        key: "k".into(),
        expected: None,
        new: "1".into(),
    };
    net.request(1, 7, 1, cas.clone());
    assert_eq!(
        net.take_reply(7).unwrap().result,
        Ok(Outcome::Swapped(true))
    );
    let last = net.server(1).node().log().last_index();
    net.request(1, 7, 1, cas);
    assert_eq!(
        net.take_reply(7).unwrap().result,
        Ok(Outcome::Swapped(true)),
        "the first verdict"
    );
    assert_eq!(
        net.server(1).node().log().last_index(),
        last,
        "no new entry"
    );
    assert_eq!(net.server(1).stats().duplicates_answered, 1);
}

#[test]
fn reads_need_a_leader_and_take_no_log_entry() {
    let mut net = Net::new(no_tweak);
    net.elect(1, &[1]);
    net.request(1, 7, 1, put("a"));
    assert_eq!(net.take_reply(7).unwrap().result, Ok(Outcome::Done));
    let last = net.server(1).node().log().last_index();
    net.request(1, 7, 2, get());
    assert_eq!(
        net.take_reply(7).unwrap().result,
        Ok(Outcome::Value(Some("a".into())))
    );
    assert_eq!(net.server(1).node().log().last_index(), last);
    net.request(2, 7, 3, get());
    let refused = net.take_reply(7).unwrap().result;
    assert_eq!(refused, Err(KvError::WrongLeader { leader: Some(1) }));
}

#[test]
fn sessions_survive_snapshots_and_restarts() {
    let mut net = Net::new(|c| c.max_raft_state_bytes = Some(200));
    net.elect(1, &[1]);
    for seq in 1..=30 {
        let op = Op::Append {
            key: "k".into(),
            value: "x".into(),
        };
        net.request(1, 7, seq, op);
        assert_eq!(net.take_reply(7).unwrap().result, Ok(Outcome::Done));
    }
    assert!(
        net.server(2).stats().snapshots_taken > 0,
        "followers compact too"
    );
    assert!(net.server(2).raft_state_bytes() < 8 * 200);
    net.restart(2);
    net.heartbeat(1); // the restarted follower learns the commit index again
    assert_eq!(net.server(2).state().get("k").map(String::len), Some(30));
    net.cut.insert(1);
    net.elect(2, &[2, 3]);
    let op = Op::Append {
        key: "k".into(),
        value: "x".into(),
    };
    net.request(2, 7, 30, op);
    assert_eq!(
        net.take_reply(7).unwrap().result,
        Ok(Outcome::Done),
        "answered from the session"
    );
    assert_eq!(
        net.server(2).state().get("k").map(String::len),
        Some(30),
        "applied once"
    );
}
