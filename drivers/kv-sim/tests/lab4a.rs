//! The course's lab 4A tests (the shard controller), each over seeds: `SIM_SEEDS=N` for
//! more, `SIM_SEED=S` for one, `SIM_SEED_BASE=B` to start elsewhere. The Raft invariant
//! checker watches every step of every server.

use kv_sim::lab4a;
use sim_kit::seeded_test;

const SEEDS: u64 = 10;

seeded_test!(basic_4a, SEEDS, lab4a::basic);
// 701534: the two survivors split their votes past the course's 3 s wait.
seeded_test!(multi_4a, SEEDS, pinned[701534], lab4a::multi);
