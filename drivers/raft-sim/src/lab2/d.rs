//! Lab 2D: log compaction. The service snapshots every 10 applied entries (its state is
//! the list of applied commands); lagging or restarted peers catch up by InstallSnapshot.
//!
//! Snapshot chunks are set to 512 bytes so every transfer spans many chunks: the course
//! sends snapshots whole, this port also exercises resumption after lost chunks.

use super::rand_cmd;
use crate::cluster::{Cluster, SimConfig};
use crate::NetConfig;
use crate::Sim;

/// The course's `SnapShotInterval`.
pub const SNAPSHOT_INTERVAL: u64 = 10;
/// The course's `MAXLOGSIZE`: persisted Raft state (not the snapshot) must stay below it.
pub const RAFT_STATE_BYTES_MAX: usize = 2000;
const CHUNK_BYTES: usize = 512;

pub fn make_snap(n: usize, seed: u64, reliable: bool) -> Cluster {
    let net = if reliable {
        NetConfig::default()
    } else {
        NetConfig::unreliable()
    };
    let mut cfg = SimConfig::new(n, seed, net);
    cfg.snapshot_interval = Some(SNAPSHOT_INTERVAL);
    let tweak = Box::new(|c: &mut raft_core::Config| c.snapshot_chunk_bytes = CHUNK_BYTES);
    Cluster::with_tweak(cfg, Some(tweak))
}

fn check_raft_state_bytes(c: &Cluster) {
    let bytes = c.raft_state_bytes_max();
    if bytes >= RAFT_STATE_BYTES_MAX {
        c.fail(&format!(
            "persisted raft state is {bytes} bytes, limit {RAFT_STATE_BYTES_MAX}"
        ));
    }
}

/// How a round disturbs its victim.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Victim {
    Untouched,
    Disconnected,
    Crashed,
}

/// The course's snapcommon: 30 rounds, each disturbing a victim while the sender starts
/// 5–14 commands (enough for a snapshot), then bringing the victim back to catch up.
fn snapcommon(seed: u64, victim_mode: Victim, reliable: bool) -> Cluster {
    let n = 3;
    let mut c = make_snap(n, seed, reliable);
    let v = rand_cmd(&mut c);
    c.one(v, n, true);
    let mut leader1 = c.check_one_leader();
    for i in 0..30 {
        let (mut victim, mut sender) = ((leader1 + 1) % n, leader1);
        if i % 3 == 1 {
            sender = (leader1 + 1) % n;
            victim = leader1;
        }
        match victim_mode {
            Victim::Disconnected => c.disconnect(victim),
            Victim::Crashed => c.crash(victim),
            Victim::Untouched => {}
        }
        if victim_mode != Victim::Untouched {
            let v = rand_cmd(&mut c);
            c.one(v, n - 1, true);
        }
        let nn = SNAPSHOT_INTERVAL / 2 + c.rand_below(SNAPSHOT_INTERVAL);
        for _ in 0..nn {
            let v = rand_cmd(&mut c);
            c.start_cmd(sender, v);
        }
        // Untouched: everyone catches up, so basic never needs InstallSnapshot.
        let expected = if victim_mode == Victim::Untouched {
            n
        } else {
            n - 1
        };
        let v = rand_cmd(&mut c);
        c.one(v, expected, true);
        check_raft_state_bytes(&c);
        if victim_mode != Victim::Untouched {
            if victim_mode == Victim::Crashed {
                c.start(victim);
            }
            c.connect(victim);
            let v = rand_cmd(&mut c);
            c.one(v, n, true);
            leader1 = c.check_one_leader();
        }
    }
    c
}

pub fn snapshot_basic(seed: u64) -> Cluster {
    snapcommon(seed, Victim::Untouched, true)
}

pub fn snapshot_install(seed: u64) -> Cluster {
    snapcommon(seed, Victim::Disconnected, true)
}

pub fn snapshot_install_unreliable(seed: u64) -> Cluster {
    snapcommon(seed, Victim::Disconnected, false)
}

pub fn snapshot_install_crash(seed: u64) -> Cluster {
    snapcommon(seed, Victim::Crashed, true)
}

pub fn snapshot_install_unreliable_crash(seed: u64) -> Cluster {
    snapcommon(seed, Victim::Crashed, false)
}

fn crash_and_restart_all(c: &mut Cluster) {
    (0..c.n()).for_each(|i| c.crash(i));
    (0..c.n()).for_each(|i| {
        c.start(i);
        c.connect(i)
    });
}

/// Crash every server after some commits; the index of new commands never goes back.
pub fn snapshot_all_crash(seed: u64) -> Cluster {
    let n = 3;
    let mut c = make_snap(n, seed, true);
    let v = rand_cmd(&mut c);
    c.one(v, n, true);
    for _ in 0..5 {
        let nn = SNAPSHOT_INTERVAL / 2 + c.rand_below(SNAPSHOT_INTERVAL);
        for _ in 0..nn {
            let v = rand_cmd(&mut c);
            c.one(v, n, true);
        }
        let v = rand_cmd(&mut c);
        let index1 = c.one(v, n, true);
        crash_and_restart_all(&mut c);
        let v = rand_cmd(&mut c);
        let index2 = c.one(v, n, true);
        if index2 < index1 + 1 {
            c.fail(&format!("index decreased from {index1} to {index2}"));
        }
    }
    c
}

/// Restart from a snapshot, commit once, restart again: the second restart must see a
/// state written after the first (a bug here loses the snapshot's position).
pub fn snapshot_init(seed: u64) -> Cluster {
    let n = 3;
    let mut c = make_snap(n, seed, true);
    let v = rand_cmd(&mut c);
    c.one(v, n, true);
    for _ in 0..=SNAPSHOT_INTERVAL {
        let v = rand_cmd(&mut c);
        c.one(v, n, true);
    }
    crash_and_restart_all(&mut c);
    let v = rand_cmd(&mut c);
    c.one(v, n, true);
    crash_and_restart_all(&mut c);
    let v = rand_cmd(&mut c);
    c.one(v, n, true);
    c
}
