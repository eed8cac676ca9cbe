//! Every input and output of the service is data: each type round-trips through postcard,
//! and a run recorded as bytes replays, step for step and byte for byte, into fresh
//! servers and clerks.

mod common;

use std::fmt::Debug;

use kv_core::service::{Access, Sessions};
use kv_core::{Applied, Clerk, ClerkBusy, ClerkConfig, ClerkInput, ClerkReady, Command};
use kv_core::{Completion, KvError, KvState, Op, Outcome, Reply, Request, ServerConfig};
use kv_core::{ServerInput, ServerReady, ServerStats, Session};
use raft_core::{Config, RestoredState};
use serde::de::DeserializeOwned;
use serde::Serialize;

type Net = common::Net<KvState>;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) {
    let bytes = postcard::to_allocvec(value).expect("encodes");
    let back: T = postcard::from_bytes(&bytes).expect("decodes");
    assert_eq!(&back, value);
}

fn put(value: &str) -> Op {
    Op::Put {
        key: "k".into(),
        value: value.into(),
    }
}

/// A run with elections, writes, a read, a CAS, and a request that times out in a cut-off
/// leader: replies of every kind, messages of several, writes with entries.
fn busy_run() -> Net {
    let mut net = Net::new(|c| c.raft.check_quorum = false);
    net.elect(1, &[1]);
    net.request(1, 7, 1, put("a"));
    net.request(1, 7, 2, Op::Get { key: "k".into() });
    let cas = Op::Cas {
        key: "k".into(),
        expected: Some("a".into()),
        new: "b".into(),
    };
    net.request(1, 8, 1, cas);
    net.request(2, 9, 1, put("x"));
    net.cut.insert(1);
    net.request(1, 9, 1, put("x"));
    for _ in 0..100 {
        net.step(1, ServerInput::Tick);
    }
    net
}

#[test]
fn server_inputs_and_outputs_round_trip() {
    let net = busy_run();
    let (mut inputs, mut readies) = (0, 0);
    for step in &net.trace {
        let input: ServerInput = postcard::from_bytes(&step.input).expect("an input");
        let ready: ServerReady = postcard::from_bytes(&step.ready).expect("a ready");
        round_trip(&input);
        round_trip(&ready);
        inputs += 1;
        readies += usize::from(ready != ServerReady::default());
    }
    assert!(
        inputs > 100 && readies > 10,
        "{inputs} inputs, {readies} readies"
    );
    let replies: Vec<_> = net.replies.iter().map(|(_, r)| r.clone()).collect();
    assert!(replies.iter().any(|r| r.result == Err(KvError::Timeout)));
    assert!(replies
        .iter()
        .any(|r| r.result == Ok(Outcome::Swapped(true))));
    round_trip(&replies);
    round_trip(net.server(1).stats());
    assert_ne!(net.server(1).stats(), &ServerStats::default());
    round_trip(&ServerConfig::new(Config::new(1, vec![1, 2, 3])));
}

#[test]
fn requests_replies_and_errors_round_trip() {
    let errors = [
        KvError::WrongLeader { leader: Some(2) },
        KvError::WrongLeader { leader: None },
        KvError::Timeout,
        KvError::Busy { reason: "b".into() },
        KvError::Rejected { reason: "r".into() },
    ];
    for e in errors {
        round_trip(&Reply {
            client: 1,
            seq: 2,
            result: Err(e),
        });
    }
    let outcomes = [
        Outcome::Value(None),
        Outcome::Value(Some("v".into())),
        Outcome::Done,
        Outcome::Swapped(false),
    ];
    for o in outcomes {
        round_trip(&Reply {
            client: u64::MAX,
            seq: 1,
            result: Ok(o.clone()),
        });
        round_trip(&Applied::Duplicate(o.clone()));
        round_trip(&Session { seq: 3, outcome: o });
    }
    round_trip(&Applied::Stale);
    let op = Op::Delete { key: "k".into() };
    round_trip(&Request {
        client: 1,
        seq: 1,
        op: op.clone(),
    });
    round_trip(&Command {
        client: 1,
        seq: 1,
        op,
    });
    round_trip(&Access::<Op, String>::Read("k".into()));
    round_trip(&Sessions::<Outcome>::default());
}

/// Drives a clerk through submit, a redirect, silence and a completion, recording each
/// input and output as bytes.
fn clerk_run() -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut clerk = Clerk::new(ClerkConfig::new(9, vec![1, 2, 3]));
    let redirect = Reply {
        client: 9,
        seq: 1,
        result: Err(KvError::WrongLeader { leader: Some(3) }),
    };
    let done = Reply {
        client: 9,
        seq: 1,
        result: Ok(Outcome::Done),
    };
    let mut inputs = vec![
        ClerkInput::Submit(put("a")),
        ClerkInput::Reply {
            from: 1,
            reply: redirect,
        },
    ];
    inputs.extend((0..30).map(|_| ClerkInput::Tick));
    inputs.push(ClerkInput::Reply {
        from: 1,
        reply: done,
    });
    let mut trace = Vec::new();
    for input in inputs {
        let bytes = postcard::to_allocvec(&input).unwrap();
        let ready = clerk.step(input).expect("one operation at a time");
        trace.push((bytes, postcard::to_allocvec(&ready).unwrap()));
    }
    trace
}

#[test]
fn clerk_inputs_and_outputs_round_trip_and_replay() {
    let trace = clerk_run();
    let mut replayed = Clerk::new(ClerkConfig::new(9, vec![1, 2, 3]));
    let mut completions = Vec::new();
    for (input, ready) in &trace {
        let input: ClerkInput = postcard::from_bytes(input).unwrap();
        round_trip(&input);
        let out = replayed.step(input).unwrap();
        assert_eq!(&postcard::to_allocvec(&out).unwrap(), ready);
        round_trip(&out);
        completions.extend(out.completed);
    }
    let [done]: [Completion; 1] = completions.try_into().expect("one completion");
    assert_eq!(done.result, Ok(Outcome::Done));
    round_trip(&done);
    round_trip(&ClerkReady::default());
    round_trip(&ClerkConfig::new(1, vec![1]));
    round_trip(&ClerkBusy { seq: 4 });
}

#[test]
fn a_recorded_run_replays_byte_for_byte() {
    let net = busy_run();
    let config = |id| common::config(id, |c| c.raft.check_quorum = false);
    let mut servers: Vec<kv_core::Server> = (1..=3)
        .map(|id| kv_core::Server::new(config(id), RestoredState::default()).unwrap())
        .collect();
    for (i, step) in net.trace.iter().enumerate() {
        let input: ServerInput = postcard::from_bytes(&step.input).unwrap();
        let ready = servers[step.node as usize - 1].step(input);
        let bytes = postcard::to_allocvec(&ready).unwrap();
        assert!(
            bytes == step.ready,
            "step {i} (node {}) diverged",
            step.node
        );
    }
    for id in 1..=3 {
        let (live, replayed) = (net.server(id), &servers[id as usize - 1]);
        assert_eq!(live.replicated(), replayed.replicated());
        assert_eq!(live.stats(), replayed.stats());
    }
}

#[test]
fn shard_kv_inputs_and_outputs_round_trip() {
    use kv_core::service::{Reply, Request};
    use kv_core::shardkv::{GroupInput, GroupReady, ShardClerkInput, ShardClerkReady};
    use kv_core::shardkv::{ShardData, ShardKv, ShardOp, ShardOutput};
    use kv_core::{Config as CtrlConfig, CtrlOp, CtrlOutcome, StateMachine};

    let data = ShardData {
        kv: [("a".to_string(), "x".to_string())].into(),
        sessions: [(7, 3)].into(),
    };
    let shard = ShardOutput::Shard {
        shard: 7,
        num: 2,
        data: data.clone(),
    };
    let config = CtrlConfig::initial(10);
    let ops = [
        ShardOp::Get { key: "a".into() },
        ShardOp::Append {
            key: "a".into(),
            value: "y".into(),
        },
        ShardOp::Fetch { shard: 7, num: 2 },
        ShardOp::Delete { shard: 7, num: 2 },
        ShardOp::Reconfigure {
            gid: 100,
            config: config.clone(),
        },
        ShardOp::Install {
            shard: 7,
            num: 2,
            data,
        },
        ShardOp::Delivered { shard: 7, num: 2 },
    ];
    for op in ops {
        round_trip(&GroupInput::Request(Request {
            client: 1,
            seq: 2,
            op: op.clone(),
        }));
        round_trip(&ShardClerkInput::Submit(op));
    }
    let reply = Reply {
        client: 1,
        seq: 2,
        result: Ok(shard.clone()),
    };
    round_trip(&GroupInput::GroupReply {
        from: 4,
        reply: reply.clone(),
    });
    let ctrl_reply = Reply {
        client: 1,
        seq: 2,
        result: Ok(CtrlOutcome::Config(config)),
    };
    round_trip(&ShardClerkInput::CtrlReply {
        from: 1,
        reply: ctrl_reply,
    });
    let query = Request {
        client: 1,
        seq: 3,
        op: CtrlOp::Query { num: None },
    };
    round_trip(&GroupReady {
        replies: vec![reply],
        to_ctrl: vec![(1, query.clone())],
        ..GroupReady::default()
    });
    round_trip(&ShardClerkReady {
        to_ctrl: vec![(2, query)],
        ..ShardClerkReady::default()
    });
    let state = ShardKv::default();
    assert_eq!(ShardKv::restore(&state.snapshot()), Ok(state));
}
