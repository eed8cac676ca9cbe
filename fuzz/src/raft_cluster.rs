//! `raft_cluster`: 3–5 raft-core nodes, each in its `Pipeline`, driven by a schedule the
//! input decodes into. The schedule, not a PRNG, decides every delivery, loss,
//! duplicate, tick, crash and disk completion, so the fuzzer searches orderings and
//! faults directly. The sim-kit `RaftWatch` checks every step of every node; a broken
//! invariant panics, which is the finding.

use arbitrary::Arbitrary;

mod cluster;
mod summary;

pub use cluster::Cluster;
pub use summary::{role_index, Summary, INPUT_KINDS};

/// Actions per input: enough for several elections, crashes and commits, few enough that
/// one execution stays well under a millisecond.
pub const ACTIONS_MAX: usize = 512;

/// Ticks one `Tick` action may carry: an election timeout is 10 to 19 ticks here.
const TICKS_PER_ACTION_MAX: u8 = 16;

/// A `Tick` action whose count is at least this sleeps the node to its due tick and
/// hands the ticks in as one `Input::Ticks` (`Node::ticks_until_due`).
const SLEEP_SELECTOR_MIN: u8 = 192;

/// Rounds one `Settle` action may carry.
const SETTLE_ROUNDS_MAX: u8 = 4;

/// Entries one `ProposeBatch` action may carry.
pub(crate) const BATCH_ENTRIES_MAX: u8 = 8;

/// What the cluster is built with, read from the front of the input.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Setup {
    /// 3, 4 or 5 nodes (taken modulo).
    pub nodes: u8,
    pub pre_vote: bool,
    pub check_quorum: bool,
    /// Slots beyond the bootstrap voters (taken modulo, at most `nodes - 3`): they start
    /// with an empty configuration and take part once a membership change adds them.
    pub joiners: u8,
    /// Leader leases serve reads (`ReadMode::Lease`) instead of a ReadIndex round each.
    pub lease_reads: bool,
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
    /// Tick node k this many times (taken modulo, at least once), one at a time; from
    /// `SLEEP_SELECTOR_MIN` up, as many as it takes to its due tick, in one input.
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
    /// Tick every node this many times, one tick each in turn (taken modulo).
    TickAll(u8),
    /// Cut the network in two: the nodes whose bit is set on one side, the rest on the
    /// other. A message across the cut is lost when its turn to be delivered comes. No bit
    /// (or every bit) set heals it.
    Partition(u8),
    /// Heal the partition.
    Heal,
    /// Propose this many entries in one batch at node k (taken modulo, at least one).
    ProposeBatch {
        node: u8,
        count: u8,
    },
    /// Node k's application snapshots everything it has applied, compacting the log.
    Snapshot(u8),
    /// Node k proposes a membership change about `target` (see `cluster::changes` for
    /// what `kind` picks: one voter added, demoted or removed, or two at once, which goes
    /// through a joint configuration).
    ChangeMembership {
        node: u8,
        kind: u8,
        target: u8,
    },
    /// This many rounds (taken modulo, at least one) of: every node's writes become
    /// durable, then the messages in flight are delivered. A short input reaches a
    /// settled cluster in one action, and spends its bytes on the interleavings.
    Settle(u8),
}

/// The fuzz target: decodes `data` into a setup and a schedule and runs it. Panics on a
/// broken invariant; any byte string is a valid input otherwise.
pub fn run(data: &[u8]) {
    play(data);
}

/// [`run`], returning what the run reached (`None`: no setup decodes from it), so
/// tests can tell a corpus that exercises the protocol from one that only ticks.
pub fn play(data: &[u8]) -> Option<Summary> {
    let (setup, actions) = describe(data);
    let mut cluster = Cluster::new(setup?);
    for action in actions {
        cluster.act(action);
    }
    Some(cluster.summary())
}

/// The schedule `data` decodes to, for reading a finding (`Debug` of each action).
pub fn describe(data: &[u8]) -> (Option<Setup>, Vec<Action>) {
    crate::schedule(data, ACTIONS_MAX)
}
