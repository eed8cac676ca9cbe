//! This project's service tests beyond the course's: at-most-once writes under message
//! duplication and leader crashes, the stale-read trap (with ReadIndex and with leases),
//! lease reads under the harshest generic test, and proof that the trap catches a server
//! that serves reads locally.

use kv_core::ServerConfig;
use kv_sim::lab3::{self, Generic};
use kv_sim::world::ServerTweak;
use raft_core::{InjectedBug, ReadMode};
use sim_kit::seeded_test;

/// A run fails by panicking (with its seed); its report only matters with SIM_VERBOSE.
fn ran<T>(_report: T) {}

const SEEDS: u64 = 10;

fn tweak(mode: ReadMode, check_quorum: bool, bug: Option<InjectedBug>) -> Option<ServerTweak> {
    Some(Box::new(move |c: &mut ServerConfig| {
        c.raft.read_mode = mode;
        c.raft.check_quorum = check_quorum;
        c.raft.bug = bug;
    }))
}

seeded_test!(duplicates_across_leader_changes, SEEDS, |s| ran(
    lab3::duplicates_across_leader_changes(s)
));

// Without check-quorum the partitioned leader never doubts itself, so the trap is
// always fully set: only the ReadIndex round keeps the read from going stale.
seeded_test!(stale_read_trap_read_index, SEEDS, |s| {
    match lab3::stale_read_trap(s, tweak(ReadMode::Safe, false, None)) {
        Ok((_, set)) => assert!(set, "seed {s}: the old leader stepped down early"),
        Err(why) => panic!("seed {s}: {why}"),
    }
});

// Leases need check-quorum; the old leader may step down before the read arrives.
seeded_test!(stale_read_trap_lease, SEEDS, |s| {
    if let Err(why) = lab3::stale_read_trap(s, tweak(ReadMode::Lease, true, None)) {
        panic!("seed {s}: {why}");
    }
});

seeded_test!(lease_reads_unreliable_partitions_crashes, SEEDS, |s| {
    let g = Generic {
        unreliable: true,
        crash: true,
        partitions: true,
        random_keys: true,
        lease_reads: true,
        max_raft_state_bytes: Some(1000),
        ..Generic::new(15, 7)
    };
    ran(lab3::generic(s, g))
});

/// A server whose reads skip both the quorum round and the lease answers the trapped
/// client from its stale state; the checker must say so on every seed.
#[test]
fn stale_read_trap_catches_local_reads() {
    for seed in 1..=10 {
        let bug = tweak(ReadMode::Safe, false, Some(InjectedBug::LocalReads));
        match lab3::stale_read_trap(seed, bug) {
            Err(why) => assert!(why.contains("not linearizable"), "{why}"),
            Ok(r) => panic!("seed {seed}: local reads passed the trap: {r:?}"),
        }
    }
}

/// Raft's invariant checker runs inside every kv-sim run, not only in raft-sim: servers
/// whose nodes grant two votes per term, in an election storm, are caught by election
/// safety with the checker's own message. The same storm without the bug passes.
#[test]
fn raft_checker_catches_a_double_vote_in_a_kv_run() {
    let storm = |bug: Option<InjectedBug>| -> Option<ServerTweak> {
        Some(Box::new(move |c: &mut ServerConfig| {
            c.raft.bug = bug;
            c.raft.pre_vote = false;
            c.raft.check_quorum = false;
            c.raft.election_ticks = 10;
            c.raft.heartbeat_ticks = 2;
        }))
    };
    let g = || Generic {
        unreliable: true,
        partitions: true,
        ..Generic::new(5, 5)
    };
    let run = |seed, bug| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ran(lab3::generic_with(seed, g(), storm(bug)))
        }))
    };
    let caught = (1..=20).find_map(|seed| {
        let panic = run(seed, Some(InjectedBug::VoteTwice)).err()?;
        let msg = sim_kit::seeds::panic_message(&*panic);
        assert!(msg.contains("election safety"), "seed {seed}: {msg}");
        Some((seed, msg))
    });
    let (seed, msg) = caught.expect("two votes per term went unnoticed for 20 seeds");
    eprintln!("caught on seed {seed}: {msg}");
    for seed in 1..=3 {
        assert!(
            run(seed, None).is_ok(),
            "seed {seed}: the storm fails without the bug"
        );
    }
}
