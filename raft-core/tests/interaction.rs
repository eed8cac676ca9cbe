//! Interaction tests that read like scripts: a few nodes wired by hand, every message
//! delivered explicitly, so each protocol rule is visible in isolation.

use raft_core::{
    Config, Entry, EntryKind, HardState, Input, LogPosition, Message, MessageBody, Node,
    RestoreError, RestoredState, Role, StepError,
};

/// A tiny synchronous network: persistence is instant, messages queue until delivered.
struct Net {
    nodes: Vec<Node>,
    queue: Vec<Message>,
}

impl Net {
    fn new(n: u64) -> Self {
        let voters: Vec<u64> = (1..=n).collect();
        let nodes = voters
            .iter()
            .map(|&id| {
                Node::new(
                    Config {
                        seed: 7,
                        ..Config::new(id, voters.clone())
                    },
                    RestoredState::default(),
                )
                .unwrap()
            })
            .collect();
        Net {
            nodes,
            queue: Vec::new(),
        }
    }

    fn node(&mut self, id: u64) -> &mut Node {
        &mut self.nodes[(id - 1) as usize]
    }

    /// Steps a node and treats its Ready as done at once (persist, send, report durable).
    fn step(&mut self, id: u64, input: Input) -> Result<(), StepError> {
        let ready = self.node(id).step(input)?;
        self.queue.extend(ready.messages);
        self.queue.extend(ready.messages_after_persist);
        if let Some(last) = ready.entries.last() {
            let pos = last.position();
            self.step(id, Input::Persisted(pos))?;
        }
        Ok(())
    }

    /// Delivers queued messages until quiet, dropping those `keep` rejects.
    fn deliver(&mut self, keep: impl Fn(&Message) -> bool) {
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

    fn tick(&mut self, id: u64, ticks: u32) {
        for _ in 0..ticks {
            self.step(id, Input::Tick).unwrap();
        }
    }

    /// Ticks enough for any randomized election timeout to expire.
    fn timeout(&mut self, id: u64) {
        let ticks = 2 * self.node(id).config().election_ticks;
        self.tick(id, ticks);
    }

    /// Node `id` times out and wins.
    fn elect(&mut self, id: u64) {
        self.timeout(id);
        self.deliver(|_| true);
        assert_eq!(self.node(id).role(), Role::Leader);
    }
}

#[test]
fn proposal_on_a_follower_names_the_leader() {
    let mut net = Net::new(3);
    net.elect(1);
    assert_eq!(
        net.step(2, Input::Propose { data: vec![1] }),
        Err(StepError::NotLeader { leader: Some(1) })
    );
    let mut fresh = Net::new(3);
    assert_eq!(
        fresh.step(2, Input::Propose { data: vec![1] }),
        Err(StepError::NotLeader { leader: None })
    );
}

#[test]
fn votes_wait_for_persistence_pre_votes_do_not() {
    let mut n1 = Node::new(Config::new(1, vec![1, 2, 3]), RestoredState::default()).unwrap();
    let mut pre = None;
    for _ in 0..1_000 {
        let ready = n1.step(Input::Tick).unwrap();
        if !ready.messages.is_empty() {
            pre = Some(ready);
            break;
        }
    }
    let pre = pre.expect("a pre-vote after an election timeout");
    assert!(pre
        .messages
        .iter()
        .all(|m| matches!(m.body, MessageBody::PreVote { .. })));
    assert!(
        pre.hard_state.is_none(),
        "a pre-vote changes no durable state"
    );
    let grant = |to: u64| Message {
        from: to,
        to: 1,
        term: 1,
        body: MessageBody::PreVoteResponse { reject: false },
    };
    let ready = n1.step(Input::Message(grant(2))).unwrap();
    assert_eq!(n1.role(), Role::Candidate);
    assert_eq!(
        ready.hard_state,
        Some(HardState {
            term: 1,
            vote: Some(1),
            commit: 0
        })
    );
    assert!(
        ready.messages.is_empty(),
        "vote requests must not precede the durable self-vote"
    );
    assert_eq!(ready.messages_after_persist.len(), 2);
}

#[test]
fn leader_counts_itself_only_after_its_write_is_durable() {
    let mut solo = Node::new(Config::new(1, vec![1]), RestoredState::default()).unwrap();
    let mut written = None;
    for _ in 0..1_000 {
        let ready = solo.step(Input::Tick).unwrap();
        if let Some(e) = ready.entries.last() {
            written = Some(e.position());
            break;
        }
    }
    let pos = written.expect("a single node elects itself and appends its no-op");
    assert_eq!(solo.role(), Role::Leader);
    assert_eq!(
        solo.log().committed(),
        0,
        "not durable yet, so not committed"
    );
    let ready = solo.step(Input::Persisted(pos)).unwrap();
    assert_eq!(solo.log().committed(), pos.index);
    assert_eq!(ready.committed.len(), 1);
    assert_eq!(ready.committed[0].kind, EntryKind::Empty);
}

#[test]
fn malformed_append_is_dropped_and_counted() {
    let mut net = Net::new(3);
    net.elect(1);
    let term = net.node(1).term();
    let gap = Message {
        from: 1,
        to: 2,
        term,
        body: MessageBody::Append {
            prev_index: 1,
            prev_term: term,
            entries: vec![Entry {
                term,
                index: 5,
                kind: EntryKind::Normal,
                data: vec![],
            }],
            commit: 0,
        },
    };
    let before = net.node(2).log().last_index();
    let ready = net.node(2).step(Input::Message(gap)).unwrap();
    assert!(ready.messages_after_persist.is_empty());
    assert_eq!(net.node(2).log().last_index(), before);
    assert_eq!(net.node(2).stats().dropped_malformed, 1);
}

#[test]
fn stale_leader_learns_the_new_term_from_a_reply() {
    let mut net = Net::new(3);
    net.elect(1);
    // Node 1 is cut off; once their lease on 1 expires, 2 or 3 wins a later term.
    for _ in 0..1_000 {
        net.tick(2, 1);
        net.tick(3, 1);
        net.deliver(|m| m.from != 1 && m.to != 1);
    }
    let new = [2, 3]
        .into_iter()
        .find(|&id| net.node(id).role() == Role::Leader)
        .expect("2 or 3 leads");
    let other = 5 - new;
    assert!(net.node(new).term() > net.node(1).term());
    // 1's heartbeat reaches the other follower, whose reply carries the newer term.
    net.queue.clear();
    let heartbeat = net.node(1).config().heartbeat_ticks;
    net.tick(1, heartbeat);
    net.deliver(|m| (m.from == 1 && m.to == other) || (m.from == other && m.to == 1));
    assert_eq!(net.node(1).role(), Role::Follower);
    assert_eq!(net.node(1).term(), net.node(new).term());
}

#[test]
fn check_quorum_deposes_an_isolated_leader() {
    let mut net = Net::new(3);
    net.elect(1);
    net.timeout(1);
    assert_eq!(
        net.node(1).role(),
        Role::Follower,
        "no responses for an election timeout"
    );
    assert_eq!(net.node(1).stats().leaderships_lost_check_quorum, 1);
}

#[test]
fn rejection_carries_the_conflicting_term_for_fast_backtracking() {
    let entries: Vec<Entry> = (1..=5)
        .map(|i| Entry {
            term: if i <= 2 { 1 } else { 2 },
            index: i,
            kind: EntryKind::Normal,
            data: vec![],
        })
        .collect();
    let restored = RestoredState {
        snapshot: None,
        hard_state: HardState {
            term: 2,
            vote: None,
            commit: 0,
        },
        entries,
    };
    let mut follower = Node::new(Config::new(2, vec![1, 2, 3]), restored).unwrap();
    let append = Message {
        from: 1,
        to: 2,
        term: 3,
        body: MessageBody::Append {
            prev_index: 5,
            prev_term: 3,
            entries: vec![],
            commit: 0,
        },
    };
    let ready = follower.step(Input::Message(append)).unwrap();
    let reply = &ready.messages_after_persist[0].body;
    let want = MessageBody::AppendResponse {
        reject: true,
        index: 5,
        conflict_term: Some(2),
        conflict_index: 3,
    };
    assert_eq!(*reply, want, "skip the whole of term 2 at once");
}

#[test]
fn restore_refuses_impossible_disk_state() {
    let cfg = Config::new(1, vec![1, 2, 3]);
    let e = |term, index| Entry {
        term,
        index,
        kind: EntryKind::Normal,
        data: vec![],
    };
    let cases = vec![
        (
            RestoredState {
                snapshot: None,
                hard_state: HardState {
                    term: 1,
                    vote: None,
                    commit: 3,
                },
                entries: vec![e(1, 1)],
            },
            RestoreError::CommitBeyondLog {
                commit: 3,
                last_index: 1,
            },
        ),
        (
            RestoredState {
                snapshot: None,
                hard_state: HardState {
                    term: 1,
                    vote: None,
                    commit: 0,
                },
                entries: vec![e(1, 2)],
            },
            RestoreError::NonContiguous {
                position: 0,
                found: 2,
                expected: 1,
            },
        ),
        (
            RestoredState {
                snapshot: None,
                hard_state: HardState {
                    term: 1,
                    vote: None,
                    commit: 0,
                },
                entries: vec![e(2, 1)],
            },
            RestoreError::TermBeyondHardState {
                index: 1,
                term: 2,
                hard_term: 1,
            },
        ),
        (
            RestoredState {
                snapshot: None,
                hard_state: HardState {
                    term: 1,
                    vote: Some(9),
                    commit: 0,
                },
                entries: vec![],
            },
            RestoreError::VoteForUnknown(9),
        ),
    ];
    for (restored, want) in cases {
        assert_eq!(Node::new(cfg.clone(), restored).err(), Some(want));
    }
}

#[test]
fn same_inputs_same_outputs() {
    let run = || {
        let mut net = Net::new(3);
        net.elect(2);
        net.step(
            2,
            Input::Propose {
                data: b"x".to_vec(),
            },
        )
        .unwrap();
        net.deliver(|_| true);
        net.nodes
            .iter()
            .map(|n| (n.term(), n.log().committed(), n.hard_state()))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn committed_entries_reach_followers() {
    let mut net = Net::new(3);
    net.elect(1);
    net.step(
        1,
        Input::Propose {
            data: b"cmd".to_vec(),
        },
    )
    .unwrap();
    net.deliver(|_| true);
    let leader_commit = net.node(1).log().committed();
    assert_eq!(
        net.node(1)
            .log()
            .entry(leader_commit)
            .map(|e| e.data.clone()),
        Some(b"cmd".to_vec())
    );
    for id in [2, 3] {
        assert_eq!(
            net.node(id).log().committed(),
            leader_commit,
            "follower {id} learns commit"
        );
    }
    let pos = LogPosition {
        term: net.node(1).term(),
        index: leader_commit,
    };
    assert_eq!(
        net.node(2).log().entry(pos.index).map(Entry::position),
        Some(pos)
    );
}

#[test]
fn oversized_proposal_is_refused_with_the_limit() {
    let mut net = Net::new(3);
    net.elect(1);
    let max_bytes = net.node(1).config().entry_bytes_max;
    let err = net.step(
        1,
        Input::Propose {
            data: vec![0; max_bytes + 1],
        },
    );
    assert_eq!(
        err,
        Err(StepError::ProposalTooLarge {
            size_bytes: max_bytes + 1,
            max_bytes
        })
    );
    assert!(net
        .step(
            1,
            Input::Propose {
                data: vec![0; max_bytes]
            }
        )
        .is_ok());
}
