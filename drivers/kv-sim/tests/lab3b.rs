//! The course's lab 3B tests (snapshots at maxraftstate = 1000 bytes), each over seeds.
//! Every run's whole client history is checked for linearizability.

use kv_sim::lab3::{self, Generic};
use sim_kit::seeded_test;

/// A run fails by panicking (with its seed); its report only matters with SIM_VERBOSE.
fn ran<T>(_report: T) {}

const SEEDS: u64 = 10;
const MAX: Option<usize> = Some(1000);

const fn g(clients: usize, servers: usize) -> Generic {
    Generic {
        max_raft_state_bytes: MAX,
        ..Generic::new(clients, servers)
    }
}

seeded_test!(snapshot_rpc_3b, SEEDS, |s| ran(lab3::snapshot_rpc(s)));
seeded_test!(snapshot_size_3b, SEEDS, |s| ran(lab3::snapshot_size(s)));
seeded_test!(speed_3b, SEEDS, |s| ran(lab3::speed(s, MAX)));
seeded_test!(snapshot_recover_3b, SEEDS, |s| ran(lab3::generic(
    s,
    Generic {
        crash: true,
        ..g(1, 5)
    }
)));
seeded_test!(snapshot_recover_many_clients_3b, SEEDS, |s| ran(
    lab3::generic(
        s,
        Generic {
            crash: true,
            ..g(20, 5)
        }
    )
));
seeded_test!(snapshot_unreliable_3b, SEEDS, |s| ran(lab3::generic(
    s,
    Generic {
        unreliable: true,
        ..g(5, 5)
    }
)));
seeded_test!(snapshot_unreliable_recover_3b, SEEDS, |s| ran(
    lab3::generic(
        s,
        Generic {
            unreliable: true,
            crash: true,
            ..g(5, 5)
        }
    )
));
seeded_test!(
    snapshot_unreliable_recover_concurrent_partition_3b,
    SEEDS,
    |s| {
        let g = Generic {
            unreliable: true,
            crash: true,
            partitions: true,
            ..g(5, 5)
        };
        ran(lab3::generic(s, g))
    }
);
seeded_test!(
    snapshot_unreliable_recover_concurrent_partition_linearizable_3b,
    SEEDS,
    |s| {
        let g = Generic {
            unreliable: true,
            crash: true,
            partitions: true,
            random_keys: true,
            ..g(15, 7)
        };
        ran(lab3::generic(s, g))
    }
);
