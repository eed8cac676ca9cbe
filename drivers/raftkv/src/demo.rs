//! `raftkv demo`: a local cluster of real processes, a workload from several clients, the
//! leader SIGKILLed mid-load and restarted, and every answer checked. No setup: the
//! nodes run this same binary with temporary data directories on loopback ports.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Args;
use lincheck::Verdict;
use raft_core::NodeId;
use runtime::local_cluster::LocalCluster;
use runtime::workload::{self, HistoryOp, WorkloadOptions};
use tokio::sync::watch;

#[derive(Args, Clone, Debug)]
pub struct DemoArgs {
    /// Number of nodes.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(3..=7))]
    pub nodes: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub clients: u64,
    /// Seconds of load before the leader is killed (and again after it is back).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub phase_secs: u64,
    /// Keep the nodes' data directories and logs in this directory instead of a
    /// temporary one that is removed afterwards.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<std::path::PathBuf>,
}

impl Default for DemoArgs {
    fn default() -> Self {
        DemoArgs {
            nodes: 3,
            clients: 5,
            phase_secs: 2,
            keep: None,
        }
    }
}

pub fn run(args: &DemoArgs) -> Result<(), String> {
    let tmp = tempfile::Builder::new()
        .prefix("raftkv-demo-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let dir = args
        .keep
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let bin = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut cluster = LocalCluster::new(&bin, args.nodes, &dir).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let result = rt.block_on(narrate(args, &mut cluster));
    if result.is_err() {
        for id in 1..=args.nodes {
            eprintln!(
                "--- node {id} log (last 15 lines):\n{}",
                cluster.log_tail(id, 15)
            );
        }
    }
    result
}

/// Prints a line stamped with the seconds since the demo started.
struct Narrator(Instant);

impl Narrator {
    fn say(&self, line: impl AsRef<str>) {
        println!(
            "[{:5.2}s] {}",
            self.0.elapsed().as_secs_f64(),
            line.as_ref()
        );
    }
}

async fn narrate(args: &DemoArgs, cluster: &mut LocalCluster) -> Result<(), String> {
    let epoch = Instant::now();
    let say = Narrator(epoch);
    cluster
        .start_all()
        .map_err(|e| format!("cannot start the nodes: {e}"))?;
    say.say(format!(
        "started {} nodes of `raftkv server` (peers {})",
        args.nodes,
        cluster.peers_arg()
    ));
    for (id, a) in &cluster.redis {
        say.say(format!(
            "  node {id}: pid {}, redis-cli -p {}",
            cluster.pid(*id).unwrap_or(0),
            a.port()
        ));
    }
    let (first, term) = cluster
        .wait_for_leader(Duration::from_secs(10))
        .await
        .ok_or("no leader within 10 s")?;
    say.say(format!("node {first} is leader (term {term})"));
    let (stop_tx, stop_rx) = watch::channel(false);
    let opts = WorkloadOptions {
        clients: args.clients,
        ..WorkloadOptions::default()
    };
    let keys = opts.keys;
    say.say(format!(
        "{} clients start: appends of unique tokens and reads over {keys} keys",
        args.clients
    ));
    let load = tokio::spawn(workload::run(cluster.peers.clone(), opts, epoch, stop_rx));
    let phase = Duration::from_secs(args.phase_secs);
    let mut leaders = vec![(epoch.elapsed(), first, term)];
    watch_leaders(cluster, phase, epoch, &mut leaders).await;
    let victim = leaders.last().expect("one leader at least").1;
    cluster.kill(victim);
    say.say(format!("SIGKILL node {victim} (the leader) under load"));
    watch_leaders(cluster, phase / 2, epoch, &mut leaders).await;
    cluster
        .start(victim)
        .map_err(|e| format!("cannot restart node {victim}: {e}"))?;
    say.say(format!("node {victim} restarted from its data directory"));
    watch_leaders(cluster, phase, epoch, &mut leaders).await;
    stop_tx.send(true).expect("the workload listens");
    let mut history = load.await.map_err(|e| format!("workload: {e}"))?;
    let load_secs = epoch.elapsed().as_secs_f64() - leaders[0].0.as_secs_f64();
    say.say("clients stopped; reading every key back");
    let (reads, values) = workload::read_back(cluster.peers.clone(), keys, epoch).await?;
    let recovered = recovery_line(cluster, victim);
    report(&say, &history, load_secs, &leaders, &recovered);
    history.extend(reads);
    verdicts(&say, &history, &values)
}

/// Polls the cluster's leader for `span`, recording every change.
async fn watch_leaders(
    cluster: &LocalCluster,
    span: Duration,
    epoch: Instant,
    leaders: &mut Vec<(Duration, NodeId, u64)>,
) {
    let end = Instant::now() + span;
    while Instant::now() < end {
        let leader = cluster
            .statuses()
            .await
            .into_values()
            .filter(|s| s.role == "leader")
            .max_by_key(|s| s.term);
        if let Some(s) = leader {
            if leaders
                .last()
                .is_none_or(|&(_, id, term)| (id, term) != (s.id, s.term))
            {
                leaders.push((epoch.elapsed(), s.id, s.term));
                println!(
                    "[{:5.2}s] node {} is leader (term {})",
                    epoch.elapsed().as_secs_f64(),
                    s.id,
                    s.term
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the restarted node said about its recovery.
fn recovery_line(cluster: &LocalCluster, id: NodeId) -> String {
    let log = std::fs::read_to_string(cluster.log_path(id)).unwrap_or_default();
    let last = log
        .lines()
        .rev()
        .find_map(|l| l.split_once("recovered: ").map(|(_, r)| r.to_string()));
    last.unwrap_or_else(|| "(no recovery line in its log)".into())
}

fn report(
    say: &Narrator,
    history: &[HistoryOp],
    load_secs: f64,
    leaders: &[(Duration, NodeId, u64)],
    recovered: &str,
) {
    let answered = history.iter().filter(|h| h.ret.is_some()).count();
    let writes = history
        .iter()
        .filter(|h| h.ret.is_some() && !h.op.is_read())
        .count();
    say.say("what happened:");
    println!("  operations:      {answered} answered ({writes} writes, {} reads), {} without an answer in time", answered - writes, history.len() - answered);
    println!(
        "  throughput:      {:.0} operations/s over {load_secs:.1} s",
        answered as f64 / load_secs
    );
    if let Some((p50, p99, max)) = workload::latency_percentiles(history) {
        println!("  latency:         p50 {p50:.1?}, p99 {p99:.1?}, max {max:.1?} (the failover)");
    }
    let changes: Vec<String> = leaders
        .iter()
        .map(|(t, id, term)| format!("node {id} (term {term}) at {:.2}s", t.as_secs_f64()))
        .collect();
    println!("  leaders:         {}", changes.join(" -> "));
    println!("  restarted node:  {recovered}");
}

fn verdicts(
    say: &Narrator,
    history: &[HistoryOp],
    values: &BTreeMap<String, String>,
) -> Result<(), String> {
    let found = workload::writes_found(history, values);
    println!(
        "  acknowledged writes: {} of {} found exactly once in the final values ({} lost, {} duplicated, {} unknown)",
        found.found_once, found.acknowledged, found.lost.len(), found.duplicated.len(), found.unknown.len()
    );
    let started = Instant::now();
    let verdict = workload::check_linearizable(history, Duration::from_secs(60));
    let took = started.elapsed();
    let line = match &verdict {
        Verdict::Linearizable => format!(
            "linearizable ({} operations, checked in {took:.1?})",
            history.len()
        ),
        Verdict::Unknown => format!(
            "unknown: the checker's 60 s budget ran out ({} operations)",
            history.len()
        ),
        Verdict::NotLinearizable(why) => format!("NOT linearizable:\n{why}"),
    };
    println!("  linearizability: {line}");
    let ok = found.found_once == found.acknowledged
        && found.duplicated.is_empty()
        && found.unknown.is_empty();
    if !ok || !matches!(verdict, Verdict::Linearizable) {
        return Err(format!("the demo found a problem: {found:?}"));
    }
    say.say("all checks passed");
    Ok(())
}
