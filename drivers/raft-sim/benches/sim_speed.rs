//! Simulation speed: simulated seconds per wall-clock second, and events per second, for
//! the course's heaviest Raft scenario and for the nemesis.
//!
//! Run: `cargo bench -p raft-sim --bench sim_speed` (`BENCH_SEEDS=N` to change the count;
//! `-- NAME` to run only the scenarios whose name contains NAME, as for a profile).

use std::time::Instant;

use raft_sim::nemesis::{self, NemesisConfig};
use raft_sim::{lab2, Cluster, Sim};

fn measure(name: &str, seeds: u64, run: impl Fn(u64) -> Cluster) {
    let mut filters = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    if filters.any(|f| !name.contains(&f)) {
        return;
    }
    let (mut sim_us, mut events) = (0u64, 0u64);
    let start = Instant::now();
    for seed in 1..=seeds {
        let c = run(seed);
        sim_us += c.now_us();
        events += c.world().counters().events;
    }
    let wall_s = start.elapsed().as_secs_f64();
    let sim_s = sim_us as f64 / 1e6;
    println!(
        "{name:<22} seeds {seeds:>4}  simulated {sim_s:>9.1} s  wall {wall_s:>7.3} s  speed {:>8.0}x  {:>6.2} M events/s",
        sim_s / wall_s,
        events as f64 / wall_s / 1e6
    );
}

fn main() {
    let seeds = std::env::var("BENCH_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    measure("figure8_unreliable_2c", seeds, lab2::figure8_unreliable);
    measure("figure8_2c", seeds, lab2::figure8);
    measure("nemesis (30 s chaos)", seeds, |s| {
        nemesis::run(s, &NemesisConfig::default(), None)
    });
}
