use super::*;
use crate::pipeline::{Apply, Work, Write};

fn entry(term: u64, index: u64, kind: EntryKind, data: &[u8]) -> Entry {
    Entry {
        term,
        index,
        kind,
        data: data.into(),
    }
}

fn cmd(term: u64, index: u64, data: &str) -> Entry {
    entry(term, index, EntryKind::Normal, data.as_bytes())
}

fn msg(from: u64, to: u64, term: u64, body: MessageBody) -> Message {
    Message {
        from,
        to,
        term,
        body,
    }
}

fn conf_entry(term: u64, index: u64, m: &Membership) -> Entry {
    let data = postcard::to_allocvec(m).unwrap();
    entry(term, index, EntryKind::Membership, &data)
}

fn snapshot(term: u64, index: u64, data: &str) -> Snapshot {
    Snapshot {
        meta: SnapshotMeta {
            index,
            term,
            membership: Membership::with_voters([1, 2, 3]),
        },
        data: data.as_bytes().to_vec(),
    }
}

#[test]
fn data_is_bare_quoted_or_hex_and_capped() {
    let show = |b: &[u8]| Data(b).to_string();
    assert_eq!(show(b""), "\"\"");
    assert_eq!(show(b"put-x=1,2"), "put-x=1,2");
    assert_eq!(show(b"two words"), "\"two words\"");
    assert_eq!(show(b"[x]"), "\"[x]\"", "brackets would read as notation");
    assert_eq!(show("é".as_bytes()), "\"é\"");
    assert_eq!(show(&[0, 255, 16]), "0x00ff10");
    assert_eq!(show(&[b'a'; 20]), "aaaaaaaaaaaaaaaa..+4");
    assert_eq!(show(&[7; 17]), "0x07070707070707070707070707070707..+1");
}

#[test]
fn entries_show_position_and_payload() {
    assert_eq!(cmd(3, 7, "x").to_string(), "3/7:x");
    assert_eq!(entry(2, 4, EntryKind::Empty, b"").to_string(), "2/4(noop)");
    let m = Membership {
        voters: [1, 2, 4].into(),
        voters_outgoing: [1, 2, 3].into(),
        learners: [5].into(),
        learners_next: [3].into(),
    };
    assert_eq!(
        conf_entry(1, 9, &m).to_string(),
        "1/9(voters=1,2,4 outgoing=1,2,3 learners=5 learners-next=3)"
    );
    assert_eq!(
        entry(1, 2, EntryKind::Membership, &[0xff]).to_string(),
        "1/2(bad-conf 0xff)"
    );
    assert_eq!(Membership::default().to_string(), "voters=-");
}

#[test]
fn hard_state_and_positions() {
    let hs = HardState {
        term: 3,
        vote: Some(1),
        commit: 5,
    };
    assert_eq!(hs.to_string(), "HardState t3 vote=1 commit=5");
    let none = HardState { vote: None, ..hs };
    assert_eq!(none.to_string(), "HardState t3 vote=- commit=5");
    assert_eq!(LogPosition { term: 2, index: 9 }.to_string(), "2/9");
}

/// Vote requests and answers, appends, TimeoutNow and snapshot chunks, each with its line.
fn request_cases() -> Vec<(MessageBody, &'static str)> {
    let meta = snapshot(2, 6, "").meta;
    vec![
        (
            MessageBody::PreVote {
                last_index: 5,
                last_term: 2,
            },
            "1->2 t3 PreVote last=2/5",
        ),
        (
            MessageBody::PreVoteResponse { reject: true },
            "1->2 t3 PreVoteResp reject",
        ),
        (
            MessageBody::Vote {
                last_index: 5,
                last_term: 2,
                transfer: true,
            },
            "1->2 t3 Vote last=2/5 transfer",
        ),
        (
            MessageBody::VoteResponse { reject: false },
            "1->2 t3 VoteResp ok",
        ),
        (
            MessageBody::Append {
                prev_index: 5,
                prev_term: 2,
                entries: vec![cmd(3, 6, "a"), entry(3, 7, EntryKind::Empty, b"")],
                commit: 5,
            },
            "1->2 t3 Append prev=2/5 commit=5 [3/6:a 3/7(noop)]",
        ),
        (
            MessageBody::Append {
                prev_index: 5,
                prev_term: 2,
                entries: vec![],
                commit: 5,
            },
            "1->2 t3 Append prev=2/5 commit=5",
        ),
        (MessageBody::TimeoutNow, "1->2 t3 TimeoutNow"),
        (
            MessageBody::InstallSnapshot {
                meta: Box::new(meta),
                total_bytes: 35,
                offset: 10,
                data: vec![0; 10],
            },
            "1->2 t3 InstallSnapshot 2/6 bytes=10..20/35",
        ),
    ]
}

/// Append answers, heartbeats and their answers, snapshot chunk answers.
fn response_cases() -> Vec<(MessageBody, &'static str)> {
    vec![
        (
            MessageBody::AppendResponse {
                reject: false,
                index: 7,
                conflict_term: None,
                conflict_index: 0,
            },
            "1->2 t3 AppendResp ok index=7",
        ),
        (
            MessageBody::AppendResponse {
                reject: true,
                index: 5,
                conflict_term: Some(2),
                conflict_index: 3,
            },
            "1->2 t3 AppendResp reject index=5 hint=2/3",
        ),
        (
            MessageBody::AppendResponse {
                reject: true,
                index: 5,
                conflict_term: None,
                conflict_index: 2,
            },
            "1->2 t3 AppendResp reject index=5 hint=-/2",
        ),
        (
            MessageBody::Heartbeat {
                commit: 4,
                round: 9,
            },
            "1->2 t3 Heartbeat commit=4 round=9",
        ),
        (
            MessageBody::HeartbeatResponse { round: 9 },
            "1->2 t3 HeartbeatResp round=9",
        ),
        (
            MessageBody::SnapshotResponse {
                index: 6,
                received_bytes: 20,
            },
            "1->2 t3 SnapshotResp index=6 received=20",
        ),
    ]
}

#[test]
fn every_message_kind_on_one_line() {
    let cases = request_cases().into_iter().chain(response_cases());
    for (body, want) in cases {
        let kind = body.kind_name();
        let line = msg(1, 2, 3, body).to_string();
        assert_eq!(line, want);
        assert!(
            line.starts_with(&format!("1->2 t3 {kind}")),
            "{line} names its kind"
        );
        assert!(!line.contains('\n'));
    }
}

#[test]
fn inputs() {
    let cases = vec![
        (Input::Tick, "Tick"),
        (Input::Campaign, "Campaign"),
        (
            Input::Message(msg(2, 1, 1, MessageBody::VoteResponse { reject: false })),
            "Message 2->1 t1 VoteResp ok",
        ),
        (
            Input::Propose {
                data: b"x".to_vec(),
            },
            "Propose x",
        ),
        (
            Input::ProposeBatch {
                batch: vec![b"a".to_vec(), b"b c".to_vec()],
            },
            "ProposeBatch [a \"b c\"]",
        ),
        (
            Input::Persisted(LogPosition { term: 1, index: 3 }),
            "Persisted 1/3",
        ),
        (
            Input::Snapshot {
                index: 4,
                data: b"a,b".to_vec(),
            },
            "Snapshot index=4 data=a,b",
        ),
        (Input::Read { id: 9 }, "Read 9"),
        (Input::ReadBatch { ids: vec![9, 10] }, "ReadBatch [9, 10]"),
        (Input::Ticks { count: 7 }, "Ticks 7"),
        (
            Input::TransferLeadership { to: 3 },
            "TransferLeadership to=3",
        ),
        (
            Input::ChangeMembership {
                changes: vec![
                    ConfChange::AddVoter(4),
                    ConfChange::AddLearner(5),
                    ConfChange::Remove(3),
                ],
            },
            "ChangeMembership add-voter=4 add-learner=5 remove=3",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(input.to_string(), want);
    }
}

fn full_ready() -> Ready {
    let vote = |reject| MessageBody::VoteResponse { reject };
    Ready {
        hard_state: Some(HardState {
            term: 1,
            vote: Some(1),
            commit: 5,
        }),
        must_sync: true,
        entries: vec![cmd(1, 7, "x"), cmd(1, 8, "y")],
        messages: vec![msg(
            1,
            2,
            1,
            MessageBody::Heartbeat {
                commit: 5,
                round: 1,
            },
        )],
        messages_after_persist: vec![msg(1, 3, 1, vote(false))],
        committed: vec![cmd(1, 5, "w")],
        snapshot: Some(SnapshotWrite::Taken(snapshot(1, 4, "abc"))),
        reads: vec![ReadState { id: 9, index: 5 }],
        reads_aborted: vec![4],
        proposed: Some(LogPosition { term: 1, index: 8 }),
        membership: Some(Membership::with_voters([1, 2, 3])),
    }
}

#[test]
fn ready_prints_one_part_per_line_in_contract_order() {
    let want = "\
snapshot taken 1/4 voters=1,2,3 data=abc
HardState t1 vote=1 commit=5
entries 1/7:x 1/8:y
must-sync
send 1->2 t1 Heartbeat commit=5 round=1
after-persist 1->3 t1 VoteResp ok
committed 1/5:w
reads 9@5
aborted 4
proposed 1/8
membership voters=1,2,3";
    assert_eq!(full_ready().to_string(), want);
}

#[test]
fn ready_omits_empty_parts() {
    assert_eq!(Ready::default().to_string(), "");
    let only_commit = Ready {
        committed: vec![cmd(2, 3, "z")],
        ..Ready::default()
    };
    assert_eq!(only_commit.to_string(), "committed 2/3:z");
    let received = Ready {
        snapshot: Some(SnapshotWrite::Received(snapshot(2, 6, ""))),
        ..Ready::default()
    };
    assert_eq!(
        received.to_string(),
        "snapshot received 2/6 voters=1,2,3 data=\"\""
    );
}

#[test]
fn work_lists_sends_writes_applies_and_the_proposal() {
    let ready = full_ready();
    let work = Work {
        messages: ready.messages.clone(),
        writes: vec![Write {
            id: 3,
            snapshot: ready.snapshot.clone(),
            hard_state: ready.hard_state,
            entries: ready.entries.clone(),
            must_sync: true,
        }],
        applies: vec![Apply {
            install: Some(Box::new(snapshot(1, 4, "abc"))),
            committed: ready.committed.clone(),
            reads: ready.reads.clone(),
            reads_aborted: ready.reads_aborted.clone(),
            membership: ready.membership.clone().map(Box::new),
        }],
        proposed: ready.proposed,
    };
    let want = "\
send 1->2 t1 Heartbeat commit=5 round=1
write#3 sync: snapshot taken 1/4 voters=1,2,3 data=abc; HardState t1 vote=1 commit=5; entries 1/7:x 1/8:y
apply: install 1/4; committed 1/5:w; reads 9@5; aborted 4; membership voters=1,2,3
proposed 1/8";
    assert_eq!(work.to_string(), want);
    assert_eq!(Work::default().to_string(), "");
    let commit_only = Write {
        id: 4,
        snapshot: None,
        hard_state: Some(HardState {
            term: 1,
            vote: None,
            commit: 6,
        }),
        entries: vec![],
        must_sync: false,
    };
    assert_eq!(
        commit_only.to_string(),
        "write#4: HardState t1 vote=- commit=6"
    );
}
