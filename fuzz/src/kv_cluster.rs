//! `kv_cluster`: 3–5 servers of a replicated service (`kv_core::service::Server`: a Raft
//! node, its pipeline and the state machine) and 1–3 clerks, driven by a schedule the
//! input decodes into. The key/value store is the `kv_cluster` target; the shard
//! controller (`shardctrl`) is `shardctrl_cluster`.
//! The schedule decides every delivery, loss and duplicate of Raft messages, client
//! requests and replies, every tick, crash and disk completion, and what each clerk
//! asks. The sim-kit `RaftWatch` checks every server step; at the end the clients'
//! history is checked for linearizability. A broken invariant or a history no order
//! explains panics, which is the finding.

use std::fmt::Debug;
use std::time::Duration;

use arbitrary::Arbitrary;
use kv_core::{KvState, Op, Outcome, StateMachine};
use kv_sim::history::{Checked, HistoryOp};

pub mod model;
pub mod shardctrl;
mod world;

pub use world::{Summary, World};

/// The checker's budget for one history. A run's history is at most a few hundred
/// operations; running out is reported in the summary, never counted as a pass.
pub const CHECK_BUDGET: Duration = Duration::from_secs(5);

/// A replicated service the harness can drive: what its clients are asked, and how its
/// history is checked.
pub trait Service: StateMachine<Op: PartialEq> + 'static {
    /// What a clerk is asked, as the schedule spells it.
    type Ask: for<'a> Arbitrary<'a> + Debug + Clone + Copy;

    /// The operation `ask` means; `unique` differs for every operation of a run, so
    /// written values can be told apart.
    fn op(ask: Self::Ask, unique: u64) -> Self::Op;

    /// Checks the clients' history: `Err` says why no order explains it.
    fn check(history: &[HistoryOp<Self::Op, Self::Output>]) -> Result<Checked, String>;
}

/// A history check's verdict as a finding: panics with why the history is not
/// linearizable; otherwise whether the checker ran out of budget (never a pass).
pub(crate) fn unknown_or_panic(checked: Result<Checked, String>) -> bool {
    match checked {
        Ok(Checked::Linearizable) => false,
        Ok(Checked::Unknown) => true,
        Err(why) => panic!("{why}"),
    }
}

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

/// What a key/value clerk is asked to do; keys come from a set of two, so operations
/// collide.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Ask {
    Get { key: bool },
    Put { key: bool },
    Append { key: bool },
}

/// One step of the schedule. Server, clerk and packet numbers are taken modulo the
/// number there are, so every byte string decodes to a schedule that can be carried out.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Action<A> {
    /// Deliver the i-th packet in flight (a Raft message, a request or a reply).
    Deliver(u8),
    Drop(u8),
    Duplicate(u8),
    /// Deliver the packets in flight now, in order.
    DeliverAll,
    /// Tick server k this many times (taken modulo, at least once), one at a time; from
    /// `SLEEP_SELECTOR_MIN` up, as many as it takes to its due tick, in one input.
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
        ask: A,
    },
    /// This many rounds (taken modulo, at least one) of: every server's writes become
    /// durable, then the packets in flight are delivered.
    Settle(u8),
}

/// Ticks one action may carry (an election timeout is 10 to 19 ticks here).
const TICKS_PER_ACTION_MAX: u8 = 16;

/// A `Tick` action whose count is at least this sleeps the server to its due tick and
/// hands the ticks in as one `ServerInput::Ticks` (`Server::ticks_until_due`).
const SLEEP_SELECTOR_MIN: u8 = 192;

/// Rounds one `Settle` action may carry.
const SETTLE_ROUNDS_MAX: u8 = 4;

impl Service for KvState {
    type Ask = Ask;

    fn op(ask: Ask, unique: u64) -> Op {
        let key = |k: bool| if k { "b" } else { "a" }.to_string();
        let value = format!("v{unique}");
        match ask {
            Ask::Get { key: k } => Op::Get { key: key(k) },
            Ask::Put { key: k } => Op::Put { key: key(k), value },
            Ask::Append { key: k } => Op::Append { key: key(k), value },
        }
    }

    /// With the key/value model (partitioned by key), exactly as kv-sim checks its own.
    fn check(history: &[HistoryOp<Op, Outcome>]) -> Result<Checked, String> {
        kv_sim::history::check(history)
    }
}

/// The `kv_cluster` fuzz target.
pub fn run(data: &[u8]) {
    play::<KvState>(data);
}

/// A run of service `S`, returning what it reached (`None`: no setup decodes from it).
pub fn play<S: Service>(data: &[u8]) -> Option<Summary> {
    let (setup, actions) = describe::<S>(data);
    let mut world = World::<S>::new(setup?);
    for action in actions {
        world.act(action);
    }
    Some(world.finish())
}

/// The schedule `data` decodes to, for reading a finding.
pub fn describe<S: Service>(data: &[u8]) -> (Option<Setup>, Vec<Action<S::Ask>>) {
    crate::schedule(data, ACTIONS_MAX)
}
