//! The nemesis: a 5-node cluster under every fault at once — partitions (symmetric and
//! one-way), drops, duplicates, long reordering, clock drift, crashes that lose unsynced
//! writes, isolated nodes — while clients keep proposing and reading, and the application
//! snapshots (so lagging nodes catch up by chunked InstallSnapshot), and an operator
//! changes the membership (nodes join as voters or learners, voters are removed, demoted
//! or replaced through joint configurations). Invariants and the read check run after
//! every event. Then everything heals and every member must commit again (liveness).

use crate::cluster::{Cluster, ConfigTweak, SimConfig};
use crate::harness::cmd;
use crate::membership;
use crate::Sim;
use crate::{NetConfig, MS};

/// Shape of one nemesis run.
#[derive(Clone, Debug)]
pub struct NemesisConfig {
    /// The bootstrap voters.
    pub nodes: usize,
    /// Further nodes, started empty, that membership changes may add.
    pub spare_nodes: usize,
    /// Whether the nemesis also changes the membership.
    pub membership_changes: bool,
    /// How long faults are injected.
    pub chaos_ms: u64,
    /// Range of the pause between two faults.
    pub fault_every_ms: (u64, u64),
    /// How often the clients propose (and read, at every node).
    pub propose_every_ms: u64,
    pub reads: bool,
    /// Applied entries between application snapshots (`None`: never).
    pub snapshot_interval: Option<u64>,
    pub clock_drift_ppm: u64,
}

impl Default for NemesisConfig {
    fn default() -> Self {
        NemesisConfig {
            nodes: 5,
            spare_nodes: 2,
            membership_changes: true,
            chaos_ms: 30_000,
            fault_every_ms: (50, 600),
            propose_every_ms: 5,
            reads: true,
            snapshot_interval: Some(25),
            clock_drift_ppm: 50_000,
        }
    }
}

pub fn sim_config(nemesis: &NemesisConfig, seed: u64) -> SimConfig {
    let net = NetConfig {
        duplicate_prob: 0.05,
        ..NetConfig::unreliable()
    };
    let mut cfg = SimConfig::new(nemesis.nodes + nemesis.spare_nodes, seed, net);
    cfg.initial_voters = Some(nemesis.nodes);
    cfg.world.clock_drift_ppm = nemesis.clock_drift_ppm;
    cfg.snapshot_interval = nemesis.snapshot_interval;
    // Slow disks keep writes pending long enough that crashes often lose some.
    cfg.world.disk_latency_us = (500, 8 * MS);
    cfg
}

/// Runs chaos then healing; panics (with the seed) on any violation or lost liveness.
pub fn run(seed: u64, nemesis: &NemesisConfig, tweak: Option<ConfigTweak>) -> Cluster {
    let mut c = Cluster::with_tweak(sim_config(nemesis, seed), tweak);
    let chaos_end = c.now_us() + nemesis.chaos_ms * MS;
    let mut next_fault = c.now_us();
    let mut proposed = 0u64;
    let mut restart_at: Vec<Option<u64>> = vec![None; c.n()];
    while c.now_us() < chaos_end {
        restart_due(&mut c, &mut restart_at);
        for i in 0..c.n() {
            proposed += 1;
            let _ = c.start_cmd(i, cmd(proposed));
            if nemesis.reads {
                let _ = c.read(i);
            }
        }
        if c.now_us() >= next_fault {
            // Strike at an arbitrary instant while writes and messages are in flight.
            let offset_us = c.rand_below(nemesis.propose_every_ms * MS);
            c.advance_us(offset_us);
            if nemesis.membership_changes && c.rand_below(6) == 0 {
                change_membership(&mut c);
            } else {
                inject_fault(&mut c, &mut restart_at);
            }
            let (lo, hi) = nemesis.fault_every_ms;
            next_fault = c.now_us() + (lo + c.rand_below(hi - lo)) * MS;
        }
        c.sleep_ms(nemesis.propose_every_ms);
    }
    heal(&mut c);
    // Liveness: a healed cluster elects a leader and commits on every member, then
    // serves a burst of writes and reads.
    let members = membership::settled_membership(&mut c).members();
    let index = c.one(cmd(u64::MAX), members.len(), true);
    for &id in &members {
        if (c.applied(Cluster::slot_of(id)).len() as u64) < index {
            c.fail(&format!("member {id} did not apply {index} after healing"));
        }
    }
    let confirmed = c.counters.reads_confirmed;
    for _ in 0..100 {
        for i in 0..c.n() {
            proposed += 1;
            let _ = c.start_cmd(i, cmd(proposed));
            if nemesis.reads {
                let _ = c.read(i);
            }
        }
        c.sleep_ms(10);
    }
    if nemesis.reads && c.counters.reads_confirmed == confirmed {
        c.fail("a healed cluster confirmed no read in 1 s");
    }
    c.one(cmd(u64::MAX - 1), members.len(), true);
    c
}

/// The operator asks whoever leads for a random change (refusals are expected: a change
/// may still be pending).
fn change_membership(c: &mut Cluster) {
    let Some(leader) = c.leader_now() else { return };
    let m = c
        .node(leader)
        .expect("leader is alive")
        .membership()
        .clone();
    if m.is_joint() {
        return;
    }
    if let Some(changes) = membership::random_change(c, &m) {
        if c.change_membership(leader, &changes).is_ok() {
            c.counters.membership_changes_proposed += 1;
        }
    }
}

/// Restarts crashed nodes whose downtime is over.
fn restart_due(c: &mut Cluster, restart_at: &mut [Option<u64>]) {
    for (slot, at) in restart_at.iter_mut().enumerate() {
        if at.is_some_and(|t| t <= c.now_us()) {
            *at = None;
            c.start(slot);
        }
    }
}

fn inject_fault(c: &mut Cluster, restart_at: &mut [Option<u64>]) {
    let n = c.n();
    let mut pick = c.rand_below(n as u64) as usize;
    // Half the time aim at a leader: its crash loses the most (its unsynced appends).
    let leader = (0..n).find(|&i| {
        c.node(i)
            .is_some_and(|x| x.role() == raft_core::Role::Leader)
    });
    if let (Some(l), true) = (leader, c.rand_below(2) == 0) {
        pick = l;
    }
    match c.rand_below(9) {
        0 | 1 => {
            let ids: Vec<u64> = (0..n).map(Cluster::id_of).collect();
            let split = 1 + c.rand_below(n as u64 - 1) as usize;
            let mut shuffled = ids.clone();
            for i in (1..shuffled.len()).rev() {
                let j = c.rand_below(i as u64 + 1) as usize;
                shuffled.swap(i, j);
            }
            let groups = vec![shuffled[..split].to_vec(), shuffled[split..].to_vec()];
            c.net().partition(&ids, &groups);
        }
        2 => {
            let other = (pick + 1 + c.rand_below(n as u64 - 1) as usize) % n;
            c.net().block(Cluster::id_of(pick), Cluster::id_of(other));
        }
        3 => c.net().heal(),
        4 | 5 if c.is_alive(pick) => {
            // Down for up to 3 s, then back from whatever reached its disk.
            c.kill(pick);
            restart_at[pick] = Some(c.now_us() + c.rand_below(3_000) * MS);
        }
        6 => {
            let up = c.is_connected(pick);
            if up {
                c.disconnect(pick)
            } else {
                c.connect(pick)
            }
        }
        7 => {
            let on = c.net().cfg.long_reordering;
            c.set_long_reordering(!on);
        }
        _ => {
            let reliable = c.net().cfg.reliable;
            c.set_reliable(!reliable);
        }
    }
}

/// Ends every fault: links healed, nodes connected and running, network reliable.
pub fn heal(c: &mut Cluster) {
    c.net().heal();
    c.set_reliable(true);
    c.set_long_reordering(false);
    c.net().cfg.duplicate_prob = 0.0;
    for i in 0..c.n() {
        if !c.is_alive(i) {
            c.start(i);
        }
        c.connect(i);
    }
}
