//! Interaction tests that read like scripts: a few nodes wired by hand, every message
//! delivered explicitly, so each protocol rule is visible in isolation.

mod common;

use common::Net;

use raft_core::{
    Config, Entry, EntryKind, HardState, Input, LogPosition, MembershipError, Message, MessageBody,
    Node, ReadMode, ReadState, RestoreError, RestoredState, Role, StepError,
};

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
    // The first leader's opening entry records the bootstrap configuration.
    assert_eq!(ready.committed[0].kind, EntryKind::Membership);
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
                data: vec![].into(),
            }],
            commit: 0,
        },
    };
    let before = net.node(2).log().last_index();
    let work = net.step_work(2, Input::Message(gap)).unwrap();
    assert!(work.messages.is_empty() && work.writes.is_empty());
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
            data: vec![].into(),
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
        data: vec![].into(),
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
                    vote: None,
                    commit: 0,
                },
                entries: vec![Entry {
                    term: 1,
                    index: 1,
                    kind: EntryKind::Membership,
                    data: vec![0xff; 3].into(),
                }],
            },
            RestoreError::BadMembership {
                index: 1,
                source: MembershipError::Undecodable,
            },
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
            .map(|p| p.node())
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
        Some(b"cmd".into())
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

/// Entries `1..=n` committed everywhere, as `(leader 1, followers 2 and 3)` see them.
fn net_with_commits(n: u64, chunk_bytes: usize, lagging: u64) -> Net {
    let mut net = Net::with(3, |c| c.snapshot_chunk_bytes = chunk_bytes);
    net.elect(1);
    for i in 0..n {
        net.step(
            1,
            Input::Propose {
                data: vec![i as u8],
            },
        )
        .unwrap();
    }
    net.deliver(|m| m.to != lagging && m.from != lagging);
    net
}

/// Leader 1 commits five commands without node 3, then snapshots 35 bytes at its
/// applied index (sent in 10-byte chunks); returns the net, that index and the bytes.
fn compacted_past_follower_3() -> (Net, u64, Vec<u8>) {
    let mut net = net_with_commits(5, 10, 3);
    let applied = net.node(1).log().applied();
    let data: Vec<u8> = (0..35).collect();
    let snapshot = Input::Snapshot {
        index: applied,
        data: data.clone(),
    };
    net.step(1, snapshot).unwrap();
    (net, applied, data)
}

#[test]
fn lagging_follower_catches_up_by_chunked_snapshot_and_resumes_after_a_lost_chunk() {
    let (mut net, applied, data) = compacted_past_follower_3();
    assert_eq!(applied, 6, "no-op and five commands");
    assert_eq!(net.node(1).log().first_index(), applied + 1);
    // Node 3 asks for entries the leader no longer has; the second chunk is lost once.
    let mut lost = false;
    for _ in 0..20 {
        let heartbeat = net.node(1).config().heartbeat_ticks;
        net.tick(1, heartbeat);
        let mut dropped_once = |m: &Message| {
            let second = matches!(m.body, MessageBody::InstallSnapshot { offset: 10, .. });
            let drop = second && !lost;
            lost |= drop;
            !drop
        };
        net.deliver(&mut dropped_once);
        if !net.installs.is_empty() {
            break;
        }
    }
    assert!(lost, "the schedule dropped a chunk");
    let term = net.node(1).term();
    let want = vec![(
        3,
        LogPosition {
            term,
            index: applied,
        },
    )];
    assert_eq!(net.installs, want);
    let stored = net.disks[2].snapshot.as_ref().map(|s| s.data.clone());
    assert_eq!(stored, Some(data));
    let follower = net.node(3);
    assert_eq!(follower.snapshot_meta().map(|m| m.index), Some(applied));
    assert_eq!(follower.log().committed(), applied);
    assert!(
        net.node(1).stats().snapshot_chunks_sent >= 5,
        "4 chunks plus the resend"
    );
}

/// The leader holds its snapshot's bytes only while it sends them: it asks for them once
/// for a whole chunked transfer, lets them go when the follower has them, and asks again
/// for the next follower that falls behind.
#[test]
fn a_leader_asks_for_its_snapshot_once_per_transfer() {
    // Five nodes; 4 and 5 miss everything while five entries commit on 1, 2, 3.
    let mut net = Net::with(5, |c| c.snapshot_chunk_bytes = 10);
    net.elect(1);
    for i in 0..5 {
        net.step(1, Input::Propose { data: vec![i] }).unwrap();
    }
    net.deliver(|m| ![m.to, m.from].iter().any(|id| *id >= 4));
    let applied = net.node(1).log().applied();
    let data: Vec<u8> = (0..35).collect();
    net.step(
        1,
        Input::Snapshot {
            index: applied,
            data,
        },
    )
    .unwrap();
    assert_eq!(net.snapshots_handed_back, 0, "no follower needed it yet");
    let heartbeat = net.node(1).config().heartbeat_ticks;
    let rounds = |net: &mut Net, keep: &dyn Fn(&Message) -> bool| {
        for _ in 0..20 {
            net.tick(1, heartbeat);
            net.deliver(keep);
        }
    };
    // Node 4 catches up by snapshot (four chunks) while node 5 still hears nothing.
    rounds(&mut net, &|m| m.to != 5 && m.from != 5);
    let position = net.node(1).log().snapshot_position();
    assert_eq!(net.installs, vec![(4, position)]);
    assert_eq!(net.snapshots_handed_back, 1, "four chunks, one hand-back");
    // Node 5 is let in: the bytes were let go after node 4's transfer, so again.
    rounds(&mut net, &|_| true);
    assert_eq!(net.installs, vec![(4, position), (5, position)]);
    assert_eq!(net.snapshots_handed_back, 2);
    assert!(!net.node(1).snapshot_wanted());
}

/// A snapshot handed in again at the same index while a transfer is under way does not
/// switch the transfer to those bytes: the follower gets the bytes it started on.
#[test]
fn a_transfer_keeps_the_bytes_it_started_with() {
    let (mut net, applied, data) = compacted_past_follower_3();
    let heartbeat = net.node(1).config().heartbeat_ticks;
    let mut handed_again = false;
    for _ in 0..500 {
        if net.queue.is_empty() {
            net.tick(1, heartbeat);
            continue;
        }
        let m = net.queue.remove(0);
        net.inject(m);
        let started = net
            .node(1)
            .progress(3)
            .is_some_and(|p| p.snapshot_offset_bytes > 0);
        if started && !handed_again {
            let other = Input::Snapshot {
                index: applied,
                data: vec![0xee; 35],
            };
            net.step(1, other).unwrap();
            handed_again = true;
        }
    }
    assert!(handed_again, "the schedule reached a transfer under way");
    assert_eq!(net.installs.len(), 1);
    let stored = net.disks[2].snapshot.as_ref().map(|s| s.data.clone());
    assert_eq!(stored, Some(data));
}

/// At the latest snapshot's index, a snapshot handed in unasked is accepted and changes
/// nothing: no compaction, no write.
#[test]
fn a_snapshot_at_the_latest_snapshots_index_writes_nothing() {
    let mut net = net_with_commits(2, 1024, 0);
    let applied = net.node(1).log().applied();
    let snapshot = |data: u8| Input::Snapshot {
        index: applied,
        data: vec![data],
    };
    let first = net.step_work(1, snapshot(1)).unwrap();
    assert_eq!(first.writes.len(), 1);
    let again = net.step_work(1, snapshot(2)).unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(net.disks[0].snapshot.as_ref().unwrap().data, vec![1]);
    assert_eq!(net.node(1).log().first_index(), applied + 1);
}

#[test]
fn snapshot_outside_the_applied_range_is_refused() {
    let mut net = net_with_commits(2, 1024, 0);
    let applied = net.node(1).log().applied();
    let err = net.step(
        1,
        Input::Snapshot {
            index: applied + 1,
            data: vec![],
        },
    );
    assert_eq!(
        err,
        Err(StepError::SnapshotOutOfRange {
            index: applied + 1,
            first: 1,
            applied
        })
    );
}

#[test]
fn read_index_confirms_with_a_quorum_round_sent_after_the_read() {
    let mut net = net_with_commits(1, 1024, 0);
    let committed = net.node(1).log().committed();
    net.step(1, Input::Read { id: 9 }).unwrap();
    assert!(
        net.reads.is_empty(),
        "not before a heartbeat round is acknowledged"
    );
    net.deliver(|_| true);
    assert_eq!(
        net.reads,
        vec![(
            1,
            ReadState {
                id: 9,
                index: committed
            }
        )]
    );
}

/// Reads that arrive together are confirmed by one heartbeat round, not one each.
#[test]
fn a_batch_of_reads_is_confirmed_by_one_round() {
    let mut net = net_with_commits(1, 1024, 0);
    let committed = net.node(1).log().committed();
    let ids = vec![3, 4, 5, 6];
    let work = net
        .step_work(1, Input::ReadBatch { ids: ids.clone() })
        .unwrap();
    let heartbeats = work.messages.iter();
    let heartbeats = heartbeats.filter(|m| matches!(m.body, MessageBody::Heartbeat { .. }));
    assert_eq!(
        heartbeats.count(),
        2,
        "one round: a heartbeat to each follower"
    );
    assert!(net.reads.is_empty(), "not before the round is acknowledged");
    net.deliver(|_| true);
    let confirmed = ids.iter().map(|&id| {
        (
            1,
            ReadState {
                id,
                index: committed,
            },
        )
    });
    assert_eq!(net.reads, confirmed.collect::<Vec<_>>());
    // All or none: a batch past the limit is refused whole, and at a follower too.
    let max = net.node(1).config().reads_pending_max;
    let too_many = Input::ReadBatch {
        ids: (100..).take(max + 1).collect(),
    };
    assert_eq!(net.step(1, too_many), Err(StepError::TooManyReads { max }));
    let at_follower = net.step(2, Input::ReadBatch { ids: vec![7, 8] });
    assert_eq!(at_follower, Err(StepError::NotLeader { leader: Some(1) }));
    assert_eq!(
        net.step_work(1, Input::ReadBatch { ids: vec![] })
            .map(|w| w.is_empty()),
        Ok(true)
    );
}

#[test]
fn isolated_leader_never_confirms_a_read_and_aborts_it_on_stepping_down() {
    let mut net = net_with_commits(1, 1024, 0);
    net.step(1, Input::Read { id: 4 }).unwrap();
    for _ in 0..300 {
        net.tick(1, 1);
        net.deliver(|m| m.from != 1 && m.to != 1);
    }
    assert!(net.reads.is_empty());
    assert_eq!(net.node(1).role(), Role::Follower);
    assert_eq!(net.reads_aborted, vec![(1, 4)]);
    assert_eq!(
        net.step(1, Input::Read { id: 5 }),
        Err(StepError::NotLeader { leader: None })
    );
}

#[test]
fn lease_reads_are_local_while_the_lease_holds_then_fall_back() {
    let mut net = Net::with(3, |c| c.read_mode = ReadMode::Lease);
    let leader = net.elect_any();
    let heartbeat = net.node(leader).config().heartbeat_ticks;
    net.tick(leader, heartbeat);
    net.deliver(|_| true);
    net.step(leader, Input::Read { id: 1 }).unwrap();
    assert_eq!(net.reads.len(), 1, "served at once from the lease");
    assert_eq!(net.node(leader).stats().reads_served_by_lease, 1);
    // Cut off, the lease runs out before the leader's check-quorum would notice.
    let lease = raft_core::lease_ticks(100, 50_000) as u32;
    net.tick(leader, lease);
    net.queue.clear();
    net.step(leader, Input::Read { id: 2 }).unwrap();
    assert_eq!(
        net.reads.len(),
        1,
        "expired lease: wait for a round instead"
    );
    assert_eq!(net.node(leader).role(), Role::Leader);
}

#[test]
fn lease_mode_requires_check_quorum() {
    let cfg = Config {
        read_mode: ReadMode::Lease,
        check_quorum: false,
        ..Config::new(1, vec![1, 2, 3])
    };
    assert!(Node::new(cfg, RestoredState::default()).is_err());
}

#[test]
fn transfer_to_a_caught_up_follower_elects_it_at_once() {
    let mut net = net_with_commits(2, 1024, 0);
    let term = net.node(1).term();
    net.step(1, Input::TransferLeadership { to: 3 }).unwrap();
    assert!(
        net.queue
            .iter()
            .any(|m| m.to == 3 && m.body == MessageBody::TimeoutNow),
        "3 is caught up: TimeoutNow goes out immediately"
    );
    net.deliver(|_| true);
    assert_eq!(net.node(3).role(), Role::Leader);
    assert_eq!(net.node(3).term(), term + 1);
    assert_eq!(net.node(1).role(), Role::Follower);
}

#[test]
fn transfer_refuses_proposals_and_is_abandoned_after_an_election_timeout() {
    let mut net = net_with_commits(2, 1024, 3);
    net.step(1, Input::TransferLeadership { to: 3 }).unwrap();
    assert_eq!(
        net.step(1, Input::Propose { data: vec![9] }),
        Err(StepError::TransferInProgress { to: 3 })
    );
    // 3 never answers, so it never catches up.
    for _ in 0..100 {
        net.tick(1, 1);
        net.deliver(|m| m.to != 3 && m.from != 3);
    }
    assert_eq!(net.node(1).role(), Role::Leader);
    assert_eq!(net.node(1).stats().transfers_abandoned, 1);
    assert!(net.step(1, Input::Propose { data: vec![9] }).is_ok());
}

#[test]
fn transfer_to_a_stranger_is_refused() {
    let mut net = net_with_commits(1, 1024, 0);
    assert_eq!(
        net.step(1, Input::TransferLeadership { to: 9 }),
        Err(StepError::NotAVoter { id: 9 })
    );
}

#[test]
fn a_batch_travels_in_one_append_per_follower() {
    let mut net = net_with_commits(0, 1024, 0);
    let batch: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i]).collect();
    let before = net.node(1).log().last_index();
    let work = net.step_work(1, Input::ProposeBatch { batch }).unwrap();
    assert_eq!(work.proposed.map(|p| p.index), Some(before + 5));
    let appends: Vec<usize> = work
        .messages
        .iter()
        .filter_map(|m| match &m.body {
            MessageBody::Append { entries, .. } => Some(entries.len()),
            _ => None,
        })
        .collect();
    assert_eq!(
        appends,
        vec![5, 5],
        "one append of five entries to each follower"
    );
}

#[test]
fn proposals_beyond_the_uncommitted_limit_are_refused_until_commit() {
    let mut net = Net::with(3, |c| c.uncommitted_bytes_max = 200);
    net.elect(1);
    // Followers are cut off: nothing commits, so the leader's backlog grows.
    let mut accepted = 0;
    let refused = loop {
        match net.step(1, Input::Propose { data: vec![0; 50] }) {
            Ok(()) => accepted += 1,
            Err(e) => break e,
        }
        net.queue.clear();
        assert!(accepted < 100, "the limit never kicked in");
    };
    assert!(
        matches!(refused, StepError::UncommittedLimit { .. }),
        "{refused:?}"
    );
    assert_eq!(accepted, 2, "74 bytes each: a third would make 222 > 200");
    // Once followers acknowledge, the backlog commits and proposals flow again.
    let heartbeat = net.node(1).config().heartbeat_ticks;
    net.tick(1, heartbeat);
    net.deliver(|_| true);
    assert!(net.step(1, Input::Propose { data: vec![0; 50] }).is_ok());
}

#[test]
fn every_byte_limit_can_be_unlimited() {
    let mut net = Net::with(3, |c| {
        c.inflight_bytes_max = Config::UNLIMITED;
        c.uncommitted_bytes_max = Config::UNLIMITED;
        c.append_bytes_max = Config::UNLIMITED;
        c.entry_bytes_max = Config::UNLIMITED;
        c.snapshot_chunk_bytes = Config::UNLIMITED;
        c.snapshot_bytes_max = Config::UNLIMITED;
        c.reads_pending_max = Config::UNLIMITED;
        assert_eq!(c.validate(), Ok(()));
    });
    net.elect(1);
    let batch: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; 1000]).collect();
    net.step(1, Input::ProposeBatch { batch }).unwrap();
    net.deliver(|m| m.to != 3);
    net.step(1, Input::Read { id: 1 }).unwrap();
    net.deliver(|m| m.to != 3);
    assert_eq!(net.reads.len(), 1, "the read is confirmed");
    // Node 3 missed everything; the leader compacts, so node 3 needs the snapshot, sent
    // in one chunk of unlimited size.
    let applied = net.node(1).log().applied();
    let data = vec![1; 4096];
    net.step(
        1,
        Input::Snapshot {
            index: applied,
            data,
        },
    )
    .unwrap();
    net.tick(1, 10);
    // Node 3 says it holds a prefix: the next chunk starts past 0 and still has no limit.
    let mut chunks_dropped = 0;
    net.deliver(|m| {
        let chunk = matches!(m.body, MessageBody::InstallSnapshot { .. });
        chunks_dropped += usize::from(chunk);
        !chunk
    });
    assert_eq!(chunks_dropped, 1);
    let term = net.node(1).term();
    let body = MessageBody::SnapshotResponse {
        index: applied,
        received_bytes: 100,
    };
    net.inject(Message {
        from: 3,
        to: 1,
        term,
        body,
    });
    net.deliver(|_| true);
    net.tick(1, 10);
    net.deliver(|_| true);
    let last = net.node(1).log().last_index();
    assert!((1..=3).all(|id| net.node(id).log().committed() == last));
    assert_eq!(
        net.installs,
        vec![(3, net.node(1).log().snapshot_position())]
    );
}
