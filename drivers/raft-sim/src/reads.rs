//! Read scenarios: a leader cut off in a minority while the majority moves on. Every read
//! a node confirms is checked by the cluster against every commit that happened before
//! the read was issued (see `Cluster::read`), so a stale read fails the run.

use raft_core::{Config, ReadMode, Role};

use crate::cluster::{Cluster, ConfigTweak, SimConfig};
use crate::harness::cmd;
use crate::NetConfig;
use crate::Sim;

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
    cfg.world.clock_drift_ppm = LEASE_SAFE_DRIFT_PPM;
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
    c.net().partition(&ids, &[small, big]);
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
    c.net().heal();
    c.one(cmd(2), n, true);
    (c, report)
}

/// The stale-lease interleaving class (issue 11): a follower acknowledges the leader's
/// heartbeat (so the leader's lease counts on it) while a higher-term response to its
/// earlier pre-vote is still on its way; when it lands, nothing may end the lease the
/// follower granted. Three nodes with leases, replies delayed up to seconds (long
/// reordering), requests often lost. Each cycle cuts the leader's messages to both
/// followers until they pre-campaign (one may win its pre-vote and move to the next
/// term), then lets the leader reach one of them again. Every node is read from every
/// 5 ms; the lease watch and the read check run on every step.
pub fn lease_churn(seed: u64, tweak: ConfigTweak) -> Cluster {
    let n = 3;
    let net = NetConfig {
        long_reordering: true,
        drop_prob: 0.3,
        ..NetConfig::unreliable()
    };
    let mut cfg = SimConfig::new(n, seed, net);
    cfg.world.clock_drift_ppm = LEASE_SAFE_DRIFT_PPM;
    let mut c = Cluster::with_tweak(cfg, Some(tweak));
    let mut k = 0;
    for _ in 0..12 {
        let Some(leader) = settle(&mut c, &mut k) else {
            continue;
        };
        let id = |slot: usize| Cluster::id_of(slot);
        let (m, other) = ((leader + 1) % n, (leader + 2) % n);
        c.net().block(id(leader), id(m));
        c.net().block(id(leader), id(other));
        let cut_ms = 1_000 + c.rand_below(1_000);
        busy(&mut c, &mut k, cut_ms);
        c.net().heal();
        c.net().block(id(leader), id(other));
        let rejoin_ms = 200 + c.rand_below(800);
        busy(&mut c, &mut k, rejoin_ms);
    }
    c.net().heal();
    c.set_long_reordering(false);
    c.set_reliable(true);
    c.one(cmd(u64::MAX), n, true);
    // Liveness once healed: reads are confirmed again. (During the churn some runs
    // confirm none: requests lost, acknowledgements held back for seconds.)
    let confirmed = c.counters.reads_confirmed;
    busy(&mut c, &mut k, 1_000);
    if c.counters.reads_confirmed == confirmed {
        c.fail("a healed cluster confirmed no read in 1 s");
    }
    c
}

/// Heals everything and runs until some node leads (up to 5 s); returns it.
fn settle(c: &mut Cluster, k: &mut u64) -> Option<usize> {
    c.net().heal();
    for _ in 0..50 {
        busy(c, k, 100);
        if let Some(l) = (0..c.n()).find(|&i| c.node(i).is_some_and(|x| x.role() == Role::Leader)) {
            return Some(l);
        }
    }
    None
}

/// Reads from and proposes to every node every 5 ms for `ms`.
fn busy(c: &mut Cluster, k: &mut u64, ms: u64) {
    for _ in 0..ms / 5 {
        *k += 1;
        for i in 0..c.n() {
            let _ = c.read(i);
            let _ = c.start_cmd(i, cmd(*k));
        }
        c.sleep_ms(5);
    }
}
