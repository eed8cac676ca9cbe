//! A history with no concurrency at all, for measuring the checker's memory: one client
//! putting distinct values to one key, each put returning before the next is invoked.
//!
//! ```sh
//! cargo build --release -p lincheck --example sequential_kv
//! target/release/examples/sequential_kv write 250000 > seq.txt   # a 6.824 kv history file
//! target/release/examples/sequential_kv check 1000000            # built and checked in-process
//! ```
//!
//! `check` exists because 1M operations in the file format (about 124 bytes each) exceed the
//! 64 MB cap on history files; it skips only the parsing.

use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Duration;

use lincheck::{check_with_stats, KvInput, KvModel, KvOutput, Operation, Verdict};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [mode, n] => n.parse::<u64>().ok().map(|n| (mode.as_str(), n)),
        _ => None,
    };
    match parsed {
        Some(("write", n)) => write(n),
        Some(("check", n)) => check(n),
        _ => {
            eprintln!("usage: sequential_kv write|check OPERATIONS");
            ExitCode::from(3)
        }
    }
}

fn value(i: u64) -> String {
    format!("x 0 {i} y")
}

fn write(n: u64) -> ExitCode {
    let mut out = BufWriter::new(std::io::stdout().lock());
    for i in 0..n {
        for kind in ["invoke", "ok"] {
            let line = format!(
                "{{:process 0, :type :{kind}, :f :put, :key \"0\", :value \"{}\"}}",
                value(i)
            );
            if writeln!(out, "{line}").is_err() {
                return ExitCode::from(3);
            }
        }
    }
    match out.flush() {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(3),
    }
}

fn check(n: u64) -> ExitCode {
    // Times as in a parsed file: line numbers, two lines per operation.
    let history: Vec<_> = (0..n)
        .map(|i| Operation {
            client: 0,
            input: KvInput::Put {
                key: "0".into(),
                value: value(i),
            },
            output: Some(KvOutput::Done),
            call: 2 * i + 1,
            ret: Some(2 * i + 2),
        })
        .collect();
    let result = check_with_stats(
        &KvModel::empty_is_absent(),
        &history,
        Duration::from_secs(600),
    );
    println!("{:?}", result.stats);
    match result.verdict {
        Verdict::Linearizable => {
            println!("linearizable");
            ExitCode::SUCCESS
        }
        Verdict::NotLinearizable(_) => {
            println!("not linearizable");
            ExitCode::from(1)
        }
        Verdict::Unknown => {
            println!("unknown");
            ExitCode::from(2)
        }
    }
}
