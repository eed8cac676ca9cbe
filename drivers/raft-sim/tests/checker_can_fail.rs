//! The invariant checkers are only worth something if they catch real bugs. Each test
//! compiles a deliberate protocol violation into raft-core (feature `bug-injection`) and
//! requires the simulator to report the matching invariant within a bounded number of
//! seeds — and the same schedule without the bug to pass. If one of these fails, the
//! checkers (or the fault schedule) went blind.

use std::panic::{catch_unwind, AssertUnwindSafe};

use raft_core::{Config, InjectedBug, Role};
use raft_sim::nemesis::{self, NemesisConfig};
use raft_sim::{cmd, Cluster, NetConfig, Sim, SimConfig};

/// Runs `scenario(seed)` for seeds `1..=seeds_max` until one fails with a message
/// containing `expected`; returns that seed. Any other failure fails the test.
fn first_catching_seed(seeds_max: u64, expected: &str, scenario: impl Fn(u64)) -> Option<u64> {
    for seed in 1..=seeds_max {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| scenario(seed))) {
            let msg = sim_kit::seeds::panic_text(&*panic).to_string();
            assert!(
                msg.contains(expected),
                "seed {seed} failed for an unexpected reason: {msg}"
            );
            eprintln!("caught as expected on seed {seed}: {msg}");
            return Some(seed);
        }
    }
    None
}

/// An election storm: no PreVote or CheckQuorum and short timeouts, so candidacies in the
/// same term are common; with the bug, a follower votes for each of them.
fn storm(bug: Option<InjectedBug>) -> Box<dyn Fn(&mut Config)> {
    Box::new(move |c| {
        c.bug = bug;
        c.pre_vote = false;
        c.check_quorum = false;
        c.election_ticks = 10;
        c.heartbeat_ticks = 2;
    })
}

#[test]
fn double_vote_is_caught_by_election_safety() {
    let cfg = NemesisConfig {
        chaos_ms: 20_000,
        ..NemesisConfig::default()
    };
    let cfg = &cfg;
    let run = |bug| move |seed| drop(nemesis::run(seed, cfg, Some(storm(bug))));
    let caught = first_catching_seed(60, "election safety", run(Some(InjectedBug::VoteTwice)));
    assert!(
        caught.is_some(),
        "granting two votes per term went unnoticed for 60 seeds"
    );
    // The same storm without the bug stays safe.
    let clean = first_catching_seed(10, "", run(None));
    assert_eq!(clean, None, "the storm itself fails without the bug");
}

/// Steps in 50 µs slices until `done` holds (bounded by `limit_ms`).
fn advance_until(c: &mut Cluster, limit_ms: u64, done: impl Fn(&Cluster) -> bool) -> bool {
    for _ in 0..limit_ms * 20 {
        if done(c) {
            return true;
        }
        c.advance_us(50);
    }
    done(c)
}

fn leader_among(c: &Cluster, slots: &[usize]) -> Option<usize> {
    slots
        .iter()
        .copied()
        .find(|&i| c.node(i).is_some_and(|n| n.role() == Role::Leader))
}

/// The schedule of Figure 8 of the Raft paper, built with partitions and crashes:
/// an entry of an old term reaches a majority under a later leader, which commits it
/// by counting (only with the bug), and then a node that never had it is elected.
fn figure8_script(seed: u64, bug: Option<InjectedBug>) {
    let tweak: Box<dyn Fn(&mut Config)> = Box::new(move |c| {
        c.bug = bug;
        c.append_bytes_max = 1; // one entry per append: acks arrive entry by entry
    });
    let mut c = Cluster::with_tweak(SimConfig::new(5, seed, NetConfig::default()), Some(tweak));
    c.one(cmd(1), 5, true);
    let a = leader_among(&c, &[0, 1, 2, 3, 4]).expect("one() leaves a leader");
    let [b, x, y, z] = [1, 2, 3, 4].map(|k| (a + k) % 5);
    // (a) a appends X, which reaches only b; then a crashes.
    let ids = |v: &[usize]| v.iter().map(|&i| Cluster::id_of(i)).collect::<Vec<_>>();
    c.net()
        .partition(&ids(&[0, 1, 2, 3, 4]), &[ids(&[a, b]), ids(&[x, y, z])]);
    let xi = c.start_cmd(a, cmd(2)).expect("a still leads").0;
    c.sleep_ms(20);
    c.crash(a);
    // (b) x, y, z elect a leader L2 whose no-op at X's index stays only with L2.
    c.disconnect(b);
    assert!(advance_until(&mut c, 5_000, |c| leader_among(
        c,
        &[x, y, z]
    )
    .is_some()));
    let l2 = leader_among(&c, &[x, y, z]).expect("checked");
    c.disconnect(l2);
    let others: Vec<usize> = [x, y, z].into_iter().filter(|&i| i != l2).collect();
    // (c) a restarts; a or b leads and brings X to the others: commit it, then vanish.
    c.net().heal();
    c.start(a);
    [a, b]
        .into_iter()
        .chain(others.iter().copied())
        .for_each(|i| c.connect(i));
    let committed_x = advance_until(&mut c, 5_000, |c| {
        leader_among(c, &[a, b]).is_some_and(|l| c.node(l).expect("live").log().committed() >= xi)
    });
    assert!(committed_x, "X never committed");
    c.disconnect(a);
    c.disconnect(b);
    // (d) L2 returns; if X was committed by counting alone, L2 can win without it.
    c.connect(l2);
    c.sleep_ms(5_000);
    [a, b].into_iter().for_each(|i| c.connect(i));
    c.one(cmd(3), 5, true);
}

#[test]
fn committing_old_term_entries_is_caught_by_leader_completeness() {
    let caught = first_catching_seed(20, "leader completeness", |s| {
        figure8_script(s, Some(InjectedBug::CommitOldTerm))
    });
    assert!(
        caught.is_some(),
        "Figure 8's unsafe commit rule went unnoticed for 20 seeds"
    );
    let clean = first_catching_seed(20, "", |s| figure8_script(s, None));
    assert_eq!(clean, None, "the Figure 8 schedule fails without the bug");
}

#[test]
fn local_reads_are_caught_as_stale_by_the_read_check() {
    use raft_sim::reads::stale_leader;
    let local =
        || -> Box<dyn Fn(&mut Config)> { Box::new(|c| c.bug = Some(InjectedBug::LocalReads)) };
    let caught = first_catching_seed(10, "stale read", |seed| drop(stale_leader(seed, local())));
    assert!(
        caught.is_some(),
        "serving reads locally went unnoticed in 10 seeds"
    );
    // The same schedule with ReadIndex passes on every one of those seeds.
    for seed in 1..=10 {
        stale_leader(seed, Box::new(|_| {}));
    }
}

#[test]
fn a_lease_ended_by_a_higher_term_response_is_caught_as_stale() {
    use raft_core::ReadMode;
    use raft_sim::reads::lease_churn;
    let lease = |bug: Option<InjectedBug>| -> Box<dyn Fn(&mut Config)> {
        Box::new(move |c| {
            c.read_mode = ReadMode::Lease;
            c.bug = bug;
        })
    };
    let bug = Some(InjectedBug::LeaseFollowsLeader);
    let caught = first_catching_seed(1000, "lease broken", |s| drop(lease_churn(s, lease(bug))));
    assert!(
        caught.is_some(),
        "a lease that ends with the follower's idea of the leader went unnoticed for 100 seeds"
    );
    let clean = first_catching_seed(20, "", |s| drop(lease_churn(s, lease(None))));
    assert_eq!(clean, None, "the lease churn fails without the bug");
}
