//! End to end, real processes on loopback: hostile bytes on a node's peer port and on its
//! Redis port. Each bad connection is closed (or answered with an error), counted where
//! the node says it counts, and the node carries on serving everyone else.

mod common;

use std::time::Duration;

use common::{
    clerk_hello, command_bytes, frame, hello, noise, send_and_close, wire_frame, Harness, KvWire,
    Resp, RespConn,
};
use runtime::wire::WIRE_VERSION;

/// A frame with a correct length and a wrong checksum.
fn bad_checksum_frame(payload: &[u8]) -> Vec<u8> {
    let mut f = frame(payload);
    f[4] ^= 0xff;
    f
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[tokio::test(flavor = "current_thread")]
async fn hostile_bytes_on_the_peer_port_close_that_connection_and_are_counted() {
    let mut h = Harness::start("hostile-peer", 3).await;
    let target = h.follower().await;
    let addr = h.cluster.peers[&target];
    let oversize: Vec<u8> = cat(&[&u32::MAX.to_le_bytes(), &[0; 4], &[7; 64]]);
    let mut truncated = wire_frame(&KvWire::StatusRequest);
    truncated.extend_from_slice(&frame(&noise(3, 200))[..100]);
    let not_a_wire = frame(&[0xff; 32]);
    // (what, bytes, counted in peer_frames_bad)
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("random bytes", noise(1, 4096), true),
        (
            "random bytes after a hello",
            cat(&[&clerk_hello(), &noise(2, 4096)]),
            true,
        ),
        (
            "a u32::MAX length as the first frame",
            oversize.clone(),
            true,
        ),
        (
            "a u32::MAX length after a hello",
            cat(&[&clerk_hello(), &oversize]),
            true,
        ),
        (
            "a truncated first frame, then close",
            frame(&noise(4, 200))[..50].to_vec(),
            true,
        ),
        (
            "a hello, then a truncated frame, then close",
            cat(&[&clerk_hello(), &truncated]),
            true,
        ),
        (
            "a bad checksum after a hello",
            cat(&[&clerk_hello(), &bad_checksum_frame(b"xyz")]),
            true,
        ),
        ("a first frame that is not a Wire", not_a_wire.clone(), true),
        (
            "a frame that is not a Wire after a hello",
            cat(&[&clerk_hello(), &not_a_wire]),
            true,
        ),
        (
            "a status request instead of a hello",
            wire_frame(&KvWire::StatusRequest),
            true,
        ),
        (
            "a hello from unknown node 9",
            hello(WIRE_VERSION, Some(9)),
            true,
        ),
        (
            "a hello from the node itself",
            hello(WIRE_VERSION, Some(target)),
            true,
        ),
        // A well-formed hello from another version: refused, not a bad frame.
        ("a hello with wire version 999", hello(999, None), false),
        ("a hello with wire version 0", hello(0, Some(1)), false),
    ];
    let mut failures = Vec::new();
    for (what, bytes, counted) in &cases {
        let before = common::node_status(addr).await.peer_frames_bad;
        let closed = send_and_close(addr, bytes, Duration::from_secs(3));
        let want = before + u64::from(*counted);
        // The count is bumped before the connection is dropped; allow the status a moment.
        let mut after = before;
        for _ in 0..20 {
            after = common::node_status(addr).await.peer_frames_bad;
            if after == want {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        h.say(format!(
            "{what}: closed {closed}, peer_frames_bad {before} -> {after}"
        ));
        if !closed {
            failures.push(format!("{what}: the node did not close the connection"));
        }
        if after != want {
            failures.push(format!(
                "{what}: peer_frames_bad went {before} -> {after}, expected {want}"
            ));
        }
        if let Some(status) = h.cluster.exited(target) {
            panic!("node {target} exited after {what}: {status}");
        }
    }
    // A hello that never comes: a connection that says nothing is not held forever.
    // (Its timeout is 5 s; only checked to end, not counted.)

    // Clerks and the other nodes are still served.
    h.put("after", "hostility").await;
    assert_eq!(h.get("after").await.as_deref(), Some("hostility"));
    let statuses = h
        .wait_status(Duration::from_secs(5), |s| {
            s.len() == 3 && s.values().all(|x| x.applied == s[&target].applied)
        })
        .await;
    h.say(format!("statuses after: {statuses:?}"));
    h.assert_alive(&h.ids());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A fresh connection can still SET and GET; the node is alive.
fn still_served(h: &mut Harness, id: raft_core::NodeId, after: &str, n: usize) {
    let mut c = RespConn::connect(h.cluster.redis[&id]);
    let key = format!("probe{n}");
    assert_eq!(
        c.call(&["SET", &key, after]),
        Resp::ok(),
        "SET after {after}"
    );
    assert_eq!(
        c.call(&["GET", &key]),
        Resp::bulk(after),
        "GET after {after}"
    );
    if let Some(status) = h.cluster.exited(id) {
        panic!("node {id} exited after {after}: {status}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn hostile_bytes_on_the_redis_port_get_errors_and_others_are_still_served() {
    let mut h = Harness::start("hostile-redis", 3).await;
    // A follower: its commands are forwarded, so more of the node is in the path.
    let target = h.follower().await;
    let addr = h.cluster.redis[&target];
    let t = Duration::from_secs(5);
    let protocol_errors: &[(&str, &[u8], &str)] = &[
        (
            "*-5",
            b"*-5\r\n",
            "ERR Protocol error: invalid multibulk length",
        ),
        (
            "$-3 in a multibulk",
            b"*1\r\n$-3\r\n",
            "ERR Protocol error: invalid bulk length",
        ),
        (
            "*3 $999999999999",
            b"*3\r\n$999999999999\r\n",
            "ERR Protocol error: invalid bulk length",
        ),
        (
            "a bulk of 8 MiB + 1",
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$8388609\r\n",
            "ERR Protocol error: invalid bulk length",
        ),
        (
            "a multibulk with an inline argument",
            b"*2\r\n$3\r\nGET\r\nfoo\r\n",
            "ERR Protocol error: expected '$', got 'f'",
        ),
        (
            "inline garbage with an unbalanced quote",
            b"\"\x01\x02 garbage\r\n",
            "ERR Protocol error: unbalanced quotes in request",
        ),
    ];
    let mut n = 0;
    for (what, bytes, error) in protocol_errors {
        let mut c = RespConn::connect(addr);
        c.send(bytes);
        let reply = c.reply();
        h.say(format!("{what}: {reply:?}"));
        assert_eq!(reply.ok(), Some(Resp::Error(error.to_string())), "{what}");
        assert!(c.closed_within(t), "{what}: connection left open");
        n += 1;
        still_served(&mut h, target, what, n);
    }

    // An inline line longer than 64 KiB without an end (one byte over: the node reads
    // all of it, so its close is not a reset that could swallow the reply).
    let mut c = RespConn::connect(addr);
    c.send(&[b'a'; (64 << 10) + 1]);
    let reply = c.reply();
    h.say(format!("64 KiB + 1 inline line: {reply:?}"));
    assert_eq!(
        reply.ok(),
        Some(Resp::Error(
            "ERR Protocol error: too big inline request".into()
        ))
    );
    assert!(c.closed_within(t));
    still_served(&mut h, target, "a long line", 100);

    // Errors that leave the connection usable.
    let mut c = RespConn::connect(addr);
    let reply = c.call(&["FOOBAR", "x", "y"]);
    h.say(format!("unknown command: {reply:?}"));
    let Resp::Error(e) = &reply else {
        panic!("unknown command answered {reply:?}");
    };
    assert!(e.starts_with("ERR unknown command 'FOOBAR'"), "{e}");
    c.send(b"$-3\r\n");
    let reply = c.reply().expect("a reply to an inline $-3");
    h.say(format!("inline $-3: {reply:?}"));
    assert!(
        matches!(&reply, Resp::Error(e) if e.starts_with("ERR unknown command '$-3'")),
        "{reply:?}"
    );
    c.send(b"\x01\x02\x03 \xff\xfe\r\n");
    let reply = c.reply().expect("a reply to inline garbage");
    h.say(format!("inline garbage: {reply:?}"));
    assert!(
        matches!(&reply, Resp::Error(e) if e.starts_with("ERR unknown command")),
        "{reply:?}"
    );
    assert_eq!(
        c.call(&["GET"]),
        Resp::Error("ERR wrong number of arguments for 'get' command".into())
    );
    assert_eq!(
        c.call(&["PING"]),
        Resp::Simple("PONG".into()),
        "same connection still open"
    );
    assert_eq!(c.call(&["SET", "same", "conn"]), Resp::ok());
    assert_eq!(c.call(&["GET", "same"]), Resp::bulk("conn"));
    drop(c);

    // Half a command, then close; random bytes, then close; both silently dropped.
    let half = command_bytes(&[b"SET", b"half", b"a value"]);
    let closed = send_and_close(addr, &half[..half.len() - 4], t);
    assert!(closed, "half a command: not closed after our close");
    still_served(&mut h, target, "half a command", 101);
    let mut c = RespConn::connect(h.cluster.redis[&target]);
    assert_eq!(
        c.call(&["GET", "half"]),
        Resp::Bulk(None),
        "half a SET applied"
    );
    for seed in 0..4 {
        let closed = send_and_close(addr, &noise(seed + 10, 16 << 10), t);
        h.say(format!("16 KiB of noise (seed {seed}): closed {closed}"));
        assert!(closed, "noise: not closed after our close");
        still_served(&mut h, target, "noise", 200 + seed as usize);
    }
    h.assert_alive(&h.ids());
}
