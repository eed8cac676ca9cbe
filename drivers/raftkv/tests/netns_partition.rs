//! A real network partition: three `raftkv server` processes, each in a network
//! namespace this test creates, joined by veth pairs to a bridge in a fourth namespace.
//! Cutting one node's veth isolates it: the minority cannot commit, the majority keeps
//! serving, and after healing the isolated node catches up and its lost write stays lost.
//!
//! Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and iproute2. Without them the test says
//! why and returns — except under CI=true, where it must run and fails instead.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_raftkv");

/// Namespaces and links named after this process, deleted on drop (deleting a
/// namespace deletes the veth ends inside it).
struct Net {
    tag: String,
    nodes: u64,
    children: Vec<Child>,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

impl Net {
    fn ns(&self, i: u64) -> String {
        format!("{}n{i}", self.tag)
    }

    fn bridge_ns(&self) -> String {
        format!("{}br", self.tag)
    }

    fn addr(i: u64) -> String {
        format!("10.77.0.{i}")
    }

    fn create(nodes: u64) -> Result<Net, String> {
        let net = Net {
            tag: format!("rk{}", std::process::id() % 100_000),
            nodes,
            children: Vec::new(),
        };
        let br = net.bridge_ns();
        ip(&["netns", "add", &br])?;
        ip(&["-n", &br, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &br, "link", "set", "br0", "up"])?;
        for i in 1..=nodes {
            let (ns, v, p) = (
                net.ns(i),
                format!("{}v{i}", net.tag),
                format!("{}p{i}", net.tag),
            );
            ip(&["netns", "add", &ns])?;
            ip(&["link", "add", &v, "type", "veth", "peer", "name", &p])?;
            ip(&["link", "set", &v, "netns", &ns])?;
            ip(&["link", "set", &p, "netns", &br])?;
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{}/24", Net::addr(i)),
                "dev",
                &v,
            ])?;
            ip(&["-n", &ns, "link", "set", &v, "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            ip(&["-n", &br, "link", "set", &p, "master", "br0"])?;
            ip(&["-n", &br, "link", "set", &p, "up"])?;
        }
        Ok(net)
    }

    /// Cuts (or restores) node `i`'s only link.
    fn link(&self, i: u64, up: bool) {
        let p = format!("{}p{i}", self.tag);
        let state = if up { "up" } else { "down" };
        ip(&["-n", &self.bridge_ns(), "link", "set", &p, state]).expect("setting a link");
    }

    fn peers(&self, ids: &[u64]) -> String {
        ids.iter()
            .map(|i| format!("{i}={}:7001", Net::addr(*i)))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn all(&self) -> Vec<u64> {
        (1..=self.nodes).collect()
    }

    fn start(&mut self, i: u64, dir: &std::path::Path) {
        let log = std::fs::File::create(dir.join(format!("node{i}.log"))).unwrap();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns(i),
                BIN,
                "server",
                "--id",
                &i.to_string(),
            ])
            .args(["--peers", &self.peers(&self.all())])
            .args(["--client", &format!("{}:6379", Net::addr(i))])
            .arg("--data-dir")
            .arg(dir.join(format!("node{i}")))
            .env("RUST_LOG", "runtime=info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting a node");
        self.children.push(child);
    }

    /// Runs `raftkv ARGS` inside node `i`'s namespace, killed after `limit`.
    fn raftkv(&self, i: u64, args: &[&str], limit: Duration) -> Output {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.ns(i), BIN])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running raftkv");
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        child.wait_with_output().unwrap()
    }

    /// The leader as node `from` sees the cluster (`raftkv status`), within `limit`.
    fn leader_seen_from(&self, from: u64, ids: &[u64], limit: Duration) -> Option<u64> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let out = self.raftkv(
                from,
                &["status", "--peers", &self.peers(ids)],
                Duration::from_secs(5),
            );
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            let leader = text
                .lines()
                .find(|l| l.split_whitespace().nth(2) == Some("leader"));
            if let Some(l) = leader {
                return l.split_whitespace().next()?.parse().ok();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    fn status_field(&self, at: u64, field: usize) -> Option<u64> {
        let out = self.raftkv(
            at,
            &["status", "--peers", &self.peers(&[at])],
            Duration::from_secs(5),
        );
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        text.lines()
            .nth(1)?
            .split_whitespace()
            .nth(field)?
            .parse()
            .ok()
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for i in 1..=self.nodes {
            let _ = ip(&["netns", "del", &self.ns(i)]);
        }
        let _ = ip(&["netns", "del", &self.bridge_ns()]);
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn a_partitioned_minority_cannot_commit_and_catches_up_after_healing() {
    let mut net = match Net::create(3) {
        Ok(n) => n,
        Err(why) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("SKIPPED: cannot create network namespaces here ({why}); run as root to include this test");
            return;
        }
        Err(why) => {
            panic!("CI must run the partition test, but namespaces cannot be created: {why}")
        }
    };
    let dir = tempfile::tempdir().unwrap();
    for i in 1..=3 {
        net.start(i, dir.path());
    }
    let all = net.all();
    let secs = Duration::from_secs;
    let old = net
        .leader_seen_from(1, &all, secs(15))
        .expect("a leader within 15 s");
    let put = |at: u64, ids: &[u64], k: &str, v: &str, t: &str| {
        net.raftkv(
            at,
            &["put", k, v, "--peers", &net.peers(ids), "--timeout-secs", t],
            secs(15),
        )
    };
    assert_eq!(stdout(&put(old, &all, "before", "1", "10")), "OK");

    net.link(old, false);
    let majority: Vec<u64> = all.iter().copied().filter(|&i| i != old).collect();
    let new = net
        .leader_seen_from(majority[0], &majority, secs(15))
        .expect("the majority elects a leader");
    assert_ne!(
        new, old,
        "the isolated node cannot stay the majority's leader"
    );
    let stuck = put(old, &[old], "lost", "x", "3");
    assert!(
        !stuck.status.success(),
        "the isolated node committed a write: {}",
        stdout(&stuck)
    );
    let commit_cut_off = net
        .status_field(old, 5)
        .expect("the isolated node answers status");
    assert_eq!(
        stdout(&put(majority[0], &majority, "during", "2", "10")),
        "OK",
        "the majority keeps serving"
    );
    let majority_commit = net
        .status_field(new, 5)
        .expect("the new leader answers status");
    assert!(majority_commit > commit_cut_off);

    net.link(old, true);
    let deadline = Instant::now() + secs(15);
    while net.status_field(old, 6).unwrap_or(0) < majority_commit {
        assert!(
            Instant::now() < deadline,
            "the healed node did not catch up within 15 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let get =
        |k: &str| stdout(&net.raftkv(old, &["get", k, "--peers", &net.peers(&all)], secs(15)));
    assert_eq!(get("during"), "2");
    assert_eq!(get("before"), "1");
    assert_eq!(
        get("lost"),
        "(nil)",
        "a write the minority could not commit never appears"
    );
}
