//! Helpers that mirror the course's Raft test configuration (config.go), so the lab tests
//! port line by line (connect, disconnect, crash and restart come with `sim_kit::Sim`):
//! check one leader, `one(cmd, n,
//! retry)`, committed counts, RPC and byte counters. Failures panic with the seed.

use std::collections::BTreeMap;

use rand::Rng;

use raft_core::{Index, Role, Term};

use crate::actor::{run_until_done, OneTask};
use crate::cluster::Cluster;
use crate::Sim;

/// Encodes a test command; commands are never empty so they differ from leader no-ops.
pub fn cmd(x: u64) -> Vec<u8> {
    x.to_le_bytes().to_vec()
}

impl Cluster {
    pub fn set_reliable(&mut self, reliable: bool) {
        self.net().cfg.reliable = reliable;
    }

    pub fn set_long_reordering(&mut self, on: bool) {
        self.net().cfg.long_reordering = on;
    }

    /// Requests (the course's "RPCs") sent so far.
    pub fn rpc_total(&self) -> u64 {
        self.counters.requests
    }

    pub fn bytes_total(&self) -> u64 {
        self.counters.request_bytes
    }

    fn live_connected(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.n()).filter(|&i| self.is_alive(i) && self.is_connected(i))
    }

    /// Leaders among connected servers by term; fails on two leaders in one term.
    fn leaders_by_term(&self) -> BTreeMap<Term, usize> {
        let mut by_term = BTreeMap::new();
        for i in self.live_connected() {
            let node = self.node(i).expect("live");
            if node.role() == Role::Leader {
                if let Some(other) = by_term.insert(node.term(), i) {
                    self.fail(&format!(
                        "term {} has two leaders ({other}, {i})",
                        node.term()
                    ));
                }
            }
        }
        by_term
    }

    /// Polls up to 10 times, 450–549 ms apart, for a leader; returns the newest one.
    pub fn check_one_leader(&mut self) -> usize {
        for _ in 0..10 {
            let ms = self.world.rng.gen_range(450..550);
            self.sleep_ms(ms);
            if let Some((_, &leader)) = self.leaders_by_term().iter().next_back() {
                return leader;
            }
        }
        self.fail("expected one leader, got none")
    }

    /// The newest leader among live connected servers right now, without waiting.
    pub fn check_leader_now(&self) -> Option<usize> {
        self.leaders_by_term().values().next_back().copied()
    }

    /// All connected servers agree on the term; returns it.
    pub fn check_terms(&self) -> Term {
        let mut term = None;
        for i in self.live_connected() {
            let t = self.node(i).expect("live").term();
            match term {
                None => term = Some(t),
                Some(other) if other != t => self.fail("servers disagree on term"),
                _ => {}
            }
        }
        term.unwrap_or(0)
    }

    pub fn check_no_leader(&self) {
        if let Some(i) = self
            .live_connected()
            .find(|&i| self.node(i).expect("live").role() == Role::Leader)
        {
            self.fail(&format!(
                "expected no leader among connected servers, but {i} claims to be one"
            ));
        }
    }

    /// How many servers applied `index`, and what. Fails if two applied different things.
    pub fn n_committed(&self, index: Index) -> (usize, Option<Vec<u8>>) {
        let mut count = 0;
        let mut value: Option<&[u8]> = None;
        for i in 0..self.n() {
            let Some(e) = index
                .checked_sub(1)
                .and_then(|k| self.applied(i).get(k as usize))
            else {
                continue;
            };
            if value.is_some_and(|v| v != e.data.as_slice()) {
                self.fail(&format!("committed values do not match at index {index}"));
            }
            value = Some(&e.data);
            count += 1;
        }
        (count, value.map(<[u8]>::to_vec))
    }

    /// Proposes on `slot` if it is alive and leads; the course's Start().
    pub fn start_cmd(&mut self, slot: usize, data: Vec<u8>) -> Option<(Index, Term)> {
        self.propose(slot, data).ok().map(|p| (p.index, p.term))
    }

    /// Waits until at least `n` servers applied `index` (or a newer term makes that moot).
    pub fn wait(&mut self, index: Index, n: usize, start_term: Option<Term>) -> Option<Vec<u8>> {
        let mut pause_ms = 10;
        for _ in 0..30 {
            let (nd, _) = self.n_committed(index);
            if nd >= n {
                break;
            }
            self.sleep_ms(pause_ms);
            pause_ms = (pause_ms * 2).min(1000);
            if let Some(t) = start_term {
                if self
                    .live_connected()
                    .any(|i| self.node(i).expect("live").term() > t)
                {
                    return None;
                }
            }
        }
        let (nd, value) = self.n_committed(index);
        if nd < n {
            self.fail(&format!("only {nd} decided for index {index}; wanted {n}"));
        }
        value
    }

    /// The course's one(): submit `data` to whoever leads, wait up to 2 s for `expected`
    /// servers to apply it, retrying (if `retry`) for up to 10 s. Returns its index.
    pub fn one(&mut self, data: Vec<u8>, expected: usize, retry: bool) -> Index {
        let mut task = OneTask::new(data, expected, retry);
        run_until_done(self, 11_000, &mut [&mut task]);
        task.result.expect("a finished one() has an index")
    }

    /// The largest persisted Raft state (hard state and log, not snapshot) of any server.
    pub fn raft_state_bytes_max(&self) -> usize {
        (0..self.n())
            .map(|i| self.raft_state_bytes(i))
            .max()
            .unwrap_or(0)
    }

    /// A uniformly random value in `0..bound` from the run's PRNG.
    pub fn rand_below(&mut self, bound: u64) -> u64 {
        self.world.rng.gen_range(0..bound)
    }
}
