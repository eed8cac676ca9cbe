//! The course's lab 4B tests (the shard KV), each over seeds: `SIM_SEEDS=N` for more,
//! `SIM_SEED=S` for one, `SIM_SEED_BASE=B` to start elsewhere. Every Raft group (the
//! controller's and each shard group's) runs the invariant checker on every step;
//! unreliable3 and linearizable_moves check their histories for linearizability.

use kv_sim::lab4b;
use sim_kit::seeded_test;

const SEEDS: u64 = 5;

seeded_test!(static_shards_4b, SEEDS, lab4b::static_shards);
seeded_test!(join_leave_4b, SEEDS, lab4b::join_leave);
seeded_test!(snapshot_4b, SEEDS, lab4b::snapshot);
seeded_test!(every_group_leaves_4b, SEEDS, lab4b::every_group_leaves);
seeded_test!(miss_change_4b, SEEDS, lab4b::miss_change);
seeded_test!(concurrent1_4b, SEEDS, lab4b::concurrent1);
seeded_test!(concurrent2_4b, SEEDS, lab4b::concurrent2);
seeded_test!(concurrent3_4b, SEEDS, lab4b::concurrent3);
seeded_test!(unreliable1_4b, SEEDS, lab4b::unreliable1);
seeded_test!(unreliable2_4b, SEEDS, lab4b::unreliable2);
seeded_test!(unreliable3_4b, SEEDS, lab4b::unreliable3);
seeded_test!(challenge1_delete_4b, SEEDS, lab4b::challenge1_delete);
seeded_test!(
    challenge1_concurrent_4b,
    SEEDS,
    lab4b::challenge1_concurrent
);
// 1003: the old owner was killed before the migration the course sleeps 1 s for.
seeded_test!(
    challenge2_unaffected_4b,
    SEEDS,
    pinned[1003],
    lab4b::challenge2_unaffected
);
seeded_test!(challenge2_partial_4b, SEEDS, lab4b::challenge2_partial);
seeded_test!(linearizable_moves_4b, SEEDS, lab4b::linearizable_moves);
seeded_test!(same_seed_same_run_4b, 2, lab4b::same_seed_same_run);
