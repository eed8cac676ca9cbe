//! Simulation speed of the key/value service: simulated seconds per wall-clock second for
//! a 5-server cluster under every fault the course's lab 3 has (an unreliable network,
//! partitions re-drawn every election timeout, whole-cluster crashes, snapshots at
//! maxraftstate 1000 bytes) with 5 clients, as the course's
//! TestSnapshotUnreliableRecoverConcurrentPartition3B. The time includes everything the
//! test pays: every server step under the Raft watch, and the linearizability check of
//! the whole client history at the end of each run.
//!
//! Run: `cargo bench -p kv-sim --bench kv_speed` (`BENCH_SEEDS=N` to change the count).

use std::time::Instant;

use kv_sim::lab3::{self, Generic};

fn main() {
    let seeds: u64 = std::env::var("BENCH_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let g = Generic {
        unreliable: true,
        crash: true,
        partitions: true,
        max_raft_state_bytes: Some(1000),
        ..Generic::new(5, 5)
    };
    let (mut sim_ms, mut operations) = (0u64, 0usize);
    let start = Instant::now();
    for seed in 1..=seeds {
        let report = lab3::generic(seed, g);
        sim_ms += report.sim_ms;
        operations += report.operations;
    }
    let wall_s = start.elapsed().as_secs_f64();
    let sim_s = sim_ms as f64 / 1e3;
    println!(
        "{:<22} seeds {seeds:>4}  simulated {sim_s:>9.1} s  wall {wall_s:>7.3} s  speed {:>8.0}x  {operations} operations",
        "kv 5 servers, faults",
        sim_s / wall_s,
    );
}
