//! Lab 2B (log replication), ported to the simulator. Each test runs over many seeds:
//! `SIM_SEEDS=1000` for more, `SIM_SEED=S` for one.

use raft_sim::lab2;
use sim_kit::seeded_test;

const SEEDS: u64 = 20;

seeded_test!(basic_agree_2b, SEEDS, |s| drop(lab2::basic_agree(s)));
seeded_test!(rpc_bytes_2b, SEEDS, |s| drop(lab2::rpc_bytes(s)));
seeded_test!(follower_failure_2b, SEEDS, |s| drop(
    lab2::follower_failure(s)
));
seeded_test!(leader_failure_2b, SEEDS, |s| drop(lab2::leader_failure(s)));
seeded_test!(fail_agree_2b, SEEDS, |s| drop(lab2::fail_agree(s)));
seeded_test!(fail_no_agree_2b, SEEDS, |s| drop(lab2::fail_no_agree(s)));
seeded_test!(concurrent_starts_2b, SEEDS, |s| drop(
    lab2::concurrent_starts(s)
));
seeded_test!(rejoin_2b, SEEDS, |s| drop(lab2::rejoin(s)));
seeded_test!(backup_2b, SEEDS, |s| drop(lab2::backup(s)));
seeded_test!(count_2b, SEEDS, pinned[426074], |s| drop(lab2::count(s)));
