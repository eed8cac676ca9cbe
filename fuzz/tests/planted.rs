//! Inputs the fuzzer found from an empty corpus with a bug planted (`FUZZ_BUG`, feature
//! `bug-injection`), minimised: with the bug they must still be found, so each harness
//! is shown to see what it hunts for. Without the bug the same files replay cleanly in
//! `tests/corpus.rs`. How long each search took is in the README.

use std::panic;

/// Runs `harness` on `corpus/<file>` with `bug` planted; returns the finding.
fn finding(bug: &str, file: &str, harness: fn(&[u8])) -> String {
    // One test sets the variable, so no other test races it; each cluster reads it at
    // its start.
    std::env::set_var("FUZZ_BUG", bug);
    let path = format!("{}/corpus/{file}", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let found = panic::catch_unwind(|| harness(&data));
    std::env::remove_var("FUZZ_BUG");
    let found = found.expect_err("the planted bug is found");
    found
        .downcast_ref::<String>()
        .cloned()
        .expect("a formatted panic message")
}

/// (bug planted, corpus file, harness, what the finding must say)
type Case = (&'static str, &'static str, fn(&[u8]), &'static str);

#[test]
fn every_planted_bug_is_found_by_its_input() {
    let cases: [Case; 3] = [
        (
            "VoteTwice",
            "raft_cluster/planted-vote-twice",
            fuzz::raft_cluster::run,
            "election safety",
        ),
        (
            "CommitOldTerm",
            "raft_cluster/planted-commit-old-term",
            fuzz::raft_cluster::run,
            "leader completeness",
        ),
        (
            "LocalReads",
            "kv_cluster/planted-local-reads",
            fuzz::kv_cluster::run,
            "not linearizable",
        ),
    ];
    for (bug, file, harness, expected) in cases {
        let why = finding(bug, file, harness);
        assert!(
            why.contains(expected),
            "{bug}: expected {expected:?}, got: {why}"
        );
    }
}
