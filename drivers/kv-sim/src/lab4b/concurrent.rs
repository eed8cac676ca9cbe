//! concurrent1/2/3 and unreliable1/2/3: appenders (or the random workload) while
//! groups join, leave, shut down and restart; plus linearizable_moves, this project's
//! history check under faults with keys whose shards move.

use std::collections::BTreeSet;

use kv_core::{CtrlOp, CtrlOutcome, Gid};
use rand::Rng;
use sim_kit::Sim;

use super::{check_all, check_and_append, put_keys, report, world, OP_LIMIT_MS};
use crate::shard::{ShardWorld, GIDS};

/// Starts the course's ten appender goroutines, client i + 1 on key i.
fn start_appenders(w: &mut ShardWorld, keys: &[String]) {
    for (i, k) in keys.iter().enumerate() {
        w.start_appender(i + 1, k);
    }
}

/// Stops the appenders, waits for them, and checks every key holds what was appended.
fn finish_appenders(w: &mut ShardWorld, keys: &[String], values: &mut [String]) {
    w.stop_appenders();
    w.wait_clients(OP_LIMIT_MS);
    for (i, v) in values.iter_mut().enumerate() {
        v.push_str(&w.appended(i + 1));
    }
    check_all(w, keys, values);
}

fn restart_all(w: &mut ShardWorld) {
    for gid in GIDS {
        w.shutdown_group(gid);
    }
    for gid in GIDS {
        w.start_group(gid);
    }
}

pub fn concurrent1(seed: u64) {
    let mut w = world(seed, true, Some(100));
    w.join(&[100]);
    let (keys, mut values) = put_keys(&mut w, 10, 5);
    start_appenders(&mut w, &keys);
    w.sleep_ms(150);
    w.join(&[101]);
    w.sleep_ms(500);
    w.join(&[102]);
    w.sleep_ms(500);
    w.leave(&[100]);
    for gid in GIDS {
        w.shutdown_group(gid);
        w.sleep_ms(100);
    }
    w.leave(&[102]);
    w.sleep_ms(100);
    for gid in GIDS {
        w.start_group(gid);
    }
    w.sleep_ms(100);
    w.join(&[100]);
    w.leave(&[101]);
    w.sleep_ms(500);
    w.join(&[101]);
    w.sleep_ms(1_000);
    finish_appenders(&mut w, &keys, &mut values);
    report(&w);
}

pub fn concurrent2(seed: u64) {
    let mut w = world(seed, true, None);
    w.join(&[101]);
    let (keys, mut values) = put_keys(&mut w, 10, 1);
    start_appenders(&mut w, &keys);
    w.join(&[100]);
    w.join(&[102]);
    w.sleep_ms(3_000);
    w.leave(&[100]);
    w.leave(&[102]);
    w.sleep_ms(3_000);
    w.shutdown_group(101);
    w.shutdown_group(102);
    w.sleep_ms(1_000);
    w.start_group(101);
    w.start_group(102);
    w.sleep_ms(2_000);
    finish_appenders(&mut w, &keys, &mut values);
    report(&w);
}

pub fn concurrent3(seed: u64) {
    let mut w = world(seed, true, Some(300));
    w.join(&[100]);
    let (keys, mut values) = put_keys(&mut w, 10, 1);
    start_appenders(&mut w, &keys);
    let t0 = w.now_us();
    while w.now_us() - t0 < 12_000 * sim_kit::MS {
        w.join(&[102]);
        w.join(&[101]);
        let pause = w.world.rng.gen_range(0..900);
        w.sleep_ms(pause);
        restart_all(&mut w);
        let pause = w.world.rng.gen_range(0..900);
        w.sleep_ms(pause);
        w.leave(&[101]);
        w.leave(&[102]);
        let pause = w.world.rng.gen_range(0..900);
        w.sleep_ms(pause);
    }
    w.sleep_ms(2_000);
    finish_appenders(&mut w, &keys, &mut values);
    report(&w);
}

pub fn unreliable1(seed: u64) {
    let mut w = world(seed, false, Some(100));
    w.join(&[100]);
    let (keys, mut values) = put_keys(&mut w, 10, 5);
    w.join(&[101]);
    w.join(&[102]);
    w.leave(&[100]);
    for _ in 0..2 {
        check_and_append(&mut w, &keys, &mut values);
    }
    w.join(&[100]);
    w.leave(&[101]);
    for _ in 0..2 {
        check_all(&mut w, &keys, &values);
    }
    report(&w);
}

pub fn unreliable2(seed: u64) {
    let mut w = world(seed, false, Some(100));
    w.join(&[100]);
    let (keys, mut values) = put_keys(&mut w, 10, 5);
    start_appenders(&mut w, &keys);
    w.sleep_ms(150);
    w.join(&[101]);
    w.sleep_ms(500);
    w.join(&[102]);
    w.sleep_ms(500);
    w.leave(&[100]);
    w.sleep_ms(500);
    w.leave(&[101]);
    w.sleep_ms(500);
    w.join(&[101]);
    w.join(&[100]);
    w.sleep_ms(2_000);
    w.net().cfg.reliable = true;
    finish_appenders(&mut w, &keys, &mut values);
    report(&w);
}

/// The course's unreliable3: random Get / Put / Append on 10 keys while groups join and
/// leave over an unreliable network; the history must be linearizable.
pub fn unreliable3(seed: u64) {
    let mut w = world(seed, false, Some(100));
    w.join(&[100]);
    w.start_workload(0..10, 10);
    let script: [(bool, Gid); 6] = [
        (true, 101),
        (true, 102),
        (false, 100),
        (false, 101),
        (true, 101),
        (true, 100),
    ];
    for (join, gid) in script {
        w.sleep_ms(500);
        if join {
            w.join(&[gid]);
        } else {
            w.leave(&[gid]);
        }
    }
    w.sleep_ms(2_000);
    finish_history(&mut w);
}

/// Stops the workload, lets it drain over a reliable network (as the course does) and
/// checks the history.
fn finish_history(w: &mut ShardWorld) {
    w.stop_workload();
    w.net().cfg.reliable = true;
    w.wait_clients(OP_LIMIT_MS);
    w.check_linearizable();
    report(w);
}

/// One random configuration change: join a group that is out, make one that is in leave
/// (one always stays), or move a shard to a group that is in.
fn random_change(w: &mut ShardWorld, joined: &mut BTreeSet<Gid>) {
    let out: Vec<Gid> = GIDS
        .iter()
        .copied()
        .filter(|g| !joined.contains(g))
        .collect();
    let inn: Vec<Gid> = joined.iter().copied().collect();
    match w.world.rng.gen_range(0..3) {
        0 if !out.is_empty() => {
            let g = out[w.world.rng.gen_range(0..out.len())];
            w.join(&[g]);
            joined.insert(g);
        }
        1 if inn.len() > 1 => {
            let g = inn[w.world.rng.gen_range(0..inn.len())];
            w.leave(&[g]);
            joined.remove(&g);
        }
        _ => {
            let shard = w.world.rng.gen_range(0..kv_core::shardkv::SHARDS);
            let gid = inn[w.world.rng.gen_range(0..inn.len())];
            match w.admin_op(CtrlOp::Move { shard, gid }, OP_LIMIT_MS) {
                CtrlOutcome::Configured { .. } => {}
                other => w.fail(&format!("move {shard} to {gid}: {other:?}")),
            }
        }
    }
}

/// One random fault on any server (controller or group) for 300 ms: a crash and
/// restart from disk, or a disconnection.
fn random_fault(w: &mut ShardWorld) {
    let slot = w.world.rng.gen_range(0..w.n());
    if w.world.rng.gen_bool(0.5) {
        w.crash(slot);
        w.sleep_ms(300);
        w.start(slot);
    } else {
        w.disconnect(slot);
        w.sleep_ms(300);
    }
    w.connect(slot);
}

/// Ours, the nemesis: the random workload on 10 keys over an unreliable network while
/// ten random joins, leaves and moves happen, each with a random crash or disconnection
/// of a controller or group server; every key's shard moves several times during the
/// history, which must be linearizable.
pub fn linearizable_moves(seed: u64) {
    nemesis_run(seed);
}

/// Ours: a run is a function of its seed — the nemesis twice gives the same history.
pub fn same_seed_same_run(seed: u64) {
    let (a, b) = (nemesis_run(seed), nemesis_run(seed));
    if a.history() != b.history() || a.storage_bytes() != b.storage_bytes() {
        a.fail("the same seed gave two different runs");
    }
}

fn nemesis_run(seed: u64) -> ShardWorld {
    let mut w = world(seed, false, Some(100));
    w.join(&[100]);
    let mut joined = BTreeSet::from([100]);
    w.start_workload(0..10, 10);
    for _ in 0..10 {
        let pause = w.world.rng.gen_range(100..600);
        w.sleep_ms(pause);
        random_change(&mut w, &mut joined);
        random_fault(&mut w);
    }
    w.sleep_ms(1_000);
    finish_history(&mut w);
    w
}
