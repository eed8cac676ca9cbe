//! The pure coordinator in a simulated world of crashing, stalling and failing workers and a
//! network that delays, duplicates and reorders reports, over many seeds. Every run must
//! finish, commit each output exactly once, and produce exactly the sequential output.
//!
//! `SIM_SEEDS=N` runs N seeds, `SIM_SEED=S` one; a failure prints its rerun command.
//! `SIM_VERBOSE=1` (with `--nocapture`) prints each run's coordinator stats.

mod sim;

use sim::world::{Faults, World};
use sim_kit::seeds::{run_test_seeds, TestId};

/// The simulation kit's seed runner, naming this package in the rerun command.
fn run_seeds(target: &str, name: &str, default_count: u64, body: impl Fn(u64)) {
    let test = TestId::new(env!("CARGO_PKG_NAME"), target, name);
    run_test_seeds(test, default_count, body);
}

const CORRECT: Faults = Faults {
    commit_discards: false,
};

#[test]
fn faulty_workers_output_equals_sequential() {
    run_seeds(
        "sim_coordinator",
        "faulty_workers_output_equals_sequential",
        200,
        |seed| {
            let mut world = World::new(seed, CORRECT);
            let output = world.run();
            assert_eq!(
                output,
                world.sequential_lines(),
                "seed {seed}: output differs from the sequential run"
            );
        },
    );
}

#[test]
fn same_seed_same_run() {
    run_seeds("sim_coordinator", "same_seed_same_run", 20, |seed| {
        let mut first = World::new(seed, CORRECT);
        let mut second = World::new(seed, CORRECT);
        assert_eq!(first.run(), second.run());
        assert_eq!(
            first.trace, second.trace,
            "seed {seed}: the simulation is not deterministic"
        );
    });
}

/// A driver that also commits discarded (duplicate or late) completions must be caught.
#[test]
fn checker_catches_double_commit() {
    let buggy = Faults {
        commit_discards: true,
    };
    let caught = (1..=50).any(|seed| {
        std::panic::catch_unwind(|| World::new(seed, buggy).run())
            .err()
            .and_then(|p| p.downcast_ref::<String>().cloned())
            .is_some_and(|message| message.contains("written twice"))
    });
    assert!(caught, "no seed exposed a driver that commits duplicates");
}
