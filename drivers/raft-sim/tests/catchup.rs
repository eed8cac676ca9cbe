//! A follower far behind (by log, or by snapshot) catches up with every message and every
//! in-flight window within the configured limits.

use raft_sim::catchup::{far_behind, message_bytes_bound, APPEND_BYTES_MAX, INFLIGHT_BYTES_MAX};
use sim_kit::seeded_test;

fn check(snapshots: bool, seed: u64) {
    let (_, r) = far_behind(seed, 600, snapshots);
    eprintln!("seed {seed}: {r:?}");
    assert!(r.message_bytes_max <= message_bytes_bound(), "{r:?}");
    let window_bound = INFLIGHT_BYTES_MAX + APPEND_BYTES_MAX;
    assert!(r.inflight_bytes_max <= window_bound, "{r:?}");
    assert!(r.inflight_bytes_max > 0, "the window was never used: {r:?}");
    assert_eq!(r.snapshots_installed > 0, snapshots, "{r:?}");
}

seeded_test!(far_behind_by_log, 10, |seed| check(false, seed));
seeded_test!(far_behind_by_snapshot, 10, |seed| check(true, seed));
