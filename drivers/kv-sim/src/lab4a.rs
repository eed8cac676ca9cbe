//! The course's lab 4A tests (the shard controller; see
//! ../shared/reference/6824-tests.md), in simulated time: [`basic`] and [`multi`], with
//! every sub-check the course lists. Three controller servers on a reliable network,
//! client 0 the course's `ck`, clients 1..=10 its concurrent clerks.
//!
//! Checks after each change: exactly the expected groups, every shard on a live group,
//! max − min shards per group ≤ 1. Minimal transfers are checked for real, twice over:
//! every Join and Leave a test makes alone moves exactly the fewest shards a balanced
//! result allows, from groups over their share (computed here from first principles,
//! not with kv-core's function), and across the course's runs of joins and of leaves no
//! shard changes hands between groups that were there before and after (the course
//! checks this only for group ids 1..10, which none of its groups use).

mod basic;
mod checks;
mod multi;

pub use basic::basic;
pub use checks::{check_groups, check_minimal, check_stayed, Run};
pub use multi::multi;

use std::collections::BTreeMap;

use kv_core::{Config, CtrlOp, CtrlOutcome, Gid, Shard};
use sim_kit::Sim;

use crate::world::{CtrlWorld, KvSimConfig};

/// The course's clerks retry forever; a simulated minute is far beyond any healthy run.
pub const OP_LIMIT_MS: u64 = 60_000;
/// Clients: the course's `ck` (0) and its ten concurrent clerks.
pub const CLIENTS: usize = 11;
/// The course's npara.
pub const NPARA: u64 = 10;

/// A world of 3 controller servers on a reliable network, as the course's make_config.
pub fn world(seed: u64) -> CtrlWorld {
    CtrlWorld::new(KvSimConfig::new(3, CLIENTS, seed, true))
}

/// Prints what a run did, with SIM_VERBOSE set.
pub fn report(w: &CtrlWorld) {
    if std::env::var_os("SIM_VERBOSE").is_some() {
        let latest = w.server(0).map(|s| s.state().latest().num);
        eprintln!(
            "seed {}: {} operations in {} ms simulated; server 1 at configuration {latest:?}; {:?} {:?}",
            w.seed(),
            w.history().len(),
            w.now_us() / sim_kit::MS,
            w.counters,
            w.world().counters()
        );
    }
}

/// Servers named "{gid}{suffix}" for each suffix, as the course names them.
pub fn servers(gid: Gid, suffixes: &[&str]) -> Vec<String> {
    suffixes.iter().map(|s| format!("{gid}{s}")).collect()
}

impl CtrlWorld {
    /// Configuration `num` (`None`: the latest), read through `client`.
    pub fn query(&mut self, client: usize, num: Option<u64>) -> Config {
        match self.run_op(client, CtrlOp::Query { num }, OP_LIMIT_MS) {
            CtrlOutcome::Config(c) => c,
            other => self.fail(&format!("a Query answered {other:?}")),
        }
    }

    /// Runs a write that must be accepted; returns the configuration it made.
    pub fn change(&mut self, client: usize, op: CtrlOp) -> u64 {
        match self.run_op(client, op.clone(), OP_LIMIT_MS) {
            CtrlOutcome::Configured { num } => num,
            other => self.fail(&format!("{op:?} answered {other:?}")),
        }
    }

    /// A Join or Leave by `client` while no one else writes: the configuration it made
    /// is the next one, and it moved no more shards than it had to.
    pub fn change_alone(&mut self, client: usize, op: CtrlOp) -> Config {
        let before = self.query(client, None);
        let num = self.change(client, op.clone());
        if num != before.num + 1 {
            self.fail(&format!(
                "{op:?} made configuration {num} after {}",
                before.num
            ));
        }
        let after = self.query(client, Some(num));
        if let Err(why) = check_minimal(&before, &after) {
            self.fail(&why);
        }
        after
    }

    pub fn join(&mut self, client: usize, groups: BTreeMap<Gid, Vec<String>>) -> Config {
        self.change_alone(client, CtrlOp::Join { groups })
    }

    pub fn leave(&mut self, client: usize, gids: &[Gid]) -> Config {
        let gids = gids.to_vec();
        self.change_alone(client, CtrlOp::Leave { gids })
    }

    pub fn move_shard(&mut self, client: usize, shard: Shard, gid: Gid) -> u64 {
        self.change(client, CtrlOp::Move { shard, gid })
    }

    /// The course's check(t, groups, ck) on the latest configuration.
    pub fn check(&mut self, gids: &[Gid]) -> Config {
        let c = self.query(0, None);
        if let Err(why) = check_groups(&c, gids) {
            self.fail(&why);
        }
        c
    }

    /// Fails unless configuration `num` now reads as `want` (the course's
    /// check_same_config after a query).
    pub fn check_same(&mut self, want: &Config) {
        let got = self.query(0, Some(want.num));
        if got != *want {
            self.fail(&format!(
                "configuration {} changed: {got:?} != {want:?}",
                want.num
            ));
        }
    }

    /// Fails unless `group`'s servers in `c` are `want`.
    pub fn check_servers(&self, c: &Config, group: Gid, want: &[String]) {
        if c.groups.get(&group).map(Vec::as_slice) != Some(want) {
            self.fail(&format!(
                "group {group}: servers {:?}, wanted {want:?}",
                c.groups.get(&group)
            ));
        }
    }

    /// Runs every client's script to the end; each write must have been accepted.
    pub fn run_concurrently(&mut self, scripts: Vec<(usize, Vec<CtrlOp>)>) {
        for (client, ops) in scripts {
            for op in ops {
                self.submit(client, op);
            }
        }
        self.wait_clients(OP_LIMIT_MS);
        let refused = self.history().iter().find(|h| {
            !matches!(
                &h.ret,
                Some((
                    _,
                    Ok(CtrlOutcome::Configured { .. } | CtrlOutcome::Config(_))
                ))
            )
        });
        if let Some(h) = refused {
            self.fail(&format!(
                "client {}: {:?} answered {:?}",
                h.client, h.op, h.ret
            ));
        }
    }
}
