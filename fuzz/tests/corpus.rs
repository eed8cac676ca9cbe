//! Replays every checked-in corpus file through the same harness code the fuzz targets
//! run, on stable Rust: `cargo test --manifest-path fuzz/Cargo.toml`. A file that once
//! found a bug stays here, so the bug stays fixed.

use std::fs;
use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: empty corpus", dir.display());
    files
}

/// Runs `harness` on every file of `target`'s corpus, naming the file that panics.
fn replay<T>(target: &str, harness: impl Fn(&[u8]) -> T) -> Vec<T> {
    corpus(target)
        .iter()
        .map(|path| {
            let data = fs::read(path).expect("a readable corpus file");
            eprintln!("{}", path.display());
            harness(&data)
        })
        .collect()
}

#[test]
fn raft_cluster_corpus_holds_every_invariant() {
    let summaries = replay("raft_cluster", fuzz::raft_cluster::play);
    // The corpus must drive the protocol, not only decode: between them its schedules
    // elect leaders, commit, confirm reads and crash nodes. A corpus that did none of
    // this would pass while exercising nothing.
    let reached = |f: fn(&fuzz::raft_cluster::Summary) -> bool| summaries.iter().flatten().any(f);
    assert!(
        reached(|s| s.leaders_elected > 0),
        "no schedule elects a leader"
    );
    assert!(
        reached(|s| s.committed >= 2),
        "no schedule commits a proposal"
    );
    assert!(
        reached(|s| s.reads_confirmed > 0),
        "no schedule confirms a read"
    );
    assert!(
        reached(|s| s.crashes > 0 && s.committed > 0),
        "no schedule crashes a node after a commit"
    );
    assert!(reached(|s| s.nodes == 5), "no schedule runs five nodes");
    assert!(
        reached(|s| s.snapshots_taken > 0),
        "no schedule takes a snapshot"
    );
    assert!(
        reached(|s| s.snapshots_installed > 0),
        "no schedule sends a snapshot to a follower"
    );
    assert!(
        reached(|s| s.snapshots_wanted > 0),
        "no schedule has a leader ask its application for the snapshot's bytes again"
    );
    assert!(
        reached(|s| s.memberships_changed > 0),
        "no schedule changes the membership"
    );
    assert!(
        reached(|s| s.partitioned > 0 && s.committed > 0),
        "no schedule partitions a cluster that commits"
    );
    every_input_and_role_change(&summaries.iter().flatten().copied().collect::<Vec<_>>());
}

/// Between them the schedules make some node accept every kind of `Input`, and take
/// every role change Raft allows in one step.
fn every_input_and_role_change(summaries: &[fuzz::raft_cluster::Summary]) {
    use fuzz::raft_cluster::{role_index, INPUT_KINDS};
    use raft_core::Role::{Candidate, Follower, Leader, PreCandidate};
    let inputs = summaries.iter().fold(0, |all, s| all | s.inputs_accepted);
    for (bit, kind) in INPUT_KINDS.iter().enumerate() {
        assert!(
            inputs & (1 << bit) != 0,
            "no node accepted an Input::{kind}"
        );
    }
    let changes = summaries.iter().fold(0, |all, s| all | s.role_changes);
    let allowed = [
        (Follower, PreCandidate),
        (Follower, Candidate), // no pre-vote, or a transfer's TimeoutNow
        (Follower, Leader),    // a sole voter wins as it campaigns
        (PreCandidate, Follower),
        (PreCandidate, Candidate),
        (Candidate, Follower),
        (Candidate, PreCandidate), // a lost election times out into a new pre-vote
        (Candidate, Leader),
        (Leader, Follower),
    ];
    for (from, to) in allowed {
        let bit = 4 * role_index(from) + role_index(to);
        assert!(
            changes & (1 << bit) != 0,
            "no node went from {from:?} to {to:?}"
        );
    }
}

#[test]
fn kv_cluster_corpus_is_linearizable() {
    let summaries = replay("kv_cluster", fuzz::kv_cluster::play::<kv_core::KvState>);
    let reached = |f: fn(&fuzz::kv_cluster::Summary) -> bool| summaries.iter().flatten().any(f);
    // Requests next to each other reach a server as one batch (`ServerInput::Requests`).
    assert!(
        reached(|s| s.requests_together >= 10),
        "no schedule has servers take requests together"
    );
    // The checker must have had something to check: answered operations from several
    // clients, across crashes, partitions, snapshots and retried requests.
    assert!(
        reached(|s| s.ops_ok >= 5 && s.clerks >= 2),
        "no schedule has two clients with answered operations"
    );
    assert!(
        reached(|s| s.ops_ok > 0 && s.crashes > 0),
        "no schedule answers operations and crashes a server"
    );
    assert!(
        reached(|s| s.ops_ok > 0 && s.partitioned > 0),
        "no schedule answers operations under a partition"
    );
    assert!(
        reached(|s| s.snapshots_taken > 0 && s.snapshots_installed > 0),
        "no schedule snapshots and installs a snapshot"
    );
    assert!(
        reached(|s| s.duplicates > 0),
        "no schedule retries a request the session table recognises"
    );
    assert!(reached(|s| s.reads_served > 0), "no schedule serves a read");
    assert!(
        summaries.iter().flatten().all(|s| !s.check_unknown),
        "the checker ran out of budget on a corpus history"
    );
}

#[test]
fn shardctrl_cluster_corpus_is_linearizable() {
    let summaries = replay("shardctrl_cluster", fuzz::kv_cluster::shardctrl::play);
    let reached = |f: fn(&fuzz::kv_cluster::Summary) -> bool| summaries.iter().flatten().any(f);
    assert!(
        reached(|s| s.requests_together >= 10),
        "no schedule has servers take requests together"
    );
    assert!(
        reached(|s| s.ops_ok >= 5 && s.clerks >= 2),
        "no schedule has two clients with answered operations"
    );
    assert!(
        reached(|s| s.ops_ok > 0 && (s.crashes > 0 || s.partitioned > 0)),
        "no schedule answers operations across a crash or a partition"
    );
    assert!(
        reached(|s| s.snapshots_taken > 0),
        "no schedule snapshots the controller"
    );
    assert!(
        summaries.iter().flatten().all(|s| !s.check_unknown),
        "the checker ran out of budget on a corpus history"
    );
}

#[test]
fn shard_cluster_corpus_is_linearizable_and_settles() {
    let summaries = replay("shard_cluster", fuzz::shard_cluster::play);
    let reached = |f: fn(&fuzz::shard_cluster::Summary) -> bool| summaries.iter().flatten().any(f);
    // Shards must move with data while the schedule is still at work, not only once
    // the end has healed everything.
    assert!(
        reached(|s| s.shards_installed > 0 && s.configs_stepped >= 3),
        "no schedule moves a shard across three configurations"
    );
    assert!(
        reached(|s| s.shards_installed > 0 && s.crashes > 0),
        "no schedule moves a shard across a crash"
    );
    assert!(
        reached(|s| s.shards_installed > 0 && s.partitioned > 0),
        "no schedule moves a shard across a partition"
    );
    assert!(
        reached(|s| s.shards_parked > 0),
        "no schedule gives a shard to nobody (every group left)"
    );
    assert!(
        // Four of them are the end's final reads.
        reached(|s| s.ops_ok >= 9 && s.clerks >= 2),
        "no schedule has clients with five answered operations"
    );
    assert!(
        reached(|s| s.snapshots_installed > 0),
        "no schedule installs a snapshot"
    );
    assert!(
        reached(|s| s.groups == 3 && s.servers == 9),
        "no schedule runs three groups of three"
    );
    assert!(
        summaries.iter().flatten().all(|s| !s.check_unknown),
        "the checker ran out of budget on a corpus history"
    );
}

#[test]
fn raft_peer_corpus_is_survived() {
    let summaries = replay("raft_peer", fuzz::raft_peer::play);
    let reached = |f: fn(&fuzz::raft_peer::Summary) -> bool| summaries.iter().flatten().any(f);
    // Hostile input must reach a node in both roles, and be both taken and refused.
    assert!(
        reached(|s| s.started_as_leader && s.accepted >= 5 && s.refused > 0),
        "no input drives a leader"
    );
    assert!(
        reached(|s| !s.started_as_leader && s.accepted >= 5 && s.writes > 0),
        "no input makes a follower write"
    );
}

#[test]
fn decoders_corpus_decodes_without_panicking() {
    replay("decoders", fuzz::decoders::run);
}

#[test]
fn mr_coordinator_corpus_reaches_every_outcome() {
    let summaries = replay("mr_coordinator", fuzz::mr_coordinator::play);
    // Between them the schedules must reach the states the coordinator's rules are
    // about, or the model's checks of them would pass without being exercised.
    let reached = |f: fn(&fuzz::mr_coordinator::Summary) -> bool| summaries.iter().flatten().any(f);
    assert!(reached(|s| s.timeouts > 0), "no schedule times a task out");
    assert!(
        reached(|s| s.duplicates_discarded > 0),
        "no schedule has a report discarded"
    );
    assert!(
        reached(|s| s.failures > 0 && !s.job_failed),
        "no schedule has a failure the job survives"
    );
    assert!(reached(|s| s.job_failed), "no schedule fails the job");
    assert!(
        reached(|s| s.finished_in_schedule && s.n_reduce > 1),
        "no schedule finishes a job of several reduces"
    );
    assert!(
        reached(|s| s.hostile_refused > 0),
        "no schedule has a forged report refused"
    );
    assert!(
        reached(|s| s.workers > 1),
        "no schedule has several workers"
    );
}

#[test]
fn empty_and_short_inputs_are_valid_schedules() {
    // `arbitrary` fills a short input with zeros: an empty input is three idle nodes.
    let idle = fuzz::raft_cluster::play(&[]).expect("an empty input decodes");
    assert_eq!(
        (idle.nodes, idle.leaders_elected, idle.committed),
        (3, 0, 0)
    );
    fuzz::raft_cluster::run(&[0; 64]);
    fuzz::raft_cluster::run(&[0xff; 64]);
    fuzz::decoders::run(&[]);
    // One map, one reduce, one worker, no schedule: the workers behave at once, and the
    // job ends after an assignment of each task.
    let quiet = fuzz::mr_coordinator::play(&[]).expect("an empty input decodes");
    assert_eq!((quiet.n_map, quiet.n_reduce, quiet.committed), (1, 1, 0));
    assert_eq!(quiet.behaved_steps, 3, "map, reduce, exit");
    fuzz::mr_coordinator::run(&[0xff; 64]);
}
