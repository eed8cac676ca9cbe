//! Seed selection, following the simulator's convention (drivers/sim/src/seeds.rs):
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

pub fn seeds(default_count: u64) -> Vec<u64> {
    if let Some(seed) = env_u64("SIM_SEED") {
        return vec![seed];
    }
    let count = env_u64("SIM_SEEDS").unwrap_or(default_count);
    let base = env_u64("SIM_SEED_BASE").unwrap_or(1);
    (base..base + count).collect()
}

pub fn repro_command(test_target: &str, test_name: &str, seed: u64) -> String {
    format!("SIM_SEED={seed} cargo test -p mr-driver --test {test_target} -- {test_name} --exact --nocapture")
}

/// Runs `body` for every seed; on the first failure prints the seed and how to rerun it.
pub fn run_seeds(test_target: &str, test_name: &str, default_count: u64, body: impl Fn(u64)) {
    for seed in seeds(default_count) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| body(seed))) {
            eprintln!(
                "\n{test_name} FAILED with seed {seed}\nreproduce: {}\n",
                repro_command(test_target, test_name, seed)
            );
            resume_unwind(panic);
        }
    }
}
