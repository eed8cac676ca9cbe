//! The course's lab 3 tests (see ../shared/reference/6824-tests.md), in simulated time.
//! [`generic`] is the course's GenericTest: rounds of concurrent clients under optional
//! unreliability, partitions and whole-cluster crashes, then per-client append checks,
//! size bounds, and the linearizability check of the whole history.

use rand::Rng;

use raft_core::Role;
use sim_kit::{Sim, MS};

use crate::client::append_value;
use crate::history::Checked;
use crate::service::SimService;
use crate::world::{KvSimConfig, KvWorld, ServerTweak, ServiceWorld};

/// The course's election timeout, which its tests sleep in multiples of.
pub const ELECTION_TIMEOUT_MS: u64 = 1_000;
const ROUNDS: usize = 3;
const ROUND_MS: u64 = 5_000;
/// How long clients may take to finish once a round's faults stop.
const SETTLE_LIMIT_MS: u64 = 30_000;

/// One row of the course's table of generic tests.
#[derive(Clone, Copy, Debug)]
pub struct Generic {
    pub clients: usize,
    pub servers: usize,
    pub unreliable: bool,
    pub crash: bool,
    pub partitions: bool,
    pub max_raft_state_bytes: Option<usize>,
    pub random_keys: bool,
    /// Serve reads from the leader's lease instead of a ReadIndex round (not a course
    /// test parameter: this project's extra coverage of `ReadMode::Lease`).
    pub lease_reads: bool,
}

impl Generic {
    pub const fn new(clients: usize, servers: usize) -> Self {
        Generic {
            clients,
            servers,
            unreliable: false,
            crash: false,
            partitions: false,
            max_raft_state_bytes: None,
            random_keys: false,
            lease_reads: false,
        }
    }
}

/// What a run did, for reports.
#[derive(Clone, Debug)]
pub struct Report {
    pub checked: Checked,
    pub operations: usize,
    pub sim_ms: u64,
}

pub fn generic(seed: u64, g: Generic) -> Report {
    generic_with(seed, g, None)
}

/// [`generic`], with every server's configuration edited by `tweak` (bug injection).
pub fn generic_with(seed: u64, g: Generic, tweak: Option<ServerTweak>) -> Report {
    let mut cfg = KvSimConfig::new(g.servers, g.clients, seed, !g.unreliable);
    cfg.max_raft_state_bytes = g.max_raft_state_bytes;
    if g.lease_reads {
        cfg.read_mode = raft_core::ReadMode::Lease;
    }
    let mut w = KvWorld::with_tweak(cfg, tweak);
    for _ in 0..ROUNDS {
        let keys = g.random_keys.then_some(g.clients as u64);
        w.start_workload(0..g.clients, keys);
        if g.partitions {
            partitioner(&mut w, ROUND_MS);
        } else {
            w.sleep_ms(ROUND_MS);
        }
        let appends = w.stop_workload();
        if g.partitions {
            w.heal();
            w.sleep_ms(ELECTION_TIMEOUT_MS);
        }
        if g.crash {
            crash_all_and_restart(&mut w);
        }
        w.wait_clients(SETTLE_LIMIT_MS);
        if !g.random_keys {
            for (client, &n) in appends.iter().enumerate() {
                let value = w.get(client, &client.to_string(), SETTLE_LIMIT_MS);
                check_appends(&w, client, value.as_deref().unwrap_or(""), n);
            }
        }
        check_sizes(&w, g.max_raft_state_bytes);
    }
    report(&w)
}

/// Checks the history (failing the run if it is not linearizable) and reports; an
/// "unknown" verdict is printed with its seed, never passed over in silence.
pub fn report(w: &KvWorld) -> Report {
    let started = std::time::Instant::now();
    let checked = w.check_linearizable();
    if std::env::var_os("SIM_VERBOSE").is_some() {
        let done = w.history().iter().filter(|h| h.ret.is_some()).count();
        eprintln!(
            "seed {}: {} operations ({done} completed) in {} ms simulated; {:?}; checked in {:?}; {:?} {:?}",
            w.seed(),
            w.history().len(),
            w.now_us() / MS,
            checked,
            started.elapsed(),
            w.counters,
            w.world().counters()
        );
    }
    if checked == Checked::Unknown {
        eprintln!(
            "seed {}: the linearizability checker ran out of its {:?} budget on {} operations: verdict unknown",
            w.seed(),
            crate::history::CHECK_BUDGET,
            w.history().len()
        );
    }
    Report {
        checked,
        operations: w.history().len(),
        sim_ms: w.now_us() / MS,
    }
}

/// Re-splits the servers into two random groups every election timeout (plus up to
/// 200 ms) until `ms` have passed.
fn partitioner(w: &mut KvWorld, ms: u64) {
    let end = w.now_us() + ms * MS;
    while w.now_us() < end {
        let side: Vec<bool> = (0..w.n()).map(|_| w.world.rng.gen_bool(0.5)).collect();
        let group = |s: bool| {
            (0..side.len())
                .filter(|&i| side[i] == s)
                .collect::<Vec<_>>()
        };
        w.partition(&[group(true), group(false)]);
        let pause = (ELECTION_TIMEOUT_MS + w.world.rng.gen_range(0..200)) * MS;
        w.advance_us(pause.min(end - w.now_us()));
    }
}

fn crash_all_and_restart(w: &mut KvWorld) {
    for slot in 0..w.n() {
        w.crash(slot);
    }
    w.sleep_ms(ELECTION_TIMEOUT_MS);
    for slot in 0..w.n() {
        w.restart(slot); // the course's StartServer, then reconnect
        w.connect(slot);
    }
}

/// Every append client `client` made, "x CLIENT J y" for J in 0..count, appears exactly
/// once and in order.
pub fn check_appends(w: &KvWorld, client: usize, value: &str, count: u64) {
    let mut last_at = None;
    for j in 0..count {
        let wanted = append_value(client, j);
        let found: Vec<_> = value.match_indices(&wanted).map(|(i, _)| i).collect();
        match found.as_slice() {
            [at] if last_at.is_none_or(|l| l < *at) => last_at = Some(*at),
            [_] => w.fail(&format!(
                "client {client}: {wanted:?} out of order in {value:?}"
            )),
            [] => w.fail(&format!(
                "client {client}: {wanted:?} missing from {value:?}"
            )),
            _ => w.fail(&format!(
                "client {client}: {wanted:?} appears {} times",
                found.len()
            )),
        }
    }
}

/// Raft state within 8 × maxraftstate when snapshots are on; no snapshot when off.
pub fn check_sizes(w: &KvWorld, max_raft_state_bytes: Option<usize>) {
    for slot in 0..w.n() {
        let disk = w.disk(slot);
        match max_raft_state_bytes {
            Some(max) if disk.raft_state_bytes() > 8 * max => w.fail(&format!(
                "server {}: raft state {} B exceeds 8 × {max} B",
                slot + 1,
                disk.raft_state_bytes()
            )),
            None if disk.durable.snapshot.is_some() => w.fail(&format!(
                "server {} took a snapshot with snapshots off",
                slot + 1
            )),
            _ => {}
        }
    }
}

/// The slot of a server that currently believes it leads, preferring the highest term.
pub fn leader<S: SimService>(w: &ServiceWorld<S>) -> Option<usize> {
    (0..w.n())
        .filter_map(|s| w.server(s).map(|sv| (s, sv.node())))
        .filter(|(_, n)| n.role() == Role::Leader)
        .max_by_key(|(_, n)| n.term())
        .map(|(s, _)| s)
}

mod special;
pub use special::*;
