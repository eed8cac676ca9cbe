//! Leadership transfer under the unreliable network, over many seeds.

use raft_sim::transfer;
use sim_kit::seeded_test;

seeded_test!(transfer_to_caught_up, 20, |s| drop(
    transfer::transfer_to_caught_up(s)
));
seeded_test!(transfer_to_lagging, 20, |s| drop(
    transfer::transfer_to_lagging(s)
));
seeded_test!(transfer_timeout, 20, |s| drop(transfer::transfer_timeout(
    s
)));
