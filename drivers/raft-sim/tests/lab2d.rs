//! Lab 2D (log compaction, InstallSnapshot), ported to the simulator. Each test runs over
//! many seeds: `SIM_SEEDS=1000` for more, `SIM_SEED=S` for one.

use raft_sim::lab2;
use sim_kit::seeded_test;

const SEEDS: u64 = 20;

seeded_test!(snapshot_basic_2d, SEEDS, |s| drop(lab2::snapshot_basic(s)));
seeded_test!(snapshot_install_2d, SEEDS, |s| drop(
    lab2::snapshot_install(s)
));
seeded_test!(snapshot_install_unreliable_2d, SEEDS, |s| drop(
    lab2::snapshot_install_unreliable(s)
));
seeded_test!(snapshot_install_crash_2d, SEEDS, |s| drop(
    lab2::snapshot_install_crash(s)
));
seeded_test!(snapshot_install_unreliable_crash_2d, SEEDS, |s| drop(
    lab2::snapshot_install_unreliable_crash(s)
));
seeded_test!(snapshot_all_crash_2d, SEEDS, |s| drop(
    lab2::snapshot_all_crash(s)
));
seeded_test!(snapshot_init_2d, SEEDS, |s| drop(lab2::snapshot_init(s)));
