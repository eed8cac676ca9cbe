//! The challenges: challenge1_delete (storage bound after shards moved away), and
//! challenge2_unaffected / challenge2_partial (serving during migration).

use kv_core::Gid;
use sim_kit::Sim;

use super::{check_all, put_keys, rand_string, report, world, OP_LIMIT_MS};

/// Σ(raft state + snapshot) over the 9 group servers the course allows after shards
/// moved away: 3 × ((n − 3) × 1000 + 2 × 3 × 1000 + 6000) for n = 30.
const DELETE_STORAGE_MAX_BYTES: usize = 117_000;

pub fn challenge1_delete(seed: u64) {
    // maxraftstate 1: snapshot after every entry.
    let mut w = world(seed, true, Some(1));
    w.join(&[100]);
    let (keys, values) = put_keys(&mut w, 30, 1000);
    for _ in 0..2 {
        w.join(&[101]);
        w.leave(&[100]);
        w.join(&[102]);
        w.sleep_ms(3_000);
        check_all(&mut w, &keys, &values);
        w.leave(&[101]);
        w.join(&[100]);
        w.leave(&[102]);
        w.sleep_ms(3_000);
        check_all(&mut w, &keys, &values);
    }
    w.sleep_ms(1_000);
    check_all(&mut w, &keys, &values);
    w.sleep_ms(1_000);
    let total = w.storage_bytes();
    if total > DELETE_STORAGE_MAX_BYTES {
        w.fail(&format!(
            "servers store {total} B; expected at most {DELETE_STORAGE_MAX_BYTES} B (shards that moved away must be deleted)"
        ));
    }
    report(&w);
}

/// Ours: challenge1_delete with the course's ten appenders running through the join /
/// leave cycles. The bound is the course's formula over the data actually stored at the
/// end: 3 × (keys and values + 9,000 B of slack), plus three replicas of a session
/// (client id and seq, ≤ 20 bytes encoded) per client per shard.
pub fn challenge1_concurrent(seed: u64) {
    let mut w = world(seed, true, Some(1));
    w.join(&[100]);
    let (keys, mut values) = put_keys(&mut w, 30, 1000);
    for (i, k) in keys.iter().take(10).enumerate() {
        w.start_appender(i + 1, k);
    }
    for _ in 0..2 {
        for (join, gid) in [
            (true, 101),
            (false, 100),
            (true, 102),
            (false, 101),
            (true, 100),
            (false, 102),
        ] {
            w.sleep_ms(500);
            if join {
                w.join(&[gid]);
            } else {
                w.leave(&[gid]);
            }
        }
    }
    w.stop_appenders();
    w.wait_clients(OP_LIMIT_MS);
    for (i, v) in values.iter_mut().take(10).enumerate() {
        v.push_str(&w.appended(i + 1));
    }
    let data: usize = keys
        .iter()
        .zip(&values)
        .map(|(k, v)| k.len() + v.len())
        .sum();
    w.sleep_ms(3_000);
    check_all(&mut w, &keys, &values);
    w.sleep_ms(1_000);
    let sessions_max_bytes = 3 * kv_core::shardkv::SHARDS * crate::lab4b::CLIENTS * 20;
    let bound = 3 * (data + 9_000) + sessions_max_bytes;
    let total = w.storage_bytes();
    if total > bound {
        w.fail(&format!(
            "servers store {total} B; expected at most {bound} B"
        ));
    }
    report(&w);
}

/// Operations on the keys of shards `gid` holds must finish within this, although
/// other shards cannot move (the course's test would hang instead).
const SERVE_LIMIT_MS: u64 = 10_000;

/// Keys of `keys` whose shard group `gid` serves in the latest configuration.
fn keys_of(w: &mut crate::shard::ShardWorld, keys: &[String], gid: Gid) -> Vec<usize> {
    let config = w.query();
    (0..keys.len())
        .filter(|&i| config.shards[kv_core::shardkv::key_shard(&keys[i])] == gid)
        .collect()
}

/// Checks and rewrites the keys at `indexes` within [`SERVE_LIMIT_MS`] each.
fn serve_quickly(
    w: &mut crate::shard::ShardWorld,
    keys: &[String],
    values: &mut [String],
    indexes: &[usize],
) {
    for &i in indexes {
        w.check(0, &keys[i], &values[i], SERVE_LIMIT_MS);
        let v = rand_string(w, 10);
        w.put(0, &keys[i], &v, SERVE_LIMIT_MS);
        w.check(0, &keys[i], &v, SERVE_LIMIT_MS);
        values[i] = v;
    }
}

pub fn challenge2_unaffected(seed: u64) {
    let mut w = world(seed, false, Some(100));
    w.join(&[100]);
    let (keys, mut values) = put_keys(&mut w, 10, 5);
    w.join(&[101]);
    let owned = keys_of(&mut w, &keys, 101);
    // The course sleeps 1 s for the migration; here we wait until it happened (over an
    // unreliable network 1 s is sometimes too short), then write through 101.
    let num = w.query().num;
    w.wait_pulled(101, num, OP_LIMIT_MS);
    for &i in &owned {
        let v = format!("101-{i}");
        w.put(0, &keys[i], &v, OP_LIMIT_MS);
        values[i] = v;
    }
    w.shutdown_group(100);
    w.leave(&[100]);
    serve_quickly(&mut w, &keys, &mut values, &owned);
    if owned.len() != 5 {
        w.fail(&format!("101 owned {} shards, expected 5", owned.len()));
    }
    report(&w);
}

pub fn challenge2_partial(seed: u64) {
    let mut w = world(seed, false, Some(100));
    w.join(&[100, 101, 102]);
    let (keys, mut values) = put_keys(&mut w, 10, 5);
    let from_102 = keys_of(&mut w, &keys, 102);
    let of_101 = keys_of(&mut w, &keys, 101);
    let num = w.query().num;
    for gid in [101, 102] {
        w.wait_pulled(gid, num, OP_LIMIT_MS);
    }
    w.shutdown_group(100);
    w.leave(&[100, 102]);
    let mut served = of_101.clone();
    served.extend(&from_102);
    serve_quickly(&mut w, &keys, &mut values, &served);
    report(&w);
}
