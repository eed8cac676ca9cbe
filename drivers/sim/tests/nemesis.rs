//! All faults at once on 5 nodes with proposing clients, invariants after every event,
//! then a healed cluster must commit again.

use raft_sim::nemesis::{self, NemesisConfig};
use raft_sim::seeded_test;

seeded_test!(nemesis_all_faults, 20, |seed| {
    let c = nemesis::run(seed, &NemesisConfig::default(), None);
    assert!(
        c.counters.events > 10_000,
        "a nemesis run should be long: {} events",
        c.counters.events
    );
    assert!(
        c.counters.crashes > 0,
        "the nemesis should have crashed someone"
    );
});
