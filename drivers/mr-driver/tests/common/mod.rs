//! Helpers for tests that run real `mr` processes: inputs, spawning, bounded waiting.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const MR: &str = env!("CARGO_BIN_EXE_mr");

/// Every wait in these tests ends by this deadline at the latest.
pub const PROCESS_WAIT_MAX: Duration = Duration::from_secs(60);

const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "that",
    "it",
    "was",
    "he",
    "Holmes",
    "Watson",
    "sherlock",
    "tom",
    "sawyer",
    "river",
    "café",
    "naïve",
    "Über",
    "don't",
    "e-mail",
    "MapReduce",
    "worker",
    "coordinator",
    "x",
    // Where Go's unicode.IsLetter and Rust's char::is_alphabetic split differently: vowel
    // signs, a decomposed diaeresis and Ⓒ are not letters, so these are several words.
    "हिंदी",
    "nai\u{308}ve",
    "Ⓒopyright",
];

/// Writes `count` text files `pg-N.txt` of about `size_bytes` each, deterministic in `seed`.
pub fn write_inputs(dir: &Path, count: usize, size_bytes: usize, seed: u64) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut names = Vec::with_capacity(count);
    for file in 0..count {
        let mut text = String::with_capacity(size_bytes + 64);
        while text.len() < size_bytes {
            let word = if rng.gen_bool(0.8) {
                WORDS[rng.gen_range(0..WORDS.len())].to_string()
            } else {
                (0..rng.gen_range(1..8))
                    .map(|_| char::from(rng.gen_range(b'a'..=b'z')))
                    .collect()
            };
            text.push_str(&word);
            text.push_str([" ", " ", ", ", ". ", "\n", " 42 ", "; "][rng.gen_range(0..7)]);
        }
        let name = format!("pg-{file}.txt");
        std::fs::write(dir.join(&name), text).unwrap();
        names.push(name);
    }
    names
}

/// Kills every process it holds when dropped, so a failing test leaves nothing running.
#[derive(Default)]
pub struct Procs {
    pub children: Vec<Child>,
}

impl Drop for Procs {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A running coordinator and its address.
pub struct Coordinator {
    pub child: Child,
    pub addr: String,
}

/// Starts `mr coordinator` in `dir` on a free port and waits (bounded) for its address.
pub fn start_coordinator(dir: &Path, inputs: &[String], app: &str, extra: &[&str]) -> Coordinator {
    let mut child = Command::new(MR)
        .current_dir(dir)
        .args([
            "coordinator",
            "--listen",
            "127.0.0.1:0",
            "--app",
            app,
            "--exit-grace-ms",
            "500",
        ])
        .args(extra)
        .args(inputs)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn mr coordinator");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .expect("coordinator prints its address");
    // Keep draining, so the coordinator's last lines have a reader.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let addr = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(
        line.starts_with("mr coordinator listening on"),
        "unexpected first line {line:?}"
    );
    Coordinator { child, addr }
}

pub fn spawn_worker(dir: &Path, addr: &str) -> Child {
    Command::new(MR)
        .current_dir(dir)
        .args(["worker", "--coordinator", addr])
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn mr worker")
}

/// Waits for `child` to exit, at most `limit`; kills it and panics past that.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("process {} still running after {limit:?}", child.id());
        }
        sleep(Duration::from_millis(20));
    }
}

/// All lines of `dir/mr-out-*`, sorted — the course's `sort mr-out* | grep .`.
pub fn merged_output(dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("mr-out") && path.is_file() {
            let text = std::fs::read_to_string(&path).unwrap();
            lines.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_string));
        }
    }
    lines.sort();
    lines
}

/// Runs `mr seq` on the same inputs (same names, from `dir`) into `dir/seq/`.
pub fn sequential_output(dir: &Path, inputs: &[String], app_args: &[&str]) -> Vec<String> {
    let out = dir.join("seq");
    let status = Command::new(MR)
        .current_dir(dir)
        .arg("seq")
        .args(app_args)
        .arg("--output")
        .arg(&out)
        .args(inputs)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "mr seq failed");
    merged_output(&out)
}

/// Runs a whole job with `workers` workers (no respawns) and waits for every process.
pub fn run_job(
    dir: &Path,
    inputs: &[String],
    app: &str,
    workers: usize,
    extra: &[&str],
) -> Vec<String> {
    let coordinator = start_coordinator(dir, inputs, app, extra);
    let mut procs = Procs::default();
    let addr = coordinator.addr.clone();
    procs.children.push(coordinator.child);
    for _ in 0..workers {
        procs.children.push(spawn_worker(dir, &addr));
    }
    for child in &mut procs.children {
        assert!(
            wait_bounded(child, PROCESS_WAIT_MAX).success(),
            "a process failed"
        );
    }
    merged_output(dir)
}

/// Word counts computed directly, without any MapReduce code. Only what a letter is comes
/// from mr-core: `is_letter` is the specification (Go's `unicode.IsLetter`, tested against
/// Unicode's categories in mr-core), and std has no general-category test to use instead.
pub fn count_words(dir: &Path, inputs: &[String]) -> Vec<String> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for name in inputs {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        for word in text
            .split(|c: char| !mr_core::apps::is_letter(c))
            .filter(|w| !w.is_empty())
        {
            *counts.entry(word.to_string()).or_default() += 1;
        }
    }
    let mut lines: Vec<String> = counts
        .into_iter()
        .map(|(w, n)| format!("{w} {n}"))
        .collect();
    lines.sort();
    lines
}

/// A fresh directory, removed when the returned guard drops.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("mr-test-")
        .tempdir()
        .unwrap()
}
