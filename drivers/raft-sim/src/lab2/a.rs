//! Lab 2A: leader election.

use super::{make, ELECTION_TIMEOUT_MS};
use crate::cluster::Cluster;
use crate::Sim;

pub fn initial_election(seed: u64) -> Cluster {
    let mut c = make(3, seed, true);
    c.check_one_leader();
    // Wait a bit for followers to learn the term, then check that all agree.
    c.sleep_ms(50);
    let term1 = c.check_terms();
    assert!(term1 >= 1, "term is {term1}, but should be at least 1");
    // With no failures, the leader and term stay put.
    c.sleep_ms(2 * ELECTION_TIMEOUT_MS);
    let term2 = c.check_terms();
    assert_eq!(term1, term2, "term changed with no failures");
    c.check_one_leader();
    c
}

pub fn reelection(seed: u64) -> Cluster {
    let mut c = make(3, seed, true);
    let leader1 = c.check_one_leader();
    // If the leader disconnects, a new one is elected.
    c.disconnect(leader1);
    c.check_one_leader();
    // The old leader rejoining must not disturb the new one.
    c.connect(leader1);
    let leader2 = c.check_one_leader();
    // No quorum: no leader.
    c.disconnect(leader2);
    c.disconnect((leader2 + 1) % 3);
    c.sleep_ms(2 * ELECTION_TIMEOUT_MS);
    c.check_no_leader();
    // A quorum again: a leader.
    c.connect((leader2 + 1) % 3);
    c.check_one_leader();
    c.connect(leader2);
    c.check_one_leader();
    c
}

pub fn many_elections(seed: u64) -> Cluster {
    let n = 7;
    let mut c = make(n, seed, true);
    c.check_one_leader();
    for _ in 1..10 {
        let picks: Vec<usize> = (0..3).map(|_| c.rand_below(n as u64) as usize).collect();
        picks.iter().for_each(|&i| c.disconnect(i));
        // Either the current leader is still alive, or the remaining four elect one.
        c.check_one_leader();
        picks.iter().for_each(|&i| c.connect(i));
    }
    c.check_one_leader();
    c
}
