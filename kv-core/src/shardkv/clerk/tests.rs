use std::collections::BTreeMap;

use super::*;

const CTRL: [NodeId; 3] = [1, 2, 3];

fn config(num: u64, owner: Gid) -> Config {
    let groups = BTreeMap::from([
        (100, vec!["11".into(), "12".into()]),
        (101, vec!["21".into(), "22".into()]),
    ]);
    Config {
        num,
        shards: vec![owner; super::super::SHARDS],
        groups,
    }
}

fn clerk() -> ShardClerk {
    ShardClerk::new(ClerkConfig::new(7, CTRL.to_vec()), 25)
}

/// Answers the clerk's pending controller query with `c`; returns what it sent next.
fn answer_ctrl(k: &mut ShardClerk, ready: &ShardClerkReady, c: Config) -> ShardClerkReady {
    let (to, req) = ready.to_ctrl.last().expect("a controller query").clone();
    let reply = Reply {
        client: req.client,
        seq: req.seq,
        result: Ok(CtrlOutcome::Config(c)),
    };
    k.step(ShardClerkInput::CtrlReply { from: to, reply })
        .unwrap()
}

fn reply(
    k: &mut ShardClerk,
    from: NodeId,
    seq: u64,
    r: Result<ShardOutput, ServiceError>,
) -> ShardClerkReady {
    let reply = Reply {
        client: 7,
        seq,
        result: r,
    };
    k.step(ShardClerkInput::Reply { from, reply }).unwrap()
}

/// Ticks until the clerk sends something.
fn tick_until_sent(k: &mut ShardClerk) -> ShardClerkReady {
    for _ in 0..100 {
        let r = k.step(ShardClerkInput::Tick).unwrap();
        if !r.send.is_empty() || !r.to_ctrl.is_empty() {
            return r;
        }
    }
    panic!("the clerk went quiet")
}

#[test]
fn follows_leader_hints_and_wrong_group_with_one_seq() {
    let mut k = clerk();
    let put = ShardOp::Put {
        key: "a".into(),
        value: "v".into(),
    };
    let r = k.step(ShardClerkInput::Submit(put.clone())).unwrap();
    assert!(r.send.is_empty(), "no configuration yet");
    let r = tick_until_sent(&mut k);
    let r = answer_ctrl(&mut k, &r, config(1, 100));
    assert_eq!(r.send.len(), 1);
    let (to, req) = r.send[0].clone();
    assert_eq!((to, req.seq), (11, 1));

    let r = reply(
        &mut k,
        11,
        1,
        Err(ServiceError::WrongLeader { leader: Some(12) }),
    );
    assert_eq!(r.send[0].0, 12, "the hint is asked next");
    let r = reply(&mut k, 12, 1, Ok(ShardOutput::WrongGroup));
    assert!(r.send.is_empty() && r.to_ctrl.is_empty(), "backs off first");
    let r = tick_until_sent(&mut k);
    let r = answer_ctrl(&mut k, &r, config(2, 101));
    let (to, req) = r.send[0].clone();
    assert_eq!(
        (to, req.seq, req.op),
        (21, 1, put),
        "same seq at the new owner"
    );

    let r = reply(&mut k, 21, 1, Ok(ShardOutput::Done));
    let done = r.completed.expect("completed");
    assert_eq!((done.seq, done.result), (1, Ok(ShardOutput::Done)));
    assert!(k.is_idle());
}

#[test]
fn silent_servers_are_retried_then_the_configuration_is_refreshed() {
    let mut k = clerk();
    let get = ShardOp::Get { key: "a".into() };
    let r = k.step(ShardClerkInput::Submit(get)).unwrap();
    assert!(
        r.send.is_empty() && r.to_ctrl.is_empty(),
        "waits for a tick"
    );
    let r = tick_until_sent(&mut k);
    let r = answer_ctrl(&mut k, &r, config(1, 100));
    assert_eq!(r.send[0].0, 11);
    assert_eq!(
        tick_until_sent(&mut k).send[0].0,
        12,
        "no answer: the next server"
    );
    let r = tick_until_sent(&mut k);
    assert!(
        r.send.is_empty() && !r.to_ctrl.is_empty(),
        "every server tried: ask the controller"
    );
    // A stale configuration from a lagging controller replica is not taken.
    let r = answer_ctrl(&mut k, &r, config(0, 101));
    assert_eq!(k.config().num, 1);
    assert_eq!(r.send[0].0, 11);
}

#[test]
fn server_names_with_addresses_name_the_same_servers() {
    use crate::shardkv::{server_addr, server_id};
    assert_eq!(server_id("4"), Some(4));
    assert_eq!(server_id("4@127.0.0.1:7004"), Some(4));
    assert_eq!(server_addr("4@127.0.0.1:7004"), Some("127.0.0.1:7004"));
    assert_eq!(server_addr("4"), None);
    for bad in ["", "@127.0.0.1:1", "x@y", "-1", "18446744073709551616"] {
        assert_eq!(server_id(bad), None, "{bad:?}");
    }
    let names: Vec<String> = vec!["11@h:1".into(), "junk".into(), "12".into()];
    assert_eq!(server_ids(&names), vec![11, 12]);
}
