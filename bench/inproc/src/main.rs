//! In-process Raft throughput: three nodes in one process, no I/O, raft-core against
//! tikv's raft 0.7 driven by the same harness shape.
//!
//! `inproc-bench` runs every row, each side in its own child process (so resident-memory
//! peaks do not mix), alternating sides, three times, and prints the medians as a
//! Markdown table. `inproc-bench one SIDE ROW [ENTRIES]` runs one side once (what the
//! children do; also the thing to put under `perf record`).

mod alloc;
mod core_side;
mod rs_side;

use std::process::Command;
use std::time::Instant;

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

/// How a round proposes: `batch` entries of `payload_bytes`, in one batch proposal or
/// one proposal at a time; then the network drains (every node has applied the round).
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub payload_bytes: usize,
    pub batch: usize,
    pub one_at_a_time: bool,
}

/// A three-node cluster with a leader elected, as one side drives it.
pub trait Side {
    fn start() -> Self;
    /// Proposes one round at the leader and delivers messages until none are left.
    fn round(&mut self, shape: Shape, payload: &mut dyn FnMut() -> Vec<u8>);
    /// (entries, payload bytes) applied by each node, leader first.
    fn applied(&self) -> Vec<(u64, u64)>;
}

struct Row {
    name: &'static str,
    shape: Shape,
    entries: u64,
}

const ROWS: &[Row] = &[
    Row {
        name: "128B-batch256",
        shape: Shape {
            payload_bytes: 128,
            batch: 256,
            one_at_a_time: false,
        },
        entries: 256 * 1024,
    },
    Row {
        name: "128B-batch1",
        shape: Shape {
            payload_bytes: 128,
            batch: 1,
            one_at_a_time: false,
        },
        entries: 128 * 1024,
    },
    Row {
        name: "128B-256x1",
        shape: Shape {
            payload_bytes: 128,
            batch: 256,
            one_at_a_time: true,
        },
        entries: 256 * 1024,
    },
    Row {
        name: "16B-batch256",
        shape: Shape {
            payload_bytes: 16,
            batch: 256,
            one_at_a_time: false,
        },
        entries: 256 * 1024,
    },
    Row {
        name: "1KiB-batch256",
        shape: Shape {
            payload_bytes: 1024,
            batch: 256,
            one_at_a_time: false,
        },
        entries: 256 * 1024,
    },
];

struct Measured {
    entries_per_s: f64,
    /// Entries per second of this thread's CPU time: steadier than wall time when
    /// other work shares the machine.
    entries_per_cpu_s: f64,
    allocs_per_entry: f64,
    peak_rss_kib: u64,
}

fn run<S: Side>(row: &Row, entries: u64) -> Measured {
    let mut cluster = S::start();
    let mut seq: u64 = 0;
    // Distinct payloads, made inside the timed loop on both sides as an application would.
    let mut payload = || {
        seq += 1;
        let mut data = vec![0u8; row.shape.payload_bytes];
        let stamp = seq.to_le_bytes();
        let n = stamp.len().min(data.len());
        data[..n].copy_from_slice(&stamp[..n]);
        data
    };
    let rounds = entries.div_ceil(row.shape.batch as u64);
    let entries = rounds * row.shape.batch as u64;
    let allocs_before = alloc::allocations();
    let cpu_before = alloc::thread_cpu_ns();
    let start = Instant::now();
    for _ in 0..rounds {
        cluster.round(row.shape, &mut payload);
    }
    let elapsed = start.elapsed();
    let cpu_s = (alloc::thread_cpu_ns() - cpu_before) as f64 / 1e9;
    let allocs = alloc::allocations() - allocs_before;
    let want = (entries, entries * row.shape.payload_bytes as u64);
    for (node, got) in cluster.applied().into_iter().enumerate() {
        assert_eq!(got, want, "node {} applied everything", node + 1);
    }
    let peak_rss_kib = alloc::peak_rss_kib().unwrap_or(0);
    drop(cluster);
    Measured {
        entries_per_s: entries as f64 / elapsed.as_secs_f64(),
        entries_per_cpu_s: entries as f64 / cpu_s,
        allocs_per_entry: allocs as f64 / entries as f64,
        peak_rss_kib,
    }
}

fn find_row(name: &str) -> &'static Row {
    ROWS.iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("unknown row {name}; rows: {:?}", row_names()))
}

fn row_names() -> Vec<&'static str> {
    ROWS.iter().map(|r| r.name).collect()
}

fn one(side: &str, row: &str, entries: Option<u64>) {
    let row = find_row(row);
    let entries = entries.unwrap_or(row.entries);
    let m = match side {
        "core" => run::<core_side::Cluster>(row, entries),
        "rs" => run::<rs_side::Cluster>(row, entries),
        other => panic!("unknown side {other}: core or rs"),
    };
    println!(
        "{} {} {} {:.0} {:.2} {} {:.0}",
        side,
        row.name,
        entries,
        m.entries_per_s,
        m.allocs_per_entry,
        m.peak_rss_kib,
        m.entries_per_cpu_s
    );
}

fn child(side: &str, row: &str) -> Measured {
    let exe = std::env::current_exe().expect("own path");
    let out = Command::new(exe)
        .args(["one", side, row])
        .output()
        .expect("run a child");
    assert!(
        out.status.success(),
        "{side} {row} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).expect("utf-8");
    let f: Vec<&str> = line.split_whitespace().collect();
    eprintln!("  {}", line.trim());
    Measured {
        entries_per_s: f[3].parse().expect("entries/s"),
        allocs_per_entry: f[4].parse().expect("allocs"),
        peak_rss_kib: f[5].parse().expect("rss"),
        entries_per_cpu_s: f[6].parse().expect("entries/cpu-s"),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn all(runs: usize, only: Option<&str>) {
    println!("| row | entries | raft-core entries/s | raft-rs entries/s | ratio | ratio by CPU time | raft-core allocs/entry | raft-rs allocs/entry | raft-core peak RSS MiB | raft-rs peak RSS MiB |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in ROWS.iter().filter(|r| only.is_none_or(|o| o == r.name)) {
        let (mut core, mut rs) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            core.push(child("core", row.name));
            rs.push(child("rs", row.name));
        }
        let med = |v: &[Measured], f: fn(&Measured) -> f64| median(v.iter().map(f).collect());
        let (c, r) = (
            med(&core, |m| m.entries_per_s),
            med(&rs, |m| m.entries_per_s),
        );
        let (c_cpu, r_cpu) = (
            med(&core, |m| m.entries_per_cpu_s),
            med(&rs, |m| m.entries_per_cpu_s),
        );
        let mib = |m: &Measured| m.peak_rss_kib as f64 / 1024.0;
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.2}× | {:.2}× | {:.2} | {:.2} | {:.1} | {:.1} |",
            row.name,
            row.entries,
            c,
            r,
            c / r,
            c_cpu / r_cpu,
            med(&core, |m| m.allocs_per_entry),
            med(&rs, |m| m.allocs_per_entry),
            med(&core, mib),
            med(&rs, mib),
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["one", side, row] => one(side, row, None),
        ["one", side, row, n] => one(side, row, Some(n.parse().expect("entries"))),
        [] => all(3, None),
        ["all", runs] => all(runs.parse().expect("runs"), None),
        ["all", runs, row] => all(runs.parse().expect("runs"), Some(row)),
        _ => {
            eprintln!(
                "usage: inproc-bench [all RUNS [ROW]] | one core|rs ROW [ENTRIES]\nrows: {:?}",
                row_names()
            );
            std::process::exit(2);
        }
    }
}
