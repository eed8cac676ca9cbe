//! Shared by the end-to-end tests: a cluster of real `raftkv server` processes on
//! loopback in a fresh temporary directory, which prints every node's log tail if the
//! test fails; a small blocking Redis client; raw frames for the peer port; and the
//! segment files' record layout.
//!
//! Every wait here has a deadline; nothing talks to anything but 127.0.0.1.

#![allow(dead_code)] // each test file uses a different part

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use kv_core::{KvState, Op, Outcome};
use raft_core::NodeId;
use runtime::client::{status, Client};
use runtime::frame::encode_frame;
use runtime::local_cluster::LocalCluster;
use runtime::wire::{Hello, NodeStatus, Wire, WIRE_VERSION};

pub const BIN: &str = env!("CARGO_BIN_EXE_raftkv");

/// A running cluster and its directory. Dropped during a panic, it prints the tail of
/// every node's log and keeps the directory for a look.
pub struct Harness {
    pub cluster: LocalCluster,
    dir: Option<tempfile::TempDir>,
    name: &'static str,
    started: Instant,
}

impl Harness {
    /// `n` nodes started, with a leader elected (or the test fails).
    pub async fn start(name: &'static str, n: u64) -> Harness {
        Self::start_with(name, n, |_| Vec::new()).await
    }

    /// [`Harness::start`], every server given the extra arguments `args(dir)` returns
    /// (`dir`: the test's directory).
    pub async fn start_with(
        name: &'static str,
        n: u64,
        args: impl FnOnce(&Path) -> Vec<String>,
    ) -> Harness {
        let dir = tempfile::Builder::new()
            .prefix(&format!("raftkv-e2e-{name}-"))
            .tempdir()
            .expect("temporary directory");
        let mut cluster = LocalCluster::new(Path::new(BIN), n, dir.path()).expect("pick ports");
        cluster.server_args = args(dir.path());
        let mut h = Harness {
            cluster,
            dir: Some(dir),
            name,
            started: Instant::now(),
        };
        h.cluster.start_all().expect("start the nodes");
        h.leader(Duration::from_secs(15)).await;
        h.say(format!("{n} nodes up, peers {}", h.cluster.peers_arg()));
        h
    }

    pub fn dir(&self) -> &Path {
        self.dir.as_ref().expect("kept until drop").path()
    }

    pub fn ids(&self) -> Vec<NodeId> {
        self.cluster.peers.keys().copied().collect()
    }

    /// A progress line, stamped with the time since the test started.
    pub fn say(&self, line: impl AsRef<str>) {
        println!(
            "[{} {:6.2}s] {}",
            self.name,
            self.started.elapsed().as_secs_f64(),
            line.as_ref()
        );
    }

    /// The current leader (highest term among running nodes), or the test fails.
    pub async fn leader(&self, timeout: Duration) -> NodeId {
        match self.cluster.wait_for_leader(timeout).await {
            Some((id, _)) => id,
            None => panic!("no leader within {timeout:?}"),
        }
    }

    /// A running node other than the leader.
    pub async fn follower(&self) -> NodeId {
        let leader = self.leader(Duration::from_secs(10)).await;
        let running = self.cluster.running();
        *running
            .iter()
            .find(|&&id| id != leader)
            .expect("a running follower")
    }

    pub fn log(&self, id: NodeId) -> String {
        std::fs::read_to_string(self.cluster.log_path(id)).unwrap_or_default()
    }

    pub fn dump_logs(&self, lines: usize) {
        for id in self.ids() {
            eprintln!(
                "--- node {id} log ({}), last {lines} lines:\n{}",
                self.cluster.log_path(id).display(),
                self.cluster.log_tail(id, lines)
            );
        }
    }

    /// Waits for node `id`'s process to exit, up to `timeout`.
    pub fn wait_exit(&mut self, id: NodeId, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.cluster.exited(id) {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Fails the test unless every node in `ids` is still running.
    pub fn assert_alive(&mut self, ids: &[NodeId]) {
        for &id in ids {
            if let Some(status) = self.cluster.exited(id) {
                panic!("node {id} exited ({status})");
            }
        }
    }

    /// Polls the running nodes' statuses until `done` holds, up to `timeout`; the last
    /// statuses seen either way.
    pub async fn wait_status(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&BTreeMap<NodeId, NodeStatus>) -> bool,
    ) -> Result<BTreeMap<NodeId, NodeStatus>, BTreeMap<NodeId, NodeStatus>> {
        let deadline = Instant::now() + timeout;
        loop {
            let statuses = self.cluster.statuses().await;
            if done(&statuses) {
                return Ok(statuses);
            }
            if Instant::now() >= deadline {
                return Err(statuses);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn put(&self, key: &str, value: &str) {
        put(&self.cluster.peers, key, value).await
    }

    pub async fn get(&self, key: &str) -> Option<String> {
        get(&self.cluster.peers, key).await
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let verdict = if std::thread::panicking() {
            "FAILED"
        } else {
            "ok"
        };
        self.say(format!(
            "{verdict}: {:.2} s in all",
            self.started.elapsed().as_secs_f64()
        ));
        if std::thread::panicking() {
            self.dump_logs(40);
            if let Some(dir) = self.dir.take() {
                eprintln!("--- kept the test's directory: {}", dir.keep().display());
            }
        }
    }
}

/// One write through a fresh clerk; the test fails if it is not acknowledged in 10 s.
pub async fn put(peers: &BTreeMap<NodeId, SocketAddr>, key: &str, value: &str) {
    let op = Op::Put {
        key: key.into(),
        value: value.into(),
    };
    let got = Client::<KvState>::new(peers.clone())
        .call(op, Duration::from_secs(10))
        .await;
    assert!(
        matches!(got, Ok(Outcome::Done)),
        "put {key}={value}: {got:?}"
    );
}

/// One linearizable read through a fresh clerk (10 s, or the test fails).
pub async fn get(peers: &BTreeMap<NodeId, SocketAddr>, key: &str) -> Option<String> {
    let op = Op::Get { key: key.into() };
    match Client::<KvState>::new(peers.clone())
        .call(op, Duration::from_secs(10))
        .await
    {
        Ok(Outcome::Value(v)) => v,
        other => panic!("get {key}: {other:?}"),
    }
}

pub async fn node_status(addr: SocketAddr) -> NodeStatus {
    status::<KvState>(addr, Duration::from_secs(2))
        .await
        .unwrap_or_else(|e| panic!("status of {addr}: {e}"))
}

// ---------------------------------------------------------------------------------
// The peer port, by hand.

pub type KvWire = Wire<Op, Outcome>;

/// One frame around `payload`.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(payload, &mut out);
    out
}

pub fn wire_frame(w: &KvWire) -> Vec<u8> {
    frame(&w.encode())
}

pub fn hello(version: u32, from: Option<NodeId>) -> Vec<u8> {
    hello_for(version, from, Some("kv"))
}

pub fn hello_for(version: u32, from: Option<NodeId>, service: Option<&str>) -> Vec<u8> {
    wire_frame(&Wire::Hello(Hello {
        version,
        from,
        client_addr: None,
        service: service.map(str::to_string),
        incarnation: 0,
    }))
}

/// The hello a `raftkv` client sends.
pub fn clerk_hello() -> Vec<u8> {
    hello(WIRE_VERSION, None)
}

/// Connects, sends `bytes`, closes the sending half, and reads until the other side
/// closes: true if it did within `timeout`.
pub fn send_and_close(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> bool {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_write_timeout(Some(timeout)).expect("timeout");
    // The node may close before taking everything (an oversize length is refused from
    // its header alone): a failed write is fine, what matters is that it closes.
    let _ = s.write_all(bytes);
    let _ = s.shutdown(Shutdown::Write);
    closes_within(&mut s, timeout)
}

/// Reads (and drops) whatever arrives until the peer closes; false after `timeout`.
pub fn closes_within(s: &mut TcpStream, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut sink = [0u8; 64 << 10];
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .expect("timeout");
        match s.read(&mut sink) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
    false
}

/// Deterministic bytes that are not any protocol (xorshift).
pub fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// Redis, by hand: enough of a RESP2 client to check exact replies.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resp {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Resp>>),
}

impl Resp {
    pub fn bulk(s: &str) -> Resp {
        Resp::Bulk(Some(s.as_bytes().to_vec()))
    }

    pub fn ok() -> Resp {
        Resp::Simple("OK".into())
    }
}

pub struct RespConn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

/// `args` as a multibulk request.
pub fn command_bytes(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

impl RespConn {
    pub fn connect(addr: SocketAddr) -> RespConn {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("connect to redis port {addr}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream
            .set_write_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        RespConn {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to redis port");
    }

    /// Sends one command and reads its reply.
    pub fn call(&mut self, args: &[&str]) -> Resp {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&command_bytes(&args));
        self.reply()
            .unwrap_or_else(|e| panic!("no reply to {args:?}: {e}"))
    }

    /// The next reply (10 s at most).
    pub fn reply(&mut self) -> std::io::Result<Resp> {
        loop {
            if let Some((r, used)) = parse_reply(&self.buf) {
                self.buf.drain(..used);
                return Ok(r);
            }
            let mut chunk = [0u8; 64 << 10];
            match self.stream.read(&mut chunk)? {
                0 => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!(
                            "closed by the server after {:?}",
                            String::from_utf8_lossy(&self.buf)
                        ),
                    ))
                }
                n => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Whether the server closes the connection within `timeout` (nothing else may
    /// arrive first but what is already buffered).
    pub fn closed_within(&mut self, timeout: Duration) -> bool {
        closes_within(&mut self.stream, timeout)
    }
}

/// One reply from the front of `buf`, and its length; `None` if incomplete.
pub fn parse_reply(buf: &[u8]) -> Option<(Resp, usize)> {
    let end = buf.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&buf[1..end]).expect("reply header is text");
    let after = end + 2;
    match buf.first()? {
        b'+' => Some((Resp::Simple(line.into()), after)),
        b'-' => Some((Resp::Error(line.into()), after)),
        b':' => Some((Resp::Int(line.parse().expect("integer reply")), after)),
        b'$' => {
            let len: i64 = line.parse().expect("bulk length");
            if len < 0 {
                return Some((Resp::Bulk(None), after));
            }
            let len = len as usize;
            if buf.len() < after + len + 2 {
                return None;
            }
            assert_eq!(&buf[after + len..after + len + 2], b"\r\n", "bulk end");
            Some((
                Resp::Bulk(Some(buf[after..after + len].to_vec())),
                after + len + 2,
            ))
        }
        b'*' => {
            let n: i64 = line.parse().expect("array length");
            if n < 0 {
                return Some((Resp::Array(None), after));
            }
            let mut pos = after;
            let mut items = Vec::new();
            for _ in 0..n {
                let (item, used) = parse_reply(&buf[pos..])?;
                items.push(item);
                pos += used;
            }
            Some((Resp::Array(Some(items)), pos))
        }
        other => panic!("not a RESP reply: starts with {:?}", *other as char),
    }
}

// ---------------------------------------------------------------------------------
// The data directory.

/// `seg-*.log` files in `dir`, oldest first.
pub fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("seg-") && name.ends_with(".log")
        })
        .collect();
    out.sort();
    out
}

/// Bytes of a segment's header, before its first record.
pub const SEGMENT_HEADER_BYTES: u64 = 16;

/// Each whole record of a segment file as `(offset, payload length)`, read the way
/// recovery reads them: `[len u32 LE][crc32c u32 LE][payload]` from byte 16.
pub fn records(path: &Path) -> Vec<(u64, u32)> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut out = Vec::new();
    let mut pos = SEGMENT_HEADER_BYTES as usize;
    while pos + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes"));
        if len == 0 || pos + 8 + len as usize > bytes.len() {
            break;
        }
        out.push((pos as u64, len));
        pos += 8 + len as usize;
    }
    out
}

/// A `raftkv` process started by hand (not part of the cluster), with its output in a
/// file; killed on drop.
pub struct Spawned {
    pub child: std::process::Child,
    pub output: PathBuf,
}

impl Spawned {
    pub fn new(args: &[&str], output: PathBuf) -> Spawned {
        let file = std::fs::File::create(&output).expect("output file");
        let child = std::process::Command::new(BIN)
            .args(args)
            .env("RUST_LOG", "runtime=info")
            .stdin(std::process::Stdio::null())
            .stdout(file.try_clone().expect("dup"))
            .stderr(file)
            .spawn()
            .expect("spawn raftkv");
        Spawned { child, output }
    }

    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
