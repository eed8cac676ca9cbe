//! Running a scenario over many seeds, and saying how to rerun a failure.
//!
//! `SIM_SEEDS=N` runs seeds `SIM_SEED_BASE..SIM_SEED_BASE+N` (base 1); `SIM_SEED=S` runs
//! exactly seed S. A failing seed prints itself and the one command that reruns it.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

fn env_u64(name: &str) -> Option<u64> {
    let raw = std::env::var(name).ok()?;
    match raw.trim().parse() {
        Ok(v) => Some(v),
        Err(_) => panic!("{name}={raw:?} is not a non-negative integer"),
    }
}

/// The seeds to run: one pinned seed, or a range sized by `SIM_SEEDS` (else `default_count`).
pub fn seeds(default_count: u64) -> Vec<u64> {
    if let Some(seed) = env_u64("SIM_SEED") {
        return vec![seed];
    }
    let count = env_u64("SIM_SEEDS").unwrap_or(default_count);
    let base = env_u64("SIM_SEED_BASE").unwrap_or(1);
    (base..base + count).collect()
}

/// Names one seeded test: the package and test target it lives in, and its name.
#[derive(Clone, Copy, Debug)]
pub struct TestId<'a> {
    pub package: &'a str,
    pub target: &'a str,
    pub name: &'a str,
}

impl<'a> TestId<'a> {
    /// A test of this crate's own test targets (`raft-sim`).
    pub fn sim(target: &'a str, name: &'a str) -> Self {
        TestId {
            package: env!("CARGO_PKG_NAME"),
            target,
            name,
        }
    }

    /// The command that reruns exactly one seed of this test.
    pub fn repro_command(&self, seed: u64) -> String {
        let TestId {
            package,
            target,
            name,
        } = self;
        format!(
            "SIM_SEED={seed} cargo test -p {package} --test {target} -- {name} --exact --nocapture"
        )
    }
}

/// The command that reruns exactly one seed of one of `raft-sim`'s tests.
pub fn repro_command(test_target: &str, test_name: &str, seed: u64) -> String {
    TestId::sim(test_target, test_name).repro_command(seed)
}

/// Runs `body` for every seed; on the first failure prints the seed and how to rerun it,
/// then fails the test with the original panic.
pub fn run_seeds(test_target: &str, test_name: &str, default_count: u64, body: impl Fn(u64)) {
    run_test_seeds(TestId::sim(test_target, test_name), default_count, body)
}

/// `run_seeds` for a test in any package.
pub fn run_test_seeds(test: TestId, default_count: u64, body: impl Fn(u64)) {
    for seed in seeds(default_count) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| body(seed))) {
            eprintln!(
                "\n{} FAILED with seed {seed}\nreproduce: {}\n",
                test.name,
                test.repro_command(seed)
            );
            resume_unwind(panic);
        }
    }
}

/// Declares `#[test] fn $name()` running `$body(seed)` over the default seed count.
#[macro_export]
macro_rules! seeded_test {
    ($name:ident, $count:expr, $body:expr) => {
        #[test]
        fn $name() {
            let test = $crate::seeds::TestId {
                package: env!("CARGO_PKG_NAME"),
                target: env!("CARGO_CRATE_NAME"),
                name: stringify!($name),
            };
            $crate::seeds::run_test_seeds(test, $count, $body);
        }
    };
}
