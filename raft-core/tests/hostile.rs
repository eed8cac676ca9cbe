//! Property tests: well-typed but hostile input never panics a node and never breaks its
//! invariants. Messages carry terms and indexes drawn around the receiver's own (equal,
//! one off, past the log, past the jump limit, at and beyond the ceilings, `u64::MAX`),
//! from members, strangers and id 0, to nodes in every role; restored states are drawn
//! the same way. Run in both profiles (`cargo test` and `cargo test --release`).
//! `QUICKCHECK_TESTS=N` sets the number of cases per property.

mod common;

use common::Net;
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};

use raft_core::{
    Entry, EntryKind, HardState, Input, Membership, Message, MessageBody, Node, ReadMode,
    RestoredState, Role, Snapshot, SnapshotMeta, INDEX_MAX, TERM_JUMP_MAX, TERM_MAX,
};

/// A number chosen relative to a base (the receiver's term, or its last index).
#[derive(Clone, Copy, Debug)]
enum Num {
    Zero,
    One,
    Below,
    Same,
    Above,
    Far,
    AtJump,
    PastJump,
    Ceiling,
    PastCeiling,
    Max,
    Raw(u64),
}

impl Num {
    fn of(self, base: u64) -> u64 {
        match self {
            Num::Zero => 0,
            Num::One => 1,
            Num::Below => base.saturating_sub(1),
            Num::Same => base,
            Num::Above => base.saturating_add(1),
            Num::Far => base.saturating_add(100),
            Num::AtJump => base.saturating_add(TERM_JUMP_MAX),
            Num::PastJump => base.saturating_add(TERM_JUMP_MAX + 1),
            Num::Ceiling => TERM_MAX.max(INDEX_MAX),
            Num::PastCeiling => TERM_MAX.max(INDEX_MAX) + 1,
            Num::Max => u64::MAX,
            Num::Raw(v) => v,
        }
    }
}

impl Arbitrary for Num {
    fn arbitrary(g: &mut Gen) -> Self {
        // Mostly plausible values, so messages get past the first checks.
        let plausible = [Num::Below, Num::Same, Num::Same, Num::Above, Num::One];
        let extreme = [
            Num::Zero,
            Num::Far,
            Num::AtJump,
            Num::PastJump,
            Num::Ceiling,
            Num::PastCeiling,
            Num::Max,
            Num::Raw(u64::arbitrary(g)),
        ];
        if bool::arbitrary(g) || bool::arbitrary(g) {
            *g.choose(&plausible).unwrap()
        } else {
            *g.choose(&extreme).unwrap()
        }
    }
}

/// A message body with every number left relative.
#[derive(Clone, Debug)]
enum Body {
    PreVote(Num, Num),
    PreVoteResponse(bool),
    Vote(Num, Num, bool),
    VoteResponse(bool),
    Append {
        prev: (Num, Num),
        entries: Vec<(Num, Option<Num>)>,
        commit: Num,
    },
    AppendResponse(bool, Num, Option<Num>, Num),
    Heartbeat(Num, u64),
    HeartbeatResponse(u64),
    TimeoutNow,
    InstallSnapshot {
        index: Num,
        term: Num,
        voters: Vec<u8>,
        total: u8,
        offset: u8,
        len: u8,
    },
    SnapshotResponse(Num, u64),
}

impl Arbitrary for Body {
    fn arbitrary(g: &mut Gen) -> Self {
        let n = |g: &mut Gen| Num::arbitrary(g);
        match u8::arbitrary(g) % 11 {
            0 => Body::PreVote(n(g), n(g)),
            1 => Body::PreVoteResponse(bool::arbitrary(g)),
            2 => Body::Vote(n(g), n(g), bool::arbitrary(g)),
            3 => Body::VoteResponse(bool::arbitrary(g)),
            4 => Body::Append {
                prev: (n(g), n(g)),
                entries: (0..u8::arbitrary(g) % 4)
                    .map(|_| (n(g), bool::arbitrary(g).then(|| n(g))))
                    .collect(),
                commit: n(g),
            },
            5 => Body::AppendResponse(bool::arbitrary(g), n(g), Option::arbitrary(g), n(g)),
            6 => Body::Heartbeat(n(g), u64::arbitrary(g) % 8),
            7 => Body::HeartbeatResponse(u64::arbitrary(g)),
            8 => Body::TimeoutNow,
            9 => Body::InstallSnapshot {
                index: n(g),
                term: n(g),
                voters: (0..u8::arbitrary(g) % 4)
                    .map(|_| u8::arbitrary(g) % 5)
                    .collect(),
                total: u8::arbitrary(g) % 8,
                offset: u8::arbitrary(g) % 8,
                len: u8::arbitrary(g) % 8,
            },
            _ => Body::SnapshotResponse(n(g), u64::arbitrary(g) % 16),
        }
    }
}

#[derive(Clone, Debug)]
enum Action {
    Deliver { from: u8, term: Num, body: Body },
    Tick,
}

impl Arbitrary for Action {
    fn arbitrary(g: &mut Gen) -> Self {
        if u8::arbitrary(g) % 8 == 0 {
            return Action::Tick;
        }
        Action::Deliver {
            from: u8::arbitrary(g),
            term: Num::arbitrary(g),
            body: Body::arbitrary(g),
        }
    }
}

/// Turns relative numbers into a concrete message for `node`.
fn concrete(node: &Node, from: u8, term: Num, body: &Body) -> Message {
    let (t, last) = (node.term(), node.log().last_index());
    let from = match from % 6 {
        0 => 0,
        5 => 99,
        k => u64::from(k),
    };
    let term = term.of(t);
    let body = match body {
        Body::PreVote(i, lt) => MessageBody::PreVote {
            last_index: i.of(last),
            last_term: lt.of(t),
        },
        Body::PreVoteResponse(reject) => MessageBody::PreVoteResponse { reject: *reject },
        Body::Vote(i, lt, transfer) => MessageBody::Vote {
            last_index: i.of(last),
            last_term: lt.of(t),
            transfer: *transfer,
        },
        Body::VoteResponse(reject) => MessageBody::VoteResponse { reject: *reject },
        Body::Append {
            prev,
            entries,
            commit,
        } => append(prev, entries, commit, t, last),
        Body::AppendResponse(reject, index, conflict_term, conflict_index) => {
            MessageBody::AppendResponse {
                reject: *reject,
                index: index.of(last),
                conflict_term: conflict_term.map(|c| c.of(t)),
                conflict_index: conflict_index.of(last),
            }
        }
        Body::Heartbeat(commit, round) => MessageBody::Heartbeat {
            commit: commit.of(last),
            round: *round,
        },
        Body::HeartbeatResponse(round) => MessageBody::HeartbeatResponse { round: *round },
        Body::TimeoutNow => MessageBody::TimeoutNow,
        Body::InstallSnapshot { .. } => install_snapshot(body, t, last),
        Body::SnapshotResponse(index, received) => MessageBody::SnapshotResponse {
            index: index.of(last),
            received_bytes: *received,
        },
    };
    Message {
        from,
        to: node.id(),
        term,
        body,
    }
}

fn append(
    prev: &(Num, Num),
    entries: &[(Num, Option<Num>)],
    commit: &Num,
    t: u64,
    last: u64,
) -> MessageBody {
    let prev_index = prev.0.of(last);
    let entries = entries
        .iter()
        .enumerate()
        .map(|(i, (term, index))| Entry {
            term: term.of(t),
            // Mostly contiguous after prev_index; sometimes anywhere.
            index: index.map_or(prev_index.wrapping_add(i as u64 + 1), |n| n.of(last)),
            kind: EntryKind::Normal,
            data: vec![i as u8].into(),
        })
        .collect();
    MessageBody::Append {
        prev_index,
        prev_term: prev.1.of(t),
        entries,
        commit: commit.of(last),
    }
}

fn install_snapshot(body: &Body, t: u64, last: u64) -> MessageBody {
    let Body::InstallSnapshot {
        index,
        term,
        voters,
        total,
        offset,
        len,
    } = body
    else {
        unreachable!("called for InstallSnapshot only")
    };
    let voters = voters.iter().map(|&v| u64::from(v));
    MessageBody::InstallSnapshot {
        meta: Box::new(SnapshotMeta {
            index: index.of(last),
            term: term.of(t),
            membership: Membership::with_voters(voters),
        }),
        total_bytes: u64::from(*total),
        offset: u64::from(*offset),
        data: vec![7; usize::from(*len)],
    }
}

/// A node in a given role, inside a 3-node network (its peers are not stepped).
fn scenario(kind: u8) -> (Net, u64) {
    match kind % 7 {
        0 => (Net::new(3), 1),
        1 => committed_cluster(ReadMode::Safe),
        2 => {
            let (net, leader) = committed_cluster(ReadMode::Safe);
            (net, leader % 3 + 1)
        }
        3 => {
            let mut net = Net::new(3);
            tick_until(&mut net, 1, Role::PreCandidate);
            (net, 1)
        }
        4 => {
            let mut net = Net::with(3, |c| c.pre_vote = false);
            tick_until(&mut net, 1, Role::Candidate);
            (net, 1)
        }
        5 => compacted_cluster(),
        _ => {
            let (net, leader) = compacted_cluster();
            (net, leader % 3 + 1)
        }
    }
}

fn tick_until(net: &mut Net, id: u64, role: Role) {
    for _ in 0..1_000 {
        if net.node(id).role() == role {
            net.queue.clear();
            return;
        }
        net.tick(id, 1);
    }
    panic!("node {id} never became {role:?}");
}

/// Every clock runs until a leader is elected; it commits three entries. Returns it.
fn committed_cluster(mode: ReadMode) -> (Net, u64) {
    let mut net = Net::with(3, |c| c.read_mode = mode);
    let leader = net.elect_any();
    for i in 0..3u8 {
        net.step(leader, Input::Propose { data: vec![i] }).unwrap();
        net.deliver(|_| true);
    }
    net.queue.clear();
    (net, leader)
}

/// Lease mode; every node compacted its log into a snapshot.
fn compacted_cluster() -> (Net, u64) {
    let (mut net, leader) = committed_cluster(ReadMode::Lease);
    for id in 1..=3 {
        let applied = net.node(id).log().applied();
        let data = vec![1, 2, 3];
        net.step(
            id,
            Input::Snapshot {
                index: applied,
                data,
            },
        )
        .unwrap();
    }
    net.queue.clear();
    (net, leader)
}

/// What must hold after every step, whatever arrived.
fn intact(before: (u64, u64), node: &Node) -> Result<(), String> {
    let (term, committed) = (node.term(), node.log().committed());
    let log = node.log();
    let entries = log.entries(log.first_index(), log.last_index());
    let checks = [
        (term >= before.0, "term went down"),
        (committed >= before.1, "commit went down"),
        (term <= TERM_MAX, "term beyond the ceiling"),
        (log.last_index() <= INDEX_MAX, "index beyond the ceiling"),
        (committed <= log.last_index(), "commit beyond the log"),
        (log.last_term() <= term, "log holds a future term"),
        (
            entries.windows(2).all(|w| w[0].term <= w[1].term),
            "log terms decrease",
        ),
        (
            entries
                .first()
                .is_none_or(|e| e.term >= log.snapshot_position().term),
            "log terms decrease after the snapshot",
        ),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, what)) => Err(format!("{what}: term {term}, commit {committed}")),
        None => Ok(()),
    }
}

fn hostile_messages(kind: u8, actions: Vec<Action>) -> TestResult {
    let (mut net, id) = scenario(kind);
    for action in actions {
        let node = net.node(id);
        let before = (node.term(), node.log().committed());
        let input = match &action {
            Action::Tick => Input::Tick,
            Action::Deliver { from, term, body } => {
                Input::Message(concrete(node, *from, *term, body))
            }
        };
        let shown = format!("{input:?}");
        if let Err(e) = net.step(id, input) {
            return TestResult::error(format!("a message produced an error {e:?}: {shown}"));
        }
        if let Err(broken) = intact(before, net.node(id)) {
            return TestResult::error(format!("{broken} after {shown}"));
        }
    }
    TestResult::passed()
}

fn cases(default: u64) -> u64 {
    std::env::var("QUICKCHECK_TESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn hostile_messages_never_panic_a_node_in_any_role() {
    QuickCheck::new()
        .tests(cases(2_000))
        .max_tests(cases(2_000) * 10)
        .quickcheck(hostile_messages as fn(u8, Vec<Action>) -> TestResult);
}

/// A restored state drawn around a small base, or at the extremes.
#[derive(Clone, Debug)]
struct Restored {
    term: Num,
    vote: Option<u8>,
    commit: Num,
    snapshot: Option<(Num, Num, Vec<u8>)>,
    entries: Vec<(Num, Option<Num>, bool)>,
}

impl Arbitrary for Restored {
    fn arbitrary(g: &mut Gen) -> Self {
        let n = |g: &mut Gen| Num::arbitrary(g);
        Restored {
            term: n(g),
            vote: Option::arbitrary(g),
            commit: n(g),
            snapshot: bool::arbitrary(g).then(|| {
                let voters: Vec<u8> = (0..u8::arbitrary(g) % 4)
                    .map(|_| u8::arbitrary(g) % 5)
                    .collect();
                (n(g), n(g), voters)
            }),
            entries: (0..u8::arbitrary(g) % 6)
                .map(|_| (n(g), bool::arbitrary(g).then(|| n(g)), bool::arbitrary(g)))
                .collect(),
        }
    }
}

fn concrete_restored(r: &Restored) -> RestoredState {
    let base = 5;
    let snapshot = r.snapshot.as_ref().map(|(index, term, voters)| Snapshot {
        meta: SnapshotMeta {
            index: index.of(base),
            term: term.of(base),
            membership: Membership::with_voters(voters.iter().map(|&v| u64::from(v))),
        },
        data: vec![],
    });
    let first = snapshot
        .as_ref()
        .map_or(1, |s| s.meta.index.wrapping_add(1));
    let entries = r
        .entries
        .iter()
        .enumerate()
        .map(|(i, (term, index, conf))| Entry {
            term: term.of(base),
            index: index.map_or(first.wrapping_add(i as u64), |n| n.of(base)),
            kind: if *conf {
                EntryKind::Membership
            } else {
                EntryKind::Normal
            },
            data: if *conf {
                vec![1, 1, 1].into()
            } else {
                vec![].into()
            },
        })
        .collect();
    RestoredState {
        hard_state: HardState {
            term: r.term.of(base),
            vote: r.vote.map(u64::from),
            commit: r.commit.of(base),
        },
        snapshot,
        entries,
    }
}

fn hostile_restore(r: Restored, read_mode: bool, actions: Vec<Action>) -> TestResult {
    let mut cfg = raft_core::Config::new(1, vec![1, 2, 3]);
    if read_mode {
        cfg.read_mode = ReadMode::Lease;
    }
    let Ok(mut node) = Node::new(cfg, concrete_restored(&r)) else {
        return TestResult::passed(); // refused with a typed error: fine
    };
    for action in actions {
        let before = (node.term(), node.log().committed());
        let input = match &action {
            Action::Tick => Input::Tick,
            Action::Deliver { from, term, body } => {
                Input::Message(concrete(&node, *from, *term, body))
            }
        };
        let shown = format!("{input:?}");
        if node.step(input).is_err() {
            return TestResult::error(format!("error on {shown}"));
        }
        if let Err(broken) = intact(before, &node) {
            return TestResult::error(format!("{broken} after {shown}"));
        }
    }
    for _ in 0..300 {
        let _ = node.step(Input::Tick).unwrap();
    }
    TestResult::passed()
}

#[test]
fn hostile_restored_states_are_refused_or_run() {
    QuickCheck::new()
        .tests(cases(2_000))
        .max_tests(cases(2_000) * 10)
        .quickcheck(hostile_restore as fn(Restored, bool, Vec<Action>) -> TestResult);
}
