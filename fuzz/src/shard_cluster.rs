//! `shard_cluster`: the sharded key/value service (lab 4B). Two or three shard groups
//! of one to three `ShardGroup` servers each, one to three shard clerks, and the
//! administrator, all on one network the schedule drives. The administrator's Join,
//! Leave and Move take effect at once on a shard controller that is not replicated
//! here (the replicated controller is `shardctrl_cluster`'s); its answers to the
//! groups' and clerks' queries still travel the fuzzed network, so they arrive late,
//! twice or never. Shards therefore move between groups while servers crash, packets
//! are reordered and the network splits.
//!
//! Checked: every server step by its group's `RaftWatch`; a server that cannot apply
//! its own log or refuses its own disk; and at the end, once the network is healed,
//! that the groups all reach the controller's latest configuration with every shard
//! settled and every client's operation answered, within a bound (a stuck migration is
//! a finding), then a read of every key, and the whole client history checked for
//! linearizability as kv-sim checks its own.

use arbitrary::Arbitrary;

mod ctrl;
mod finish;
mod world;

pub use world::World;

/// Actions per input, as the other cluster targets.
pub const ACTIONS_MAX: usize = 512;

/// What the cluster is built with, read from the front of the input.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Setup {
    /// 2 or 3 groups (taken modulo).
    pub groups: u8,
    /// 1, 2 or 3 servers in every group (taken modulo).
    pub servers: u8,
    /// 1, 2 or 3 clerks (taken modulo).
    pub clerks: u8,
    /// Groups joined before the first action, bit g for group g + 1.
    pub joined: u8,
    pub pre_vote: bool,
    pub check_quorum: bool,
    /// Serve reads under a leader lease (only with check-quorum).
    pub lease_reads: bool,
    /// Servers snapshot once their Raft state passes a few hundred bytes.
    pub snapshots: bool,
    pub seed: u64,
}

/// What a clerk is asked; keys come from four, each in its own shard, so operations
/// collide and shards held by different groups are all in use.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Ask {
    Get { key: u8 },
    Put { key: u8 },
    Append { key: u8 },
}

/// One step of the schedule. Server, clerk, group, shard and packet numbers are taken
/// modulo the number there are, so every byte string decodes to a schedule that can
/// be carried out.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Action {
    /// Deliver the i-th packet in flight (Raft, a request or a reply of any kind).
    Deliver(u8),
    Drop(u8),
    Duplicate(u8),
    DeliverAll,
    Tick {
        server: u8,
        times: u8,
    },
    TickClerks(u8),
    /// Tick every server and clerk this many times, one tick each in turn.
    TickAll(u8),
    /// Server k loses power: unsynced writes are lost, and it restarts from its disk.
    Crash(u8),
    Persist(u8),
    PersistAll(u8),
    /// Cut the servers in two by this mask (bit k: server k); clerks and the
    /// controller still reach every server.
    Partition(u16),
    Heal,
    Submit {
        clerk: u8,
        ask: Ask,
    },
    /// This many rounds (taken modulo, at least one) of: every server's writes become
    /// durable, then the packets in flight are delivered.
    Settle(u8),
    /// The administrator joins group g, makes group g leave, or moves a shard to it.
    Join(u8),
    Leave(u8),
    Move {
        shard: u8,
        group: u8,
    },
}

/// Ticks one action may carry (an election timeout is 10 to 19 ticks here).
const TICKS_PER_ACTION_MAX: u8 = 16;

/// Rounds one `Settle` action may carry.
const SETTLE_ROUNDS_MAX: u8 = 4;

/// What a run reached.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub groups: usize,
    pub servers: usize,
    pub clerks: usize,
    /// Configurations the controller made.
    pub configs: u64,
    /// The most configurations any group stepped through during the schedule (before
    /// the end's settling).
    pub configs_stepped: u64,
    /// Shards a group installed after pulling them, during the schedule.
    pub shards_installed: u64,
    /// Shards a group kept parked (given to no group), during the schedule.
    pub shards_parked: u64,
    pub ops_called: u64,
    pub ops_ok: u64,
    pub crashes: u64,
    pub snapshots_taken: u64,
    pub snapshots_installed: u64,
    pub partitioned: u64,
    /// Ticks the end needed to settle every group and answer every client.
    pub settle_ticks: u64,
    pub check_unknown: bool,
}

/// The `shard_cluster` fuzz target.
pub fn run(data: &[u8]) {
    play(data);
}

/// A run, returning what it reached (`None`: no setup decodes from `data`).
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
