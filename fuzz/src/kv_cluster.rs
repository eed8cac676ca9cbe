//! `kv_cluster`: 3–5 key/value servers (`kv_core::Server`: a Raft node, its pipeline and
//! the replicated store) and 1–3 clerks, driven by a schedule the input decodes into.
//! The schedule decides every delivery, loss and duplicate of Raft messages, client
//! requests and replies, every tick, crash and disk completion, and what each clerk
//! asks. The sim-kit `RaftWatch` checks every server step; at the end the clients'
//! history is checked for linearizability. A broken invariant or a history no order
//! explains panics, which is the finding.

use arbitrary::Arbitrary;

mod world;

pub use world::{Summary, World};

/// Actions per input, as in `raft_cluster`.
pub const ACTIONS_MAX: usize = 512;

/// What the cluster is built with, read from the front of the input.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Setup {
    /// 3, 4 or 5 servers (taken modulo).
    pub servers: u8,
    /// 1, 2 or 3 clerks (taken modulo).
    pub clerks: u8,
    pub pre_vote: bool,
    pub check_quorum: bool,
    /// Serve reads under a leader lease (only with check-quorum, which leases rest on).
    pub lease_reads: bool,
    /// Servers snapshot once their Raft state passes a few hundred bytes.
    pub snapshots: bool,
    pub seed: u64,
}

/// What a clerk is asked to do; keys come from a set of two, so operations collide.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Ask {
    Get { key: bool },
    Put { key: bool },
    Append { key: bool },
}

/// One step of the schedule. Server, clerk and packet numbers are taken modulo the
/// number there are, so every byte string decodes to a schedule that can be carried out.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Action {
    /// Deliver the i-th packet in flight (a Raft message, a request or a reply).
    Deliver(u8),
    Drop(u8),
    Duplicate(u8),
    /// Deliver the packets in flight now, in order.
    DeliverAll,
    Tick {
        server: u8,
        times: u8,
    },
    /// Tick every clerk (their retry timers) this many times.
    TickClerks(u8),
    /// Tick every server and clerk this many times, one tick each in turn.
    TickAll(u8),
    /// Server k loses power: unsynced writes are lost, and it restarts from its disk.
    Crash(u8),
    Persist(u8),
    PersistAll(u8),
    /// Cut the servers in two by this mask (clerks still reach every server, so a client
    /// may talk to a leader in the minority).
    Partition(u8),
    Heal,
    /// Clerk c starts an operation, if it has none outstanding.
    Submit {
        clerk: u8,
        ask: Ask,
    },
    /// This many rounds (taken modulo, at least one) of: every server's writes become
    /// durable, then the packets in flight are delivered.
    Settle(u8),
}

/// Ticks one action may carry (an election timeout is 10 to 19 ticks here).
const TICKS_PER_ACTION_MAX: u8 = 16;

/// Rounds one `Settle` action may carry.
const SETTLE_ROUNDS_MAX: u8 = 4;

/// The fuzz target.
pub fn run(data: &[u8]) {
    play(data);
}

/// [`run`], returning what the run reached (`None`: no setup decodes from it).
pub fn play(data: &[u8]) -> Option<Summary> {
    let (setup, actions) = describe(data);
    let mut world = World::new(setup?);
    for action in actions {
        world.act(action);
    }
    Some(world.finish())
}

/// The schedule `data` decodes to, for reading a finding.
pub fn describe(data: &[u8]) -> (Option<Setup>, Vec<Action>) {
    crate::schedule(data, ACTIONS_MAX)
}
