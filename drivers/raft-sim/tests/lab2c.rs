//! Lab 2C (persistence and hard schedules), ported to the simulator. Each test runs over
//! many seeds: `SIM_SEEDS=1000` for more, `SIM_SEED=S` for one.

use raft_sim::lab2;
use sim_kit::seeded_test;

const SEEDS: u64 = 20;

seeded_test!(persist1_2c, SEEDS, |s| drop(lab2::persist1(s)));
seeded_test!(persist2_2c, SEEDS, |s| drop(lab2::persist2(s)));
seeded_test!(persist3_2c, SEEDS, |s| drop(lab2::persist3(s)));
seeded_test!(figure8_2c, SEEDS, |s| drop(lab2::figure8(s)));
seeded_test!(unreliable_agree_2c, SEEDS, |s| drop(
    lab2::unreliable_agree(s)
));
seeded_test!(figure8_unreliable_2c, SEEDS, |s| drop(
    lab2::figure8_unreliable(s)
));
seeded_test!(reliable_churn_2c, SEEDS, |s| drop(lab2::reliable_churn(s)));
seeded_test!(unreliable_churn_2c, SEEDS, |s| drop(
    lab2::unreliable_churn(s)
));
