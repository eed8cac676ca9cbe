//! End to end, real processes on loopback: crashes (SIGKILL of the leader, of every node
//! at once) under a workload of unique appends, and a clean SIGTERM. After each, every
//! acknowledged write must be in the final state exactly once and the history must be
//! linearizable.

mod common;

use std::time::{Duration, Instant};

use common::Harness;
use lincheck::Verdict;
use runtime::workload::{self, HistoryOp, WorkloadOptions};
use tokio::sync::watch;

/// Reads every key back, then checks the writes and the history; the test fails with
/// the details otherwise.
async fn check_history(h: &Harness, mut history: Vec<HistoryOp>, epoch: Instant, keys: u64) {
    let (reads, values) = workload::read_back(h.cluster.peers.clone(), keys, epoch)
        .await
        .unwrap_or_else(|e| panic!("read back: {e}"));
    let found = workload::writes_found(&history, &values);
    let answered = history.iter().filter(|o| o.ret.is_some()).count();
    h.say(format!(
        "{} operations ({answered} answered); {} of {} acknowledged writes found once, {} lost, {} duplicated, {} unknown",
        history.len(),
        found.found_once,
        found.acknowledged,
        found.lost.len(),
        found.duplicated.len(),
        found.unknown.len()
    ));
    assert!(
        found.acknowledged >= 20,
        "too little load to mean anything: {found:?}"
    );
    assert_eq!(
        found.found_once, found.acknowledged,
        "acknowledged writes not found exactly once: {found:?}\nfinal values: {values:?}"
    );
    assert!(found.lost.is_empty(), "lost: {:?}", found.lost);
    assert!(
        found.duplicated.is_empty(),
        "duplicated: {:?}",
        found.duplicated
    );
    assert!(found.unknown.is_empty(), "unknown: {:?}", found.unknown);
    history.extend(reads);
    let started = Instant::now();
    let verdict = workload::check_linearizable(&history, Duration::from_secs(60));
    h.say(format!(
        "linearizability checked in {:.1?}: {}",
        started.elapsed(),
        match &verdict {
            Verdict::Linearizable => "linearizable".to_string(),
            Verdict::Unknown => "unknown (budget ran out)".to_string(),
            Verdict::NotLinearizable(_) => "NOT linearizable".to_string(),
        }
    ));
    match verdict {
        Verdict::Linearizable => {}
        Verdict::Unknown => panic!("the checker's 60 s budget ran out"),
        Verdict::NotLinearizable(why) => panic!("not linearizable:\n{why}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn leader_sigkill_under_load_loses_nothing_and_stays_linearizable() {
    let mut h = Harness::start("leader-sigkill", 3).await;
    let epoch = Instant::now();
    let opts = WorkloadOptions::default();
    let keys = opts.keys;
    let (stop_tx, stop_rx) = watch::channel(false);
    let load = tokio::spawn(workload::run(h.cluster.peers.clone(), opts, epoch, stop_rx));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let victim = h.leader(Duration::from_secs(5)).await;
    h.cluster.kill(victim);
    h.say(format!("SIGKILL node {victim} (the leader) under load"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    h.cluster.start(victim).expect("restart");
    h.say(format!("node {victim} restarted"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop_tx.send(true).expect("the workload listens");
    let history = tokio::time::timeout(Duration::from_secs(15), load)
        .await
        .expect("the clients stop within 15 s")
        .expect("workload task");
    h.assert_alive(&h.ids());
    let new_leader = h.leader(Duration::from_secs(10)).await;
    h.say(format!("leader now node {new_leader}"));
    check_history(&h, history, epoch, keys).await;
}

#[tokio::test(flavor = "current_thread")]
async fn all_nodes_sigkilled_at_once_keep_every_acknowledged_write() {
    let mut h = Harness::start("all-sigkilled", 3).await;
    let epoch = Instant::now();
    let opts = WorkloadOptions::default();
    let keys = opts.keys;
    let (stop_tx, stop_rx) = watch::channel(false);
    let load = tokio::spawn(workload::run(h.cluster.peers.clone(), opts, epoch, stop_rx));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ids = h.ids();
    let pids: Vec<u32> = ids
        .iter()
        .map(|&id| h.cluster.pid(id).expect("running"))
        .collect();
    for pid in pids {
        // SAFETY: kill(2) on a child we spawned and have not reaped.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    }
    for &id in &ids {
        h.cluster.kill(id); // reaps it
    }
    h.say("SIGKILL all three nodes at once, under load");
    for &id in &ids {
        h.cluster.start(id).expect("restart");
    }
    h.say("all three restarted");
    let leader = h.leader(Duration::from_secs(15)).await;
    h.say(format!("node {leader} is leader after the restart"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop_tx.send(true).expect("the workload listens");
    let history = tokio::time::timeout(Duration::from_secs(15), load)
        .await
        .expect("the clients stop within 15 s")
        .expect("workload task");
    h.assert_alive(&ids);
    check_history(&h, history, epoch, keys).await;
    h.put("fresh", "after the crash").await;
    assert_eq!(h.get("fresh").await.as_deref(), Some("after the crash"));
}

#[tokio::test(flavor = "current_thread")]
async fn sigterm_shuts_down_cleanly() {
    let mut h = Harness::start("sigterm", 3).await;
    for i in 0..10 {
        h.put(&format!("t{i}"), &format!("v{i}")).await;
    }
    // The leader: shutting down while leading is the harder case.
    let victim = h.leader(Duration::from_secs(5)).await;
    let started = Instant::now();
    let status = h.cluster.terminate(victim, Duration::from_secs(5));
    h.say(format!(
        "SIGTERM node {victim} (the leader): {status:?} after {:.2?}",
        started.elapsed()
    ));
    let status = status.unwrap_or_else(|| panic!("node {victim} still running 5 s after SIGTERM"));
    assert!(status.success(), "node {victim} exited with {status}");
    // (Its "shutting down" line is raftkv's, not runtime's: the cluster's nodes log
    // runtime=info only, so there is nothing more to look for in the log.)
    // The other two carry on without it.
    h.put("during", "one node down").await;
    h.cluster.start(victim).expect("restart");
    h.put("after", "back").await;
    let statuses = h
        .wait_status(Duration::from_secs(10), |s| {
            let Some(me) = s.get(&victim) else {
                return false;
            };
            let leader = s.values().find(|x| x.role == "leader");
            leader.is_some_and(|l| {
                me.term == l.term && me.leader == Some(l.id) && me.applied >= l.commit
            })
        })
        .await
        .unwrap_or_else(|s| panic!("node {victim} did not rejoin within 10 s: {s:#?}"));
    h.say(format!(
        "node {victim} rejoined: {:?}",
        statuses.get(&victim)
    ));
    for i in 0..10 {
        assert_eq!(h.get(&format!("t{i}")).await, Some(format!("v{i}")), "t{i}");
    }
    assert_eq!(h.get("during").await.as_deref(), Some("one node down"));
    assert_eq!(h.get("after").await.as_deref(), Some("back"));
}
