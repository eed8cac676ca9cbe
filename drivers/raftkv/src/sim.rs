//! `raftkv sim`: a 5-node simulated cluster on an unreliable network, narrated phase by phase.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use clap::Args;
use raft_core::Role;
use raft_sim::{cmd, Cluster, NetConfig, Sim, SimConfig};

#[derive(Args, Clone, Debug)]
pub struct SimArgs {
    /// Seed of the simulation: the same seed replays the same run exactly.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of nodes (3 to 9).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(3..=9))]
    pub nodes: u64,
    /// Commands to replicate in each phase.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub commands: u64,
}

impl Default for SimArgs {
    fn default() -> Self {
        SimArgs {
            seed: 1,
            nodes: 5,
            commands: 50,
        }
    }
}

/// Runs the narrated scenario; a failure (which would be a bug) reports its seed.
pub fn run(args: &SimArgs) -> Result<(), String> {
    let wall = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| narrate(args)));
    match outcome {
        Ok(c) => {
            summary(&c, wall.elapsed().as_secs_f64());
            Ok(())
        }
        Err(panic) => {
            let reason = panic
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "unknown failure".into());
            Err(format!(
                "simulation failed (seed {}): {reason}\nreplay: raftkv sim --seed {}",
                args.seed, args.seed
            ))
        }
    }
}

fn secs(c: &Cluster) -> String {
    format!("t={:>6.2}s", c.now_us() as f64 / 1e6)
}

fn leader_line(c: &Cluster, leader: usize) -> String {
    let node = c.node(leader).expect("leader is alive");
    format!("node {} leads term {}", leader + 1, node.term())
}

fn replicate(c: &mut Cluster, from: u64, count: u64, expected: usize) -> u64 {
    let start = c.now_us();
    let mut last = 0;
    for x in from..from + count {
        last = c.one(cmd(x), expected, true);
    }
    let ms_each = (c.now_us() - start) as f64 / 1e3 / count as f64;
    println!("{}  {count} commands committed on ≥{expected} nodes (last index {last}), {ms_each:.1} ms each", secs(c));
    last
}

fn narrate(args: &SimArgs) -> Cluster {
    let n = args.nodes as usize;
    let mut c = Cluster::new(SimConfig::new(n, args.seed, NetConfig::unreliable()));
    println!(
        "Simulated {n}-node Raft cluster, seed {}, unreliable network (0–26 ms delays, 10% loss)",
        args.seed
    );
    println!("Invariants (election safety, log matching, leader completeness, state-machine safety) run after every event.\n");
    let leader = c.check_one_leader();
    println!("{}  election: {}", secs(&c), leader_line(&c, leader));
    replicate(&mut c, 1, args.commands, n);

    println!(
        "{}  crash: node {} (the leader) loses its memory and unsynced writes",
        secs(&c),
        leader + 1
    );
    c.crash(leader);
    let next = c.check_one_leader();
    println!("{}  re-election: {}", secs(&c), leader_line(&c, next));
    replicate(&mut c, 1_000, args.commands, n - 1);
    c.start(leader);
    c.connect(leader);
    println!(
        "{}  restart: node {} back from its disk",
        secs(&c),
        leader + 1
    );

    let minority: Vec<usize> = (0..(n - 1) / 2).map(|k| (next + k) % n).collect();
    let ids = |v: &[usize]| v.iter().map(|&i| Cluster::id_of(i)).collect::<Vec<_>>();
    let majority: Vec<usize> = (0..n).filter(|i| !minority.contains(i)).collect();
    c.net().partition(
        &ids(&(0..n).collect::<Vec<_>>()),
        &[ids(&minority), ids(&majority)],
    );
    let shown: Vec<usize> = minority.iter().map(|i| i + 1).collect();
    println!(
        "{}  partition: minority {shown:?}, including the leader, cut off",
        secs(&c)
    );
    let stale = c.start_cmd(next, cmd(9_999));
    let l2 = majority_leader(&mut c, &majority);
    println!("{}  majority side: {}", secs(&c), leader_line(&c, l2));
    replicate(&mut c, 2_000, args.commands, majority.len());
    c.net().heal();
    let last = replicate(&mut c, 3_000, args.commands, n);
    c.wait(last, n, None);
    println!("{}  healed: every node applied index {last}", secs(&c));
    if let Some((index, _)) = stale {
        let kept = c.n_committed(index).1 == Some(cmd(9_999));
        let fate = if kept {
            "survived (it had reached a majority)"
        } else {
            "was discarded: never committed"
        };
        println!(
            "{}  the cut-off leader's proposal at index {index} {fate}",
            secs(&c)
        );
    }
    c
}

/// Waits (bounded) until a node of `side` leads a term newer than any old leader's.
fn majority_leader(c: &mut Cluster, side: &[usize]) -> usize {
    for _ in 0..100 {
        c.sleep_ms(100);
        if let Some(&l) = side
            .iter()
            .find(|&&i| c.node(i).is_some_and(|n| n.role() == Role::Leader))
        {
            return l;
        }
    }
    panic!("the majority side elected no leader in 10 s");
}

fn summary(c: &Cluster, wall_s: f64) {
    println!("\n node  role       term  commit  applied");
    for i in 0..c.n() {
        let node = c.node(i).expect("all nodes run at the end");
        let role = match node.role() {
            Role::Leader => "leader",
            Role::Follower => "follower",
            Role::Candidate => "candidate",
            Role::PreCandidate => "pre-cand.",
        };
        println!(
            " {:>4}  {role:<9} {:>5}  {:>6}  {:>7}",
            i + 1,
            node.term(),
            node.log().committed(),
            c.applied(i).len()
        );
    }
    let (k, w) = (&c.counters, c.world().counters());
    let sim_s = c.now_us() as f64 / 1e6;
    println!(
        "\n{} events, {} messages ({} lost, largest {} bytes), {} crashes; {sim_s:.1} s simulated in {wall_s:.3} s wall; 0 invariant violations",
        w.events,
        k.requests + k.responses,
        w.lost,
        k.message_bytes_max,
        w.crashes
    );
}
