//! The network model: which links are up, and how long (or whether) a message takes.
//!
//! Mirrors the course harness (labrpc): a reliable network delivers after a small delay;
//! an unreliable one delays requests 0–26 ms and drops 10% of requests and 10% of replies;
//! long reordering delays 2/3 of replies by 200–2199 ms, skewed low. On top of that:
//! duplication, per-link delay ranges, one-way link blocks and node disconnection.

use std::collections::{BTreeMap, BTreeSet};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use raft_core::{Message, NodeId};

pub const MS: u64 = 1_000;

#[derive(Clone, Debug)]
pub struct NetConfig {
    pub reliable: bool,
    pub long_reordering: bool,
    /// Extra copies: each message is duplicated with this probability.
    pub duplicate_prob: f64,
    /// Drop probability when unreliable (applied to requests and replies separately).
    pub drop_prob: f64,
    /// Delay range when reliable, in microseconds.
    pub reliable_delay_us: (u64, u64),
    /// Delay range when unreliable, in microseconds.
    pub unreliable_delay_us: (u64, u64),
    /// Per-link (from, to) override of the delay range.
    pub link_delay_us: BTreeMap<(NodeId, NodeId), (u64, u64)>,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            reliable: true,
            long_reordering: false,
            duplicate_prob: 0.0,
            drop_prob: 0.1,
            reliable_delay_us: (100, 1_000),
            unreliable_delay_us: (0, 26 * MS),
            link_delay_us: BTreeMap::new(),
        }
    }
}

impl NetConfig {
    pub fn unreliable() -> Self {
        NetConfig {
            reliable: false,
            ..NetConfig::default()
        }
    }
}

/// Connectivity plus the delay model.
#[derive(Clone, Debug, Default)]
pub struct Network {
    pub cfg: NetConfig,
    disconnected: BTreeSet<NodeId>,
    /// One-way blocks: a message from `.0` to `.1` is lost.
    blocked: BTreeSet<(NodeId, NodeId)>,
}

impl Network {
    pub fn new(cfg: NetConfig) -> Self {
        Network {
            cfg,
            ..Network::default()
        }
    }

    pub fn can_deliver(&self, from: NodeId, to: NodeId) -> bool {
        !self.disconnected.contains(&from)
            && !self.disconnected.contains(&to)
            && !self.blocked.contains(&(from, to))
    }

    pub fn is_connected(&self, id: NodeId) -> bool {
        !self.disconnected.contains(&id)
    }

    pub fn set_connected(&mut self, id: NodeId, up: bool) {
        if up {
            self.disconnected.remove(&id);
        } else {
            self.disconnected.insert(id);
        }
    }

    pub fn block(&mut self, from: NodeId, to: NodeId) {
        self.blocked.insert((from, to));
    }

    /// Splits the cluster: links between different groups are cut both ways; nodes in no
    /// group are cut from everyone.
    pub fn partition(&mut self, all: &[NodeId], groups: &[Vec<NodeId>]) {
        self.blocked.clear();
        let group_of = |id: NodeId| groups.iter().position(|g| g.contains(&id));
        for &a in all {
            for &b in all {
                if a != b && (group_of(a).is_none() || group_of(a) != group_of(b)) {
                    self.blocked.insert((a, b));
                }
            }
        }
    }

    pub fn heal(&mut self) {
        self.blocked.clear();
    }

    /// When (relative delays) each copy of `m` arrives; empty if it is lost.
    pub fn plan(&self, m: &Message, rng: &mut ChaCha8Rng) -> Vec<u64> {
        if !self.can_deliver(m.from, m.to) {
            return Vec::new();
        }
        let copies =
            1 + usize::from(self.cfg.duplicate_prob > 0.0 && rng.gen_bool(self.cfg.duplicate_prob));
        let mut out = Vec::with_capacity(copies);
        for _ in 0..copies {
            if !self.cfg.reliable && rng.gen_bool(self.cfg.drop_prob) {
                continue;
            }
            out.push(self.delay_us(m, rng));
        }
        out
    }

    fn delay_us(&self, m: &Message, rng: &mut ChaCha8Rng) -> u64 {
        let (lo, hi) = match self.cfg.link_delay_us.get(&(m.from, m.to)) {
            Some(&range) => range,
            None if self.cfg.reliable => self.cfg.reliable_delay_us,
            None => self.cfg.unreliable_delay_us,
        };
        let mut delay = rng.gen_range(lo..=hi.max(lo));
        if self.cfg.long_reordering && !m.is_request() && rng.gen_ratio(2, 3) {
            // labrpc: 200 + rand(1 + rand(2000)) ms — skewed towards short delays.
            let inner = rng.gen_range(0..2000u64);
            delay += (200 + rng.gen_range(0..=inner)) * MS;
        }
        delay
    }
}
