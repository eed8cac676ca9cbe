//! Scripted interaction tests of the KV server: three servers, a hand-driven network and
//! instant storage. Each reads as a scenario: who is cut off, who ticks, what arrives.

mod common;

use kv_core::{HashKey, KvError, KvState, Op, Outcome, ServerConfig, ServerInput};

type Net = common::Net<KvState>;

fn put(value: &str) -> Op {
    Op::Put {
        key: "k".into(),
        value: value.into(),
    }
}

fn get() -> Op {
    Op::Get { key: "k".into() }
}

fn no_tweak(_: &mut ServerConfig) {}

#[test]
fn a_write_cut_off_from_its_quorum_gets_wrong_leader_not_another_clients_outcome() {
    let mut net = Net::new(no_tweak);
    net.elect(1, &[1]);
    net.request(1, 7, 1, put("a"));
    assert_eq!(net.take_reply(7).unwrap().result, Ok(Outcome::Done));
    net.cut.insert(1);
    net.request(1, 10, 1, put("x"));
    assert!(net.take_reply(10).is_none(), "no quorum: the write waits");
    net.elect(2, &[2, 3]);
    net.request(2, 20, 1, put("y"));
    assert_eq!(net.take_reply(20).unwrap().result, Ok(Outcome::Done));
    net.cut.clear();
    net.heartbeat(2);
    let reply = net
        .take_reply(10)
        .expect("the old leader answers once deposed");
    assert!(
        matches!(reply.result, Err(KvError::WrongLeader { leader: Some(2) })),
        "{reply:?}"
    );
    assert_eq!(net.server(1).state().get("k"), Some("y"));
    // The retry goes to the new leader and applies once.
    net.request(2, 10, 1, put("x"));
    assert_eq!(net.take_reply(10).unwrap().result, Ok(Outcome::Done));
    net.request(2, 10, 2, get());
    let value = net.take_reply(10).unwrap().result;
    assert_eq!(value, Ok(Outcome::Value(Some("x".into()))));
}

#[test]
fn a_request_in_a_minority_times_out_instead_of_hanging() {
    let mut net = Net::new(|c| c.raft.check_quorum = false);
    net.elect(1, &[1]);
    net.cut.insert(1);
    net.request(1, 7, 1, put("a"));
    net.request(1, 8, 1, get());
    for _ in 0..99 {
        net.step(1, ServerInput::Tick);
    }
    assert!(net.replies.is_empty(), "not before request_timeout_ticks");
    net.step(1, ServerInput::Tick);
    assert_eq!(net.take_reply(7).unwrap().result, Err(KvError::Timeout));
    assert_eq!(net.take_reply(8).unwrap().result, Err(KvError::Timeout));
    assert_eq!(net.server(1).stats().timeouts, 2);
}

#[test]
fn a_server_sleeping_to_its_due_tick_still_times_requests_out() {
    // Heartbeats far apart, so the requests' deadline is what comes due first.
    let mut net = Net::new(|c| {
        c.raft.check_quorum = false;
        c.raft.election_ticks = 300;
        c.raft.heartbeat_ticks = 200;
    });
    net.elect(1, &[1]);
    net.cut.insert(1);
    net.request(1, 7, 1, put("a"));
    net.request(1, 8, 1, get());
    assert_eq!(
        net.server(1).ticks_until_due(),
        100,
        "request_timeout_ticks"
    );
    net.step(1, ServerInput::Ticks(99));
    assert!(net.replies.is_empty(), "not before the deadline");
    assert_eq!(net.server(1).ticks_until_due(), 1);
    net.step(1, ServerInput::Ticks(1));
    assert_eq!(net.take_reply(7).unwrap().result, Err(KvError::Timeout));
    assert_eq!(net.take_reply(8).unwrap().result, Err(KvError::Timeout));
    let heartbeat = net.server(1).node().ticks_until_due();
    assert_eq!(
        net.server(1).ticks_until_due(),
        heartbeat,
        "nothing waits now"
    );
    // However many ticks one input claims, a step does a bounded amount of work.
    net.step(1, ServerInput::Ticks(u32::MAX));
    assert!(net.server(1).ticks_until_due() >= 1);
}

#[test]
fn a_retry_of_an_applied_write_is_answered_from_the_session_table() {
    let mut net = Net::new(no_tweak);
    net.elect(1, &[1]);
    let cas = Op::Cas {
        key: "k".into(),
        expected: None,
        new: "1".into(),
    };
    net.request(1, 7, 1, cas.clone());
    assert_eq!(
        net.take_reply(7).unwrap().result,
        Ok(Outcome::Swapped(true))
    );
    let last = net.server(1).node().log().last_index();
    net.request(1, 7, 1, cas);
    assert_eq!(
        net.take_reply(7).unwrap().result,
        Ok(Outcome::Swapped(true)),
        "the first verdict"
    );
    assert_eq!(
        net.server(1).node().log().last_index(),
        last,
        "no new entry"
    );
    assert_eq!(net.server(1).stats().duplicates_answered, 1);
}

#[test]
fn reads_need_a_leader_and_take_no_log_entry() {
    let mut net = Net::new(no_tweak);
    net.elect(1, &[1]);
    net.request(1, 7, 1, put("a"));
    assert_eq!(net.take_reply(7).unwrap().result, Ok(Outcome::Done));
    let last = net.server(1).node().log().last_index();
    net.request(1, 7, 2, get());
    assert_eq!(
        net.take_reply(7).unwrap().result,
        Ok(Outcome::Value(Some("a".into())))
    );
    assert_eq!(net.server(1).node().log().last_index(), last);
    net.request(2, 7, 3, get());
    let refused = net.take_reply(7).unwrap().result;
    assert_eq!(refused, Err(KvError::WrongLeader { leader: Some(1) }));
}

#[test]
fn sessions_survive_snapshots_and_restarts() {
    let mut net = Net::new(|c| c.max_raft_state_bytes = Some(200));
    net.elect(1, &[1]);
    for seq in 1..=30 {
        let op = Op::Append {
            key: "k".into(),
            value: "x".into(),
        };
        net.request(1, 7, seq, op);
        assert_eq!(net.take_reply(7).unwrap().result, Ok(Outcome::Done));
    }
    assert!(
        net.server(2).stats().snapshots_taken > 0,
        "followers compact too"
    );
    assert!(net.server(2).raft_state_bytes() < 8 * 200);
    net.restart(2);
    net.heartbeat(1); // the restarted follower learns the commit index again
    assert_eq!(net.server(2).state().get("k").map(str::len), Some(30));
    // Each restored map hashes keys under its own server's key, not the zero key.
    for id in 1..=3 {
        let seed = net.server(id).node().config().seed;
        assert_eq!(net.server(id).state().hash_key(), HashKey::from_seed(seed));
    }
    assert_ne!(HashKey::from_seed(1), HashKey::from_seed(2));
    net.cut.insert(1);
    net.elect(2, &[2, 3]);
    let op = Op::Append {
        key: "k".into(),
        value: "x".into(),
    };
    net.request(2, 7, 30, op);
    assert_eq!(
        net.take_reply(7).unwrap().result,
        Ok(Outcome::Done),
        "answered from the session"
    );
    assert_eq!(
        net.server(2).state().get("k").map(str::len),
        Some(30),
        "applied once"
    );
}

/// A state too large to snapshot is refused by the node with a typed error; the server
/// counts it, keeps serving, and tries again only after as many entries again applied.
#[test]
fn a_snapshot_too_large_is_refused_and_the_server_keeps_serving() {
    let mut net = Net::new(|c| {
        c.max_raft_state_bytes = Some(200);
        c.raft.snapshot_bytes_max = 64;
    });
    net.elect(1, &[1]);
    for seq in 1..=60 {
        let op = Op::Append {
            key: "k".into(),
            value: "xx".into(),
        };
        net.request(1, 7, seq, op);
        assert_eq!(net.take_reply(7).unwrap().result, Ok(Outcome::Done));
    }
    let stats = net.server(1).stats().clone();
    assert!(stats.snapshots_taken > 0, "small states still snapshot");
    assert!(stats.snapshots_refused_too_large > 0, "{stats:?}");
    assert!(
        stats.snapshots_refused_too_large < 10,
        "refusals back off, not one per step: {stats:?}"
    );
    net.request(1, 8, 1, get());
    let value = net.take_reply(8).unwrap().result;
    assert_eq!(value, Ok(Outcome::Value(Some("xx".repeat(60)))));
}

/// Requests that arrive together: the writes become consecutive entries of one batch
/// (one append message to each follower), each answered with its own outcome; a retry
/// of an applied write is answered from the session table without an entry, a read
/// starts as it would alone, and refusals beyond the pending limit come back in place.
#[test]
fn requests_taken_together_propose_their_writes_as_one_batch() {
    use kv_core::service::Request;
    let mut net = Net::new(|c| c.pending_max = 4);
    net.elect(1, &[1]);
    net.request(1, 5, 1, put("early"));
    assert_eq!(net.take_reply(5).unwrap().result, Ok(Outcome::Done));
    let last_before = net.server(1).node().log().last_index();
    let req = |client, seq, op| Request { client, seq, op };
    let batch = vec![
        req(7, 1, put("a")),
        req(5, 1, put("early")), // a retry: answered from the session table
        req(8, 1, get()),
        req(
            9,
            1,
            Op::Append {
                key: "k".into(),
                value: "b".into(),
            },
        ),
        req(10, 1, put("c")),
        req(11, 1, put("refused")), // pending: 3 writes and a read already
    ];
    net.step(1, ServerInput::Requests(batch));
    let appends: Vec<usize> = net
        .queue
        .iter()
        .filter(|m| m.to == 2)
        .filter_map(|m| match &m.body {
            raft_core::MessageBody::Append { entries, .. } => Some(entries.len()),
            _ => None,
        })
        .collect();
    assert_eq!(
        appends,
        vec![3],
        "one append of the three writes to each follower"
    );
    assert_eq!(net.server(1).node().log().last_index(), last_before + 3);
    net.deliver();
    assert_eq!(net.take_reply(5).unwrap().result, Ok(Outcome::Done));
    for client in [7, 9, 10] {
        assert_eq!(
            net.take_reply(client).unwrap().result,
            Ok(Outcome::Done),
            "client {client}"
        );
    }
    let refused = net.take_reply(11).unwrap().result;
    assert!(matches!(refused, Err(KvError::Busy { .. })), "{refused:?}");
    assert!(net.take_reply(8).is_some(), "the read is answered");
    let value = net.server(2).state().get("k").map(str::to_string);
    assert_eq!(
        value.as_deref(),
        Some("c"),
        "applied in order on a follower: a, ab, c"
    );
}

/// Reads that arrive together are confirmed by one heartbeat round (one heartbeat to
/// each follower, not one per read), and each is answered with the value.
#[test]
fn reads_taken_together_share_one_heartbeat_round() {
    use kv_core::service::Request;
    let mut net = Net::new(|c| c.raft.read_mode = raft_core::ReadMode::Safe);
    net.elect(1, &[1]);
    net.request(1, 5, 1, put("v"));
    assert_eq!(net.take_reply(5).unwrap().result, Ok(Outcome::Done));
    net.queue.clear();
    let reads = (20..25).map(|client| Request {
        client,
        seq: 1,
        op: get(),
    });
    net.step(1, ServerInput::Requests(reads.collect()));
    let heartbeats = net.queue.iter().filter(|m| m.to == 2);
    let heartbeats =
        heartbeats.filter(|m| matches!(m.body, raft_core::MessageBody::Heartbeat { .. }));
    assert_eq!(heartbeats.count(), 1, "one round for five reads");
    net.deliver();
    for client in 20..25 {
        let value = net.take_reply(client).map(|r| r.result);
        assert_eq!(
            value,
            Some(Ok(Outcome::Value(Some("v".into())))),
            "client {client}"
        );
    }
}
