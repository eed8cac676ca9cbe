//! Leadership-transfer scenarios on the unreliable network, with a crash on the way:
//! transfer to a caught-up follower, to a lagging one (which needs a snapshot first), and
//! a transfer that must time out.

use raft_core::{Input, Role, StepError};

use crate::cluster::{Cluster, SimConfig};
use crate::harness::cmd;
use crate::NetConfig;
use crate::Sim;

fn make(seed: u64) -> Cluster {
    let mut cfg = SimConfig::new(5, seed, NetConfig::unreliable());
    cfg.snapshot_interval = Some(10);
    Cluster::new(cfg)
}

impl Cluster {
    /// Asks `slot` to hand leadership to `to`.
    pub fn transfer(&mut self, slot: usize, to: usize) -> Result<(), StepError> {
        if !self.is_alive(slot) {
            return Err(StepError::NotLeader { leader: None });
        }
        let to = Self::id_of(to);
        self.step_input(slot, Input::TransferLeadership { to })
    }

    fn leads(&self, slot: usize) -> bool {
        self.node(slot).is_some_and(|n| n.role() == Role::Leader)
    }
}

/// Requests the transfer (again, if a lost `TimeoutNow` or a timeout ended an attempt)
/// until `target` leads; fails after 10 s.
fn transfer_until_led(c: &mut Cluster, target: usize) {
    for _ in 0..100 {
        if c.leads(target) {
            return;
        }
        if let Some(leader) = (0..c.n()).find(|&i| c.leads(i)) {
            let _ = c.transfer(leader, target);
        }
        c.sleep_ms(100);
    }
    c.fail(&format!("node {} never took over", target + 1));
}

/// A follower that holds the whole log takes over; a third node crashes meanwhile.
pub fn transfer_to_caught_up(seed: u64) -> Cluster {
    let mut c = make(seed);
    c.one(cmd(1), 5, true);
    let leader = c.check_one_leader();
    let (target, victim) = ((leader + 1) % 5, (leader + 2) % 5);
    c.crash(victim);
    transfer_until_led(&mut c, target);
    c.one(cmd(2), 4, true);
    c.start(victim);
    c.connect(victim);
    c.one(cmd(3), 5, true);
    c
}

/// The target was cut off while the others committed (and compacted) many entries: the
/// leader must first bring it up to date by snapshot, then hand over.
pub fn transfer_to_lagging(seed: u64) -> Cluster {
    let mut c = make(seed);
    c.one(cmd(1), 5, true);
    let leader = c.check_one_leader();
    let target = (leader + 1) % 5;
    c.disconnect(target);
    for k in 0..30 {
        c.one(cmd(10 + k), 4, true);
    }
    c.connect(target);
    transfer_until_led(&mut c, target);
    if c.counters.snapshots_installed == 0 {
        c.fail("the lagging target should have needed a snapshot");
    }
    c.one(cmd(2), 5, true);
    c
}

/// The target is unreachable: the leader refuses proposals while it tries, then gives up
/// after an election timeout and serves again, still leader.
pub fn transfer_timeout(seed: u64) -> Cluster {
    let mut c = make(seed);
    c.one(cmd(1), 5, true);
    let leader = c.check_one_leader();
    let target = (leader + 1) % 5;
    c.disconnect(target);
    c.one(cmd(2), 4, true);
    let leader = c.check_one_leader();
    if let Err(e) = c.transfer(leader, target) {
        c.fail(&format!("transfer refused: {e}"));
    }
    if !matches!(
        c.propose(leader, cmd(3)),
        Err(StepError::TransferInProgress { .. })
    ) {
        c.fail("a proposal was accepted during a transfer");
    }
    c.sleep_ms(2_500);
    if !c.leads(leader) {
        c.fail("the leader lost leadership to a transfer that could not happen");
    }
    if c.propose(leader, cmd(4)).is_err() {
        c.fail("proposals still refused after the transfer timed out");
    }
    c.connect(target);
    c.one(cmd(5), 5, true);
    c
}
