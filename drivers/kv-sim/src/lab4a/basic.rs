//! The course's TestBasic: join/leave, historical queries across each server's
//! shutdown, Move, concurrent join/leave from ten clerks, minimal transfers.

use std::collections::BTreeMap;

use kv_core::{Config, CtrlOp, Gid};
use sim_kit::Sim;

use super::{check_stayed, report, servers, world, Run, NPARA};
use crate::world::CtrlWorld;

/// The course's NShards.
const SHARDS: usize = 10;

pub fn basic(seed: u64) {
    let mut w = world(seed);
    let history = join_leave(&mut w);
    historical_queries(&mut w, &history);
    moves(&mut w);
    let gids = concurrent_join_leave(&mut w);
    minimal_transfers(&mut w, &gids);
    report(&w);
}

pub(super) fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// One group and its servers, as a Join's argument.
pub(super) fn group(gid: Gid, servers: &[&str]) -> BTreeMap<Gid, Vec<String>> {
    BTreeMap::from([(gid, names(servers))])
}

/// "Basic leave/join": returns every configuration it made, with configuration 0.
fn join_leave(w: &mut CtrlWorld) -> Vec<Config> {
    let mut made = vec![w.query(0, None)];
    w.check(&[]);
    made.push(w.join(0, group(1, &["x", "y", "z"])));
    w.check(&[1]);
    made.push(w.join(0, group(2, &["a", "b", "c"])));
    w.check(&[1, 2]);
    let cfx = w.query(0, None);
    w.check_servers(&cfx, 1, &names(&["x", "y", "z"]));
    w.check_servers(&cfx, 2, &names(&["a", "b", "c"]));
    made.push(w.leave(0, &[1]));
    w.check(&[2]);
    made.push(w.leave(0, &[2]));
    w.check(&[]);
    made
}

/// "Historical queries": with each server in turn shut down, every configuration made
/// so far reads back unchanged.
fn historical_queries(w: &mut CtrlWorld, made: &[Config]) {
    for slot in 0..w.n() {
        w.crash(slot);
        for c in made {
            w.check_same(c);
        }
        w.restart(slot);
        w.connect(slot);
    }
}

/// "Move": shards 0..5 to group 503 and 5..10 to 504, one Move each; a Move that
/// changes an owner must make a new configuration (and here every Move makes one).
fn moves(w: &mut CtrlWorld) {
    let (gid3, gid4) = (503, 504);
    w.join(0, group(gid3, &["3a", "3b", "3c"]));
    w.join(0, group(gid4, &["4a", "4b", "4c"]));
    for shard in 0..SHARDS {
        let cf = w.query(0, None);
        let to = if shard < SHARDS / 2 { gid3 } else { gid4 };
        let num = w.move_shard(0, shard, to);
        let cf1 = w.query(0, None);
        if cf.shards[shard] != to && cf1.num <= cf.num {
            w.fail("Move should increase Config.Num");
        }
        if num != cf.num + 1 || cf1.shards[shard] != to {
            w.fail(&format!("Move of shard {shard} to {to}: {cf:?} -> {cf1:?}"));
        }
    }
    let cf2 = w.query(0, None);
    let want: Vec<Gid> = (0..SHARDS)
        .map(|s| if s < SHARDS / 2 { gid3 } else { gid4 })
        .collect();
    if cf2.shards != want {
        w.fail(&format!(
            "after the moves: {:?}, wanted {want:?}",
            cf2.shards
        ));
    }
    w.leave(0, &[gid3]);
    w.check(&[gid4]);
    w.leave(0, &[gid4]);
    w.check(&[]);
}

/// "Concurrent leave/join": ten clerks each join gid + 1000, join gid, leave
/// gid + 1000, all at once. Returns the gids left joined.
fn concurrent_join_leave(w: &mut CtrlWorld) -> Vec<Gid> {
    let gids: Vec<Gid> = (0..NPARA).map(|i| i * 10 + 100).collect();
    let scripts = gids
        .iter()
        .enumerate()
        .map(|(i, &gid)| {
            let ops = vec![
                CtrlOp::Join {
                    groups: group(gid + 1000, &[&format!("s{gid}a")]),
                },
                CtrlOp::Join {
                    groups: group(gid, &[&format!("s{gid}b")]),
                },
                CtrlOp::Leave {
                    gids: vec![gid + 1000],
                },
            ];
            (i + 1, ops)
        })
        .collect();
    w.run_concurrently(scripts);
    w.check(&gids);
    gids
}

/// "Minimal transfers after joins" and "after leaves": five groups join one at a time,
/// then leave one at a time (each step is checked minimal by `join` / `leave`); across
/// each run no shard changes hands between groups present before and after. Then,
/// beyond the course (where nothing has to move), seven groups leave at once and two
/// join, which moves shards, each step checked minimal.
fn minimal_transfers(w: &mut CtrlWorld, gids: &[Gid]) {
    let c1 = w.query(0, None);
    let newcomers: Vec<Gid> = (0..5).map(|i| NPARA + 1 + i).collect();
    for &gid in &newcomers {
        w.join(0, BTreeMap::from([(gid, servers(gid, &["a", "b", "c"]))]));
    }
    let c2 = w.check(&[gids, &newcomers].concat());
    if let Err(why) = check_stayed(&c1, &c2, Run::Joins) {
        w.fail(&why);
    }
    for &gid in &newcomers {
        w.leave(0, &[gid]);
    }
    let c3 = w.check(gids);
    if let Err(why) = check_stayed(&c2, &c3, Run::Leaves) {
        w.fail(&why);
    }
    w.leave(0, &gids[..7]);
    w.check(&gids[7..]);
    let joined = BTreeMap::from([(1, servers(1, &["a"])), (2, servers(2, &["a"]))]);
    w.join(0, joined);
    w.check(&[&gids[7..], &[1, 2][..]].concat());
}
