//! Running a scenario over many seeds, and saying how to rerun a failure. Every
//! simulator's seeded tests go through here (raft-sim, kv-sim, mr-driver's coordinator
//! simulation), so `SIM_SEEDS`, `SIM_SEED` and sweeps mean the same everywhere.
//!
//! `SIM_SEEDS=N` runs seeds `SIM_SEED_BASE..SIM_SEED_BASE+N` (base 1); `SIM_SEED=S` runs
//! exactly seed S. A failing seed prints itself and the one command that reruns it.
//! Seeds that once failed are pinned by the test and run with every range (not in sweeps,
//! which count exactly the range).
//!
//! `SIM_SWEEP=1` is for sweeps over thousands of seeds (`scripts/sweep.sh`): a test does
//! not stop at its first failing seed; it runs them all and prints one `sweep-result`
//! line (seeds run, failures, seconds) and a `sweep-failure` line per failing seed (its
//! panic message and rerun command), then fails if any seed did.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Once;
use std::time::Instant;

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
    /// Test `name` of test target `target` in package `package` (pass
    /// `env!("CARGO_PKG_NAME")` from the test itself, so the rerun command names it).
    pub const fn new(package: &'a str, target: &'a str, name: &'a str) -> Self {
        TestId {
            package,
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

/// Runs `body` for every seed; on the first failure prints the seed and how to rerun it,
/// then fails the test with the original panic.
pub fn run_test_seeds(test: TestId, default_count: u64, body: impl Fn(u64)) {
    run_pinned_seeds(test, default_count, &[], body)
}

/// `run_test_seeds`, also running `pinned` (seeds that once failed) unless `SIM_SEED`
/// names one seed.
pub fn run_pinned_seeds(test: TestId, default_count: u64, pinned: &[u64], body: impl Fn(u64)) {
    let mut all = seeds(default_count);
    let sweeping = std::env::var_os("SIM_SWEEP").is_some();
    if env_u64("SIM_SEED").is_none() && !sweeping {
        let extra: Vec<u64> = pinned
            .iter()
            .filter(|s| !all.contains(s))
            .copied()
            .collect();
        all.extend(extra);
    }
    if sweeping {
        return sweep(test, &all, body);
    }
    for seed in all {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| body(seed))) {
            let trace = record_failure(test, seed, &body);
            eprintln!(
                "\n{} FAILED with seed {seed}\nreproduce: {}\n{trace}",
                test.name,
                test.repro_command(seed)
            );
            resume_unwind(panic);
        }
    }
}

std::thread_local! {
    static TRACE_DIR: std::cell::RefCell<Option<std::path::PathBuf>> =
        const { std::cell::RefCell::new(None) };
}

/// Where a simulated world should write the trace of its run, if anywhere: the
/// directory `SIM_TRACE_DIR` names (every run, on request), or the one the seed runner
/// chose while rerunning a failed seed. A world that records writes its trace into
/// `seed<N>` under it when dropped.
pub fn trace_request() -> Option<std::path::PathBuf> {
    TRACE_DIR
        .with(|t| t.borrow().clone())
        .or_else(|| std::env::var_os("SIM_TRACE_DIR").map(Into::into))
}

/// Runs `body` with every simulated world it creates recording into `dir` (each
/// into `dir/seed<N>`), as `SIM_TRACE_DIR` would, on this thread only.
pub fn with_trace_dir<T>(dir: &std::path::Path, body: impl FnOnce() -> T) -> T {
    let before = TRACE_DIR.with(|t| t.borrow_mut().replace(dir.to_path_buf()));
    let out = catch_unwind(AssertUnwindSafe(body));
    TRACE_DIR.with(|t| *t.borrow_mut() = before);
    out.unwrap_or_else(|p| resume_unwind(p))
}

/// Runs a failed seed once more with recording on (a seed determines the run, so it
/// fails again the same way) and says where its trace is, or that its world records
/// none.
fn record_failure(test: TestId, seed: u64, body: &impl Fn(u64)) -> String {
    let base = std::env::temp_dir()
        .join("raftkv-sim-traces")
        .join(format!("{}-{}", test.package, test.name));
    // A world that records writes into `seed<N>` under the directory it is given.
    let dir = base.join(format!("seed{seed}"));
    let _ = std::fs::remove_dir_all(&dir);
    TRACE_DIR.with(|t| *t.borrow_mut() = Some(base));
    let again = catch_unwind(AssertUnwindSafe(|| body(seed)));
    TRACE_DIR.with(|t| *t.borrow_mut() = None);
    if !dir.exists() {
        return String::new();
    }
    let replays = if again.is_err() {
        ""
    } else {
        " (the rerun did not fail: the test is not deterministic)"
    };
    format!(
        "trace: {}{replays}\n  cargo run -p raftkv -- trace replay|check|view {}\n",
        dir.display(),
        dir.display()
    )
}

/// Every seed, whatever fails; one summary line, one line per failure.
fn sweep(test: TestId, seeds: &[u64], body: impl Fn(u64)) {
    static QUIET: Once = Once::new();
    // Thousands of failing seeds would each print a backtrace; the summary says enough.
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let started = Instant::now();
    let mut failed = 0u64;
    for &seed in seeds {
        let Err(panic) = catch_unwind(AssertUnwindSafe(|| body(seed))) else {
            continue;
        };
        failed += 1;
        let message = panic_message(&*panic);
        let repro = test.repro_command(seed);
        println!("sweep-failure\t{}\t{seed}\t{message}\t{repro}", test.name);
    }
    let secs = started.elapsed().as_secs_f64();
    let (package, name, run) = (test.package, test.name, seeds.len());
    println!("sweep-result\t{package}\t{name}\t{run}\t{failed}\t{secs:.3}");
    assert_eq!(failed, 0, "{name}: {failed} of {run} seeds failed");
}

/// A panic's whole message (what `catch_unwind` hands back).
pub fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)")
}

/// The first line of a panic's message, without tabs (it goes in a tab-separated line).
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let first = panic_text(panic).lines().next().unwrap_or("");
    first.replace('\t', " ").chars().take(200).collect()
}

/// Declares `#[test] fn $name()` running `$body(seed)` over the default seed count, and
/// over the seeds listed after `pinned` (regressions) too.
#[macro_export]
macro_rules! seeded_test {
    ($name:ident, $count:expr, pinned [$($seed:expr),*], $body:expr) => {
        #[test]
        fn $name() {
            let test = $crate::seeds::TestId {
                package: env!("CARGO_PKG_NAME"),
                target: env!("CARGO_CRATE_NAME"),
                name: stringify!($name),
            };
            $crate::seeds::run_pinned_seeds(test, $count, &[$($seed),*], $body);
        }
    };
    ($name:ident, $count:expr, $body:expr) => {
        $crate::seeded_test!($name, $count, pinned [], $body);
    };
}
