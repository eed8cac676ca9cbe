//! Times the checker on the shared test histories: `cargo bench -p lincheck --bench testdata`.
//!
//! Each file is parsed once and checked repeatedly (at least 5 runs and 1 s); the fastest
//! and the median check time are printed with the parse time and the search's work (the
//! fastest is the steadier figure on a shared machine). Finds the data like
//! the integration test: `$LINEARIZABILITY_TESTDATA`, the shared folder beside the repo, or
//! /work/shared/testdata/linearizability.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lincheck::{
    check_with_stats, parse_jepsen_file, parse_kv_file, CheckResult, KvModel, Model, Operation,
    RegisterModel, Verdict,
};

const BUDGET: Duration = Duration::from_secs(600);
const KV_FILES: [&str; 6] = [
    "c01-ok", "c01-bad", "c10-ok", "c10-bad", "c50-ok", "c50-bad",
];
const JEPSEN_FILES: [&str; 5] = ["etcd_000", "etcd_002", "etcd_040", "etcd_080", "etcd_098"];

fn testdata() -> Option<PathBuf> {
    [
        std::env::var_os("LINEARIZABILITY_TESTDATA").map(PathBuf::from),
        Some(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/testdata/linearizability"
        ))),
        Some(PathBuf::from("/work/shared/testdata/linearizability")),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.join("README.md").is_file())
}

fn main() {
    let Some(root) = testdata() else {
        eprintln!("no linearizability test data found; set LINEARIZABILITY_TESTDATA");
        return;
    };
    println!(
        "{:<10} {:>6} {:<17} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "history", "ops", "verdict", "fastest ms", "median ms", "parse ms", "steps", "states"
    );
    for name in KV_FILES {
        let path = root.join("kv").join(format!("{name}.txt"));
        let (history, parse) = timed(|| parse_kv_file(&path).expect("parse"));
        bench(name, &KvModel::empty_is_absent(), &history, parse);
    }
    for name in JEPSEN_FILES {
        let path = root.join("jepsen").join(format!("{name}.log"));
        let (history, parse) = timed(|| parse_jepsen_file(&path).expect("parse"));
        bench(name, &RegisterModel, &history, parse);
    }
    all_jepsen(&root.join("jepsen"));
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

fn bench<M: Model>(
    name: &str,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    parse: Duration,
) {
    let mut times = Vec::new();
    let mut last: Option<CheckResult> = None;
    let start = Instant::now();
    while times.len() < 5 || start.elapsed() < Duration::from_secs(1) {
        let result = check_with_stats(model, history, BUDGET);
        times.push(result.stats.elapsed);
        last = Some(result);
    }
    times.sort();
    let result = last.expect("at least one run");
    println!(
        "{:<10} {:>6} {:<17} {:>10.3} {:>10.3} {:>10.3} {:>9} {:>9}",
        name,
        history.len(),
        verdict(&result.verdict),
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(parse),
        result.stats.steps,
        result.stats.states
    );
}

/// Every Jepsen file in verdicts.txt, checked once each: the total.
fn all_jepsen(dir: &Path) {
    let Ok(list) = std::fs::read_to_string(dir.join("verdicts.txt")) else {
        return;
    };
    let (mut files, mut total) = (0, Duration::ZERO);
    for file in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let history = parse_jepsen_file(&dir.join(file)).expect("parse");
        total += check_with_stats(&RegisterModel, &history, BUDGET)
            .stats
            .elapsed;
        files += 1;
    }
    println!(
        "all {files} jepsen files in verdicts.txt: {:.3} ms checking in total",
        ms(total)
    );
}

fn verdict(v: &Verdict) -> &'static str {
    match v {
        Verdict::Linearizable => "linearizable",
        Verdict::NotLinearizable(_) => "not linearizable",
        Verdict::Unknown => "unknown",
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
