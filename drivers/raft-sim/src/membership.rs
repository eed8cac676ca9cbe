//! Membership-change scenarios on the unreliable network, with crashes while the change
//! is under way: grow 3→5, shrink 5→3, replace a member, remove the leader, add a learner
//! and promote it, and a change interrupted by the leader's crash.
//!
//! A change is driven the way an operator's tool would drive it: ask the leader, and ask
//! again (whoever leads then) while the configuration in force is still the old one, until
//! every member of the target configuration has it in force. Each configuration entry
//! holds the whole resulting membership, so asking again after a lost attempt is safe.

use raft_core::{ConfChange, Input, LogPosition, Membership, NodeId, Role, StepError};

use crate::cluster::{Cluster, SimConfig};
use crate::harness::cmd;
use crate::Sim;
use crate::{NetConfig, MS};

impl Cluster {
    /// Asks `slot` to change the membership.
    pub fn change_membership(
        &mut self,
        slot: usize,
        changes: &[ConfChange],
    ) -> Result<LogPosition, StepError> {
        if !self.is_alive(slot) {
            return Err(StepError::NotLeader { leader: None });
        }
        let changes = changes.to_vec();
        let proposed = self.step(slot, Input::ChangeMembership { changes })?;
        Ok(proposed.expect("an accepted change has a position"))
    }

    /// The live node that leads in the highest term, if any.
    pub fn leader_now(&self) -> Option<usize> {
        (0..self.n())
            .filter(|&i| self.node(i).is_some_and(|n| n.role() == Role::Leader))
            .max_by_key(|&i| self.node(i).map(|n| n.term()))
    }

    pub fn slot_of(id: NodeId) -> usize {
        sim_kit::slot_of(id)
    }
}

/// How long load and crashes last around a change, and the pace of the operator's loop.
const CHAOS_MS: u64 = 3_000;
const ROUND_MS: u64 = 50;
/// Entries committed before a change: the log is compacted by then (the application
/// snapshots every 10), so a node that joins catches up by snapshot.
const HISTORY: u64 = 30;

/// A cluster of `slots` nodes whose first `initial` slots are the bootstrap voters.
fn make(seed: u64, slots: usize, initial: usize) -> Cluster {
    let mut cfg = SimConfig::new(slots, seed, NetConfig::unreliable());
    cfg.snapshot_interval = Some(10);
    cfg.initial_voters = Some(initial);
    Cluster::new(cfg)
}

/// Crashes one node at a time (never more, so every configuration keeps its quorums) and
/// brings it back after up to 2 s.
struct Crasher {
    down: Option<(usize, u64)>,
    spare_leader: bool,
}

impl Crasher {
    fn step(&mut self, c: &mut Cluster) {
        if let Some((slot, until_us)) = self.down {
            if c.now_us() >= until_us {
                c.start(slot);
                self.down = None;
            }
            return;
        }
        if c.rand_below(4) != 0 {
            return;
        }
        let victim = c.rand_below(c.n() as u64) as usize;
        if self.spare_leader && c.leader_now() == Some(victim) {
            return;
        }
        c.kill(victim);
        self.down = Some((victim, c.now_us() + (200 + c.rand_below(1_800)) * MS));
    }

    fn end(&mut self, c: &mut Cluster) {
        if let Some((slot, _)) = self.down.take() {
            c.start(slot);
        }
    }
}

/// Whether every member of `target` that is alive has `target` in force, and one leads.
fn settled(c: &Cluster, target: &Membership) -> bool {
    let leader_ok = c
        .leader_now()
        .is_some_and(|l| c.node(l).is_some_and(|n| n.membership() == target));
    leader_ok
        && target.members().iter().all(|&id| {
            c.node(Cluster::slot_of(id))
                .is_none_or(|n| n.membership() == target)
        })
}

/// Asks for `changes` until `target` is in force everywhere, under load and crashes, and
/// keeps the load and crashes going for at least `CHAOS_MS` in all. `interrupt` kills the
/// leader just after its first accepted request.
fn reconfigure(
    c: &mut Cluster,
    from: &Membership,
    changes: &[ConfChange],
    target: &Membership,
    crasher: &mut Crasher,
    interrupt: bool,
) {
    let mut interrupted = !interrupt;
    let chaos_rounds = CHAOS_MS / ROUND_MS;
    for round in 0..400u64 {
        if round >= chaos_rounds && settled(c, target) {
            return;
        }
        crasher.step(c);
        if let Some(l) = c.leader_now() {
            let _ = c.propose(l, cmd(1_000_000 + round));
            let in_force = c.node(l).map(|n| n.membership().clone());
            if in_force.as_ref() == Some(from)
                && c.change_membership(l, changes).is_ok()
                && !interrupted
            {
                interrupted = true;
                // Somewhere between "appended only here" and "replicated, not committed".
                let after_us = c.rand_below(30 * MS);
                c.advance_us(after_us);
                crasher.end(c);
                c.kill(l);
                crasher.down = Some((l, c.now_us() + 1_000 * MS));
            }
        }
        c.sleep_ms(ROUND_MS);
    }
    c.fail(&format!("membership never reached {target:?}"));
}

/// After the change: every node back up, and every member of `target` applies a fresh
/// entry; the configuration must show in each member's applied log too.
fn check_serving(c: &mut Cluster, target: &Membership, crasher: &mut Crasher) {
    crasher.end(c);
    let members = target.members().len();
    let index = c.one(cmd(7_777_777), members, true);
    for &id in &target.members() {
        let slot = Cluster::slot_of(id);
        let applied = c.applied(slot).len() as u64;
        if applied < index {
            c.fail(&format!("member {id} applied {applied}, below {index}"));
        }
    }
    if let Some(l) = c.leader_now() {
        if !target.is_voter(Cluster::id_of(l)) {
            c.fail(&format!("node {} leads but is not a voter", l + 1));
        }
    }
}

fn voters(ids: impl IntoIterator<Item = NodeId>) -> Membership {
    Membership::with_voters(ids)
}

/// The whole scenario: bootstrap, commit something, change, check.
fn run(
    seed: u64,
    slots: usize,
    initial: usize,
    changes: &[ConfChange],
    interrupt: bool,
) -> Cluster {
    let mut c = make(seed, slots, initial);
    let from = voters((1..=initial as NodeId).collect::<Vec<_>>());
    let next = from.apply(changes).expect("a valid test change");
    let target = if next.is_joint() {
        next.leave_joint()
    } else {
        next
    };
    for k in 0..HISTORY {
        c.one(cmd(k + 1), initial, true);
    }
    let mut crasher = Crasher {
        down: None,
        spare_leader: false,
    };
    reconfigure(&mut c, &from, changes, &target, &mut crasher, interrupt);
    check_serving(&mut c, &target, &mut crasher);
    let joined = target.members().iter().any(|&id| id > initial as NodeId);
    if joined && c.counters.snapshots_installed == 0 {
        c.fail("a node joined a compacted log without a snapshot");
    }
    c
}

pub fn grow_3_to_5(seed: u64) -> Cluster {
    run(
        seed,
        5,
        3,
        &[ConfChange::AddVoter(4), ConfChange::AddVoter(5)],
        false,
    )
}

pub fn shrink_5_to_3(seed: u64) -> Cluster {
    run(
        seed,
        5,
        5,
        &[ConfChange::Remove(4), ConfChange::Remove(5)],
        false,
    )
}

/// Node 4 replaces node 1 in one (joint) change.
pub fn replace_member(seed: u64) -> Cluster {
    run(
        seed,
        4,
        3,
        &[ConfChange::AddVoter(4), ConfChange::Remove(1)],
        false,
    )
}

/// The joint change 3→5 with the leader killed right after it accepted the request: the
/// change either survives (and is finished by the next leader) or is lost and asked again.
pub fn change_interrupted_by_leader_crash(seed: u64) -> Cluster {
    run(
        seed,
        5,
        3,
        &[ConfChange::AddVoter(4), ConfChange::AddVoter(5)],
        true,
    )
}

/// The leader removes itself. It keeps leading until the removal commits, then steps
/// down; one of the remaining four takes over. It is never a leader again.
pub fn remove_leader(seed: u64) -> Cluster {
    let mut c = make(seed, 5, 5);
    for k in 0..HISTORY {
        c.one(cmd(k + 1), 5, true);
    }
    let leader = c.check_one_leader();
    let id = Cluster::id_of(leader);
    let from = voters(1..=5);
    let changes = [ConfChange::Remove(id)];
    let target = from.apply(&changes).expect("valid");
    let mut crasher = Crasher {
        down: None,
        spare_leader: true,
    };
    reconfigure(&mut c, &from, &changes, &target, &mut crasher, false);
    check_serving(&mut c, &target, &mut crasher);
    if c.node(leader).is_some_and(|n| n.role() == Role::Leader) {
        c.fail("the removed leader still leads");
    }
    c
}

/// Node 4 joins as a learner, catches up (by snapshot: the log was compacted) while not
/// counting toward any quorum, and is promoted once caught up.
pub fn add_learner_then_promote(seed: u64) -> Cluster {
    let mut c = make(seed, 4, 3);
    for k in 0..HISTORY {
        c.one(cmd(k + 1), 3, true);
    }
    let mut crasher = Crasher {
        down: None,
        spare_leader: false,
    };
    let from = voters(1..=3);
    let learn = [ConfChange::AddLearner(4)];
    let with_learner = from.apply(&learn).expect("valid");
    reconfigure(&mut c, &from, &learn, &with_learner, &mut crasher, false);
    crasher.end(&mut c);
    let index = c.one(cmd(2), 4, true);
    if (c.applied(3).len() as u64) < index || c.counters.snapshots_installed == 0 {
        c.fail("the learner did not catch up by snapshot");
    }
    let promote = [ConfChange::AddVoter(4)];
    let target = with_learner.apply(&promote).expect("valid");
    reconfigure(
        &mut c,
        &with_learner,
        &promote,
        &target,
        &mut crasher,
        false,
    );
    check_serving(&mut c, &target, &mut crasher);
    c
}

/// A random change the nemesis asks for, valid against `m` (not joint): add a node as
/// voter or learner, remove or demote a voter, promote a learner, remove a learner, or
/// replace a voter (a joint change). Voters stay between 3 and `c.n() - 1`.
pub fn random_change(c: &mut Cluster, m: &Membership) -> Option<Vec<ConfChange>> {
    let outsiders: Vec<NodeId> = (1..=c.n() as NodeId)
        .filter(|&id| !m.contains(id))
        .collect();
    let voters: Vec<NodeId> = m.voters.iter().copied().collect();
    let learners: Vec<NodeId> = m.learners.iter().copied().collect();
    let mut pick = |ids: &[NodeId]| match ids.len() {
        0 => None,
        n => Some(ids[c.rand_below(n as u64) as usize]),
    };
    let (outsider, voter, learner) = (pick(&outsiders), pick(&voters), pick(&learners));
    let can_shrink = voters.len() > 3;
    let change = match c.rand_below(7) {
        0 => vec![ConfChange::AddVoter(outsider?)],
        1 => vec![ConfChange::AddLearner(outsider?)],
        2 if can_shrink => vec![ConfChange::Remove(voter?)],
        3 if can_shrink => vec![ConfChange::AddLearner(voter?)],
        4 => vec![ConfChange::AddVoter(learner?)],
        5 => vec![ConfChange::Remove(learner?)],
        _ => vec![ConfChange::AddVoter(outsider?), ConfChange::Remove(voter?)],
    };
    Some(change)
}

/// Waits (up to 10 s) until the leader's configuration is not joint and has stayed the
/// same for half a second (a change asked for earlier may still be committing), and
/// returns it.
pub fn settled_membership(c: &mut Cluster) -> Membership {
    let leader_membership = |c: &Cluster| {
        let leader = c.leader_now().and_then(|l| c.node(l));
        leader.map(|n| n.membership().clone())
    };
    let mut previous = None;
    for _ in 0..20 {
        let now = leader_membership(c).filter(|m| !m.is_joint());
        if let Some(m) = now.as_ref().filter(|_| now == previous) {
            return m.clone();
        }
        previous = now;
        c.sleep_ms(500);
    }
    c.fail("no leader with a settled configuration within 10 s")
}
