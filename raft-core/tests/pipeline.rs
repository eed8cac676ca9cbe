//! The Ready contract as the pipeline carries it out: what leaves at once, what waits for
//! which write, and what each write means on disk.

mod common;

use common::Net;
use raft_core::{
    Entry, EntryKind, HardState, Input, LogPosition, Membership, Message, MessageBody,
    RestoredState, Snapshot, SnapshotMeta, SnapshotWrite, StepError, Work, Write,
};

fn entry(term: u64, index: u64) -> Entry {
    Entry {
        term,
        index,
        kind: EntryKind::Normal,
        data: vec![index as u8].into(),
    }
}

fn bodies(work: &Work) -> Vec<&MessageBody> {
    work.messages.iter().map(|m| &m.body).collect()
}

fn no_pre_vote() -> Net {
    Net::with(3, |c| c.pre_vote = false)
}

#[test]
fn vote_requests_wait_for_the_candidates_term_and_vote_to_be_durable() {
    let mut net = no_pre_vote();
    let work = net.nodes[0].campaign();
    assert!(work.messages.is_empty(), "nothing leaves before the write");
    assert_eq!(work.writes.len(), 1);
    let write = &work.writes[0];
    let hs = write.hard_state.expect("term and vote are written");
    assert_eq!((hs.term, hs.vote), (1, Some(1)));
    assert!(write.must_sync, "a vote is a promise: it syncs");
    assert_eq!(net.nodes[0].writes_in_flight(), 1);
    let after = net.nodes[0].persisted(write.id);
    let votes = bodies(&after)
        .into_iter()
        .filter(|b| matches!(b, MessageBody::Vote { .. }))
        .count();
    assert_eq!(votes, 2, "both peers are asked once the write is durable");
    assert_eq!(net.nodes[0].writes_in_flight(), 0);
}

#[test]
fn appends_leave_before_the_leaders_own_write_and_commit_waits_for_it() {
    let mut net = Net::new(3);
    net.elect(1);
    let leader = &mut net.nodes[0];
    let work = leader
        .step(Input::Propose {
            data: b"x".to_vec(),
        })
        .unwrap();
    let appends = work
        .messages
        .iter()
        .filter(|m| matches!(m.body, MessageBody::Append { .. }))
        .count();
    assert_eq!(
        appends, 2,
        "replication runs in parallel with the local write"
    );
    let at = work.proposed.expect("accepted").index;
    // Both followers acknowledge before the leader's own write completes.
    let mut writes = work.writes;
    for from in [2, 3] {
        let ack = ack(from, 1, leader.node().term(), at);
        let w = leader.receive(ack);
        assert!(w.applies.is_empty(), "nothing applies ahead of the writes");
        writes.extend(w.writes);
    }
    assert_eq!(leader.node().log().committed(), at, "a quorum of followers");
    let mut applied = Vec::new();
    for (i, w) in writes.iter().enumerate() {
        let released = leader.persisted(w.id);
        if i == 0 {
            assert!(
                released.applies.is_empty(),
                "the commit's own write is pending"
            );
        }
        let indexes = released.applies.iter().flat_map(|a| &a.committed);
        applied.extend(indexes.map(|e| e.index));
    }
    assert_eq!(
        applied,
        vec![at],
        "applied once every write before it is durable"
    );
}

fn ack(from: u64, to: u64, term: u64, index: u64) -> Message {
    Message {
        from,
        to,
        term,
        body: MessageBody::AppendResponse {
            reject: false,
            index,
            conflict_term: None,
            conflict_index: 0,
        },
    }
}

#[test]
fn a_commit_only_change_needs_no_sync() {
    let mut net = Net::new(3);
    net.elect(1);
    net.step(1, Input::Propose { data: vec![1] }).unwrap();
    // Node 2 gets the entry but not, yet, word that it committed.
    let append = net.take(|m| m.to == 2 && matches!(m.body, MessageBody::Append { .. }));
    net.inject(append[0].clone());
    let term = net.node(2).term();
    let commit = net.node(2).log().last_index();
    let heartbeat = Message {
        from: 1,
        to: 2,
        term,
        body: MessageBody::Heartbeat { commit, round: 99 },
    };
    assert!(net.node(2).log().committed() < commit);
    let work = net.nodes[1].receive(heartbeat);
    let write = &work.writes[0];
    assert!(write.entries.is_empty() && write.snapshot.is_none());
    assert_eq!(write.hard_state.map(|h| h.commit), Some(commit));
    assert!(!write.must_sync, "only the commit index moved");
}

#[test]
#[should_panic(expected = "but the oldest write in flight is")]
fn writes_reported_out_of_order_are_a_driver_bug() {
    let mut net = no_pre_vote();
    let first = net.nodes[0].campaign();
    let second = net.nodes[0].campaign();
    let _ = net.nodes[0].persisted(second.writes[0].id);
    drop(first);
}

#[test]
fn a_report_that_may_be_wrong_is_refused_with_nothing_changed() {
    let mut net = no_pre_vote();
    let first = net.nodes[0].campaign().writes[0].id;
    let second = net.nodes[0].campaign().writes[0].id;
    let p = &mut net.nodes[0];
    let refused = |id, oldest| Err(StepError::PersistedOutOfOrder { id, oldest });
    assert_eq!(
        p.try_persisted_observed(second, &mut ()),
        refused(second, Some(first))
    );
    assert_eq!(
        p.try_persisted_observed(u64::MAX, &mut ()),
        refused(u64::MAX, Some(first))
    );
    assert_eq!(p.writes_in_flight(), 2, "nothing was taken");
    assert!(p.try_persisted_observed(first, &mut ()).is_ok());
    assert!(p.try_persisted_observed(second, &mut ()).is_ok());
    assert_eq!(
        p.try_persisted_observed(second, &mut ()),
        refused(second, None)
    );
    assert_eq!(p.oldest_write_in_flight(), None);
    let as_input = p.step(Input::Persisted(LogPosition { index: 1, term: 1 }));
    assert_eq!(as_input, Err(StepError::PersistedAsInput));
}

#[test]
fn a_ready_with_nothing_to_write_waits_behind_the_writes_in_flight() {
    let mut net = Net::new(3);
    net.elect(1);
    net.step(1, Input::Propose { data: vec![1] }).unwrap();
    let append = net.take(|m| m.to == 2 && matches!(m.body, MessageBody::Append { .. }));
    let follower = &mut net.nodes[1];
    let first = follower.receive(append[0].clone());
    assert_eq!(first.writes.len(), 1, "the entry is being written");
    // The same append again (a duplicate on the wire): nothing new to write, but its
    // acknowledgement promises the entry is durable, so it waits for the first write.
    let again = follower.receive(append[0].clone());
    assert!(
        again.writes.is_empty() && again.messages.is_empty(),
        "{again:?}"
    );
    let released = follower.persisted(first.writes[0].id);
    let acks = bodies(&released)
        .into_iter()
        .filter(|b| matches!(b, MessageBody::AppendResponse { reject: false, .. }))
        .count();
    assert_eq!(
        acks, 2,
        "both acknowledgements leave once the entry is durable"
    );
}

#[test]
fn confirmed_reads_leave_at_once_while_writes_are_in_flight() {
    let mut net = Net::new(3);
    net.elect(1);
    let leader = &mut net.nodes[0];
    let proposal = leader.step(Input::Propose { data: vec![1] }).unwrap();
    let read = leader.step(Input::Read { id: 7 }).unwrap();
    let round = read
        .messages
        .iter()
        .find_map(|m| match m.body {
            MessageBody::Heartbeat { round, .. } => Some(round),
            _ => None,
        })
        .expect("a ReadIndex round");
    let term = leader.node().term();
    let reply = Message {
        from: 2,
        to: 1,
        term,
        body: MessageBody::HeartbeatResponse { round },
    };
    let confirmed = leader.receive(reply);
    let reads: Vec<(u64, u64)> = confirmed
        .applies
        .iter()
        .flat_map(|a| a.reads.iter().map(|r| (r.id, r.index)))
        .collect();
    let committed = leader.node().log().committed();
    assert_eq!(
        reads,
        vec![(7, committed)],
        "served once applied through {committed}"
    );
    assert_eq!(
        leader.writes_in_flight(),
        1,
        "the proposal is still being written"
    );
    drop(proposal);
}

fn snapshot(index: u64, term: u64) -> Snapshot {
    Snapshot {
        meta: SnapshotMeta {
            index,
            term,
            membership: Membership::with_voters([1, 2, 3]),
        },
        data: vec![],
    }
}

fn disk(entries: &[(u64, u64)]) -> RestoredState {
    RestoredState {
        hard_state: HardState::default(),
        snapshot: None,
        entries: entries.iter().map(|&(t, i)| entry(t, i)).collect(),
    }
}

fn write(snapshot: Option<SnapshotWrite>, entries: &[(u64, u64)]) -> Write {
    Write {
        id: 1,
        snapshot,
        hard_state: None,
        entries: entries.iter().map(|&(t, i)| entry(t, i)).collect(),
        must_sync: true,
    }
}

fn indexes(state: &RestoredState) -> Vec<(u64, u64)> {
    state.entries.iter().map(|e| (e.term, e.index)).collect()
}

#[test]
fn what_a_write_means_on_disk() {
    let log = [(1, 1), (1, 2), (1, 3), (1, 4)];
    type Case = (&'static str, Write, Vec<(u64, u64)>);
    let cases: Vec<Case> = vec![
        (
            "append",
            write(None, &[(1, 5)]),
            vec![(1, 1), (1, 2), (1, 3), (1, 4), (1, 5)],
        ),
        (
            "overwrite a suffix",
            write(None, &[(2, 3)]),
            vec![(1, 1), (1, 2), (2, 3)],
        ),
        (
            "a taken snapshot keeps later entries",
            write(Some(SnapshotWrite::Taken(snapshot(2, 1))), &[]),
            vec![(1, 3), (1, 4)],
        ),
        (
            "a received snapshot replaces the log",
            write(Some(SnapshotWrite::Received(snapshot(2, 1))), &[]),
            vec![],
        ),
        (
            "received, then entries after it",
            write(Some(SnapshotWrite::Received(snapshot(6, 2))), &[(2, 7)]),
            vec![(2, 7)],
        ),
    ];
    for (name, w, want) in cases {
        let mut state = disk(&log);
        w.apply_to(&mut state);
        assert_eq!(indexes(&state), want, "{name}");
    }
}

#[test]
#[should_panic(expected = "gap")]
fn a_write_that_leaves_a_gap_is_refused() {
    let mut state = disk(&[(1, 1)]);
    write(None, &[(1, 3)]).apply_to(&mut state);
}
