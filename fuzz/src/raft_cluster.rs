//! `raft_cluster`: 3–5 raft-core nodes, each in its `Pipeline`, driven by a schedule the
//! input decodes into. The schedule, not a PRNG, decides every delivery, loss,
//! duplicate, tick, crash and disk completion, so the fuzzer searches orderings and
//! faults directly. The sim-kit `RaftWatch` checks every step of every node; a broken
//! invariant panics, which is the finding.

use arbitrary::{Arbitrary, Unstructured};

mod cluster;

pub use cluster::{Cluster, Summary};

/// Actions per input: enough for several elections, crashes and commits, few enough that
/// one execution stays well under a millisecond.
pub const ACTIONS_MAX: usize = 512;

/// Messages in flight; one sent beyond this is lost (which the network may always do).
pub const PENDING_MAX: usize = 128;

/// Ticks one `Tick` action may carry: an election timeout is 10 to 19 ticks here.
const TICKS_PER_ACTION_MAX: u8 = 16;

/// What the cluster is built with, read from the front of the input.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Setup {
    /// 3, 4 or 5 nodes (taken modulo).
    pub nodes: u8,
    pub pre_vote: bool,
    pub check_quorum: bool,
    /// Election jitter: each node's draws follow from it, so it is part of the schedule.
    pub seed: u64,
}

/// One step of the schedule. Node and message numbers are taken modulo the number
/// there are, so every byte string decodes to a schedule that can be carried out.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Action {
    /// Deliver the i-th message in flight.
    Deliver(u8),
    /// Lose the i-th message in flight.
    Drop(u8),
    /// Put a copy of the i-th message in flight back on the network.
    Duplicate(u8),
    /// Tick node k this many times (taken modulo, at least once).
    Tick {
        node: u8,
        times: u8,
    },
    /// Node k loses power: its writes not yet durable are gone, and it restarts from
    /// what is.
    Crash(u8),
    Propose(u8),
    Read(u8),
    Campaign(u8),
    TransferLeadership {
        node: u8,
        to: u8,
    },
    /// Node k's oldest write in flight becomes durable.
    Persist(u8),
    /// Every write node k has in flight becomes durable.
    PersistAll(u8),
    /// Deliver the messages in flight now, in order (not the ones this sends): lets a
    /// short input make progress instead of spelling out each delivery.
    DeliverAll,
}

/// The bug `FUZZ_BUG` names (`VoteTwice`, `CommitOldTerm`, `LocalReads`,
/// `LeaseFollowsLeader`, `SkipJoint`), planted in every node: a target that finds it
/// is shown to be able to.
#[cfg(feature = "bug-injection")]
fn planted_bug() -> Option<raft_core::InjectedBug> {
    use raft_core::InjectedBug as Bug;
    static BUG: std::sync::OnceLock<Option<Bug>> = std::sync::OnceLock::new();
    *BUG.get_or_init(|| {
        let name = std::env::var("FUZZ_BUG").ok()?;
        Some(match name.as_str() {
            "VoteTwice" => Bug::VoteTwice,
            "CommitOldTerm" => Bug::CommitOldTerm,
            "LocalReads" => Bug::LocalReads,
            "LeaseFollowsLeader" => Bug::LeaseFollowsLeader,
            "SkipJoint" => Bug::SkipJoint,
            other => panic!("FUZZ_BUG={other}: no such injected bug"),
        })
    })
}

/// The fuzz target: decodes `data` into a setup and a schedule and runs it. Panics on a
/// broken invariant; any byte string is a valid input otherwise.
pub fn run(data: &[u8]) {
    play(data);
}

/// [`run`], returning what the run reached (`None`: no setup decodes from it), so
/// tests can tell a corpus that exercises the protocol from one that only ticks.
pub fn play(data: &[u8]) -> Option<Summary> {
    let mut u = Unstructured::new(data);
    let setup = Setup::arbitrary(&mut u).ok()?;
    let mut cluster = Cluster::new(setup);
    for _ in 0..ACTIONS_MAX {
        if u.is_empty() {
            break;
        }
        let Ok(action) = Action::arbitrary(&mut u) else {
            break;
        };
        cluster.act(action);
    }
    Some(cluster.summary())
}

/// The schedule `data` decodes to, for reading a finding (`Debug` of each action).
pub fn describe(data: &[u8]) -> (Option<Setup>, Vec<Action>) {
    let mut u = Unstructured::new(data);
    let setup = Setup::arbitrary(&mut u).ok();
    let mut actions = Vec::new();
    while !u.is_empty() && actions.len() < ACTIONS_MAX {
        match Action::arbitrary(&mut u) {
            Ok(a) => actions.push(a),
            Err(_) => break,
        }
    }
    (setup, actions)
}
