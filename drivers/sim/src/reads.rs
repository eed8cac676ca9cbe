//! Read scenarios: a leader cut off in a minority while the majority moves on. Every read
//! a node confirms is checked by the cluster against every commit that happened before
//! the read was issued (see `Cluster::read`), so a stale read fails the run.

use raft_core::{Config, ReadMode};

use crate::cluster::{Cluster, ConfigTweak, SimConfig};
use crate::harness::cmd;
use crate::net::NetConfig;

/// What one stale-leader run observed.
#[derive(Clone, Copy, Debug, Default)]
pub struct StaleLeaderReport {
    /// Reads issued to the old leader after the partition that it confirmed (all
    /// checked linearizable). Reads issued before may still be confirmed after it.
    pub confirmed_after_partition: u64,
    /// Entries the majority committed while the old leader was cut off.
    pub majority_commits: u64,
}

pub fn read_mode_tweak(mode: ReadMode) -> ConfigTweak {
    Box::new(move |c: &mut Config| c.read_mode = mode)
}

/// Clock drift the lease scenarios run with: ±2% per node keeps any two nodes within
/// 4.1% of each other, inside the default `lease_clock_drift_ppm` of 5%.
pub const LEASE_SAFE_DRIFT_PPM: u64 = 20_000;

/// Five nodes on the unreliable network. The leader and one follower are partitioned
/// from the other three, which elect a leader and commit; meanwhile a client keeps
/// reading from the old leader. Serving those reads locally would return stale data.
pub fn stale_leader(seed: u64, tweak: ConfigTweak) -> (Cluster, StaleLeaderReport) {
    let n = 5;
    let mut cfg = SimConfig::new(n, seed, NetConfig::unreliable());
    cfg.clock_drift_ppm = LEASE_SAFE_DRIFT_PPM;
    let mut c = Cluster::with_tweak(cfg, Some(tweak));
    c.one(cmd(1), n, true);
    let old = c.check_one_leader();
    // Reads work while the leader is healthy.
    let before = c.counters.reads_confirmed;
    for _ in 0..20 {
        let _ = c.read(old);
        c.sleep_ms(50);
    }
    if c.counters.reads_confirmed == before {
        c.fail("a healthy leader confirmed no read in 1 s");
    }
    c.sleep_ms(100);
    let minority = [old, (old + 1) % n];
    let ids: Vec<u64> = (0..n).map(Cluster::id_of).collect();
    let (small, big): (Vec<u64>, Vec<u64>) = ids
        .iter()
        .partition(|&&id| minority.contains(&((id - 1) as usize)));
    c.net.partition(&ids, &[small, big]);
    let frontier_before = c.commit_frontier();
    // Only reads issued from now on count: one issued earlier, while the leader still had
    // its quorum, may be confirmed late and is not stale.
    let first_read_after = c.next_read_id();
    for k in 0..160 {
        let _ = c.read(old);
        for i in (0..n).filter(|i| !minority.contains(i)) {
            let _ = c.start_cmd(i, cmd(100 + k));
        }
        c.sleep_ms(50);
    }
    let report = StaleLeaderReport {
        confirmed_after_partition: c.reads_confirmed_from(first_read_after),
        majority_commits: c.commit_frontier() - frontier_before,
    };
    if report.majority_commits == 0 {
        c.fail("the majority never committed: the trap was not set");
    }
    c.net.heal();
    c.one(cmd(2), n, true);
    (c, report)
}

/// The stale-lease interleaving class (issue 11): a follower acknowledges the leader's
/// heartbeat (so the leader's lease counts on it) while a higher-term response to an
/// earlier pre-vote is still on its way; when it lands, nothing may end the lease the
/// follower granted. Three nodes with leases on the unreliable network, with replies
/// delayed up to seconds (long reordering), while single nodes keep losing touch with
/// the leader (one-way blocks and disconnections) and pre-campaign. Every node is read
/// from every 5 ms; each confirmed read is checked against all earlier commits.
pub fn lease_churn(seed: u64, tweak: ConfigTweak) -> Cluster {
    let n = 3;
    let net = NetConfig {
        long_reordering: true,
        ..NetConfig::unreliable()
    };
    let mut cfg = SimConfig::new(n, seed, net);
    cfg.clock_drift_ppm = LEASE_SAFE_DRIFT_PPM;
    let mut c = Cluster::with_tweak(cfg, Some(tweak));
    let ids: Vec<u64> = (0..n).map(Cluster::id_of).collect();
    let mut next_fault_us = 0;
    for k in 0..4_000u64 {
        for i in 0..n {
            let _ = c.read(i);
            let _ = c.start_cmd(i, cmd(k + 1));
        }
        if c.now_us() >= next_fault_us {
            churn_once(&mut c, &ids);
            next_fault_us = c.now_us() + (100 + c.rand_below(400)) * crate::net::MS;
        }
        c.sleep_ms(5);
    }
    c.net.heal();
    (0..n).for_each(|i| c.connect(i));
    c.set_long_reordering(false);
    c.one(cmd(u64::MAX), n, true);
    c
}

/// One fault aimed at a single node's contact with the others.
fn churn_once(c: &mut Cluster, ids: &[u64]) {
    let n = ids.len();
    let pick = c.rand_below(n as u64) as usize;
    let other = (pick + 1 + c.rand_below(n as u64 - 1) as usize) % n;
    match c.rand_below(4) {
        0 => c.net.block(ids[other], ids[pick]),
        1 if c.is_connected(pick) => c.disconnect(pick),
        1 => c.connect(pick),
        _ => {
            c.net.heal();
            (0..n).for_each(|i| c.connect(i));
        }
    }
}
