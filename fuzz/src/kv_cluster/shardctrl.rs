//! The shard controller under the `kv_cluster` harness (target `shardctrl_cluster`):
//! clerks join, leave and move groups and query configurations while the schedule
//! crashes, partitions and reorders; the history is checked against the controller
//! itself, run one operation at a time (`model::ReplicaModel`).

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use kv_core::{CtrlOp, CtrlOutcome, Gid, ShardCtrl};
use kv_sim::history::{Checked, HistoryOp};
use lincheck::Verdict;

use super::model::{operations, ReplicaModel};
use super::{Service, Summary, CHECK_BUDGET};

/// Groups the clerks name: few, so joins, leaves and moves collide.
const GROUPS: u8 = 4;

/// What a controller clerk is asked (groups 1–4, shards taken modulo the count).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum CtrlAsk {
    Join {
        gid: u8,
    },
    /// Two groups at once: all or nothing.
    JoinTwo {
        gid: u8,
    },
    Leave {
        gid: u8,
    },
    Move {
        shard: u8,
        gid: u8,
    },
    /// A configuration number (`None`: the latest; a number past it means the latest too).
    Query {
        num: Option<u8>,
    },
}

fn gid(g: u8) -> Gid {
    Gid::from(1 + g % GROUPS)
}

/// A group's servers, named as the deployment names them.
fn servers(gid: Gid) -> Vec<String> {
    (1..=3)
        .map(|i| format!("{}@127.0.0.1:{}", gid * 10 + i, 7000 + gid * 10 + i))
        .collect()
}

impl Service for ShardCtrl {
    type Ask = CtrlAsk;

    fn op(ask: CtrlAsk, _unique: u64) -> CtrlOp {
        let join = |gids: &[Gid]| CtrlOp::Join {
            groups: gids
                .iter()
                .map(|&g| (g, servers(g)))
                .collect::<BTreeMap<_, _>>(),
        };
        match ask {
            CtrlAsk::Join { gid: g } => join(&[gid(g)]),
            CtrlAsk::JoinTwo { gid: g } => join(&[gid(g), gid(g.wrapping_add(1))]),
            CtrlAsk::Leave { gid: g } => CtrlOp::Leave { gids: vec![gid(g)] },
            CtrlAsk::Move { shard, gid: g } => CtrlOp::Move {
                shard: usize::from(shard),
                gid: gid(g),
            },
            CtrlAsk::Query { num } => CtrlOp::Query {
                num: num.map(u64::from),
            },
        }
    }

    fn check(history: &[HistoryOp<CtrlOp, CtrlOutcome>]) -> Result<Checked, String> {
        let ops = operations(history);
        match lincheck::check(&ReplicaModel::<ShardCtrl>::default(), &ops, CHECK_BUDGET) {
            Verdict::Linearizable => Ok(Checked::Linearizable),
            Verdict::Unknown => Ok(Checked::Unknown),
            Verdict::NotLinearizable(why) => Err(format!(
                "controller history of {} operations is not linearizable:\n{why}",
                ops.len()
            )),
        }
    }
}

/// The `shardctrl_cluster` fuzz target.
pub fn run(data: &[u8]) {
    super::play::<ShardCtrl>(data);
}

/// [`run`], returning what the run reached.
pub fn play(data: &[u8]) -> Option<Summary> {
    super::play::<ShardCtrl>(data)
}
