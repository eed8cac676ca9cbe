//! Protocol scripts: every `testdata/*.txt` file is one story, told as commands to a
//! small cluster and the exact output each produces (every message, write, apply and
//! role change, in the compact text forms of `raft_core`'s `Display` impls). An
//! unexpected extra message, a vote sent before its write is durable, a changed commit
//! index: each shows up as a diff.
//!
//! File format (details in `tests/script/mod.rs`, commands in `testdata/README.md`):
//!
//! ```text
//! # comment
//! command arg key=value
//! ----
//! expected output, one line per item,
//! up to the next blank line ("ok" if the command prints nothing)
//! ```
//!
//! Run: `cargo test -p raft-core --test scripts`. When a change to the output is
//! intended: `REWRITE=1 cargo test -p raft-core --test scripts`, then review the diff of
//! `testdata/` before committing it.

mod script;

use std::path::PathBuf;

/// The stories must not quietly disappear (a renamed directory, a bad glob).
const SCRIPTS_MIN: usize = 20;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

#[test]
fn every_script_in_testdata() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(testdata())
        .expect("raft-core/testdata exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let name = format!("testdata/{}", path.file_name()?.to_string_lossy());
            script::run_file(path, &name).err()
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} scripts failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
    assert!(
        files.len() >= SCRIPTS_MIN,
        "only {} scripts in testdata",
        files.len()
    );
}

const ELECTION_START: &str = "\
# A deliberately wrong expectation on the last line.
add-nodes 3
----
ok

campaign 1
----
1: Campaign
  send 1->2 t1 PreVote last=0/0
  send 1->3 t1 PreVote last=9/9
  became PreCandidate t0
";

#[test]
fn a_changed_expectation_fails_with_a_readable_diff() {
    let outcome = script::run_text("inline.txt", ELECTION_START).unwrap();
    assert_eq!(outcome.mismatches.len(), 1, "{:?}", outcome.mismatches);
    let report = &outcome.mismatches[0];
    let want = "\
inline.txt:6: `campaign 1`: output differs (- expected, + actual):
      1: Campaign
        send 1->2 t1 PreVote last=0/0
    -   send 1->3 t1 PreVote last=9/9
    +   send 1->3 t1 PreVote last=0/0
        became PreCandidate t0";
    assert_eq!(report, want);
}

#[test]
fn rewriting_replaces_only_expectations() {
    let outcome = script::run_text("inline.txt", ELECTION_START).unwrap();
    let fixed = ELECTION_START.replace("last=9/9", "last=0/0");
    assert_eq!(outcome.rewritten, fixed, "comments and blank lines kept");
    let again = script::run_text("inline.txt", &fixed).unwrap();
    assert!(again.mismatches.is_empty(), "{:?}", again.mismatches);
}

#[test]
fn script_errors_name_the_line() {
    let bad = "add-nodes 3\n----\nok\n\ndeliver colour=red\n----\nok\n";
    let err = script::run_text("bad.txt", bad).err().unwrap();
    assert_eq!(
        err,
        "bad.txt:5: deliver colour=red: unknown option colour=red"
    );
    let unterminated = "add-nodes 3\nok\n";
    let err = script::run_text("bad.txt", unterminated).err().unwrap();
    assert_eq!(err, "bad.txt:1: expected ---- after \"add-nodes 3\"");
}

#[test]
fn diff_elides_long_unchanged_runs() {
    let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let expected = lines(&["a", "b", "c", "d", "e", "f", "g", "h", "i", "x"]);
    let actual = lines(&["a", "b", "c", "d", "e", "f", "g", "h", "i", "y", "z"]);
    let want = vec![
        "    ...", "      g", "      h", "      i", "    - x", "    + y", "    + z",
    ];
    assert_eq!(script::diff(&expected, &actual), want);
}
