//! static_shards, join_leave, snapshot and miss_change; and, beyond the course,
//! every_group_leaves.

use kv_core::shardkv::ShardOp;
use sim_kit::Sim;

use super::{check_all, check_and_append, put_keys, report, world, OP_LIMIT_MS};
use crate::shard::{group_slots, ShardWorld, GIDS};

/// Two groups; one shut down → exactly the 5 keys of the other stay readable; restart →
/// all readable.
pub fn static_shards(seed: u64) {
    let mut w = world(seed, true, None);
    w.join(&[100]);
    w.join(&[101]);
    let (keys, values) = put_keys(&mut w, 10, 20);
    w.shutdown_group(101);
    for (i, k) in keys.iter().enumerate() {
        w.submit(i + 1, ShardOp::Get { key: k.clone() });
    }
    w.sleep_ms(2_000);
    let done = (1..=10).filter(|&c| w.client_idle(c)).count();
    if done != 5 {
        w.fail(&format!(
            "expected 5 Gets to complete with group 101 down, got {done}"
        ));
    }
    w.start_group(101);
    w.wait_clients(OP_LIMIT_MS);
    check_all(&mut w, &keys, &values);
    report(&w);
}

pub fn join_leave(seed: u64) {
    let mut w = world(seed, true, None);
    w.join(&[100]);
    let (keys, mut values) = put_keys(&mut w, 10, 5);
    w.join(&[101]);
    check_and_append(&mut w, &keys, &mut values);
    w.leave(&[100]);
    check_and_append(&mut w, &keys, &mut values);
    w.sleep_ms(1_000);
    check_all(&mut w, &keys, &values);
    w.sleep_ms(1_000);
    w.shutdown_group(100);
    check_all(&mut w, &keys, &values);
    report(&w);
}

/// Beyond the course (found by the `shard_cluster` fuzz target): every group leaves,
/// so the controller gives every shard to nobody, and then another group joins. The
/// data must come back from the group that last held it, and that group must not wait
/// forever for someone to take its shards. Twice over, so the second holder is a
/// group that got the data the first time.
pub fn every_group_leaves(seed: u64) {
    let mut w = world(seed, true, None);
    w.join(&[100]);
    let (keys, mut values) = put_keys(&mut w, 10, 5);
    w.leave(&[100]);
    w.join(&[101]);
    check_and_append(&mut w, &keys, &mut values);
    w.leave(&[101]);
    w.join(&[100, 102]);
    check_and_append(&mut w, &keys, &mut values);
    w.sleep_ms(1_000);
    check_all(&mut w, &keys, &values);
    report(&w);
}

/// The course's bound on a group server's Raft state with maxraftstate 1000 (8×).
const SNAPSHOT_STATE_MAX_BYTES: usize = 8 * 1000;

fn check_raft_state_bounded(w: &ShardWorld) {
    for gid in GIDS {
        for slot in group_slots(gid) {
            let bytes = w.disk_raft_state_bytes(slot);
            if bytes > SNAPSHOT_STATE_MAX_BYTES {
                w.fail(&format!(
                    "server {} raft state {bytes} B > {SNAPSHOT_STATE_MAX_BYTES}",
                    slot + 1
                ));
            }
        }
    }
}

/// 30 keys across join/leave cycles with maxraftstate 1000; then every server restarts.
pub fn snapshot(seed: u64) {
    let mut w = world(seed, true, Some(1000));
    w.join(&[100]);
    let (keys, mut values) = put_keys(&mut w, 30, 20);
    w.join(&[101]);
    w.join(&[102]);
    w.leave(&[100]);
    check_and_append(&mut w, &keys, &mut values);
    w.leave(&[101]);
    w.join(&[100]);
    check_and_append(&mut w, &keys, &mut values);
    check_all(&mut w, &keys, &values);
    w.sleep_ms(1_000);
    check_all(&mut w, &keys, &values);
    w.sleep_ms(1_000);
    check_raft_state_bounded(&w);
    for gid in GIDS {
        w.shutdown_group(gid);
    }
    for gid in GIDS {
        w.start_group(gid);
    }
    check_all(&mut w, &keys, &values);
    report(&w);
}

/// One server of each group misses configuration changes (down while groups join and
/// leave), then restarts and catches up, twice (the course's sequence).
pub fn miss_change(seed: u64) {
    let mut w = world(seed, true, Some(1000));
    w.join(&[100]);
    let (keys, mut values) = put_keys(&mut w, 10, 20);
    w.join(&[101]);
    let nth = |gid, i: usize| group_slots(gid)[i];
    for gid in GIDS {
        w.crash(nth(gid, 0));
    }
    w.join(&[102]);
    w.leave(&[101]);
    w.leave(&[100]);
    check_and_append(&mut w, &keys, &mut values);
    w.join(&[101]);
    check_and_append(&mut w, &keys, &mut values);
    for gid in GIDS {
        w.start(nth(gid, 0));
        w.connect(nth(gid, 0));
    }
    check_and_append(&mut w, &keys, &mut values);
    w.sleep_ms(2_000);
    for gid in GIDS {
        w.crash(nth(gid, 1));
    }
    w.join(&[100]);
    w.leave(&[102]);
    check_and_append(&mut w, &keys, &mut values);
    for gid in GIDS {
        w.start(nth(gid, 1));
        w.connect(nth(gid, 1));
    }
    check_all(&mut w, &keys, &values);
    report(&w);
}
