//! The course's test applications, for this crate's integration tests (feature `test-apps`).
//!
//! They work in the worker's current directory, as in the course, and their delays are the
//! course's divided by ten so the suite stays fast; tests scale the task timeout the same way.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::sleep;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mr_core::{AppError, KeyValue, MapReduce};
use rand::Rng;

pub const NAMES: &[&str] = &[
    "mtiming",
    "rtiming",
    "jobcount",
    "early_exit",
    "crash",
    "nocrash",
];

pub fn lookup(name: &str) -> Option<Box<dyn MapReduce>> {
    Some(match name {
        "mtiming" => Box::new(MapTiming),
        "rtiming" => Box::new(ReduceTiming),
        "jobcount" => Box::new(JobCount),
        "early_exit" => Box::new(EarlyExit),
        "crash" => Box::new(Crash { crashes: true }),
        "nocrash" => Box::new(Crash { crashes: false }),
        _ => return None,
    })
}

fn io(e: std::io::Error) -> AppError {
    AppError(e.to_string())
}

fn pid_alive(pid: &str) -> bool {
    Path::new("/proc").join(pid).exists()
}

/// Marks this process as inside `phase`, counts live processes inside it, sleeps so that
/// overlapping tasks can see each other, and unmarks. Returns the count.
fn parallel_count(phase: &str) -> Result<usize, AppError> {
    let prefix = format!("mr-worker-{phase}-");
    let mine = format!("{prefix}{}", std::process::id());
    fs::write(&mine, b"x").map_err(io)?;
    let mut count = 0;
    for entry in fs::read_dir(".").map_err(io)? {
        let name = entry
            .map_err(io)?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.strip_prefix(&prefix).is_some_and(pid_alive) {
            count += 1;
        }
    }
    sleep(Duration::from_millis(300));
    fs::remove_file(&mine).map_err(io)?;
    assert!(count >= 1, "our own marker is always there");
    Ok(count)
}

fn sorted_join(values: &[String]) -> String {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.join(" ")
}

/// mtiming: map records when it ran and how many maps ran at once.
struct MapTiming;

impl MapReduce for MapTiming {
    fn map(&self, _file: &str, _contents: &str) -> Result<Vec<KeyValue>, AppError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let pid = std::process::id();
        let n = parallel_count("map")?;
        Ok(vec![
            KeyValue::new(format!("times-{pid}"), format!("{now:.1}")),
            KeyValue::new(format!("parallel-{pid}"), n.to_string()),
        ])
    }

    fn reduce(&self, _key: &str, values: &[String]) -> Result<String, AppError> {
        Ok(sorted_join(values))
    }
}

/// rtiming: reduce reports how many reduces ran at once.
struct ReduceTiming;

impl MapReduce for ReduceTiming {
    fn map(&self, _file: &str, _contents: &str) -> Result<Vec<KeyValue>, AppError> {
        Ok((b'a'..=b'j')
            .map(|k| KeyValue::new(char::from(k).to_string(), "1"))
            .collect())
    }

    fn reduce(&self, _key: &str, _values: &[String]) -> Result<String, AppError> {
        Ok(parallel_count("reduce")?.to_string())
    }
}

/// jobcount: every map execution leaves a file; reduce counts them.
struct JobCount;

static JOBCOUNT_RUNS: AtomicU64 = AtomicU64::new(0);

impl MapReduce for JobCount {
    fn map(&self, _file: &str, _contents: &str) -> Result<Vec<KeyValue>, AppError> {
        let run = JOBCOUNT_RUNS.fetch_add(1, Ordering::SeqCst);
        fs::write(
            format!("mr-worker-jobcount-{}-{run}", std::process::id()),
            b"x",
        )
        .map_err(io)?;
        sleep(Duration::from_millis(
            rand::thread_rng().gen_range(200..500),
        ));
        Ok(vec![KeyValue::new("a", "x")])
    }

    fn reduce(&self, _key: &str, _values: &[String]) -> Result<String, AppError> {
        let mut count = 0;
        for entry in fs::read_dir(".").map_err(io)? {
            if entry
                .map_err(io)?
                .file_name()
                .to_string_lossy()
                .starts_with("mr-worker-jobcount")
            {
                count += 1;
            }
        }
        Ok(count.to_string())
    }
}

/// early_exit: some reduces are slow, so a process that exits early would be caught
/// before all output exists.
struct EarlyExit;

impl MapReduce for EarlyExit {
    fn map(&self, file: &str, _contents: &str) -> Result<Vec<KeyValue>, AppError> {
        Ok(vec![KeyValue::new(file, "1")])
    }

    fn reduce(&self, key: &str, values: &[String]) -> Result<String, AppError> {
        if key.ends_with("0.txt") || key.ends_with("5.txt") {
            sleep(Duration::from_millis(600));
        }
        Ok(values.len().to_string())
    }
}

/// crash / nocrash: the same output; `crash` exits (1/3) or stalls up to 1 s (1/3) first.
struct Crash {
    crashes: bool,
}

impl Crash {
    fn maybe_crash(&self) {
        if !self.crashes {
            return;
        }
        let roll = rand::thread_rng().gen_range(0..1000);
        if roll < 330 {
            std::process::exit(1);
        } else if roll < 660 {
            sleep(Duration::from_millis(rand::thread_rng().gen_range(0..1000)));
        }
    }
}

impl MapReduce for Crash {
    fn map(&self, file: &str, contents: &str) -> Result<Vec<KeyValue>, AppError> {
        self.maybe_crash();
        Ok(vec![
            KeyValue::new("a", file),
            KeyValue::new("b", file.len().to_string()),
            KeyValue::new("c", contents.len().to_string()),
            KeyValue::new("d", "xyzzy"),
        ])
    }

    fn reduce(&self, _key: &str, values: &[String]) -> Result<String, AppError> {
        self.maybe_crash();
        Ok(sorted_join(values))
    }
}
