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
        self.plan_link(m.from, m.to, m.is_request(), rng)
    }

    /// `plan` for any message from `from` to `to` (client traffic too): requests and
    /// replies are dropped independently; only replies suffer long reordering.
    pub fn plan_link(
        &self,
        from: NodeId,
        to: NodeId,
        is_request: bool,
        rng: &mut ChaCha8Rng,
    ) -> Vec<u64> {
        if !self.can_deliver(from, to) {
            return Vec::new();
        }
        let copies =
            1 + usize::from(self.cfg.duplicate_prob > 0.0 && rng.gen_bool(self.cfg.duplicate_prob));
        let mut out = Vec::with_capacity(copies);
        for _ in 0..copies {
            if !self.cfg.reliable && rng.gen_bool(self.cfg.drop_prob) {
                continue;
            }
            out.push(self.delay_us(from, to, is_request, rng));
        }
        out
    }

    fn delay_us(&self, from: NodeId, to: NodeId, is_request: bool, rng: &mut ChaCha8Rng) -> u64 {
        let (lo, hi) = match self.cfg.link_delay_us.get(&(from, to)) {
            Some(&range) => range,
            None if self.cfg.reliable => self.cfg.reliable_delay_us,
            None => self.cfg.unreliable_delay_us,
        };
        let mut delay = rng.gen_range(lo..=hi.max(lo));
        if self.cfg.long_reordering && !is_request && rng.gen_ratio(2, 3) {
            // labrpc: 200 + rand(1 + rand(2000)) ms — skewed towards short delays.
            let inner = rng.gen_range(0..2000u64);
            delay += (200 + rng.gen_range(0..=inner)) * MS;
        }
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft_core::MessageBody;
    use rand::SeedableRng;

    fn msg(from: NodeId, to: NodeId, request: bool) -> Message {
        let body = if request {
            MessageBody::Heartbeat {
                commit: 0,
                round: 0,
            }
        } else {
            MessageBody::HeartbeatResponse { round: 0 }
        };
        Message {
            from,
            to,
            term: 1,
            body,
        }
    }

    #[test]
    fn one_way_block_cuts_one_direction_only() {
        let mut net = Network::new(NetConfig::default());
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        net.block(1, 2);
        assert!(net.plan(&msg(1, 2, true), &mut rng).is_empty());
        assert_eq!(net.plan(&msg(2, 1, true), &mut rng).len(), 1);
        net.set_connected(3, false);
        assert!(net.plan(&msg(3, 1, true), &mut rng).is_empty());
        assert!(net.plan(&msg(1, 3, true), &mut rng).is_empty());
    }

    #[test]
    fn partition_isolates_groups_and_stragglers() {
        let mut net = Network::new(NetConfig::default());
        net.partition(&[1, 2, 3, 4], &[vec![1, 2], vec![3]]);
        assert!(net.can_deliver(1, 2) && net.can_deliver(2, 1));
        assert!(!net.can_deliver(1, 3) && !net.can_deliver(3, 2));
        assert!(
            !net.can_deliver(4, 1) && !net.can_deliver(1, 4),
            "node 4 is in no group"
        );
        net.heal();
        assert!(net.can_deliver(4, 1));
    }

    #[test]
    fn delays_follow_link_overrides_and_long_reordering() {
        let mut cfg = NetConfig::default();
        cfg.link_delay_us.insert((1, 2), (50 * MS, 60 * MS));
        let mut net = Network::new(cfg);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..100 {
            let d = net.plan(&msg(1, 2, true), &mut rng)[0];
            assert!((50 * MS..=60 * MS).contains(&d));
            let d = net.plan(&msg(2, 1, true), &mut rng)[0];
            assert!((100..=MS).contains(&d), "default reliable range");
        }
        net.cfg.long_reordering = true;
        let long = (0..300)
            .filter(|_| net.plan(&msg(2, 1, false), &mut rng)[0] >= 200 * MS)
            .count();
        assert!(
            (150..=250).contains(&long),
            "about 2/3 of replies delayed: {long}/300"
        );
        let requests_long = (0..300)
            .filter(|_| net.plan(&msg(2, 1, true), &mut rng)[0] >= 200 * MS)
            .count();
        assert_eq!(requests_long, 0, "requests are not reordered");
    }

    #[test]
    fn unreliable_drops_and_duplicates_at_the_configured_rates() {
        let net = Network::new(NetConfig {
            duplicate_prob: 0.2,
            ..NetConfig::unreliable()
        });
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let copies: usize = (0..10_000)
            .map(|_| net.plan(&msg(1, 2, true), &mut rng).len())
            .sum();
        // Expected copies per message: (1 + 0.2) * 0.9 = 1.08.
        assert!(
            (10_400..=11_200).contains(&copies),
            "{copies} copies for 10000 messages"
        );
    }
}
