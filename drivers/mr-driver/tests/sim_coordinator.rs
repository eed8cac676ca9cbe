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

/// A simulated coordinator run recorded as a trace replays identically through
/// `trace`'s MapReduce machine, and one changed report is named as the divergence.
#[test]
fn a_recorded_coordinator_run_replays_identically() {
    let dir = tempfile::tempdir().unwrap();
    let seed = 11;
    sim_kit::seeds::with_trace_dir(dir.path(), || {
        let mut world = World::new(seed, CORRECT);
        let output = world.run();
        assert_eq!(output, world.sequential_lines());
    });
    let traces = trace::replay::read_dir(&dir.path().join(format!("seed{seed}"))).unwrap();
    assert_eq!(traces.len(), 1);
    let r = trace::replay::replay_node(&traces[0]);
    assert!(r.identical() && r.steps > 10, "{r:?}");
    let mut t = traces.into_iter().next().unwrap();
    let step = t
        .frames
        .iter()
        .position(
            |f| matches!(f, trace::Frame::Step(s) if s.input == postcard_of(mr_core::Input::Ask)),
        )
        .expect("an Ask");
    let trace::Frame::Step(s) = &mut t.frames[step] else {
        unreachable!()
    };
    s.input = postcard_of(mr_core::Input::Tick);
    let d = trace::replay::replay_node(&t).divergence.expect("diverges");
    assert_eq!(d.step, u64::try_from(step).unwrap(), "{d}");
}

fn postcard_of(input: mr_core::Input) -> Vec<u8> {
    trace::Recorder::<trace::machine::MrMachine>::encode_input(&input)
}
