//! The course's lab 4B tests (the shard KV; see ../shared/reference/6824-tests.md), in
//! simulated time, each a plain function of a seed. Groups 100, 101, 102 of three
//! servers and a three-server controller; key → shard = first byte mod 10.

mod basic;
mod challenge;
mod concurrent;

pub use basic::{every_group_leaves, join_leave, miss_change, snapshot, static_shards};
pub use challenge::{challenge1_concurrent, challenge1_delete};
pub use challenge::{challenge2_partial, challenge2_unaffected};
pub use concurrent::{concurrent1, concurrent2, concurrent3, unreliable1, unreliable2};
pub use concurrent::{linearizable_moves, same_seed_same_run, unreliable3};

use rand::Rng;

use crate::shard::{ShardSimConfig, ShardWorld};

/// Course operations retry forever; a simulated minute is far beyond a healthy run.
pub const OP_LIMIT_MS: u64 = 60_000;
/// Clients: 0 the course's `ck`, the rest its goroutines' clerks.
pub const CLIENTS: usize = 11;

pub fn world(seed: u64, reliable: bool, max_raft_state_bytes: Option<usize>) -> ShardWorld {
    ShardWorld::new(ShardSimConfig {
        seed,
        reliable,
        clients: CLIENTS,
        max_raft_state_bytes,
    })
}

/// The course's randstring(n), drawn from the world's PRNG.
pub fn rand_string(w: &mut ShardWorld, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'a' + w.world.rng.gen_range(0..26u8)))
        .collect()
}

/// Puts `n` keys "0".."n-1" (every shard) with random values, checks them, returns them.
pub fn put_keys(w: &mut ShardWorld, n: usize, value_len: usize) -> (Vec<String>, Vec<String>) {
    let keys: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let mut values = Vec::new();
    for k in &keys {
        let v = rand_string(w, value_len);
        w.put(0, k, &v, OP_LIMIT_MS);
        values.push(v);
    }
    check_all(w, &keys, &values);
    (keys, values)
}

pub fn check_all(w: &mut ShardWorld, keys: &[String], values: &[String]) {
    for (k, v) in keys.iter().zip(values) {
        w.check(0, k, v, OP_LIMIT_MS);
    }
}

/// Appends a random string to every key (checking it first), as the course's loops do.
pub fn check_and_append(w: &mut ShardWorld, keys: &[String], values: &mut [String]) {
    for (k, v) in keys.iter().zip(values.iter_mut()) {
        w.check(0, k, v, OP_LIMIT_MS);
        let x = rand_string(w, 5);
        w.append(0, k, &x, OP_LIMIT_MS);
        v.push_str(&x);
    }
}

/// Prints what a run did, with SIM_VERBOSE set.
pub fn report(w: &ShardWorld) {
    if std::env::var_os("SIM_VERBOSE").is_some() {
        eprintln!(
            "seed {}: {} operations in {} ms simulated; storage {} B; {:?}",
            sim_kit::Sim::seed(w),
            w.history().len(),
            sim_kit::Sim::now_us(w) / sim_kit::MS,
            w.storage_bytes(),
            sim_kit::Sim::world(w).counters()
        );
    }
}
