//! The generic server is not key/value in disguise: a versioned register with
//! compare-and-set, a state machine written here in forty lines, gets at-most-once writes
//! across a leader change, ReadIndex reads, and sessions that survive snapshots and
//! restarts, from the same scripted harness as the KV tests.

mod common;

use kv_core::service::state_machine::{decode, encode};
use kv_core::service::{Access, DecodeError, ServerConfig, ServerInput, ServiceError};
use kv_core::StateMachine;
use serde::{Deserialize, Serialize};

/// A register whose version counts applied writes: a write applied twice shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Register {
    value: u64,
    version: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Write {
    Set(u64),
    Cas { expected: u64, new: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Out {
    /// What a read saw.
    Read { value: u64, version: u64 },
    /// A write took effect as this version.
    Written { version: u64 },
    /// A Cas found another value and changed nothing.
    Refused,
}

impl StateMachine for Register {
    type Op = Access<Write, ()>;
    type Command = Write;
    type Query = ();
    type Output = Out;

    fn route(op: Self::Op) -> Self::Op {
        op
    }

    fn apply(&mut self, w: &Write) -> Out {
        let new = match *w {
            Write::Set(v) => v,
            Write::Cas { expected, new } if expected == self.value => new,
            Write::Cas { .. } => return Out::Refused,
        };
        self.value = new;
        self.version += 1;
        Out::Written {
            version: self.version,
        }
    }

    fn query(&self, _: &()) -> Out {
        Out::Read {
            value: self.value,
            version: self.version,
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        encode(self)
    }

    fn restore(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode(bytes)
    }
}

type Net = common::Net<Register>;

fn cas(expected: u64, new: u64) -> Access<Write, ()> {
    Access::Write(Write::Cas { expected, new })
}

fn set(v: u64) -> Access<Write, ()> {
    Access::Write(Write::Set(v))
}

const READ: Access<Write, ()> = Access::Read(());

fn no_tweak(_: &mut ServerConfig) {}

#[test]
fn a_write_whose_reply_was_lost_applies_once_across_a_leader_change() {
    let mut net = Net::new(no_tweak);
    net.elect(1, &[1]);
    net.request(1, 7, 1, cas(0, 5));
    let first = net.take_reply(7).expect("committed and applied");
    assert_eq!(first.result, Ok(Out::Written { version: 1 }));
    // The client never saw that reply. The leader is cut off; the retry goes to the new
    // one, which has the write in its session table: re-executed, the Cas would refuse.
    net.cut.insert(1);
    net.elect(2, &[2, 3]);
    net.request(2, 7, 1, cas(0, 5));
    assert_eq!(net.take_reply(7).unwrap().result, first.result);
    assert_eq!(net.server(2).stats().duplicates_answered, 1);
    assert_eq!(net.server(2).state().version, 1, "applied once");
}

#[test]
fn a_write_caught_in_a_deposed_leader_is_retried_and_applied_once() {
    let mut net = Net::new(no_tweak);
    net.elect(1, &[1]);
    net.cut.insert(1);
    net.request(1, 10, 1, set(3));
    assert!(net.take_reply(10).is_none(), "no quorum: the write waits");
    net.elect(2, &[2, 3]);
    net.request(2, 20, 1, set(4));
    assert_eq!(
        net.take_reply(20).unwrap().result,
        Ok(Out::Written { version: 1 })
    );
    net.cut.clear();
    net.heartbeat(2);
    let deposed = net.take_reply(10).unwrap().result;
    let told = Err(ServiceError::WrongLeader { leader: Some(2) });
    assert_eq!(deposed, told, "never client 20's outcome");
    for _ in 0..2 {
        net.request(2, 10, 1, set(3));
        let got = net.take_reply(10).unwrap().result;
        assert_eq!(got, Ok(Out::Written { version: 2 }), "the first outcome");
    }
    for id in 1..=3 {
        assert_eq!(net.server(id).state().version, 2, "server {id}");
    }
}

#[test]
fn reads_go_through_read_index_and_take_no_entry() {
    let mut net = Net::new(|c| c.raft.check_quorum = false);
    net.elect(1, &[1]);
    net.request(1, 7, 1, set(9));
    net.take_reply(7).unwrap();
    let last = net.server(1).node().log().last_index();
    net.request(1, 7, 2, READ);
    let seen = Ok(Out::Read {
        value: 9,
        version: 1,
    });
    assert_eq!(net.take_reply(7).unwrap().result, seen);
    assert_eq!(net.server(1).node().log().last_index(), last);
    assert_eq!(net.server(1).stats().reads_served, 1);
    net.request(3, 7, 3, READ);
    let refused = net.take_reply(7).unwrap().result;
    assert_eq!(refused, Err(ServiceError::WrongLeader { leader: Some(1) }));
    // A leader cut off from its quorum cannot confirm a read: it times out, never
    // answers from what may be stale state.
    net.cut.insert(1);
    net.request(1, 7, 4, READ);
    for _ in 0..100 {
        net.step(1, ServerInput::Tick);
    }
    assert_eq!(
        net.take_reply(7).unwrap().result,
        Err(ServiceError::Timeout)
    );
}

#[test]
fn snapshots_and_a_restart_keep_the_sessions() {
    let mut net = Net::new(|c| c.max_raft_state_bytes = Some(200));
    net.elect(1, &[1]);
    for seq in 1..=30 {
        net.request(1, 7, seq, set(seq));
        let want = Ok(Out::Written { version: seq });
        assert_eq!(net.take_reply(7).unwrap().result, want);
    }
    assert!(net.server(2).stats().snapshots_taken > 0);
    assert!(
        net.disks[1].snapshot.is_some(),
        "the restart starts from a snapshot"
    );
    net.restart(2);
    net.heartbeat(1);
    let sessions = net.server(2).replicated().sessions();
    assert_eq!(sessions.get(7).map(|s| s.seq), Some(30));
    net.cut.insert(1);
    net.elect(2, &[2, 3]);
    net.request(2, 7, 30, set(30));
    let retried = net.take_reply(7).unwrap().result;
    assert_eq!(
        retried,
        Ok(Out::Written { version: 30 }),
        "from the session"
    );
    net.request(2, 7, 29, set(29));
    assert!(net.take_reply(7).is_none(), "stale: nobody waits for it");
    assert_eq!(net.server(2).state().version, 30, "applied once");
}
