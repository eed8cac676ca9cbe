//! Word count throughput: `mr seq`, `mr run` with 1 and 2 workers, and
//! `tr -cs 'A-Za-z' '\n' | sort | uniq -c`, on the same generated text, in one run.
//!
//! ```sh
//! cargo bench -p mr-driver --bench wordcount          # BENCH_MB=N to change the input size
//! ```
//!
//! The input (default 200 MB in 16 files) is generated deterministically once and kept in
//! the target directory. Every run's output is checked against the others before any
//! figure is printed.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const MR: &str = env!("CARGO_BIN_EXE_mr");
const FILES: usize = 16;
const SEED: u64 = 6824;

fn main() {
    let size_mb: usize = std::env::var("BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mr-wordcount-bench");
    let inputs = generate(&root.join(format!("input-{size_mb}mb-seed{SEED}")), size_mb);
    let total_bytes: u64 = inputs.iter().map(|p| fs::metadata(p).unwrap().len()).sum();
    let mb = total_bytes as f64 / 1e6;
    println!("input: {FILES} files, {mb:.1} MB, in {}", root.display());

    let out = root.join("out");
    let _ = fs::remove_dir_all(&out);
    let seq = time("mr seq", || {
        mr(
            &inputs,
            &["seq", "--app", "wc", "--output"],
            &out.join("seq"),
        )
    });
    let one = time("mr run --workers 1", || {
        mr(
            &inputs,
            &[
                "run",
                "--quiet",
                "--app",
                "wc",
                "--workers",
                "1",
                "--output",
            ],
            &out.join("w1"),
        )
    });
    let two = time("mr run --workers 2", || {
        mr(
            &inputs,
            &[
                "run",
                "--quiet",
                "--app",
                "wc",
                "--workers",
                "2",
                "--output",
            ],
            &out.join("w2"),
        )
    });
    let unix = time("tr | sort | uniq -c", || {
        shell_pipeline(&inputs, &out.join("unix.txt"))
    });

    check_outputs(&out);
    report(mb, [seq, one, two, unix]);
}

/// Every run must have produced the same counts before any figure means anything.
fn check_outputs(out: &Path) {
    let expected = read_outputs(&out.join("seq"));
    assert_eq!(
        read_outputs(&out.join("w1")),
        expected,
        "mr run --workers 1 differs from mr seq"
    );
    assert_eq!(
        read_outputs(&out.join("w2")),
        expected,
        "mr run --workers 2 differs from mr seq"
    );
    assert_eq!(
        read_uniq(&out.join("unix.txt")),
        expected,
        "tr|sort|uniq differs from mr seq"
    );
    println!("outputs agree: {} distinct words", expected.len());
}

fn report(mb: f64, [seq, one, two, unix]: [f64; 4]) {
    println!("\n| command | wall | throughput |\n|---|---|---|");
    for (name, secs) in [
        ("mr seq", seq),
        ("mr run --workers 1", one),
        ("mr run --workers 2", two),
        ("LC_ALL=C tr | sort | uniq -c", unix),
    ] {
        println!("| {name} | {secs:.2} s | {:.1} MB/s |", mb / secs);
    }
    println!();
    goal("2 workers >= 1.6x one worker", one / two, 1.6, true);
    goal(
        "one worker within 1.5x of mr seq (time ratio)",
        one / seq,
        1.5,
        false,
    );
    goal("mr seq >= 100 MB/s", mb / seq, 100.0, true);
}

fn goal(name: &str, value: f64, bound: f64, at_least: bool) {
    let met = if at_least {
        value >= bound
    } else {
        value <= bound
    };
    println!(
        "goal {name}: {value:.2} -> {}",
        if met { "met" } else { "MISSED" }
    );
}

fn time(name: &str, f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    let secs = start.elapsed().as_secs_f64();
    eprintln!("{name}: {secs:.2} s");
    secs
}

fn mr(inputs: &[PathBuf], args: &[&str], output: &Path) {
    let status = Command::new(MR)
        .args(args)
        .arg(output)
        .args(inputs)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "mr {args:?} failed");
}

fn shell_pipeline(inputs: &[PathBuf], output: &Path) {
    let status = Command::new("sh")
        .arg("-c")
        .arg(r#"cat "$@" | tr -cs 'A-Za-z' '\n' | sort | uniq -c > "$0""#)
        .arg(output)
        .args(inputs)
        .env("LC_ALL", "C")
        .status()
        .unwrap();
    assert!(status.success(), "shell pipeline failed");
}

fn read_outputs(dir: &Path) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("mr-out-")
        {
            continue;
        }
        for line in fs::read_to_string(&path).unwrap().lines() {
            let (word, n) = line.split_once(' ').unwrap();
            assert!(
                counts
                    .insert(word.to_string(), n.parse().unwrap())
                    .is_none(),
                "{word} twice"
            );
        }
    }
    counts
}

fn read_uniq(path: &Path) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for line in fs::read_to_string(path).unwrap().lines() {
        let mut fields = line.split_whitespace();
        let n: u64 = fields.next().unwrap().parse().unwrap();
        if let Some(word) = fields.next() {
            counts.insert(word.to_string(), n);
        }
    }
    counts
}

/// Writes `FILES` files totalling `size_mb` MB of ASCII prose-like text: a 20,000-word
/// vocabulary drawn with a skew (a few words very common, most rare), mixed case, punctuation.
fn generate(dir: &Path, size_mb: usize) -> Vec<PathBuf> {
    let paths: Vec<PathBuf> = (0..FILES)
        .map(|i| dir.join(format!("text-{i:02}.txt")))
        .collect();
    let file_bytes = size_mb * 1_000_000 / FILES;
    if paths
        .iter()
        .all(|p| fs::metadata(p).is_ok_and(|m| m.len() as usize >= file_bytes))
    {
        return paths;
    }
    fs::create_dir_all(dir).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let vocabulary: Vec<String> = (0..20_000)
        .map(|i| {
            let len = rng.gen_range(2..11);
            let word: String = (0..len)
                .map(|_| char::from(rng.gen_range(b'a'..=b'z')))
                .collect();
            if i % 7 == 0 {
                word[..1].to_uppercase() + &word[1..]
            } else {
                word
            }
        })
        .collect();
    for path in &paths {
        let mut text = Vec::with_capacity(file_bytes + 128);
        let mut line_bytes = 0;
        while text.len() < file_bytes {
            let u: f64 = rng.gen();
            let word = &vocabulary[(u * u * u * vocabulary.len() as f64) as usize];
            text.extend_from_slice(word.as_bytes());
            line_bytes += word.len() + 1;
            let sep: &[u8] = match rng.gen_range(0..20) {
                0 => b", ",
                1 => b". ",
                2 => b" -- ",
                3 => b"'s ",
                _ if line_bytes > 72 => b"\n",
                _ => b" ",
            };
            if sep == b"\n" {
                line_bytes = 0;
            }
            text.extend_from_slice(sep);
        }
        fs::File::create(path).unwrap().write_all(&text).unwrap();
    }
    paths
}
