//! Membership changes as scripts: learners, joint quorums, one change at a time, the
//! leader removing itself, and configurations surviving snapshots and restarts.

mod common;

use common::Net;
use raft_core::{
    ConfChange, Input, Membership, MembershipError, Node, RestoredState, Role, StepError,
};

fn change(net: &mut Net, leader: u64, changes: &[ConfChange]) -> Result<(), StepError> {
    let changes = changes.to_vec();
    net.step(leader, Input::ChangeMembership { changes })
}

fn propose(net: &mut Net, leader: u64, byte: u8) {
    net.step(leader, Input::Propose { data: vec![byte] })
        .unwrap();
}

fn voters(ids: &[u64]) -> Membership {
    Membership::with_voters(ids.iter().copied())
}

/// Voters 1–3, leader 1, node 4 started empty and added as a learner.
fn with_learner() -> Net {
    let mut net = Net::joining(3, 4, |_| {});
    net.elect(1);
    change(&mut net, 1, &[ConfChange::AddLearner(4)]).unwrap();
    net.deliver(|_| true);
    net.tick(1, 10); // a heartbeat round brings the learner up to date
    net.deliver(|_| true);
    net
}

#[test]
fn a_learner_catches_up_but_never_counts_toward_commit() {
    let mut net = with_learner();
    let want = voters(&[1, 2, 3])
        .apply(&[ConfChange::AddLearner(4)])
        .unwrap();
    for id in 1..=4 {
        assert_eq!(net.node(id).membership(), &want, "node {id}");
    }
    let last = net.node(1).log().last_index();
    assert_eq!(
        net.node(4).log().committed(),
        last,
        "the learner holds the log"
    );
    // Only the learner hears the next entry: the leader plus a learner is no quorum.
    propose(&mut net, 1, 9);
    net.deliver(|m| m.to == 4 || m.from == 4);
    assert_eq!(net.node(4).log().last_index(), last + 1);
    assert_eq!(
        net.node(1).log().committed(),
        last,
        "a learner's ack committed"
    );
    net.deliver(|_| true);
    net.tick(1, 10);
    net.deliver(|_| true);
    assert_eq!(net.node(1).log().committed(), last + 1);
    // A learner never campaigns, however long it waits.
    net.queue.clear();
    net.timeout(4);
    assert!(net.queue.is_empty(), "a learner sent {:?}", net.queue);
    assert_eq!(net.node(4).role(), Role::Follower);
}

#[test]
fn promotion_waits_until_the_learner_has_caught_up() {
    let mut net = with_learner();
    propose(&mut net, 1, 1);
    net.deliver(|m| m.to != 4);
    let committed = net.node(1).log().committed();
    assert_eq!(
        change(&mut net, 1, &[ConfChange::AddVoter(4)]),
        Err(StepError::LearnerBehind {
            id: 4,
            matched: committed - 1,
            committed
        })
    );
    net.tick(1, 10);
    net.deliver(|_| true);
    change(&mut net, 1, &[ConfChange::AddVoter(4)]).unwrap();
    net.deliver(|_| true);
    assert_eq!(net.node(4).membership(), &voters(&[1, 2, 3, 4]));
}

#[test]
fn one_change_at_a_time_and_only_valid_ones() {
    let mut net = Net::joining(3, 4, |_| {});
    net.elect(1);
    assert_eq!(
        change(&mut net, 1, &[ConfChange::Remove(9)]),
        Err(StepError::Membership(MembershipError::Unknown(9)))
    );
    assert_eq!(
        change(&mut net, 2, &[ConfChange::AddVoter(4)]),
        Err(StepError::NotLeader { leader: Some(1) })
    );
    change(&mut net, 1, &[ConfChange::AddVoter(4)]).unwrap();
    let index = net.node(1).log().last_index();
    assert_eq!(
        change(&mut net, 1, &[ConfChange::Remove(3)]),
        Err(StepError::ConfChangePending {
            index,
            committed: index - 1
        })
    );
    net.deliver(|_| true);
    change(&mut net, 1, &[ConfChange::Remove(3)]).unwrap();
}

#[test]
fn joint_configuration_needs_both_majorities_and_is_left_automatically() {
    // Shrink 1–5 to 1–3: joint ({1,2,3} and {1,2,3,4,5}) until the leave entry commits.
    let mut net = Net::new(5);
    net.elect(1);
    net.deliver(|_| true);
    let applied_before = net.node(1).stats().membership_changes_applied;
    change(&mut net, 1, &[ConfChange::Remove(4), ConfChange::Remove(5)]).unwrap();
    let joint_index = net.node(1).log().last_index();
    // Only 4 and 5 hear it. 1, 4, 5 are a majority of the voters in force (1–5), so the
    // joint entry commits, the joint configuration takes effect and the leader appends
    // the entry that leaves it.
    let only_4_5 = |m: &raft_core::Message| [4, 5].contains(&m.to) || [4, 5].contains(&m.from);
    net.deliver(only_4_5);
    assert_eq!(net.node(1).log().committed(), joint_index);
    assert!(net.node(1).membership().is_joint());
    assert_eq!(net.node(1).log().last_index(), joint_index + 1);
    // 1, 4, 5 are no majority of the incoming voters 1–3: the leave entry waits.
    net.tick(1, 10);
    net.deliver(only_4_5);
    assert_eq!(net.node(1).log().committed(), joint_index);
    net.deliver(|_| true);
    net.tick(1, 10);
    net.deliver(|_| true);
    let log = net.node(1).log();
    assert_eq!(
        log.last_index(),
        joint_index + 1,
        "the leave entry followed by itself"
    );
    assert_eq!(log.committed(), joint_index + 1);
    for id in 1..=3 {
        assert_eq!(net.node(id).membership(), &voters(&[1, 2, 3]), "node {id}");
    }
    let applied = net.node(1).stats().membership_changes_applied - applied_before;
    assert_eq!(
        applied, 2,
        "the joint configuration, then the incoming half alone"
    );
}

#[test]
fn a_leader_that_removes_itself_steps_down_once_the_removal_commits() {
    let mut net = Net::new(3);
    net.elect(1);
    change(&mut net, 1, &[ConfChange::Remove(1)]).unwrap();
    assert_eq!(net.node(1).role(), Role::Leader, "still leads until commit");
    net.deliver(|_| true);
    assert_eq!(net.node(1).role(), Role::Follower);
    assert_eq!(net.node(1).stats().leaderships_ended_by_removal, 1);
    assert_eq!(net.node(2).membership(), &voters(&[2, 3]));
    // The removed node never campaigns; the others elect a leader between them.
    net.queue.clear();
    net.timeout(1);
    assert!(net.queue.is_empty());
    // Node 3 must stop trusting the old leader's lease before it votes for node 2.
    let election_ticks = net.node(3).config().election_ticks;
    net.tick(3, election_ticks);
    net.elect(2);
    propose(&mut net, 2, 5);
    net.deliver(|_| true);
    assert_eq!(
        net.node(3).log().committed(),
        net.node(2).log().last_index()
    );
}

#[test]
fn configuration_travels_in_snapshots_and_survives_a_restart() {
    let mut net = Net::joining(3, 4, |_| {});
    net.elect(1);
    change(&mut net, 1, &[ConfChange::AddVoter(4)]).unwrap();
    net.deliver(|_| true);
    propose(&mut net, 1, 1);
    net.deliver(|_| true);
    let applied = net.node(1).log().applied();
    let data = vec![7; 3];
    net.step(
        1,
        Input::Snapshot {
            index: applied,
            data,
        },
    )
    .unwrap();
    let snapshot = net.disks[0].snapshot.clone().unwrap();
    assert_eq!(snapshot.meta.membership, voters(&[1, 2, 3, 4]));
    assert_eq!(net.node(1).snapshot_meta(), Some(&snapshot.meta));
    // Node 1 restarts with only the snapshot and its hard state: bootstrap says 1–3,
    // the snapshot says 1–4, and the snapshot wins.
    let restored = RestoredState {
        hard_state: net.node(1).hard_state(),
        snapshot: Some(snapshot),
        entries: Vec::new(),
    };
    let cfg = net.node(1).config().clone();
    let again = Node::new(cfg, restored).unwrap();
    assert_eq!(again.membership(), &voters(&[1, 2, 3, 4]));
}

#[test]
fn a_node_that_joined_knows_the_configuration_before_it_joined() {
    // No compaction: node 4 receives the log from index 1. The first leader's opening
    // entry records the bootstrap configuration, so a snapshot node 4 takes below the
    // entry that added it still names the voters in force there.
    let mut net = Net::joining(3, 4, |_| {});
    net.elect(1);
    change(&mut net, 1, &[ConfChange::AddVoter(4)]).unwrap();
    net.deliver(|_| true);
    net.tick(1, 10);
    net.deliver(|_| true);
    assert!(net.node(4).log().applied() >= 2);
    net.step(
        4,
        Input::Snapshot {
            index: 1,
            data: vec![],
        },
    )
    .unwrap();
    let meta = net.node(4).snapshot_meta().unwrap();
    assert_eq!(meta.membership, voters(&[1, 2, 3]));
    assert_eq!(net.node(4).membership(), &voters(&[1, 2, 3, 4]));
}
