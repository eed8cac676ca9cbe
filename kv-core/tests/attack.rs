//! Adversarial scenarios for the generic server.
//!
//! * What a replica does after a snapshot from the leader fails to decode (a newer
//!   build's snapshot format during a rolling upgrade, or a corrupt transfer): it halts
//!   (crash-stop), so it neither applies onto a state it knows is wrong, nor snapshots
//!   it, restarts into it, or spreads it as leader. (These three tests failed before the
//!   halt: the replica did all four.)
//! * Randomized runs with delayed writes, lost reported-unsynced writes at crashes,
//!   partitions, snapshots and retrying clients, checked for replica agreement,
//!   at-most-once appends and stale reads (passes).
//! * A read confirmed ahead of the leader's own write in flight is answered only once
//!   applied (passes).

mod common;
#[path = "../../raft-core/tests/lossy_disk/mod.rs"]
mod lossy_disk;

use kv_core::{KvState, Op, Outcome, ServerConfig, ServerInput};
use raft_core::MessageBody;

type Net = common::Net<KvState>;

fn append(value: &str) -> Op {
    Op::Append {
        key: "k".into(),
        value: value.into(),
    }
}

/// Delivers everything queued, rewriting the first chunk of every snapshot sent to `to`
/// so its format version byte is one this build does not read.
fn deliver_with_future_snapshot_format(net: &mut Net, to: u64) {
    for _ in 0..100_000 {
        let Some(mut m) = net.queue.pop_front() else {
            return;
        };
        if net.cut.contains(&m.from) || net.cut.contains(&m.to) {
            continue;
        }
        if m.to == to {
            if let MessageBody::InstallSnapshot {
                offset: 0, data, ..
            } = &mut m.body
            {
                if let Some(version) = data.first_mut() {
                    *version = kv_core::service::SNAPSHOT_VERSION + 1;
                }
            }
        }
        net.step(m.to, ServerInput::Message(m));
    }
    panic!("messages never stopped flowing");
}

/// Server 3 is cut off while the leader compacts, then gets a snapshot it cannot decode.
fn replica_with_failed_install() -> Net {
    let mut net = Net::new(|c: &mut ServerConfig| c.max_raft_state_bytes = Some(300));
    net.elect(1, &[1]);
    net.request(1, 7, 1, append("a"));
    assert_eq!(net.take_reply(7).unwrap().result, Ok(Outcome::Done));
    net.cut.insert(3);
    for seq in 2..=30 {
        net.request(1, 7, seq, append("b"));
        assert_eq!(net.take_reply(7).unwrap().result, Ok(Outcome::Done));
    }
    assert!(
        net.server(1).stats().snapshots_taken > 0,
        "the leader compacted"
    );
    net.cut.clear();
    for _ in 0..10 {
        net.step(1, ServerInput::Tick);
    }
    deliver_with_future_snapshot_format(&mut net, 3);
    assert!(
        net.server(3).failure().is_some(),
        "server 3 could not decode the snapshot"
    );
    net
}

/// After a failed install the replica's state machine is not the state at its applied
/// index. Applying committed entries on top of it, or handing it to Raft as a snapshot
/// (stored as this replica's state, read back at restart, sent to lagging followers as
/// leader), would spread a state no other replica has. The replica halts instead.
#[test]
fn a_replica_that_failed_to_install_a_snapshot_never_snapshots_its_own_state() {
    let mut net = replica_with_failed_install();
    let (taken_before, applied_before) = {
        let s = net.server(3);
        (s.stats().snapshots_taken, s.applied())
    };
    for seq in 31..=60 {
        net.request(1, 7, seq, append("c"));
        assert_eq!(net.take_reply(7).unwrap().result, Ok(Outcome::Done));
    }
    let s = net.server(3);
    assert_eq!(
        s.applied(),
        applied_before,
        "nothing applied onto an unknown state"
    );
    assert_eq!(
        s.stats().snapshots_taken,
        taken_before,
        "a replica whose state is unknown handed that state to Raft as a snapshot"
    );
}

/// The same run, seen end to end: the restart reads the undecodable snapshot from disk
/// again and refuses to start, with the reason, rather than start into a wrong state.
#[test]
fn a_replica_that_failed_to_install_a_snapshot_never_restarts_into_a_diverged_state() {
    let mut net = replica_with_failed_install();
    for seq in 31..=60 {
        net.request(1, 7, seq, append("c"));
        assert_eq!(net.take_reply(7).unwrap().result, Ok(Outcome::Done));
    }
    let disk = net.disks[2].clone();
    let restarted = kv_core::Server::new(
        common::config(3, |c| c.max_raft_state_bytes = Some(300)),
        disk,
    );
    match restarted {
        Err(kv_core::ServerError::Snapshot(e)) => eprintln!("refused to start: {e}"),
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(s) => panic!(
            "restarted into a state: {:?}",
            s.state().get("k").map(str::len)
        ),
    }
}

/// A halted replica is a crashed one to everybody else: it never votes, campaigns or
/// sends, and answers clients `Busy` with the reason. The two healthy replicas go on.
#[test]
fn a_failed_replica_halts_and_the_others_go_on() {
    let mut net = replica_with_failed_install();
    for _ in 0..1_000 {
        let out = net.servers[2].step(ServerInput::Tick);
        assert!(out.messages.is_empty() && out.writes.is_empty(), "{out:?}");
    }
    assert_ne!(net.server(3).node().role(), raft_core::Role::Leader);
    net.request(3, 8, 1, Op::Get { key: "k".into() });
    let refused = net.take_reply(8).unwrap().result;
    assert!(
        matches!(&refused, Err(kv_core::KvError::Busy { reason }) if reason.contains("halted")),
        "{refused:?}"
    );
    for seq in 31..=40 {
        net.request(1, 7, seq, append("c"));
        assert_eq!(net.take_reply(7).unwrap().result, Ok(Outcome::Done));
    }
    net.request(1, 9, 1, Op::Get { key: "k".into() });
    let value = net.take_reply(9).unwrap().result;
    let want = format!("a{}{}", "b".repeat(29), "c".repeat(10));
    assert_eq!(value, Ok(Outcome::Value(Some(want))));
}

// ---------------------------------------------------------------------------------------
// Randomized runs: delayed writes, lost and duplicated messages, crashes that keep any
// prefix of the writes not yet synced (a commit-only write may have been reported
// durable without an fsync, as `must_sync = false` allows), snapshots, and clients that
// retry. Checked: replicas agree on the state at every applied index; every Append
// applies once; every read sees every Append acknowledged before it was sent and is a
// prefix of the one history.

mod random {
    use std::collections::BTreeMap;

    use kv_core::{KvError, Op, Outcome, Server, ServerConfig, ServerInput};
    use raft_core::{Message, RestoredState};

    use super::common;

    use super::lossy_disk::LossyDisk as Disk;
    pub use super::lossy_disk::Rng;

    struct Client {
        seq: u64,
        op: Option<Op>,
        /// When the current operation was first sent.
        sent_at: u64,
        /// When the current attempt was sent (to resend after silence).
        attempt_at: u64,
    }

    fn tweak(c: &mut ServerConfig) {
        c.max_raft_state_bytes = Some(400);
        c.raft.election_ticks = 10;
        c.raft.heartbeat_ticks = 2;
        c.raft.snapshot_chunk_bytes = 16;
        c.request_timeout_ticks = 30;
    }

    pub struct Run {
        rng: Rng,
        now: u64,
        servers: Vec<Server>,
        disks: Vec<Disk>,
        queue: Vec<Message>,
        /// A server cut off from the others for a while.
        cut: Option<usize>,
        clients: Vec<Client>,
        /// token -> time its Append was acknowledged
        acked: BTreeMap<String, u64>,
        /// (sent at, value read)
        reads: Vec<(u64, String)>,
        /// applied index -> value of "k" there
        states: BTreeMap<u64, String>,
        pub crashes: u64,
        pub reads_ok: u64,
        pub writes_ok: u64,
        pub installs: u64,
    }

    impl Run {
        pub fn new(seed: u64) -> Self {
            let servers = (1..=3)
                .map(|id| Server::new(config(id, seed), RestoredState::default()).unwrap())
                .collect();
            let clients = (0..3)
                .map(|_| Client {
                    seq: 0,
                    op: None,
                    sent_at: 0,
                    attempt_at: 0,
                })
                .collect();
            Run {
                rng: Rng(seed),
                now: 0,
                servers,
                disks: (0..3).map(|_| Disk::default()).collect(),
                queue: Vec::new(),
                cut: None,
                clients,
                acked: BTreeMap::new(),
                reads: Vec::new(),
                states: BTreeMap::new(),
                crashes: 0,
                reads_ok: 0,
                writes_ok: 0,
                installs: 0,
            }
        }

        fn step(&mut self, slot: usize, input: ServerInput) {
            let installed = self.servers[slot].stats().snapshots_installed;
            let ready = self.servers[slot].step(input);
            for w in ready.writes {
                self.disks[slot].tail.push_back((w, false));
            }
            self.queue.extend(ready.messages);
            for r in ready.replies {
                self.on_reply(r);
            }
            let s = &self.servers[slot];
            let value = s.state().get("k").map(str::to_string).unwrap_or_default();
            if s.failure().is_none() {
                let seen = self
                    .states
                    .entry(s.applied())
                    .or_insert_with(|| value.clone());
                assert_eq!(
                    *seen,
                    value,
                    "server {} diverges at applied index {}",
                    slot + 1,
                    s.applied()
                );
            }
            self.installs += s.stats().snapshots_installed - installed;
        }

        fn on_reply(&mut self, r: kv_core::Reply) {
            let c = &mut self.clients[r.client as usize];
            if r.seq != c.seq || c.op.is_none() {
                return; // an answer to an earlier attempt of a finished operation
            }
            match (&r.result, c.op.as_ref().unwrap()) {
                (Ok(Outcome::Done), Op::Append { value, .. }) => {
                    self.acked.insert(value.clone(), self.now);
                    self.writes_ok += 1;
                    c.op = None;
                }
                (Ok(Outcome::Value(v)), Op::Get { .. }) => {
                    self.reads.push((c.sent_at, v.clone().unwrap_or_default()));
                    self.reads_ok += 1;
                    c.op = None;
                }
                (Ok(other), op) => panic!("{op:?} answered {other:?}"),
                (Err(KvError::Rejected { reason }), _) => panic!("rejected: {reason}"),
                (Err(_), _) => c.attempt_at = 0, // resend soon
            }
        }

        fn client_step(&mut self, client: usize) {
            let now = self.now;
            let to = self.rng.below(3) as usize;
            let make_get = self.rng.chance(40);
            let c = &mut self.clients[client];
            if c.op.is_none() {
                c.seq += 1;
                c.op = Some(if make_get {
                    Op::Get { key: "k".into() }
                } else {
                    Op::Append {
                        key: "k".into(),
                        value: format!("({client}.{})", c.seq),
                    }
                });
                c.sent_at = now;
            } else if c.attempt_at != 0 && now - c.attempt_at < 300 {
                return; // waiting for this attempt's answer
            }
            c.attempt_at = now;
            let request = kv_core::Request {
                client: client as u64,
                seq: c.seq,
                op: c.op.clone().unwrap(),
            };
            self.step(to, ServerInput::Request(request));
        }

        pub fn tick(&mut self) {
            self.now += 1;
            let slot = self.rng.below(3) as usize;
            match self.rng.below(1000) {
                0..=199 => self.step(slot, ServerInput::Tick),
                200..=649 => {
                    if self.queue.is_empty() {
                        return;
                    }
                    let at = self.rng.below(self.queue.len() as u64) as usize;
                    let m = if self.rng.chance(5) {
                        self.queue[at].clone()
                    } else {
                        self.queue.swap_remove(at)
                    };
                    let to = (m.to - 1) as usize;
                    let from = (m.from - 1) as usize;
                    if self.rng.chance(5) || self.cut.is_some_and(|c| c == to || c == from) {
                        return;
                    }
                    self.step(to, ServerInput::Message(m));
                }
                650..=849 => {
                    if let Some(id) = self.disks[slot].complete_next() {
                        self.step(slot, ServerInput::Persisted(id));
                    }
                }
                850..=851 => {
                    self.cut = match self.cut {
                        Some(_) => None,
                        None => Some(slot),
                    }
                }
                852..=994 => {
                    let client = self.rng.below(self.clients.len() as u64) as usize;
                    self.client_step(client);
                }
                _ => {
                    let disk = self.disks[slot].crash(&mut self.rng);
                    let seed = self.rng.0;
                    self.servers[slot] = Server::new(config(slot as u64 + 1, seed), disk)
                        .unwrap_or_else(|e| panic!("server {} cannot restart: {e}", slot + 1));
                    self.crashes += 1;
                }
            }
        }

        /// The history checks, once the run is over.
        pub fn check(&self) {
            let history = self
                .states
                .values()
                .max_by_key(|v| v.len())
                .cloned()
                .unwrap_or_default();
            for token in self.acked.keys() {
                assert_eq!(
                    history.matches(token.as_str()).count(),
                    1,
                    "acknowledged {token} applied other than once in {history}"
                );
            }
            for (sent_at, value) in &self.reads {
                assert!(
                    history.starts_with(value.as_str()),
                    "read {value} is not a prefix of the history {history}"
                );
                for (token, &acked_at) in &self.acked {
                    if acked_at < *sent_at {
                        assert!(
                            value.contains(token.as_str()),
                            "stale read at {sent_at}: {value} lacks {token}, acknowledged at {acked_at}"
                        );
                    }
                }
            }
        }
    }

    fn config(id: u64, seed: u64) -> ServerConfig {
        let mut c = common::config(id, tweak);
        c.raft.seed = seed ^ id;
        c
    }
}

#[test]
fn random_runs_with_unsynced_writes_lost_at_crashes_stay_linearizable() {
    let seeds: u64 = std::env::var("ATTACK_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let (mut crashes, mut reads, mut writes, mut installs) = (0, 0, 0, 0);
    for seed in 0..seeds {
        let result = std::panic::catch_unwind(|| {
            let mut run = random::Run::new(seed);
            for _ in 0..20_000 {
                run.tick();
            }
            run.check();
            run
        });
        let run = result.unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
        crashes += run.crashes;
        reads += run.reads_ok;
        writes += run.writes_ok;
        installs += run.installs;
    }
    eprintln!("{seeds} runs: {crashes} crashes, {writes} appends and {reads} reads answered, {installs} installs");
    assert!(crashes > 0 && reads > 0 && writes > 0);
}

/// Reads leave the pipeline as soon as they are confirmed, ahead of the leader's own
/// write in flight; the server still answers one only once it has applied the read's
/// index, so the answer includes the write acknowledged... by the followers alone.
#[test]
fn a_read_confirmed_ahead_of_the_leaders_own_write_waits_for_the_apply() {
    use kv_core::{Request, Server};
    let cfg = |id| common::config(id, |c: &mut ServerConfig| c.raft.pre_vote = false);
    let mut servers: Vec<Server> = (1..=3)
        .map(|id| Server::new(cfg(id), raft_core::RestoredState::default()).unwrap())
        .collect();
    // Followers persist at once; the leader's writes are held until released below.
    let mut held = Vec::new();
    let mut replies = Vec::new();
    let mut queue = std::collections::VecDeque::new();
    let step = |servers: &mut Vec<Server>,
                held: &mut Vec<raft_core::Write>,
                replies: &mut Vec<kv_core::Reply>,
                queue: &mut std::collections::VecDeque<raft_core::Message>,
                id: u64,
                input: ServerInput,
                hold: bool| {
        let mut inputs = vec![input];
        while let Some(input) = inputs.pop() {
            let ready = servers[id as usize - 1].step(input);
            queue.extend(ready.messages);
            replies.extend(ready.replies);
            for w in ready.writes {
                if hold {
                    held.push(w);
                } else {
                    inputs.push(ServerInput::Persisted(w.id));
                }
            }
        }
    };
    // Elect 1 with every write instant.
    for _ in 0..400 {
        step(
            &mut servers,
            &mut held,
            &mut replies,
            &mut queue,
            1,
            ServerInput::Tick,
            false,
        );
        while let Some(m) = queue.pop_front() {
            let to = m.to;
            step(
                &mut servers,
                &mut held,
                &mut replies,
                &mut queue,
                to,
                ServerInput::Message(m),
                false,
            );
        }
        if servers[0].node().role() == raft_core::Role::Leader {
            break;
        }
    }
    assert_eq!(servers[0].node().role(), raft_core::Role::Leader);
    // Hold the leader's writes from now on.
    let put = Request {
        client: 7,
        seq: 1,
        op: Op::Put {
            key: "k".into(),
            value: "v".into(),
        },
    };
    step(
        &mut servers,
        &mut held,
        &mut replies,
        &mut queue,
        1,
        ServerInput::Request(put),
        true,
    );
    let read = Request {
        client: 8,
        seq: 1,
        op: Op::Get { key: "k".into() },
    };
    for _ in 0..3 {
        while let Some(m) = queue.pop_front() {
            let to = m.to;
            let hold = to == 1;
            step(
                &mut servers,
                &mut held,
                &mut replies,
                &mut queue,
                to,
                ServerInput::Message(m),
                hold,
            );
        }
        if servers[0].node().log().committed() > servers[0].applied() && replies.is_empty() {
            break;
        }
    }
    assert!(
        servers[0].node().log().committed() > servers[0].applied(),
        "the put committed on the followers' acknowledgements while the leader's write is held"
    );
    step(
        &mut servers,
        &mut held,
        &mut replies,
        &mut queue,
        1,
        ServerInput::Request(read),
        true,
    );
    for _ in 0..20 {
        step(
            &mut servers,
            &mut held,
            &mut replies,
            &mut queue,
            1,
            ServerInput::Tick,
            true,
        );
        while let Some(m) = queue.pop_front() {
            let to = m.to;
            let hold = to == 1;
            step(
                &mut servers,
                &mut held,
                &mut replies,
                &mut queue,
                to,
                ServerInput::Message(m),
                hold,
            );
        }
    }
    assert!(
        replies.iter().all(|r| r.client != 8),
        "no answer while the index it was confirmed at is not applied: {replies:?}"
    );
    for w in std::mem::take(&mut held) {
        step(
            &mut servers,
            &mut held,
            &mut replies,
            &mut queue,
            1,
            ServerInput::Persisted(w.id),
            false,
        );
    }
    let answer = replies
        .iter()
        .find(|r| r.client == 8)
        .expect("answered once applied");
    assert_eq!(answer.result, Ok(Outcome::Value(Some("v".into()))));
}

/// Peers 2 and 3 are hostile: they send well-typed messages with terms and indexes near
/// server 1's own, entries of every kind whose data is a valid command, garbage, or a
/// retry of an earlier command, and snapshots whose bytes are a valid state with an
/// arbitrary session table or garbage. Server 1 completes its writes in order and serves
/// clients meanwhile. It must never panic.
#[test]
fn hostile_peers_never_panic_a_server() {
    use kv_core::service::{Command, Replicated};
    use kv_core::{KvState, Request, Server};
    use raft_core::{Entry, EntryKind, Membership, Message, SnapshotMeta};

    let seeds: u64 = std::env::var("ATTACK_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mut reached = (0, 0, 0, 0);
    for seed in 0..seeds {
        let mut rng = random::Rng(seed);
        let mut server = Server::new(
            common::config(1, |c: &mut ServerConfig| {
                c.max_raft_state_bytes = Some(120);
                c.raft.election_ticks = 10;
                c.raft.heartbeat_ticks = 2;
                c.raft.snapshot_chunk_bytes = 8;
            }),
            raft_core::RestoredState::default(),
        )
        .unwrap();
        let mut writes = std::collections::VecDeque::new();
        for _ in 0..3000 {
            let node = server.node();
            let (term, last, commit) =
                (node.term(), node.log().last_index(), node.log().committed());
            let near = |rng: &mut random::Rng, base: u64| match rng.below(6) {
                0 => base.saturating_sub(1),
                1 | 2 => base,
                3 => base + 1,
                4 => base + rng.below(5),
                _ => rng.below(base + 2),
            };
            let data = |rng: &mut random::Rng| -> Vec<u8> {
                match rng.below(3) {
                    0 => Command {
                        client: rng.below(3),
                        seq: rng.below(5),
                        op: Op::Append {
                            key: "k".into(),
                            value: "x".into(),
                        },
                    }
                    .encode(),
                    1 => (0..rng.below(6)).map(|_| rng.next() as u8).collect(),
                    _ => Vec::new(),
                }
            };
            let input = match rng.below(10) {
                0 => ServerInput::Tick,
                1 => match writes.pop_front() {
                    Some(id) => ServerInput::Persisted(id),
                    None => ServerInput::Tick,
                },
                2 => ServerInput::Request(Request {
                    client: 9,
                    seq: rng.below(4),
                    op: if rng.chance(50) {
                        Op::Get { key: "k".into() }
                    } else {
                        Op::Put {
                            key: "k".into(),
                            value: "v".into(),
                        }
                    },
                }),
                _ => {
                    let from = 2 + rng.below(2);
                    let mterm = near(&mut rng, term);
                    let body = match rng.below(12) {
                        0..=5 => {
                            let prev_index = near(&mut rng, last.max(commit));
                            let prev_term = near(&mut rng, node.log().last_term());
                            let n = rng.below(4);
                            let mut et = prev_term;
                            let entries = (1..=n)
                                .map(|i| {
                                    et = et.max(near(&mut rng, et)).min(mterm.max(prev_term));
                                    Entry {
                                        term: et,
                                        index: prev_index + i,
                                        kind: match rng.below(4) {
                                            0 => EntryKind::Empty,
                                            1 => EntryKind::Membership,
                                            _ => EntryKind::Normal,
                                        },
                                        data: data(&mut rng).into(),
                                    }
                                })
                                .collect();
                            MessageBody::Append {
                                prev_index,
                                prev_term,
                                entries,
                                commit: near(&mut rng, commit + n),
                            }
                        }
                        6 => MessageBody::Heartbeat {
                            commit: near(&mut rng, commit),
                            round: rng.below(10),
                        },
                        7 => {
                            let bytes = if rng.chance(95) {
                                let mut r = Replicated::<KvState>::default();
                                for _ in 0..rng.below(4) {
                                    r.apply(&Command {
                                        client: rng.below(3),
                                        seq: rng.below(9),
                                        op: Op::Append {
                                            key: "k".into(),
                                            value: "s".into(),
                                        },
                                    });
                                }
                                r.snapshot()
                            } else {
                                data(&mut rng)
                            };
                            let total = bytes.len() as u64;
                            let offset = if rng.chance(70) {
                                0
                            } else {
                                rng.below(total + 1)
                            };
                            let end = (offset + 8).min(total) as usize;
                            MessageBody::InstallSnapshot {
                                meta: Box::new(SnapshotMeta {
                                    index: near(&mut rng, commit + 3),
                                    term: near(&mut rng, mterm).min(mterm),
                                    membership: Membership::with_voters([1, 2, 3]),
                                }),
                                total_bytes: total,
                                offset,
                                data: bytes[offset as usize..end].to_vec(),
                            }
                        }
                        8 => MessageBody::VoteResponse {
                            reject: rng.chance(30),
                        },
                        9 => MessageBody::AppendResponse {
                            reject: rng.chance(30),
                            index: near(&mut rng, last),
                            conflict_term: None,
                            conflict_index: near(&mut rng, last),
                        },
                        _ => MessageBody::HeartbeatResponse {
                            round: rng.below(10),
                        },
                    };
                    ServerInput::Message(Message {
                        from,
                        to: 1,
                        term: mterm,
                        body,
                    })
                }
            };
            let ready = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                server.step(input.clone())
            }))
            .unwrap_or_else(|e| panic!("seed {seed}: {input:?} panicked the server: {e:?}"));
            writes.extend(ready.writes.iter().map(|w| w.id));
        }
        let stats = server.stats();
        reached.0 += stats.snapshots_installed;
        reached.1 += stats.writes_applied + stats.entries_undecodable;
        reached.2 += u64::from(server.failure().is_some());
        reached.3 += stats.snapshots_taken;
    }
    eprintln!(
        "{seeds} runs: (installs, entries applied, failed replicas, snapshots taken) {reached:?}"
    );
    assert!(reached.0 > 0 && reached.1 > 0 && reached.2 > 0 && reached.3 > 0);
}
