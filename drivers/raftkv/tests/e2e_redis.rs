//! End to end, real processes on loopback: the Redis front end as real Redis tools see
//! it (`redis-cli`, `redis-benchmark`, from the redis-tools package) and as a client
//! that pipelines.

mod common;

use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{command_bytes, Harness, Resp, RespConn};
use raft_core::NodeId;

/// Runs `program args` with its output in files (no pipe to fill), killed after
/// `timeout`: exit status, stdout, stderr. A missing program fails the test saying
/// what to install: these tests must not pass by not running.
fn run_tool(
    dir: &Path,
    program: &str,
    args: &[&str],
    timeout: Duration,
) -> (ExitStatus, String, String) {
    let out_path = dir.join(format!("{program}.out"));
    let err_path = dir.join(format!("{program}.err"));
    let out = std::fs::File::create(&out_path).expect("output file");
    let err = std::fs::File::create(&err_path).expect("output file");
    let mut child = match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "{program} is not installed: install redis-tools (e.g. `apt-get install redis-tools`; CI installs it)"
        ),
        Err(e) => panic!("cannot run {program}: {e}"),
    };
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} {args:?} still running after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    (status, read(&out_path), read(&err_path))
}

/// `redis-cli -h 127.0.0.1 -p PORT args...`: its output without the final newline.
fn cli(h: &Harness, id: NodeId, args: &[&str]) -> String {
    let port = h.cluster.redis[&id].port().to_string();
    let mut all = vec!["-h", "127.0.0.1", "-p", &port];
    all.extend_from_slice(args);
    let (status, out, err) = run_tool(h.dir(), "redis-cli", &all, Duration::from_secs(15));
    assert!(
        status.success(),
        "redis-cli {all:?}: {status}, stderr {err:?}"
    );
    out.strip_suffix('\n').unwrap_or(&out).to_string()
}

/// The requests per second `redis-benchmark -q` reported for `test`.
fn rps(output: &str, test: &str) -> Option<f64> {
    // -q prints progress lines ending in \r, then one line per test:
    // "SET: 12345.68 requests per second, p50=0.567 msec".
    output
        .split(['\r', '\n'])
        .filter_map(|l| l.strip_prefix(&format!("{test}: ")))
        .filter_map(|rest| rest.split_once(" requests per second"))
        .filter_map(|(n, _)| n.trim().parse().ok())
        .next_back()
}

#[tokio::test(flavor = "current_thread")]
async fn redis_cli_and_benchmark_against_every_node() {
    let h = Harness::start("redis-tools", 3).await;
    // Fail early and clearly if the tools are missing.
    run_tool(h.dir(), "redis-cli", &["--version"], Duration::from_secs(5));
    run_tool(
        h.dir(),
        "redis-benchmark",
        &["--version"],
        Duration::from_secs(5),
    );
    let ids = h.ids();
    for (i, &id) in ids.iter().enumerate() {
        let other = ids[(i + 1) % ids.len()];
        let (key, value) = (format!("key_{id}"), format!("val_{id}"));
        assert_eq!(cli(&h, id, &["set", &key, &value]), "OK", "set via {id}");
        assert_eq!(cli(&h, other, &["get", &key]), value, "get via {other}");
    }
    h.say("redis-cli set on each node, get on the next: ok");

    let requests = "10000";
    for &id in &ids {
        let port = h.cluster.redis[&id].port().to_string();
        let args = [
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "set,get",
            "-n",
            requests,
            "-c",
            "20",
            "-q",
        ];
        let started = Instant::now();
        let (status, out, err) =
            run_tool(h.dir(), "redis-benchmark", &args, Duration::from_secs(60));
        let (set, get) = (rps(&out, "SET"), rps(&out, "GET"));
        h.say(format!(
            "redis-benchmark -n {requests} -c 20 against node {id}: SET {set:?} rps, GET {get:?} rps ({:.1?})",
            started.elapsed()
        ));
        let all = format!("{out}{err}");
        assert!(status.success(), "redis-benchmark: {status}\n{all}");
        assert!(
            set.is_some_and(|r| r > 0.0) && get.is_some_and(|r| r > 0.0),
            "no requests per second for SET and GET in:\n{all}"
        );
        let lower = all.to_lowercase();
        assert!(
            !lower.contains("err") && !lower.contains("error"),
            "redis-benchmark reported an error:\n{all}"
        );
    }

    // A mix of commands, each node in turn.
    let [a, b, c] = [ids[0], ids[1], ids[2]];
    let before: u64 = cli(&h, a, &["dbsize"]).parse().expect("DBSIZE is a number");
    // key_1..key_3 and redis-benchmark's one key ("key:__rand_int__" without -r).
    assert_eq!(before, 4, "DBSIZE after the benchmark");
    assert_eq!(cli(&h, a, &["mset", "m1", "a", "m2", "b", "m3", "c"]), "OK");
    // Raw output (not a terminal): one value a line, nil as an empty line.
    assert_eq!(
        cli(&h, b, &["mget", "m1", "m2", "nokey", "m3"]),
        "a\nb\n\nc"
    );
    assert_eq!(cli(&h, c, &["incr", "ctr"]), "1");
    assert_eq!(cli(&h, a, &["incr", "ctr"]), "2");
    // (redis-cli ends an error with an empty line.)
    assert_eq!(
        cli(&h, b, &["incr", "m1"]).trim_end(),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(cli(&h, b, &["append", "m1", "xyz"]), "4");
    assert_eq!(cli(&h, c, &["get", "m1"]), "axyz");
    assert_eq!(cli(&h, c, &["exists", "m1", "m2", "nokey", "m1"]), "3");
    assert_eq!(cli(&h, a, &["del", "m2", "m3", "nokey"]), "2");
    assert_eq!(cli(&h, b, &["exists", "m2", "m3"]), "0");
    assert_eq!(cli(&h, c, &["dbsize"]), (before + 2).to_string());
    assert_eq!(cli(&h, a, &["get", "nokey"]), "");
    for &id in &ids {
        assert_eq!(cli(&h, id, &["ping"]), "PONG");
        assert_eq!(cli(&h, id, &["echo", "hello world"]), "hello world");
        let info = cli(&h, id, &["info"]);
        let leader = h.leader(Duration::from_secs(5)).await;
        for field in [
            "# Replication".to_string(),
            format!("node_id:{id}"),
            format!("leader_id:{leader}"),
            format!("leader_addr:{}", h.cluster.redis[&leader]),
        ] {
            assert!(
                info.contains(&field),
                "INFO of node {id} lacks {field:?}:\n{info}"
            );
        }
        let role = if id == leader {
            "role:leader"
        } else {
            "role:follower"
        };
        assert!(
            info.contains(role),
            "INFO of node {id} lacks {role:?}:\n{info}"
        );
    }
    h.say("MSET MGET INCR APPEND EXISTS DEL DBSIZE PING ECHO INFO: ok");
}

#[tokio::test(flavor = "current_thread")]
async fn pipelined_commands_on_one_connection_are_answered_in_order() {
    let h = Harness::start("pipeline", 3).await;
    let leader = h.leader(Duration::from_secs(5)).await;
    let follower = h.follower().await;
    for id in [leader, follower] {
        let n = 100;
        let mut batch = Vec::new();
        for i in 0..n {
            let (key, value) = (format!("p{i}"), format!("node{id}-v{i}"));
            batch.extend(command_bytes(&[b"SET", key.as_bytes(), value.as_bytes()]));
            batch.extend(command_bytes(&[b"GET", key.as_bytes()]));
        }
        // An inline command and a connection-level one in the same write.
        batch.extend_from_slice(b"PING\r\n");
        batch.extend(command_bytes(&[b"ECHO", b"last"]));
        let mut c = RespConn::connect(h.cluster.redis[&id]);
        let started = Instant::now();
        c.send(&batch);
        for i in 0..n {
            let set = c
                .reply()
                .unwrap_or_else(|e| panic!("reply to SET p{i}: {e}"));
            assert_eq!(set, Resp::ok(), "SET p{i} via node {id}");
            let got = c
                .reply()
                .unwrap_or_else(|e| panic!("reply to GET p{i}: {e}"));
            assert_eq!(
                got,
                Resp::bulk(&format!("node{id}-v{i}")),
                "GET p{i} via node {id}"
            );
        }
        assert_eq!(c.reply().expect("PING"), Resp::Simple("PONG".into()));
        assert_eq!(c.reply().expect("ECHO"), Resp::bulk("last"));
        h.say(format!(
            "{} pipelined commands ({} bytes in one write) via node {id}: all answered in order in {:.1?}",
            2 * n + 2,
            batch.len(),
            started.elapsed()
        ));
        // Nothing more arrives: exactly one reply per command.
        c.stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut extra = [0u8; 1];
        let more = std::io::Read::read(&mut c.stream, &mut extra);
        assert!(
            more.is_err(),
            "an extra reply byte after the last command: {more:?}"
        );
    }
}

/// Pipelined SETs in a row take effect as one operation (one log entry for up to 64),
/// pipelined GETs in a row read together, and still every command gets its own reply
/// in order: an unknown command in the middle gets its error in its place, and nothing
/// after a QUIT runs. GETs whose values together are too large for one reply fall
/// back to one at a time.
#[tokio::test(flavor = "current_thread")]
async fn pipelined_sets_and_gets_run_together_and_answer_in_order() {
    let h = Harness::start("pipeline-runs", 3).await;
    let leader = h.leader(Duration::from_secs(5)).await;
    let before = common::node_status(h.cluster.peers[&leader])
        .await
        .last_index;
    let n = 128;
    let mut batch = Vec::new();
    for i in 0..n {
        let (key, value) = (format!("r{i}"), format!("v{i}"));
        batch.extend(command_bytes(&[b"SET", key.as_bytes(), value.as_bytes()]));
        if i == n / 2 {
            batch.extend(command_bytes(&[b"NOSUCHCOMMAND", b"x"]));
        }
    }
    for i in 0..n {
        batch.extend(command_bytes(&[b"GET", format!("r{i}").as_bytes()]));
    }
    batch.extend(command_bytes(&[b"QUIT"]));
    batch.extend(command_bytes(&[b"SET", b"after-quit", b"x"]));
    let mut c = RespConn::connect(h.cluster.redis[&leader]);
    c.send(&batch);
    for i in 0..n {
        assert_eq!(c.reply().expect("a SET reply"), Resp::ok(), "SET r{i}");
        if i == n / 2 {
            let e = c.reply().expect("the unknown command's reply");
            assert!(
                matches!(&e, Resp::Error(m) if m.contains("unknown command")),
                "{e:?}"
            );
        }
    }
    for i in 0..n {
        assert_eq!(
            c.reply().expect("a GET reply"),
            Resp::bulk(&format!("v{i}")),
            "GET r{i}"
        );
    }
    assert_eq!(c.reply().expect("QUIT's reply"), Resp::ok());
    let after = common::node_status(h.cluster.peers[&leader])
        .await
        .last_index;
    // 128 SETs in runs of at most 64 (split once more by the unknown command, and
    // perhaps by how the bytes arrived): a handful of entries, not 128.
    assert!(
        after - before <= 16,
        "{} log entries for {n} pipelined SETs",
        after - before
    );
    assert_eq!(h.get("after-quit").await, None, "a command after QUIT ran");
    h.say(format!(
        "{n} pipelined SETs took {} log entries",
        after - before
    ));

    // 13 values of 500 KiB: together past the 6 MiB a read may answer, each alone not.
    let big = "b".repeat(500 << 10);
    for i in 0..13 {
        h.put(&format!("big{i}"), &big).await;
    }
    let gets: Vec<u8> = (0..13)
        .flat_map(|i| command_bytes(&[b"GET", format!("big{i}").as_bytes()]))
        .collect();
    c = RespConn::connect(h.cluster.redis[&leader]);
    c.send(&gets);
    for i in 0..13 {
        assert_eq!(
            c.reply().expect("a large GET's reply"),
            Resp::bulk(&big),
            "GET big{i}"
        );
    }
}

/// A value over the store's limit for one operation (half a Raft entry, 512 KiB) is
/// refused with an error naming the limit, whichever node the client talks to, and the
/// cluster carries on; so is the largest value the Redis parser accepts (8 MiB), whose
/// request forwarded from a follower would not fit a peer frame.
#[tokio::test(flavor = "current_thread")]
async fn oversize_values_are_refused_clearly_through_leader_and_follower() {
    let h = Harness::start("oversize-value", 3).await;
    let leader = h.leader(Duration::from_secs(5)).await;
    let follower = h.follower().await;
    let mut failures = Vec::new();
    for size in [600 << 10, 8 << 20] {
        for id in [leader, follower] {
            let value = vec![b'v'; size];
            let mut c = RespConn::connect(h.cluster.redis[&id]);
            let started = Instant::now();
            c.send(&command_bytes(&[b"SET", b"big", &value]));
            let reply = c.reply();
            let took = started.elapsed();
            let role = if id == leader { "leader" } else { "follower" };
            h.say(format!(
                "SET of {size} bytes via node {id} ({role}): {reply:?} in {took:.1?}"
            ));
            match &reply {
                Ok(Resp::Error(e)) if e.starts_with("ERR") && e.contains("limit") => {}
                other => failures.push(format!(
                    "SET of {size} bytes via the {role}: {other:?} after {took:.1?}, expected an ERR naming the limit"
                )),
            }
            assert_eq!(c.call(&["PING"]), Resp::Simple("PONG".into()));
        }
    }
    let mut c = RespConn::connect(h.cluster.redis[&follower]);
    assert_eq!(c.call(&["SET", "small", "ok"]), Resp::ok());
    assert_eq!(c.call(&["GET", "big"]), Resp::Bulk(None));
    let s = common::node_status(h.cluster.peers[&leader]).await;
    h.say(format!("leader's peer_frames_bad: {}", s.peer_frames_bad));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A value grown by appends to near the store's limit reads back through a follower (the
/// reply crosses the follower's link to the leader), appends past the limit are refused,
/// and an MGET naming it twice is refused rather than built.
#[tokio::test(flavor = "current_thread")]
async fn a_large_value_reads_back_through_a_follower_and_limits_are_enforced() {
    let h = Harness::start("large-value", 3).await;
    let leader = h.leader(Duration::from_secs(5)).await;
    let follower = h.follower().await;
    let mut c = RespConn::connect(h.cluster.redis[&follower]);
    let chunk = vec![b'a'; 400 << 10];
    for i in 1..=10 {
        c.send(&command_bytes(&[b"APPEND", b"big", &chunk]));
        let reply = c.reply().expect("a reply to APPEND");
        assert_eq!(reply, Resp::Int(i * (400 << 10)), "append {i}");
    }
    let want = 10 * (400 << 10);
    match c.call(&["GET", "big"]) {
        Resp::Bulk(Some(v)) => assert_eq!(v.len(), want),
        other => panic!("GET through the follower: {other:?}"),
    }
    c.send(&command_bytes(&[b"APPEND", b"big", &vec![b'b'; 500 << 10]]));
    let over = c.reply().expect("a reply to the last APPEND");
    assert!(
        matches!(&over, Resp::Error(e) if e.contains("maximum allowed size")),
        "{over:?}"
    );
    let twice = c.call(&["MGET", "big", "big"]);
    assert!(
        matches!(&twice, Resp::Error(e) if e.contains("maximum allowed size")),
        "{twice:?}"
    );
    let s = common::node_status(h.cluster.peers[&follower]).await;
    assert_eq!(s.peer_frames_bad, 0);
    let mut l = RespConn::connect(h.cluster.redis[&leader]);
    match l.call(&["GET", "big"]) {
        Resp::Bulk(Some(v)) => assert_eq!(v.len(), want, "the refused append changed nothing"),
        other => panic!("GET on the leader: {other:?}"),
    }
}
