//! Lab 2A (leader election), ported to the simulator. Each test runs over many seeds:
//! `SIM_SEEDS=1000` for more, `SIM_SEED=S` for one.

use raft_sim::lab2;
use sim_kit::seeded_test;

const SEEDS: u64 = 20;

seeded_test!(initial_election_2a, SEEDS, |s| drop(
    lab2::initial_election(s)
));
seeded_test!(reelection_2a, SEEDS, |s| drop(lab2::reelection(s)));
seeded_test!(many_elections_2a, SEEDS, |s| drop(lab2::many_elections(s)));
