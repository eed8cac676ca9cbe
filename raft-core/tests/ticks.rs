//! Logical time handed in lazily: `Node::ticks_until_due` says which tick may act next,
//! and `Input::Ticks` hands in many at once. A driver that sleeps until the due tick
//! must see exactly what it would have seen ticking one at a time.

mod common;
mod lossy_disk;

use common::Net;
use lossy_disk::Rng;
use raft_core::{Input, MessageBody, Role, StepError, TICKS_PER_INPUT_MAX};

/// Ticks node `id` once; returns whether the step sent anything or changed its role.
fn tick_acted(net: &mut Net, id: u64) -> bool {
    let role = net.node(id).role();
    let work = net.step_work(id, Input::Tick).unwrap();
    !work.is_empty() || net.node(id).role() != role
}

/// Ticks node `id` up to its due tick: every tick before it must do nothing, and the
/// count must fall by one each time. Returns whether the due tick itself acted.
fn tick_through_due(net: &mut Net, id: u64) -> bool {
    let due = net.node(id).ticks_until_due();
    for left in (2..=due).rev() {
        assert_eq!(net.node(id).ticks_until_due(), left);
        assert!(
            !tick_acted(net, id),
            "a tick {left} before the due one acted"
        );
    }
    assert_eq!(net.node(id).ticks_until_due(), 1);
    tick_acted(net, id)
}

#[test]
fn a_follower_is_due_when_its_election_timeout_expires() {
    let mut net = Net::new(3);
    let due = net.node(1).ticks_until_due();
    let election = net.node(1).config().election_ticks;
    assert!((election..2 * election).contains(&due), "due {due}");
    assert!(tick_through_due(&mut net, 1), "the due tick campaigns");
    assert_eq!(net.node(1).role(), Role::PreCandidate);
    assert!(net
        .queue
        .iter()
        .all(|m| matches!(m.body, MessageBody::PreVote { .. })));
}

#[test]
fn a_leader_is_due_at_its_next_heartbeat() {
    let mut net = Net::new(3);
    net.elect(1);
    let heartbeat = net.node(1).config().heartbeat_ticks;
    assert_eq!(net.node(1).ticks_until_due(), heartbeat);
    assert!(tick_through_due(&mut net, 1));
    let heartbeats = net.take(|m| matches!(m.body, MessageBody::Heartbeat { .. }));
    assert_eq!(heartbeats.len(), 2, "one heartbeat per follower");
    assert_eq!(net.node(1).ticks_until_due(), heartbeat);
}

#[test]
fn a_candidate_is_due_when_it_asks_for_votes_again() {
    let mut net = Net::new(3);
    net.timeout(1);
    net.take(|_| true); // its pre-vote requests are lost
    assert_eq!(net.node(1).role(), Role::PreCandidate);
    let heartbeat = net.node(1).config().heartbeat_ticks;
    assert!(net.node(1).ticks_until_due() <= heartbeat);
    assert!(tick_through_due(&mut net, 1), "it asks again");
    assert_eq!(net.take(|_| true).len(), 2, "one request per peer");
}

#[test]
fn a_leader_giving_up_a_transfer_is_due_then() {
    let mut net = Net::new(3);
    net.elect(1);
    // Node 3 misses an entry and never answers, so the transfer to it waits for it to
    // catch up and is given up after an election timeout; heartbeats come due on the way.
    net.step(1, Input::Propose { data: vec![1] }).unwrap();
    net.deliver(|m| m.to != 3);
    net.step(1, Input::TransferLeadership { to: 3 }).unwrap();
    let election = net.node(1).config().election_ticks;
    let mut ticks = 0;
    while net.node(1).stats().transfers_abandoned == 0 {
        net.take(|_| true);
        let due = net.node(1).ticks_until_due();
        tick_through_due(&mut net, 1);
        ticks += due;
        assert!(ticks <= election, "still transferring after {ticks} ticks");
    }
    assert_eq!(ticks, election, "given up exactly at the timeout");
}

#[test]
fn ticks_handed_in_at_once_are_capped() {
    let mut net = Net::new(3);
    let before = net.node(1).ticks_until_due();
    let count = TICKS_PER_INPUT_MAX + 1;
    assert_eq!(
        net.step(1, Input::Ticks { count }),
        Err(StepError::TooManyTicks {
            count,
            max: TICKS_PER_INPUT_MAX
        })
    );
    assert_eq!(net.node(1).ticks_until_due(), before, "refused whole");
    net.step(1, Input::Ticks { count: 0 }).unwrap();
    assert_eq!(
        net.node(1).ticks_until_due(),
        before,
        "zero ticks do nothing"
    );
    // The most a step takes: a node alone campaigns once per timeout, and stays up.
    net.step(
        1,
        Input::Ticks {
            count: TICKS_PER_INPUT_MAX,
        },
    )
    .unwrap();
    assert_eq!(net.node(1).role(), Role::PreCandidate);
    assert!(net.queue.len() > 100, "it asked for votes again and again");
}

/// Two copies of one cluster, fed the same random run, except that one is ticked one
/// tick at a time and the other sleeps to the due tick and hands them in as one
/// `Input::Ticks`. Everything they send, write and apply must be equal, and so must
/// every node's state as far as it shows.
fn twins_agree(seed: u64, ops: usize) {
    let (mut single, mut batched) = (Net::new(3), Net::new(3));
    let mut rng = Rng(seed);
    for op in 0..ops {
        let id = 1 + rng.below(3);
        match rng.below(10) {
            0..=3 => {
                let due = single.node(id).ticks_until_due();
                assert_eq!(batched.node(id).ticks_until_due(), due);
                let mut one_by_one = single.step_work(id, Input::Tick).unwrap();
                for _ in 1..due {
                    assert!(
                        one_by_one.is_empty(),
                        "seed {seed} op {op}: an early tick acted"
                    );
                    one_by_one.extend(single.step_work(id, Input::Tick).unwrap());
                }
                let at_once = batched.step_work(id, Input::Ticks { count: due }).unwrap();
                assert_eq!(one_by_one, at_once, "seed {seed} op {op}: node {id}");
            }
            4..=6 if !single.queue.is_empty() => {
                let i = rng.below(single.queue.len() as u64) as usize;
                let keep = rng.below(8) != 0;
                for net in [&mut single, &mut batched] {
                    let m = net.queue.remove(i);
                    if keep {
                        net.inject(m);
                    }
                }
            }
            7 => {
                let data = op.to_le_bytes().to_vec();
                let a = single.step(id, Input::Propose { data: data.clone() });
                assert_eq!(a, batched.step(id, Input::Propose { data }));
            }
            8 => {
                let read = Input::Read { id: op as u64 };
                assert_eq!(single.step(id, read.clone()), batched.step(id, read));
            }
            _ => {
                // A few single ticks, so timers are caught mid-way.
                let ticks = rng.below(4) as u32;
                single.tick(id, ticks);
                batched.step(id, Input::Ticks { count: ticks }).unwrap();
            }
        }
        assert_eq!(single.queue, batched.queue, "seed {seed} op {op}");
        for id in 1..=3 {
            let (a, b) = (single.node(id), batched.node(id));
            assert_eq!(
                (a.role(), a.hard_state(), a.leader(), a.ticks_until_due()),
                (b.role(), b.hard_state(), b.leader(), b.ticks_until_due()),
                "seed {seed} op {op}: node {id}"
            );
        }
    }
    assert_eq!(single.reads, batched.reads, "seed {seed}");
    assert_eq!(single.disks, batched.disks, "seed {seed}");
}

#[test]
fn sleeping_to_the_due_tick_changes_nothing() {
    let seeds: u64 = std::env::var("TICKS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    for seed in 1..=seeds {
        twins_agree(seed, 600);
    }
}
