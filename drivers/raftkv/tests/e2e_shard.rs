//! End to end, real processes on loopback: a sharded store of a controller group and
//! two shard groups (three processes each). Groups join, a group's leader is SIGKILLed
//! mid-migration, a group leaves and joins again — all while clients write: unique
//! appends through `ShardClient` on keys of every shard, and unique SETs through the
//! Redis ports of group nodes (which forward to whichever group owns the key). After,
//! every acknowledged append is in its key exactly once, nothing unacknowledged is
//! there twice, and every acknowledged SET reads back through any group's Redis port.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Resp, RespConn, Spawned, BIN};
use kv_core::shardkv::{ShardOp, ShardOutput};
use raft_core::NodeId;
use runtime::local_cluster::LocalCluster;
use runtime::shard::ShardClient;
use tokio::sync::watch;

/// The first bytes 'a'..='j' are 97..=106: one key per shard of the ten.
const KEYS: [&str; 10] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
const APPENDERS: usize = 3;
const SETTERS: usize = 2;

struct Deployment {
    ctrl: LocalCluster,
    groups: BTreeMap<u64, LocalCluster>,
    dir: Option<tempfile::TempDir>,
    started: Instant,
    notes: Vec<PathBuf>,
}

impl Deployment {
    fn start() -> Deployment {
        let dir = tempfile::Builder::new()
            .prefix("raftkv-e2e-shard-")
            .tempdir()
            .expect("temporary directory");
        let bin = Path::new(BIN);
        let sub = |name: &str| {
            let d = dir.path().join(name);
            std::fs::create_dir_all(&d).expect("subdirectory");
            d
        };
        let traces = format!("--trace-dir={}", dir.path().join("trace").display());
        let mut ctrl = LocalCluster::with_ids(bin, &[1, 2, 3], &sub("ctrl"), false).unwrap();
        ctrl.server_args = vec!["--service=shardctrl".into(), traces.clone()];
        ctrl.start_all().expect("start the controller");
        let mut groups = BTreeMap::new();
        for (gid, ids) in [(100, [11, 12, 13]), (200, [21, 22, 23])] {
            let mut g = LocalCluster::with_ids(bin, &ids, &sub(&format!("g{gid}")), true).unwrap();
            g.server_args = vec![
                "--service=shardgroup".into(),
                format!("--gid={gid}"),
                format!("--ctrl={}", ctrl.peers_arg()),
                traces.clone(),
            ];
            g.start_all().expect("start a group");
            groups.insert(gid, g);
        }
        Deployment {
            ctrl,
            groups,
            dir: Some(dir),
            started: Instant::now(),
            notes: Vec::new(),
        }
    }

    fn say(&self, line: impl AsRef<str>) {
        let t = self.started.elapsed().as_secs_f64();
        println!("[shard {t:6.2}s] {}", line.as_ref());
    }

    fn dir(&self) -> &Path {
        self.dir.as_ref().expect("kept until drop").path()
    }

    /// Runs `raftkv shard ARGS --ctrl ...` to completion on a blocking thread (the
    /// writers keep going meanwhile); its output, or the test fails.
    async fn admin(&mut self, args: &[&str]) -> String {
        let out = self.dir().join(format!("admin{}.txt", self.notes.len()));
        self.notes.push(out.clone());
        let mut full: Vec<String> = vec!["shard".into()];
        full.extend(args.iter().map(|a| a.to_string()));
        full.push(format!("--ctrl={}", self.ctrl.peers_arg()));
        let command = full.join(" ");
        let (status, text) = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = full.iter().map(String::as_str).collect();
            let mut p = Spawned::new(&refs, out);
            (p.wait(Duration::from_secs(30)), p.output())
        })
        .await
        .expect("admin thread");
        assert!(
            status.is_some_and(|s| s.success()),
            "raftkv {command}: {status:?}\n{text}"
        );
        self.say(format!("raftkv shard {}: {}", args.join(" "), text.trim()));
        text
    }

    async fn join(&mut self, gid: u64) -> String {
        let servers = self.groups[&gid].peers_arg();
        self.admin(&[
            "join",
            &format!("--gid={gid}"),
            &format!("--servers={servers}"),
        ])
        .await
    }

    /// A key/value write sent to the controller's ports, and a controller query sent
    /// to a group's, are refused at the hello: frames carry no types, and a write
    /// decoded as another service's operation could be carried out.
    async fn wrong_service_is_refused(&mut self) {
        let ctrl = self.ctrl.peers_arg();
        let group = self.groups[&100].peers_arg();
        for args in [
            vec![
                "put".to_string(),
                "k".into(),
                "v".into(),
                format!("--peers={ctrl}"),
            ],
            vec!["shard".into(), "query".into(), format!("--ctrl={group}")],
        ] {
            let out = self.dir().join(format!("wrong{}.txt", self.notes.len()));
            self.notes.push(out.clone());
            let (status, text) = tokio::task::spawn_blocking(move || {
                let mut full = args.clone();
                full.push("--timeout-secs=2".into());
                let refs: Vec<&str> = full.iter().map(String::as_str).collect();
                let mut p = Spawned::new(&refs, out);
                (p.wait(Duration::from_secs(30)), p.output())
            })
            .await
            .expect("thread");
            assert!(
                status.is_some_and(|s| !s.success()),
                "a request to another service's node must fail: {status:?}\n{text}"
            );
        }
        let latest = self.admin(&["query"]).await;
        assert!(latest.starts_with("configuration 1\n"), "{latest}");
        self.say("requests to another service's nodes refused; configuration unchanged");
    }

    fn ctrl_nodes(&self) -> BTreeMap<NodeId, SocketAddr> {
        self.ctrl.peers.clone()
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let clusters = std::iter::once(&self.ctrl).chain(self.groups.values());
        for c in clusters {
            for id in c.peers.keys() {
                eprintln!("--- node {id}, last 30 lines:\n{}", c.log_tail(*id, 30));
            }
        }
        if let Some(dir) = self.dir.take() {
            eprintln!("--- kept the test's directory: {}", dir.keep().display());
        }
    }
}

/// What the writers did: (key, token, acknowledged) for appends, (key, value,
/// acknowledged) for SETs.
#[derive(Default)]
struct Log {
    appends: Vec<(String, String, bool)>,
    sets: Vec<(String, String, bool)>,
}

async fn appender(
    w: usize,
    ctrl: BTreeMap<NodeId, SocketAddr>,
    log: Arc<Mutex<Log>>,
    stop: watch::Receiver<bool>,
) {
    let mut client = ShardClient::new(ctrl);
    for i in 0.. {
        if *stop.borrow() {
            return;
        }
        let key = KEYS[(w + i) % KEYS.len()].to_string();
        let token = format!("w{w}.{i};");
        let op = ShardOp::Append {
            key: key.clone(),
            value: token.clone(),
        };
        let acked = matches!(
            client.call(op, Duration::from_secs(5)).await,
            Ok(ShardOutput::Done)
        );
        log.lock().unwrap().appends.push((key, token, acked));
    }
}

/// SETs of unique keys through one group node's Redis port (blocking: a thread).
fn setter(w: usize, redis: SocketAddr, log: Arc<Mutex<Log>>, stop: watch::Receiver<bool>) {
    let mut conn = RespConn::connect(redis);
    for i in 0.. {
        if *stop.borrow() {
            return;
        }
        // The first byte picks the shard: walk them all.
        let key = format!("{}set{w}.{i}", KEYS[i % KEYS.len()]);
        let value = format!("v{w}.{i}");
        let acked = conn.call(&["SET", &key, &value]) == Resp::ok();
        log.lock().unwrap().sets.push((key, value, acked));
    }
}

async fn read(client: &mut ShardClient, key: &str) -> Option<String> {
    let op = ShardOp::Get { key: key.into() };
    match client.call(op, Duration::from_secs(10)).await {
        Ok(ShardOutput::Value(v)) => v,
        other => panic!("get {key}: {other:?}"),
    }
}

/// Every acknowledged token once, no token twice, nothing that was never sent.
fn check_appends(log: &Log, values: &BTreeMap<String, String>) -> usize {
    let mut sent: BTreeMap<&str, (&str, bool)> = BTreeMap::new();
    for (key, token, acked) in &log.appends {
        sent.insert(token, (key, *acked));
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (key, value) in values {
        for token in value.split_inclusive(';') {
            *seen.entry(token.to_string()).or_default() += 1;
            let (sent_key, _) = sent
                .get(token)
                .unwrap_or_else(|| panic!("{key} holds {token:?}, which nobody sent"));
            assert_eq!(sent_key, key, "{token:?} is in the wrong key");
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, &n)| n > 1).collect();
    assert!(twice.is_empty(), "appended more than once: {twice:?}");
    let lost: Vec<_> = sent
        .iter()
        .filter(|(t, (_, acked))| *acked && !seen.contains_key(**t))
        .collect();
    assert!(lost.is_empty(), "acknowledged appends lost: {lost:?}");
    sent.values().filter(|(_, acked)| *acked).count()
}

#[tokio::test(flavor = "current_thread")]
async fn groups_join_crash_and_leave_under_writes_and_lose_nothing() {
    let mut d = Deployment::start();
    d.say("controller (1-3) and groups 100 (11-13) and 200 (21-23) started");
    d.join(100).await;
    d.wrong_service_is_refused().await;

    let log = Arc::new(Mutex::new(Log::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for w in 0..APPENDERS {
        let (ctrl, log, stop) = (d.ctrl_nodes(), log.clone(), stop_rx.clone());
        tasks.push(tokio::spawn(appender(w, ctrl, log, stop)));
    }
    let redis_100: Vec<SocketAddr> = d.groups[&100].redis.values().copied().collect();
    let redis_200: Vec<SocketAddr> = d.groups[&200].redis.values().copied().collect();
    let mut setters = Vec::new();
    for w in 0..SETTERS {
        // One through group 100's node, one through group 200's (which owns nothing yet).
        let redis = if w % 2 == 0 {
            redis_100[0]
        } else {
            redis_200[0]
        };
        let (log, stop) = (log.clone(), stop_rx.clone());
        setters.push(std::thread::spawn(move || setter(w, redis, log, stop)));
    }

    tokio::time::sleep(Duration::from_secs(2)).await;
    d.join(200).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (leader, _) = d.groups[&200]
        .wait_for_leader(Duration::from_secs(10))
        .await
        .expect("group 200 has a leader");
    d.groups.get_mut(&200).unwrap().kill(leader);
    d.say(format!(
        "SIGKILL node {leader}, group 200's leader, while shards move"
    ));
    tokio::time::sleep(Duration::from_secs(1)).await;
    d.groups
        .get_mut(&200)
        .unwrap()
        .start(leader)
        .expect("restart");
    d.say(format!("node {leader} restarted"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    d.admin(&["leave", "--gid=100"]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    d.join(100).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    stop_tx.send(true).unwrap();
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .expect("appenders stop within 30 s")
            .unwrap();
    }
    for s in setters {
        s.join().expect("setter thread");
    }
    let config = d.admin(&["query"]).await;
    assert!(
        config.contains("configuration 4"),
        "four changes made: {config}"
    );

    let mut reader = ShardClient::new(d.ctrl_nodes());
    let mut values = BTreeMap::new();
    for key in KEYS {
        if let Some(v) = read(&mut reader, key).await {
            values.insert(key.to_string(), v);
        }
    }
    let log = std::mem::take(&mut *log.lock().unwrap());
    let acked = check_appends(&log, &values);
    let sets_acked: Vec<_> = log.sets.iter().filter(|(_, _, a)| *a).collect();
    d.say(format!(
        "{} appends sent, {acked} acknowledged, each found once; {} SETs, {} acknowledged",
        log.appends.len(),
        log.sets.len(),
        sets_acked.len()
    ));
    assert!(acked >= 30, "too little load to mean anything: {acked}");
    assert!(sets_acked.len() >= 20, "too few SETs acknowledged");
    // Every acknowledged SET, read through a node of each group (forwarded if needed).
    let mut via_100 = RespConn::connect(redis_100[1]);
    let mut via_200 = RespConn::connect(redis_200[2]);
    for (key, value, _) in &sets_acked {
        assert_eq!(
            via_100.call(&["GET", key]),
            Resp::bulk(value),
            "{key} via 100"
        );
        assert_eq!(
            via_200.call(&["GET", key]),
            Resp::bulk(value),
            "{key} via 200"
        );
    }
    d.say("every acknowledged SET read back through both groups' Redis ports");

    // A node restarted with another group's id halts with the reason instead of
    // serving a log whose steps it could never continue.
    let g = d.groups.get_mut(&100).unwrap();
    assert!(g
        .terminate(13, Duration::from_secs(10))
        .is_some_and(|s| s.success()));
    g.server_args[1] = "--gid=300".into();
    g.start(13).expect("restart with the wrong gid");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = g.exited(13) {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "node 13 kept running as group 300"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!status.success());
    let log = g.log_tail(13, 5);
    assert!(
        log.contains("started as group 300, but its log and snapshot are group 100's"),
        "{log}"
    );
    d.say("node 13 restarted as group 300: refused (its data is group 100's)");
    d.traces_replay_and_check();
}

impl Deployment {
    /// Every node recorded its trace: each replays identically, and the controller's
    /// and both groups' runs pass the invariant check (each group under its own watch).
    fn traces_replay_and_check(&mut self) {
        for c in std::iter::once(&mut self.ctrl).chain(self.groups.values_mut()) {
            for id in c.running() {
                c.terminate(id, Duration::from_secs(10));
            }
        }
        let traces = trace::replay::read_dir(&self.dir().join("trace")).expect("traces");
        assert_eq!(traces.len(), 9, "one trace per node");
        for t in &traces {
            let r = trace::replay::replay_node(t);
            assert!(
                r.divergence.is_none() && r.skipped.is_empty(),
                "node {}: {r:?}",
                t.node
            );
        }
        let report = trace::check::check(&traces);
        assert!(report.violation.is_none(), "{}", report.violation.unwrap());
        assert_eq!(report.divergent_steps, 0);
        self.say(format!(
            "9 traces (controller, 2 groups) replay identically; check: {} steps, no violation",
            report.steps
        ));
    }
}
