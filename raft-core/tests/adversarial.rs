//! Regression scripts for holes an adversarial review found: precise interleavings and
//! well-typed but hostile values that random simulation does not produce. Each test failed
//! on main at 2e42de3 (see issue 11).

mod common;

use common::Net;

use raft_core::{
    Config, Entry, EntryKind, HardState, Input, Membership, Message, MessageBody, Node, ReadMode,
    RestoreError, RestoredState, Role, Snapshot, SnapshotMeta, StepError, INDEX_HEADROOM,
    INDEX_MAX, TERM_JUMP_MAX, TERM_MAX,
};

fn entry(term: u64, index: u64) -> Entry {
    Entry {
        term,
        index,
        kind: EntryKind::Normal,
        data: vec![].into(),
    }
}

fn msg(from: u64, to: u64, term: u64, body: MessageBody) -> Message {
    Message {
        from,
        to,
        term,
        body,
    }
}

/// Ticks `id` alone until it reaches `role`.
fn tick_until(net: &mut Net, id: u64, role: Role) {
    for _ in 0..1_000 {
        if net.node(id).role() == role {
            return;
        }
        net.tick(id, 1);
    }
    panic!("node {id} never became {role:?}");
}

fn one(mut taken: Vec<Message>) -> Message {
    assert_eq!(taken.len(), 1, "expected exactly one message: {taken:?}");
    taken.remove(0)
}

/// Issue 11 item 1. M acknowledges leader L's heartbeat (so L's lease counts on M), then a
/// delayed higher-term rejection of M's old pre-vote clears M's idea of the leader. M must
/// still refuse C's vote until the lease it granted has run out, or C is elected and
/// commits while L serves a lease read at the old index.
#[test]
fn lease_survives_a_delayed_higher_term_rejection() {
    let mut net = Net::with(3, |c| c.read_mode = ReadMode::Lease);
    let l = net.elect_any();
    let others: Vec<u64> = (1..=3).filter(|&id| id != l).collect();
    let (m, c) = (others[0], others[1]);
    let t = net.node(l).term();
    // M and C stop hearing from L and pre-campaign; M's pre-vote to C is held back.
    net.queue.clear();
    tick_until(&mut net, m, Role::PreCandidate);
    let m_pre_vote_to_c = one(net.take(|x| x.from == m && x.to == c));
    net.queue.clear();
    tick_until(&mut net, c, Role::PreCandidate);
    // C wins its pre-vote with M's grant and campaigns for term t + 1.
    let c_pre_vote_to_m = one(net.take(|x| x.from == c && x.to == m));
    net.inject(c_pre_vote_to_m);
    let grant = one(net.take(|x| x.from == m && x.to == c));
    net.queue.clear();
    net.inject(grant);
    assert_eq!(net.node(c).role(), Role::Candidate);
    assert_eq!(net.node(c).term(), t + 1);
    let c_vote_to_m = one(net.take(|x| x.from == c && x.to == m));
    net.queue.clear();
    // C rejects M's old pre-vote at term t + 1; that rejection is delayed.
    net.inject(m_pre_vote_to_c);
    let delayed_rejection = one(net.take(|x| x.from == c && x.to == m));
    assert_eq!(
        delayed_rejection.body,
        MessageBody::PreVoteResponse { reject: true }
    );
    // L's heartbeat reaches M (not C); M's acknowledgement puts L's lease in force.
    let heartbeat = net.node(l).config().heartbeat_ticks;
    net.tick(l, heartbeat);
    let l_heartbeat_to_m = one(net.take(|x| x.from == l && x.to == m));
    net.inject(l_heartbeat_to_m);
    let ack = one(net.take(|x| x.from == m && x.to == l));
    net.queue.clear();
    net.inject(ack);
    net.queue.clear();
    // The delayed rejection arrives, then C's vote request.
    net.inject(delayed_rejection);
    assert_eq!(net.node(m).term(), t + 1);
    net.inject(c_vote_to_m);
    net.deliver(|x| x.from != l && x.to != l);
    assert_ne!(
        net.node(c).role(),
        Role::Leader,
        "M voted inside the lease it granted L"
    );
    let committed_elsewhere = net
        .node(c)
        .log()
        .committed()
        .max(net.node(m).log().committed());
    net.step(l, Input::Read { id: 1 }).unwrap();
    for (_, read) in net.reads.iter().filter(|(id, _)| *id == l) {
        assert!(
            read.index >= committed_elsewhere,
            "stale lease read at {} after {committed_elsewhere} committed elsewhere",
            read.index
        );
    }
}

/// Issue 11 item 2. A TimeoutNow campaign that fails must not mark later campaigns as
/// transfers: those would bypass other nodes' leases.
#[test]
fn transfer_flag_ends_with_its_campaign() {
    let mut net = Net::with(3, |c| c.pre_vote = false);
    net.elect(1);
    net.step(1, Input::TransferLeadership { to: 2 }).unwrap();
    let timeout_now = one(net.take(|x| x.body == MessageBody::TimeoutNow));
    net.queue.clear();
    net.inject(timeout_now);
    let t = net.node(2).term();
    let flagged = net.take(|x| matches!(x.body, MessageBody::Vote { transfer: true, .. }));
    assert_eq!(flagged.len(), 2, "the transfer campaign is flagged");
    // Its votes are lost; 2 times out and campaigns on its own.
    net.queue.clear();
    let ticks = 2 * net.node(2).config().election_ticks;
    for _ in 0..ticks {
        net.tick(2, 1);
        if net.node(2).term() > t {
            break;
        }
    }
    assert_eq!(net.node(2).term(), t + 1, "a second campaign");
    let votes: Vec<Message> = net.take(|x| x.term == t + 1);
    assert!(!votes.is_empty());
    for v in votes {
        assert!(
            matches!(
                v.body,
                MessageBody::Vote {
                    transfer: false,
                    ..
                }
            ),
            "an ordinary campaign claimed to be a transfer: {v:?}"
        );
    }
}

/// A 3-node cluster with leader 1 and a few committed entries, followers replicating.
fn replicating_cluster() -> Net {
    let mut net = Net::new(3);
    net.elect(1);
    for i in 0..3u8 {
        net.step(1, Input::Propose { data: vec![i] }).unwrap();
        net.deliver(|_| true);
    }
    net
}

fn assert_cluster_commits(net: &mut Net, leader: u64) {
    let before = net.node(leader).log().committed();
    net.step(leader, Input::Propose { data: vec![42] }).unwrap();
    net.deliver(|_| true);
    for id in 1..=3 {
        assert!(net.node(id).log().committed() > before, "node {id} lags");
    }
}

/// Issue 11 item 3. A rejection naming an index past the leader's log is malformed.
#[test]
fn rejection_beyond_the_leaders_log_is_dropped() {
    for index in [10, 1_000, u64::MAX - 1, u64::MAX] {
        let mut net = replicating_cluster();
        let (term, last) = (net.node(1).term(), net.node(1).log().last_index());
        assert!(last < 10);
        for conflict_term in [None, Some(term), Some(u64::MAX)] {
            let body = MessageBody::AppendResponse {
                reject: true,
                index,
                conflict_term,
                conflict_index: index,
            };
            net.inject(msg(2, 1, term, body));
        }
        assert_eq!(net.node(1).role(), Role::Leader);
        assert!(net.node(1).stats().dropped_malformed >= 1);
        assert_cluster_commits(&mut net, 1);
    }
}

fn restored(term: u64, snapshot: Option<(u64, u64)>, entries: Vec<Entry>) -> RestoredState {
    let snapshot = snapshot.map(|(index, term)| Snapshot {
        meta: SnapshotMeta {
            index,
            term,
            membership: Membership::with_voters([1, 2, 3]),
        },
        data: vec![],
    });
    let commit = snapshot.as_ref().map_or(0, |s| s.meta.index);
    RestoredState {
        hard_state: HardState {
            term,
            vote: None,
            commit,
        },
        snapshot,
        entries,
    }
}

fn append(prev: (u64, u64), entries: Vec<Entry>, term: u64) -> Message {
    let body = MessageBody::Append {
        prev_index: prev.0,
        prev_term: prev.1,
        entries,
        commit: 0,
    };
    msg(2, 1, term, body)
}

/// Issue 11 item 4. An append whose first entry's term is below `prev_term` would make
/// the log's terms go down.
#[test]
fn append_with_terms_below_prev_term_is_dropped() {
    let cfg = Config::new(1, vec![1, 2, 3]);
    // After a snapshot at (5, term 2).
    let mut node = Node::new(cfg.clone(), restored(2, Some((5, 2)), vec![])).unwrap();
    let _ = node.step(Input::Message(append((5, 2), vec![entry(1, 6)], 2)));
    assert_eq!(node.log().last_index(), 5);
    assert_eq!(node.stats().dropped_malformed, 1);
    // Over held entries.
    let held = vec![entry(1, 1), entry(2, 2)];
    let mut node = Node::new(cfg, restored(2, None, held)).unwrap();
    let _ = node.step(Input::Message(append((2, 2), vec![entry(1, 3)], 2)));
    assert_eq!(node.log().last_index(), 2);
    assert_eq!(node.stats().dropped_malformed, 1);
}

/// Issue 11 item 5. A snapshot claiming to end at an index with no successor.
#[test]
fn snapshot_at_extreme_indexes_is_dropped() {
    let cfg = Config::new(1, vec![1, 2, 3]);
    for index in [u64::MAX, u64::MAX - 1, u64::MAX / 2 + 1] {
        let mut node = Node::new(cfg.clone(), restored(1, None, vec![])).unwrap();
        let body = MessageBody::InstallSnapshot {
            meta: Box::new(SnapshotMeta {
                index,
                term: 1,
                membership: Membership::with_voters([1, 2, 3]),
            }),
            total_bytes: 1,
            offset: 0,
            data: vec![0],
        };
        let _ = node.step(Input::Message(msg(2, 1, 1, body))).unwrap();
        assert_eq!(node.log().last_index(), 0, "index {index}");
        assert_eq!(node.stats().dropped_malformed, 1);
    }
}

/// Ticks every node once and delivers everything, until a leader commits a proposal.
fn cluster_recovers(net: &mut Net) -> u64 {
    for _ in 0..2_000 {
        (1..=3).for_each(|id| net.tick(id, 1));
        net.deliver(|_| true);
        let leader = (1..=3).find(|&id| net.node(id).role() == Role::Leader);
        if let Some(l) = leader {
            let before = net.node(l).log().committed();
            if net.step(l, Input::Propose { data: vec![7] }).is_ok() {
                net.deliver(|_| true);
                if net.node(l).log().committed() > before {
                    return l;
                }
            }
        }
    }
    panic!("the cluster never elected a leader that commits");
}

/// Issue 11 item 6. One message at the largest term must not end the cluster.
#[test]
fn a_message_at_the_largest_term_does_not_end_the_cluster() {
    let bodies = [
        MessageBody::Heartbeat {
            commit: 0,
            round: 0,
        },
        MessageBody::PreVoteResponse { reject: true },
        MessageBody::Vote {
            last_index: u64::MAX,
            last_term: u64::MAX,
            transfer: true,
        },
        MessageBody::AppendResponse {
            reject: true,
            index: 0,
            conflict_term: None,
            conflict_index: 0,
        },
    ];
    for from in [2, 99] {
        for body in &bodies {
            let mut net = replicating_cluster();
            for to in 1..=3 {
                let sender = if from == to { 3 - to % 3 } else { from };
                net.inject(msg(sender, to, u64::MAX, body.clone()));
            }
            net.queue.clear();
            cluster_recovers(&mut net);
            for id in 1..=3 {
                assert!(net.node(id).term() < u64::MAX / 2, "{body:?}");
            }
        }
    }
}

/// Issue 11 item 7. A restored state no valid run can reach at these magnitudes is
/// refused up front rather than panicking on a later step.
#[test]
fn restore_refuses_terms_and_indexes_near_the_maximum() {
    let cfg = Config::new(1, vec![1, 2, 3]);
    let term_too_large = |term| RestoreError::TermTooLarge {
        term,
        max: TERM_MAX,
    };
    let index_too_large = |index| RestoreError::IndexTooLarge {
        index,
        max: INDEX_MAX,
    };
    let cases = [
        (restored(u64::MAX, None, vec![]), term_too_large(u64::MAX)),
        (
            restored(u64::MAX, None, vec![entry(u64::MAX, 1)]),
            term_too_large(u64::MAX),
        ),
        (
            restored(TERM_MAX + 1, None, vec![]),
            term_too_large(TERM_MAX + 1),
        ),
        (
            restored(2, Some((u64::MAX, 1)), vec![]),
            index_too_large(u64::MAX),
        ),
        (
            restored(2, Some((u64::MAX - 1, 1)), vec![entry(1, u64::MAX)]),
            index_too_large(u64::MAX),
        ),
        (
            restored(2, Some((INDEX_MAX, 1)), vec![entry(1, INDEX_MAX + 1)]),
            index_too_large(INDEX_MAX + 1),
        ),
    ];
    for (state, want) in cases {
        assert_eq!(Node::new(cfg.clone(), state).err(), Some(want));
    }
    // At the limits themselves a node starts and steps.
    let mut node = Node::new(
        cfg.clone(),
        restored(TERM_MAX, Some((INDEX_MAX, 1)), vec![]),
    )
    .unwrap();
    for _ in 0..1_000 {
        let _ = node.step(Input::Tick).unwrap();
    }
    assert_eq!(node.term(), TERM_MAX, "no campaign past the last term");
    assert!(node.stats().campaigns_refused_at_term_max > 0);
}

/// A node restored with its log at the index ceiling must not lead: a leader appends its
/// no-op at once, past `INDEX_MAX`. Found by `hostile.rs` (a restored snapshot at the
/// ceiling, then a TimeoutNow): neither a transfer nor a timeout makes it campaign.
#[test]
fn a_log_at_the_index_ceiling_does_not_campaign() {
    let cfg = Config::new(1, vec![1, 2, 3]);
    for last in [INDEX_MAX, INDEX_MAX - INDEX_HEADROOM + 1] {
        let mut node = Node::new(cfg.clone(), restored(5, Some((last, 5)), vec![])).unwrap();
        let _ = node.step(Input::Message(msg(2, 1, 5, MessageBody::TimeoutNow)));
        for _ in 0..1_000 {
            let _ = node.step(Input::Tick).unwrap();
        }
        assert_eq!(node.term(), 5, "no campaign with the log at {last}");
        assert_eq!(node.log().last_index(), last, "nothing appended");
        assert!(node.stats().campaigns_refused_at_term_max > 0);
    }
    // With the headroom left, it campaigns as usual.
    let room = INDEX_MAX - INDEX_HEADROOM;
    let mut node = Node::new(cfg, restored(5, Some((room, 5)), vec![])).unwrap();
    for _ in 0..1_000 {
        let _ = node.step(Input::Tick).unwrap();
    }
    assert_ne!(node.role(), Role::Follower, "it campaigns");
    assert_eq!(node.stats().campaigns_refused_at_term_max, 0);
}

/// The largest jump a node accepts still leaves room: the cluster adopts the term and
/// elects a leader in it.
#[test]
fn the_largest_accepted_term_jump_leaves_the_cluster_live() {
    let mut net = replicating_cluster();
    let t = net.node(1).term();
    let jump = t + TERM_JUMP_MAX;
    let body = MessageBody::AppendResponse {
        reject: true,
        index: 0,
        conflict_term: None,
        conflict_index: 0,
    };
    net.inject(msg(2, 1, jump, body.clone()));
    assert_eq!(net.node(1).term(), jump, "within the jump: adopted");
    net.inject(msg(2, 1, jump + TERM_JUMP_MAX + 1, body));
    assert_eq!(net.node(1).term(), jump, "beyond the jump: ignored");
    net.queue.clear();
    let leader = cluster_recovers(&mut net);
    assert!(net.node(leader).term() > jump);
}

/// Issue 11 item 12 (count_2b, seed 426074: 43 RPCs for 10 entries). Appends overtake
/// each other on the way; a follower rejects one that arrives before its predecessor, and
/// the leader falls back to probing with everything from the gap on. When the overtaken
/// append's acknowledgement then ends the probe, the probe is still on its way with the
/// rest: the leader must count it as in flight, not send those entries a third time.
#[test]
fn an_acknowledgement_ending_a_probe_does_not_resend_what_the_probe_carries() {
    let mut net = Net::new(3);
    net.elect(1);
    net.step(1, Input::Propose { data: vec![1] }).unwrap();
    let first = one(net.take(|x| x.to == 2));
    net.step(1, Input::Propose { data: vec![2] }).unwrap();
    let second = one(net.take(|x| x.to == 2));
    net.deliver(|x| x.to != 2 && x.from != 2); // node 3 keeps up
                                               // The second append overtakes the first: rejected, so the leader probes.
    net.inject(second);
    let rejection = one(net.take(|x| x.from == 2));
    net.inject(rejection);
    let probe = one(net.take(|x| x.to == 2));
    assert!(
        matches!(&probe.body, MessageBody::Append { entries, .. } if entries.len() == 2),
        "the probe carries both entries: {probe:?}"
    );
    // The first append arrives; its acknowledgement ends the probe.
    net.inject(first);
    let ack = one(net.take(|x| x.from == 2));
    net.inject(ack);
    let resent = net.take(|x| {
        x.to == 2 && matches!(&x.body, MessageBody::Append { entries, .. } if !entries.is_empty())
    });
    assert!(
        resent.is_empty(),
        "sent again what the probe carries: {resent:?}"
    );
    net.inject(probe);
    net.deliver(|_| true);
    let last = net.node(1).log().last_index();
    for id in 1..=3 {
        assert_eq!(net.node(id).log().committed(), last, "node {id}");
    }
}

fn is_vote_traffic(m: &Message) -> bool {
    matches!(
        m.body,
        MessageBody::PreVote { .. }
            | MessageBody::PreVoteResponse { .. }
            | MessageBody::Vote { .. }
            | MessageBody::VoteResponse { .. }
    )
}

/// Issue 11 item 15 (nemesis_lease_reads, seed 425719: a stale read). A read that arrives
/// before the new leader's first commit in its term waits for that commit, then for a
/// heartbeat round started after it. The round was numbered in a queue taken out of the
/// node for the call, so it restarted at 1, and acknowledgements of older heartbeats
/// confirmed the read at once: a deposed leader served it stale.
#[test]
fn a_read_waiting_for_the_first_commit_needs_a_fresh_round() {
    let mut net = Net::new(3);
    net.timeout(1);
    net.deliver(is_vote_traffic); // the opening entry's appends are lost
    assert_eq!(net.node(1).role(), Role::Leader);
    // A heartbeat round is acknowledged by both followers; the appends their answers
    // trigger are held.
    let heartbeat = net.node(1).config().heartbeat_ticks;
    net.tick(1, heartbeat);
    for m in net.take(|x| matches!(x.body, MessageBody::Heartbeat { .. })) {
        net.inject(m);
    }
    for m in net.take(|x| matches!(x.body, MessageBody::HeartbeatResponse { .. })) {
        net.inject(m);
    }
    let append_to_2 = one(net.take(|x| x.to == 2 && matches!(x.body, MessageBody::Append { .. })));
    net.queue.clear();
    net.step(1, Input::Read { id: 1 }).unwrap();
    // The opening entry commits on node 2's acknowledgement.
    net.inject(append_to_2);
    let ack = one(net.take(|x| x.from == 2));
    net.inject(ack);
    assert!(net.node(1).log().committed() > 0);
    assert!(
        net.reads.is_empty(),
        "confirmed by acknowledgements older than the read: {:?}",
        net.reads
    );
    // Only the round started after the commit confirms it.
    net.deliver(|_| true);
    assert_eq!(net.reads.len(), 1);
}

/// Issue 11 item 8. The driver contract makes each `Ready`'s write atomic because its
/// prefixes are not valid states: a follower that appends entries and learns their
/// commit in one step hands a hard state whose commit is past what it held before; a
/// snapshot from a leader of a newer term comes with that term's hard state. A crash
/// between the two halves leaves what `Node::new` must refuse (it cannot tell a torn write
/// from corruption).
#[test]
fn prefixes_of_one_write_are_refused_so_writes_must_be_atomic() {
    let mut net = Net::new(3);
    net.elect(1);
    // Node 2 gets an entry that node 1 and 3 already committed, with that commit.
    let (term, last) = (net.node(2).term(), net.node(2).log().last_index());
    let body = MessageBody::Append {
        prev_index: last,
        prev_term: term,
        entries: vec![entry(term, last + 1)],
        commit: last + 1,
    };
    let work = net
        .step_work(2, Input::Message(msg(1, 2, term, body)))
        .unwrap();
    let write = &work.writes[0];
    let (hs, entries) = (write.hard_state, write.entries.clone());
    assert!(hs.is_some() && !entries.is_empty(), "one write, two halves");
    // Only the hard state reached the disk.
    let mut torn = net.node(2).hard_state();
    torn.commit = entries.last().unwrap().index;
    let before: Vec<Entry> = net.node(2).log().entries(1, entries[0].index - 1).to_vec();
    let state = RestoredState {
        hard_state: torn,
        snapshot: None,
        entries: before,
    };
    let cfg = Config::new(2, vec![1, 2, 3]);
    assert!(matches!(
        Node::new(cfg.clone(), state),
        Err(RestoreError::CommitBeyondLog { .. })
    ));
    // A leader's snapshot of term 3 stored, its hard state not.
    let state = RestoredState {
        hard_state: HardState {
            term: 2,
            vote: None,
            commit: 0,
        },
        ..restored(3, Some((9, 3)), vec![])
    };
    assert!(matches!(
        Node::new(cfg, state),
        Err(RestoreError::SnapshotBeyondHardState { .. })
    ));
}

#[test]
fn a_snapshot_beyond_the_limit_is_refused_with_a_typed_error() {
    let mut net = Net::with(3, |c| c.snapshot_bytes_max = 8);
    net.elect(1);
    let applied = net.node(1).log().applied();
    let too_big = Input::Snapshot {
        index: applied,
        data: vec![0; 9],
    };
    assert_eq!(
        net.step(1, too_big),
        Err(StepError::SnapshotTooLarge {
            size_bytes: 9,
            max_bytes: 8
        })
    );
    let fits = Input::Snapshot {
        index: applied,
        data: vec![0; 8],
    };
    assert_eq!(net.step(1, fits), Ok(()));
}

#[test]
fn chunks_of_an_oversized_snapshot_are_dropped_before_anything_is_buffered() {
    let mut net = Net::with(3, |c| c.snapshot_bytes_max = 1 << 20);
    net.elect(1);
    let term = net.node(2).term();
    let membership = net.node(2).membership().clone();
    let chunk = |total_bytes| MessageBody::InstallSnapshot {
        meta: Box::new(SnapshotMeta {
            index: 50,
            term,
            membership: membership.clone(),
        }),
        total_bytes,
        offset: 0,
        data: vec![7; 16],
    };
    for total_bytes in [u64::MAX, (1 << 20) + 1] {
        let work = net
            .step_work(2, Input::Message(msg(1, 2, term, chunk(total_bytes))))
            .unwrap();
        assert!(work.is_empty(), "no reply, no write: {work:?}");
    }
    assert_eq!(net.node(2).stats().dropped_snapshot_too_large, 2);
    // At the limit, the first chunk is taken and the leader is asked for the next.
    let work = net
        .step_work(2, Input::Message(msg(1, 2, term, chunk(1 << 20))))
        .unwrap();
    assert!(matches!(
        work.messages[0].body,
        MessageBody::SnapshotResponse {
            received_bytes: 16,
            ..
        }
    ));
}
