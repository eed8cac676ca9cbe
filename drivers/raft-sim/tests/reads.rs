//! Linearizable reads: a leader cut off in a minority must never confirm a stale read,
//! with ReadIndex or with leases (clock drift inside the documented bound).

use raft_core::ReadMode;
use raft_sim::reads::{lease_churn, read_mode_tweak, stale_leader};
use sim_kit::seeded_test;

seeded_test!(stale_leader_read_index, 20, pinned [426107, 417019, 417689, 427525], |seed| {
    let (_, report) = stale_leader(seed, read_mode_tweak(ReadMode::Safe));
    assert_eq!(
        report.confirmed_after_partition, 0,
        "ReadIndex needs a quorum round, which a minority leader cannot get"
    );
});

seeded_test!(stale_leader_lease, 20, |seed| {
    // Reads confirmed from the lease before it ran out are checked linearizable.
    let (c, _) = stale_leader(seed, read_mode_tweak(ReadMode::Lease));
    assert!(c.counters.reads_confirmed > 0);
});

// Pre-campaigns racing the leader's return, with higher-term replies delayed: the lease
// watch and the read check run on every step; once healed, reads must be confirmed.
// Pinned: runs that confirmed no read during the churn (an earlier version required one).
seeded_test!(lease_churn_reads, 10, pinned [610481, 611882, 612722, 613167, 616189, 617044, 618228], |seed| {
    drop(lease_churn(seed, read_mode_tweak(ReadMode::Lease)));
});
