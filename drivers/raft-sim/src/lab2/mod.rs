//! The course's lab 2 (Raft) tests as scenarios over a seed. Each mirrors the Go test of
//! the same name (see `shared/reference/6824-tests.md`); times are simulated.
//!
//! Index arithmetic differs in one way: a new leader appends a no-op entry, so commands
//! land one slot later than in the course, and assertions are stated relative to it.

mod a;
mod b;
mod c;
mod d;

pub use a::{initial_election, many_elections, reelection};
pub use b::{
    backup, basic_agree, concurrent_starts, count, fail_agree, fail_no_agree, follower_failure,
};
pub use b::{leader_failure, rejoin, rpc_bytes};
pub use c::{
    figure8, figure8_unreliable, figure8_with, persist1, persist2, persist3, reliable_churn,
    unreliable_agree,
};
pub use c::{unreliable_churn, ChurnClient};
pub use d::{
    make_snap, snapshot_all_crash, snapshot_basic, snapshot_init, snapshot_install,
    snapshot_install_crash, snapshot_install_unreliable, snapshot_install_unreliable_crash,
    RAFT_STATE_BYTES_MAX, SNAPSHOT_INTERVAL,
};

use crate::cluster::{Cluster, ConfigTweak, SimConfig};
use crate::NetConfig;

/// The course's election timeout, used by its tests for sleeps.
pub const ELECTION_TIMEOUT_MS: u64 = 1_000;

pub fn make(n: usize, seed: u64, reliable: bool) -> Cluster {
    make_with(n, seed, reliable, None)
}

pub fn make_with(n: usize, seed: u64, reliable: bool, tweak: Option<ConfigTweak>) -> Cluster {
    let net = if reliable {
        NetConfig::default()
    } else {
        NetConfig::unreliable()
    };
    Cluster::with_tweak(SimConfig::new(n, seed, net), tweak)
}

/// A random command value from the run's PRNG.
pub(crate) fn rand_cmd(c: &mut Cluster) -> Vec<u8> {
    let x = c.rand_below(1 << 62);
    crate::cmd(x)
}
