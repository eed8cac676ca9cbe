//! All faults at once on 5 nodes (plus 2 that membership changes may add) with proposing
//! and reading clients, application snapshots and membership changes; invariants and the
//! read check after every event; then a healed cluster must commit and read again.

use std::cell::RefCell;

use raft_core::{Config, ReadMode};
use raft_sim::cluster::ConfigTweak;
use raft_sim::nemesis::{self, NemesisConfig};
use raft_sim::reads::LEASE_SAFE_DRIFT_PPM;
use raft_sim::{Counters, Sim};
use sim_kit::seeds::{run_pinned_seeds, seeds, TestId};
use sim_kit::WorldCounters;

/// Small chunks so every snapshot transfer spans many messages.
fn tweak(mode: ReadMode) -> Option<ConfigTweak> {
    Some(Box::new(move |c: &mut Config| {
        c.snapshot_chunk_bytes = 1024;
        c.read_mode = mode;
    }))
}

/// Runs the nemesis over the seeds; each run must be long, crash someone and snapshot.
/// Over ten or more seeds, snapshots must also have been installed by lagging nodes.
fn run(test: &str, cfg: NemesisConfig, mode: ReadMode, pinned: &[u64]) {
    let totals = RefCell::new((Counters::default(), WorldCounters::default()));
    let id = TestId::new(env!("CARGO_PKG_NAME"), "nemesis", test);
    run_pinned_seeds(id, 20, pinned, |seed| {
        let c = nemesis::run(seed, &cfg, tweak(mode));
        let (k, w) = (&c.counters, c.world().counters());
        // Steps, not events: a sleeping node's ticks are no events (they reach it
        // with its next input).
        assert!(k.steps > 10_000, "a nemesis run should be long: {k:?}");
        assert!(
            w.crashes > 0,
            "the nemesis should have crashed someone: {w:?}"
        );
        assert!(
            k.snapshots_taken > 0,
            "the application should snapshot: {k:?}"
        );
        let (t, tw) = &mut *totals.borrow_mut();
        t.snapshots_installed += k.snapshots_installed;
        t.snapshots_wanted += k.snapshots_wanted;
        t.reads_confirmed += k.reads_confirmed;
        t.reads_aborted += k.reads_aborted;
        t.membership_changes_proposed += k.membership_changes_proposed;
        tw.torn_writes_repaired += w.torn_writes_repaired;
    });
    let (t, tw) = totals.into_inner();
    eprintln!(
        "{test}: snapshots installed {} ({} asked for by a leader), reads confirmed {}, reads aborted {}, membership changes {}, torn writes repaired {}",
        t.snapshots_installed, t.snapshots_wanted, t.reads_confirmed, t.reads_aborted, t.membership_changes_proposed, tw.torn_writes_repaired
    );
    if seeds(20).len() >= 10 {
        assert!(
            t.snapshots_installed > 0,
            "no lagging node ever installed a snapshot"
        );
        assert!(
            t.snapshots_wanted > 0,
            "no leader ever asked its application for the snapshot's bytes again"
        );
        assert!(
            t.membership_changes_proposed > 0,
            "the nemesis never changed the membership"
        );
        assert!(
            tw.torn_writes_repaired > 0,
            "no crash ever tore a write in progress"
        );
    }
}

#[test]
fn nemesis_all_faults() {
    run(
        "nemesis_all_faults",
        NemesisConfig::default(),
        ReadMode::Safe,
        &[],
    );
}

#[test]
fn nemesis_lease_reads() {
    let cfg = NemesisConfig {
        clock_drift_ppm: LEASE_SAFE_DRIFT_PPM,
        ..NemesisConfig::default()
    };
    // 425719: a read waiting for the leader's first own-term commit was confirmed by
    // heartbeat acknowledgements older than it (issue 11).
    run("nemesis_lease_reads", cfg, ReadMode::Lease, &[425719]);
}
