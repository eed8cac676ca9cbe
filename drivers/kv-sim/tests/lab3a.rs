//! The course's lab 3A tests (no snapshots), each over seeds: `SIM_SEEDS=N` for more,
//! `SIM_SEED=S` for one. Every run's whole client history is checked for linearizability.

use kv_sim::lab3::{self, Generic};
use sim_kit::seeded_test;

/// A run fails by panicking (with its seed); its report only matters with SIM_VERBOSE.
fn ran<T>(_report: T) {}

const SEEDS: u64 = 10;

const fn g(clients: usize, servers: usize) -> Generic {
    Generic::new(clients, servers)
}

const fn unreliable(g: Generic) -> Generic {
    Generic {
        unreliable: true,
        ..g
    }
}

const fn crash(g: Generic) -> Generic {
    Generic { crash: true, ..g }
}

const fn partitions(g: Generic) -> Generic {
    Generic {
        partitions: true,
        ..g
    }
}

seeded_test!(basic_3a, SEEDS, |s| ran(lab3::generic(s, g(1, 5))));
seeded_test!(concurrent_3a, SEEDS, |s| ran(lab3::generic(s, g(5, 5))));
seeded_test!(unreliable_3a, SEEDS, |s| ran(lab3::generic(
    s,
    unreliable(g(5, 5))
)));
seeded_test!(unreliable_one_key_3a, SEEDS, |s| ran(
    lab3::unreliable_one_key(s)
));
seeded_test!(one_partition_3a, SEEDS, |s| ran(lab3::one_partition(s)));
seeded_test!(many_partitions_one_client_3a, SEEDS, |s| ran(
    lab3::generic(s, partitions(g(1, 5)))
));
seeded_test!(many_partitions_many_clients_3a, SEEDS, |s| ran(
    lab3::generic(s, partitions(g(5, 5)))
));
seeded_test!(persist_one_client_3a, SEEDS, |s| ran(lab3::generic(
    s,
    crash(g(1, 5))
)));
seeded_test!(persist_concurrent_3a, SEEDS, |s| ran(lab3::generic(
    s,
    crash(g(5, 5))
)));
seeded_test!(persist_concurrent_unreliable_3a, SEEDS, |s| ran(
    lab3::generic(s, unreliable(crash(g(5, 5))))
));
seeded_test!(persist_partition_3a, SEEDS, |s| ran(lab3::generic(
    s,
    partitions(crash(g(5, 5)))
)));
seeded_test!(persist_partition_unreliable_3a, SEEDS, |s| ran(
    lab3::generic(s, unreliable(partitions(crash(g(5, 5)))))
));
seeded_test!(persist_partition_unreliable_linearizable_3a, SEEDS, |s| {
    let g = Generic {
        random_keys: true,
        ..unreliable(partitions(crash(g(15, 7))))
    };
    ran(lab3::generic(s, g))
});
seeded_test!(speed_3a, SEEDS, |s| ran(lab3::speed(s, None)));
