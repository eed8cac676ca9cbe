//! A cluster of real `raftkv server` processes on loopback, for the demo and the
//! end-to-end tests: start, SIGKILL, SIGTERM and restart nodes, each with its own data
//! directory and log file. Dropping the cluster kills every node it started.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kv_core::KvState;
use raft_core::NodeId;

use crate::client::status;
use crate::wire::NodeStatus;

pub struct LocalCluster {
    bin: PathBuf,
    dir: PathBuf,
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// Each node's Redis port (none for a service without a Redis front end).
    pub redis: BTreeMap<NodeId, SocketAddr>,
    children: BTreeMap<NodeId, Child>,
    /// Extra arguments for every `raftkv server`.
    pub server_args: Vec<String>,
}

/// Where [`free_port`] looks: below Linux's ephemeral range (32768 and up by
/// default), so no node's outgoing connection can be holding the port by the time a
/// node binds it, as a port picked by the OS (port 0) can be.
const PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A loopback port free right now and never handed out before by this process (two
/// nodes given one port would each see the other's peers). Another process taking it
/// before the node binds is still possible, and fails loudly.
pub fn free_port() -> std::io::Result<SocketAddr> {
    use std::hash::{BuildHasher, Hasher};
    static GIVEN: std::sync::Mutex<BTreeSet<u16>> = std::sync::Mutex::new(BTreeSet::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let span = u64::from(PORTS.end - PORTS.start);
    for attempt in 0..256u64 {
        h.write_u64(attempt);
        let port = PORTS.start + u16::try_from(h.finish() % span).expect("below span");
        if given.contains(&port) {
            continue;
        }
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
            given.insert(port);
            return l.local_addr();
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrNotAvailable,
        format!("no free loopback port in {PORTS:?} after 256 tries"),
    ))
}

impl LocalCluster {
    /// Picks ports for `n` nodes (ids 1 to n) with data under `dir`; starts nothing yet.
    pub fn new(bin: &Path, n: u64, dir: &Path) -> std::io::Result<Self> {
        assert!((1..=9).contains(&n), "1 to 9 nodes");
        let ids: Vec<NodeId> = (1..=n).collect();
        Self::with_ids(bin, &ids, dir, true)
    }

    /// Picks ports for nodes `ids`, with a Redis port each if `redis`; starts nothing.
    pub fn with_ids(bin: &Path, ids: &[NodeId], dir: &Path, redis: bool) -> std::io::Result<Self> {
        assert!((1..=9).contains(&ids.len()), "1 to 9 nodes");
        let mut peers = BTreeMap::new();
        let mut redis_ports = BTreeMap::new();
        for &id in ids {
            assert!(
                id > 0 && peers.insert(id, free_port()?).is_none(),
                "node ids are positive and distinct"
            );
            if redis {
                redis_ports.insert(id, free_port()?);
            }
        }
        let redis = redis_ports;
        Ok(LocalCluster {
            bin: bin.to_path_buf(),
            dir: dir.to_path_buf(),
            peers,
            redis,
            children: BTreeMap::new(),
            server_args: Vec::new(),
        })
    }

    pub fn peers_arg(&self) -> String {
        let items: Vec<String> = self
            .peers
            .iter()
            .map(|(id, a)| format!("{id}={a}"))
            .collect();
        items.join(",")
    }

    pub fn data_dir(&self, id: NodeId) -> PathBuf {
        self.dir.join(format!("node{id}"))
    }

    pub fn log_path(&self, id: NodeId) -> PathBuf {
        self.dir.join(format!("node{id}.log"))
    }

    pub fn start_all(&mut self) -> std::io::Result<()> {
        let ids: Vec<NodeId> = self.peers.keys().copied().collect();
        ids.into_iter().try_for_each(|id| self.start(id))
    }

    /// Starts node `id` (again); its log file is appended to.
    pub fn start(&mut self, id: NodeId) -> std::io::Result<()> {
        assert!(!self.children.contains_key(&id), "node {id} is running");
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path(id))?;
        let child = Command::new(&self.bin)
            .arg("server")
            .args(["--id", &id.to_string(), "--peers", &self.peers_arg()])
            .args(self.redis.get(&id).map(|a| format!("--client={a}")))
            .arg("--data-dir")
            .arg(self.data_dir(id))
            .args(&self.server_args)
            .env(
                "RUST_LOG",
                std::env::var("RAFTKV_NODE_LOG").unwrap_or("runtime=info".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.children.insert(id, child);
        Ok(())
    }

    pub fn pid(&self, id: NodeId) -> Option<u32> {
        self.children.get(&id).map(Child::id)
    }

    /// SIGKILL: the process gets no chance to flush or sync anything.
    pub fn kill(&mut self, id: NodeId) {
        if let Some(mut c) = self.children.remove(&id) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits up to `grace` for a clean exit; the exit status if it exited.
    pub fn terminate(&mut self, id: NodeId, grace: Duration) -> Option<std::process::ExitStatus> {
        let mut c = self.children.remove(&id)?;
        // SAFETY: kill(2) with a pid we spawned and have not reaped; no memory involved.
        unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = c.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        None
    }

    /// Whether node `id`'s process has exited (reaping it if so).
    pub fn exited(&mut self, id: NodeId) -> Option<std::process::ExitStatus> {
        let status = self.children.get_mut(&id)?.try_wait().ok()??;
        self.children.remove(&id);
        Some(status)
    }

    pub fn running(&self) -> Vec<NodeId> {
        self.children.keys().copied().collect()
    }

    /// Every running node's status (unreachable ones left out).
    pub async fn statuses(&self) -> BTreeMap<NodeId, NodeStatus> {
        let mut out = BTreeMap::new();
        for id in self.running() {
            if let Ok(s) = status::<KvState>(self.peers[&id], Duration::from_millis(500)).await {
                out.insert(id, s);
            }
        }
        out
    }

    /// The leader of the highest term among running nodes, once one exists, polling
    /// every 50 ms for at most `timeout`.
    pub async fn wait_for_leader(&self, timeout: Duration) -> Option<(NodeId, u64)> {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            let leaders = self
                .statuses()
                .await
                .into_values()
                .filter(|s| s.role == "leader");
            if let Some(s) = leaders.max_by_key(|s| s.term) {
                return Some((s.id, s.term));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// The last `n` lines of node `id`'s log, for failure messages.
    pub fn log_tail(&self, id: NodeId, n: usize) -> String {
        let text = std::fs::read_to_string(self.log_path(id)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for (_, mut c) in std::mem::take(&mut self.children) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
