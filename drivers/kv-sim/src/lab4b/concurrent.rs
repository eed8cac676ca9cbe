//! concurrent1/2/3 and unreliable1/2/3: appenders (or the random workload) while
//! groups join, leave, shut down and restart; plus linearizable_moves, this project's
//! history check under faults with keys whose shards move.

use kv_core::Gid;
use rand::Rng;
use sim_kit::Sim;

use super::{check_all, check_and_append, put_keys, report, world, OP_LIMIT_MS};
use crate::shard::{group_slots, ShardWorld, GIDS};

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
    check_all(&mut w, &keys, &values);
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
    finish_appenders(&mut w, &keys, &mut values);
    report(&w);
}

/// The random workload on `keys` keys while groups join and leave (and, with `crash`,
/// single servers crash and restart); the history must be linearizable.
fn moving_history(seed: u64, keys: u64, crash: bool) {
    let mut w = world(seed, false, Some(100));
    w.join(&[100]);
    w.start_workload(0..10, keys);
    let script: [(bool, Gid); 5] = [
        (true, 101),
        (true, 102),
        (false, 100),
        (false, 101),
        (true, 100),
    ];
    for (join, gid) in script {
        w.sleep_ms(500);
        if join {
            w.join(&[gid]);
        } else {
            w.leave(&[gid]);
        }
        if crash {
            let g = GIDS[w.world.rng.gen_range(0..GIDS.len())];
            let slot = group_slots(g)[w.world.rng.gen_range(0..3)];
            w.crash(slot);
            w.sleep_ms(300);
            w.start(slot);
            w.connect(slot);
        }
    }
    w.sleep_ms(1_000);
    w.stop_workload();
    w.wait_clients(OP_LIMIT_MS);
    w.check_linearizable();
    report(&w);
}

/// The course's unreliable3: random Get / Put / Append, checked for linearizability.
pub fn unreliable3(seed: u64) {
    moving_history(seed, 10, false);
}

/// Ours: unreliable3 with a server crashing and restarting after every configuration
/// change; every key's shard moves several times during the history.
pub fn linearizable_moves(seed: u64) {
    moving_history(seed, 10, true);
}
