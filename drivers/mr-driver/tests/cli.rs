//! The `mr` command as a user meets it: `mr run`, streaming mode with shell commands, and
//! clear errors for bad input.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;

fn mr(dir: &std::path::Path, args: &[&str]) -> Output {
    let mut child = Command::new(MR)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut child, PROCESS_WAIT_MAX);
    let mut output = child.wait_with_output().unwrap();
    output.status = status;
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn run_writes_outputs_where_asked_and_says_so() {
    let dir = temp_dir();
    let inputs = write_inputs(dir.path(), 4, 10_000, 11);
    let mut args = vec![
        "run",
        "--app",
        "wc",
        "--workers",
        "2",
        "--n-reduce",
        "3",
        "--output",
        "out",
    ];
    args.extend(inputs.iter().map(String::as_str));
    let output = mr(dir.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("3 files in") && stdout.contains("/out"),
        "{stdout}"
    );
    assert_eq!(
        merged_output(&dir.path().join("out")),
        count_words(dir.path(), &inputs)
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        3,
        "only mr-out-* should remain: {leftovers:?}"
    );
}

#[test]
fn streaming_mode_with_shell_commands_equals_builtin_wc() {
    let dir = temp_dir();
    let inputs = write_inputs(dir.path(), 4, 10_000, 12);
    // ASCII-only splitting on both sides, so both runs see the same words.
    let ascii: Vec<String> = inputs.iter().map(|n| format!("ascii-{n}")).collect();
    for (from, to) in inputs.iter().zip(&ascii) {
        let text = std::fs::read_to_string(dir.path().join(from)).unwrap();
        std::fs::write(
            dir.path().join(to),
            text.replace(|c: char| !c.is_ascii(), " "),
        )
        .unwrap();
    }
    let mapper = r#"tr -cs 'A-Za-z' '\n' | awk 'NF { print $0 "\t1" }'"#;
    let reducer = r#"awk -F'\t' '{ n[$1] += $2 } END { for (w in n) print w "\t" n[w] }'"#;
    let mut args = vec![
        "run",
        "--quiet",
        "--workers",
        "2",
        "--output",
        "streamed",
        "--mapper",
        mapper,
        "--reducer",
        reducer,
    ];
    args.extend(ascii.iter().map(String::as_str));
    let output = mr(dir.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let streamed = merged_output(&dir.path().join("streamed"));
    assert!(!streamed.is_empty());
    assert_eq!(
        streamed,
        sequential_output(dir.path(), &ascii, &["--app", "wc"])
    );

    let mut seq_args = vec![
        "seq",
        "--output",
        "streamed-seq",
        "--mapper",
        mapper,
        "--reducer",
        reducer,
    ];
    seq_args.extend(ascii.iter().map(String::as_str));
    assert!(mr(dir.path(), &seq_args).status.success());
    assert_eq!(merged_output(&dir.path().join("streamed-seq")), streamed);
}

#[test]
fn grep_finds_matching_lines() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("a.txt"), "one needle\nhay\nneedle two\n").unwrap();
    std::fs::write(dir.path().join("b.txt"), "hay\nhay\n").unwrap();
    let output = mr(
        dir.path(),
        &[
            "run",
            "--app",
            "grep",
            "--app-arg",
            "needle",
            "--output",
            "g",
            "a.txt",
            "b.txt",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        merged_output(&dir.path().join("g")),
        ["a.txt:0000000001 one needle", "a.txt:0000000003 needle two"]
    );
}

/// A built-in app's files do not depend on the run: a second run writes byte-identical
/// intermediate and output files, naming the inputs in the opposite order gives the same
/// output files, and each output file lists its keys in increasing byte order, as the
/// course's mrsequential does by sorting before it reduces.
#[test]
fn built_in_apps_write_the_same_sorted_files_every_run() {
    let dir = temp_dir();
    let inputs = write_inputs(dir.path(), 4, 10_000, 14);
    let reversed: Vec<String> = inputs.iter().rev().cloned().collect();
    for app in ["wc", "indexer"] {
        let first = run_keeping_files(dir.path(), app, &inputs, "first");
        let intermediate = first.keys().filter(|n| !n.starts_with("mr-out-")).count();
        assert_eq!(intermediate, 4 * 3, "{app}: {:?}", first.keys());
        let again = run_keeping_files(dir.path(), app, &inputs, "again");
        assert!(again == first, "{app}: a second run wrote different files");
        let outputs = |files: &BTreeMap<String, Vec<u8>>| -> Vec<(String, Vec<u8>)> {
            files
                .iter()
                .filter(|(name, _)| name.starts_with("mr-out-"))
                .map(|(name, bytes)| (name.clone(), bytes.clone()))
                .collect()
        };
        let reordered = run_keeping_files(dir.path(), app, &reversed, "reversed");
        assert!(
            outputs(&reordered) == outputs(&first),
            "{app}: reordered inputs changed the output files"
        );
        for (name, bytes) in outputs(&first) {
            assert_keys_increase(&format!("{app} {name}"), &bytes);
        }
    }
}

/// `mr run` with 2 workers and 3 reduce tasks, keeping intermediate files; returns every
/// file it left, by name.
fn run_keeping_files(
    dir: &Path,
    app: &str,
    inputs: &[String],
    label: &str,
) -> BTreeMap<String, Vec<u8>> {
    let out = format!("{app}-{label}");
    let mut args = vec![
        "run",
        "--quiet",
        "--app",
        app,
        "--workers",
        "2",
        "--n-reduce",
        "3",
        "--keep-intermediate",
        "--output",
        &out,
    ];
    args.extend(inputs.iter().map(String::as_str));
    let output = mr(dir, &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join(&out)).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            files.insert(name, std::fs::read(&path).unwrap());
        }
    }
    files
}

fn assert_keys_increase(name: &str, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).unwrap();
    let keys: Vec<&str> = text
        .lines()
        .map(|line| line.split_once(' ').expect("KEY VALUE").0)
        .collect();
    assert!(keys.len() > 10, "{name}: only {} keys", keys.len());
    for pair in keys.windows(2) {
        assert!(
            pair[0] < pair[1],
            "{name}: {:?} before {:?}",
            pair[0],
            pair[1]
        );
    }
}

#[test]
fn bad_input_gets_a_clear_error_not_a_panic() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("in.txt"), "x").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "--app", "nope", "in.txt"],
            "unknown app \"nope\"; available apps: wc, indexer, grep",
        ),
        (&["seq", "--app", "nope", "in.txt"], "unknown app \"nope\""),
        (
            &["run", "--app", "wc", "missing.txt"],
            "input file missing.txt: No such file",
        ),
        (
            &["seq", "--app", "wc", "missing.txt"],
            "input file missing.txt: No such file",
        ),
        (
            &["run", "--app", "grep", "in.txt"],
            "needs exactly one --app-arg",
        ),
        (
            &["run", "--app", "wc", "--workers", "0", "in.txt"],
            "--workers must be between 1 and",
        ),
        (
            &["run", "--app", "wc", "--n-reduce", "0", "in.txt"],
            "between 1 and 100000 reduce tasks",
        ),
        (
            &[
                "worker",
                "--coordinator",
                "127.0.0.1:1",
                "--connect-timeout-ms",
                "200",
            ],
            "cannot reach the coordinator at 127.0.0.1:1",
        ),
        (
            &["worker", "--coordinator", "not-an-address"],
            "not a valid coordinator address",
        ),
        (
            &[
                "coordinator",
                "--listen",
                "127.0.0.1:0",
                "--app",
                "wc",
                "--dir",
                "in.txt/sub",
                "in.txt",
            ],
            "work directory",
        ),
        (&["run", "in.txt"], "--app"),
    ];
    for (args, expected) in cases {
        let output = mr(dir.path(), args);
        let text = stderr(&output);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(
            text.contains(expected),
            "{args:?}: expected {expected:?} in {text:?}"
        );
        assert!(
            !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
            "{args:?} panicked: {text}"
        );
    }
}

#[test]
fn worker_exits_cleanly_when_the_coordinator_is_gone() {
    let dir = temp_dir();
    let inputs = write_inputs(dir.path(), 8, 1_000, 13);
    let mut coordinator = start_coordinator(dir.path(), &inputs, "jobcount", &[]);
    let mut procs = Procs::default();
    procs
        .children
        .push(spawn_worker(dir.path(), &coordinator.addr));
    std::thread::sleep(std::time::Duration::from_millis(300));
    coordinator.child.kill().unwrap();
    coordinator.child.wait().unwrap();
    let status = wait_bounded(&mut procs.children[0], PROCESS_WAIT_MAX);
    assert!(
        status.success(),
        "a worker whose coordinator vanished should exit normally: {status}"
    );
}
