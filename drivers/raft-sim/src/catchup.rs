//! A follower far behind catches up while every message and every follower window stays
//! within the configured limits: the simulator records the largest message sent and the
//! scenario samples each leader's in-flight bytes.

use raft_core::Config;

use crate::cluster::{Cluster, SimConfig};
use crate::NetConfig;
use crate::Sim;

pub const APPEND_BYTES_MAX: usize = 4 << 10;
pub const CHUNK_BYTES: usize = 2 << 10;
pub const INFLIGHT_BYTES_MAX: usize = 16 << 10;
const COMMAND_BYTES: usize = 512;
/// Encoded bytes a message adds around its entries or chunk (ids, terms, lengths).
const ENVELOPE_BYTES: usize = 64;

/// What one run saw at its worst.
#[derive(Clone, Copy, Debug, Default)]
pub struct CatchUpReport {
    pub message_bytes_max: u64,
    pub inflight_bytes_max: usize,
    pub snapshots_installed: u64,
}

/// The lagging follower is cut off while the others commit `commands` commands of 512
/// bytes (about `commands / 2` KiB), then reconnects and must hold everything.
pub fn far_behind(seed: u64, commands: u64, snapshots: bool) -> (Cluster, CatchUpReport) {
    let mut cfg = SimConfig::new(3, seed, NetConfig::unreliable());
    cfg.snapshot_interval = snapshots.then_some(50);
    let tweak = Box::new(|c: &mut Config| {
        c.append_bytes_max = APPEND_BYTES_MAX;
        c.snapshot_chunk_bytes = CHUNK_BYTES;
        c.inflight_bytes_max = INFLIGHT_BYTES_MAX;
    });
    let mut c = Cluster::with_tweak(cfg, Some(tweak));
    c.one(vec![1; COMMAND_BYTES], 3, true);
    let lagging = (c.check_one_leader() + 1) % 3;
    c.disconnect(lagging);
    let mut report = CatchUpReport::default();
    for k in 0..commands {
        let leader = c.check_leader_now();
        if let Some(l) = leader {
            let _ = c.start_cmd(l, command(k));
        }
        c.sleep_ms(2);
        sample(&c, &mut report);
    }
    let last = c.one(command(u64::MAX), 2, true);
    c.connect(lagging);
    for _ in 0..1_000 {
        if c.applied(lagging).len() as u64 >= last {
            break;
        }
        c.sleep_ms(10);
        sample(&c, &mut report);
    }
    if (c.applied(lagging).len() as u64) < last {
        c.fail(&format!(
            "node {} did not catch up to {last} in 10 s",
            lagging + 1
        ));
    }
    report.message_bytes_max = c.counters.message_bytes_max;
    report.snapshots_installed = c.counters.snapshots_installed;
    (c, report)
}

fn command(k: u64) -> Vec<u8> {
    let mut data = vec![0; COMMAND_BYTES];
    data[..8].copy_from_slice(&k.to_le_bytes());
    data
}

fn sample(c: &Cluster, report: &mut CatchUpReport) {
    for slot in 0..c.n() {
        let Some(node) = c.node(slot) else { continue };
        for peer in 1..=c.n() as u64 {
            if let Some(p) = node.progress(peer) {
                report.inflight_bytes_max = report.inflight_bytes_max.max(p.inflight_bytes());
            }
        }
    }
}

/// The bound a correct implementation keeps every message under.
pub fn message_bytes_bound() -> u64 {
    (APPEND_BYTES_MAX.max(CHUNK_BYTES) + COMMAND_BYTES + ENVELOPE_BYTES) as u64
}
