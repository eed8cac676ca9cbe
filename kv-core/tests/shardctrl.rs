//! The shard controller through the generic server, in the scripted harness: writes
//! through the log, queries by ReadIndex (no log entry), a retried Join applied once
//! (a second application would be refused as already joined), and configurations that
//! survive snapshots and a restart.

mod common;

use std::collections::BTreeMap;

use kv_core::{Config, CtrlError, CtrlOp, CtrlOutcome, Gid, ServerConfig, ShardCtrl};

type Net = common::Net<ShardCtrl>;

fn join(gid: Gid) -> CtrlOp {
    CtrlOp::Join {
        groups: BTreeMap::from([(gid, vec![format!("{gid}a")])]),
    }
}

fn latest() -> CtrlOp {
    CtrlOp::Query { num: None }
}

fn answer(net: &mut Net, client: u64) -> CtrlOutcome {
    let reply = net.take_reply(client).expect("answered");
    reply.result.expect("carried out")
}

#[test]
fn joins_go_through_the_log_and_queries_do_not() {
    let mut net = Net::new(|c| c.raft.check_quorum = false);
    net.elect(1, &[1]);
    net.request(1, 7, 1, join(100));
    assert_eq!(answer(&mut net, 7), CtrlOutcome::Configured { num: 1 });
    let last = net.server(1).node().log().last_index();
    net.request(1, 7, 2, latest());
    let CtrlOutcome::Config(c) = answer(&mut net, 7) else {
        panic!("a query answers a configuration");
    };
    assert_eq!((c.num, c.shards), (1, vec![100; 10]));
    assert_eq!(net.server(1).node().log().last_index(), last, "no entry");
    net.request(1, 7, 3, CtrlOp::Query { num: Some(0) });
    assert_eq!(
        answer(&mut net, 7),
        CtrlOutcome::Config(Config::initial(10))
    );
}

#[test]
fn a_retried_join_applies_once_and_gets_its_first_answer() {
    let mut net = Net::new(|_: &mut ServerConfig| {});
    net.elect(1, &[1]);
    net.request(1, 7, 1, join(100));
    let first = answer(&mut net, 7);
    net.request(1, 7, 1, join(100));
    assert_eq!(answer(&mut net, 7), first, "not AlreadyJoined");
    net.request(1, 8, 1, join(100));
    let again = CtrlOutcome::Refused(CtrlError::AlreadyJoined { gid: 100 });
    assert_eq!(
        answer(&mut net, 8),
        again,
        "another client's join is refused"
    );
    for id in 1..=3 {
        assert_eq!(net.server(id).state().latest().num, 1, "server {id}");
    }
}

#[test]
fn configurations_survive_snapshots_and_a_restart() {
    let mut net = Net::new(|c| c.max_raft_state_bytes = Some(300));
    net.elect(1, &[1]);
    for (seq, gid) in (1..=12).zip(100..) {
        net.request(1, 7, seq, join(gid));
        assert_eq!(answer(&mut net, 7), CtrlOutcome::Configured { num: seq });
    }
    assert!(net.server(2).stats().snapshots_taken > 0);
    assert!(
        net.disks[1].snapshot.is_some(),
        "the restart reads a snapshot"
    );
    let before = net.server(2).state().clone();
    net.restart(2);
    net.heartbeat(1);
    assert_eq!(net.server(2).state(), &before);
    let c = net.server(2).state().latest();
    assert_eq!(c.groups.len(), 12);
    assert!(c.shards.iter().all(|g| c.groups.contains_key(g)));
}
