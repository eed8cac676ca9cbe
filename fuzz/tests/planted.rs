//! The input the fuzzer found from an empty corpus with `FUZZ_BUG=VoteTwice` (in about
//! 7 seconds), minimised: with the bug planted it must still break election safety, so
//! the harness is shown to see what it hunts for. Without the bug the same file replays
//! cleanly in `tests/corpus.rs`.

use std::panic;

#[test]
fn vote_twice_is_found_as_two_leaders_in_one_term() {
    // Read once, on the first node built: nothing in this test binary has built one yet.
    std::env::set_var("FUZZ_BUG", "VoteTwice");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/raft_cluster/planted-vote-twice"
    );
    let data = std::fs::read(path).expect("the planted-bug input");
    let found = panic::catch_unwind(|| fuzz::raft_cluster::run(&data)).expect_err("a finding");
    let why = found
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(why.contains("election safety"), "{why}");
}
