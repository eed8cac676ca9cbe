use super::*;
use crate::kv::{Clerk, ClerkInput, ClerkReady, Completion, KvError, Op, Outcome, Reply};

fn clerk() -> Clerk {
    Clerk::new(ClerkConfig::new(9, vec![1, 2, 3]))
}

fn get() -> Op {
    Op::Get { key: "k".into() }
}

fn reply(seq: u64, result: Result<Outcome, KvError>) -> Reply {
    Reply {
        client: 9,
        seq,
        result,
    }
}

fn sent_to(r: &ClerkReady) -> Vec<NodeId> {
    r.send.iter().map(|(to, _)| *to).collect()
}

#[test]
fn follows_the_leader_hint_and_remembers_the_leader() {
    let mut c = clerk();
    let r = c.step(ClerkInput::Submit(get())).unwrap();
    assert_eq!(sent_to(&r), vec![1]);
    let wrong = reply(1, Err(KvError::WrongLeader { leader: Some(3) }));
    let r = c
        .step(ClerkInput::Reply {
            from: 1,
            reply: wrong,
        })
        .unwrap();
    assert_eq!(sent_to(&r), vec![3], "straight to the hinted leader");
    let ok = reply(1, Ok(Outcome::Value(None)));
    let r = c.step(ClerkInput::Reply { from: 3, reply: ok }).unwrap();
    assert_eq!(r.completed.map(|c| c.seq), Some(1));
    let r = c.step(ClerkInput::Submit(get())).unwrap();
    assert_eq!(
        sent_to(&r),
        vec![3],
        "the next operation starts at the known leader"
    );
    assert_eq!(r.send[0].1.seq, 2, "a new operation, a new sequence number");
}

#[test]
fn resends_the_same_sequence_number_after_silence() {
    let mut c = clerk();
    let _ = c.step(ClerkInput::Submit(get())).unwrap();
    let mut resent = Vec::new();
    for _ in 0..25 {
        resent.extend(c.step(ClerkInput::Tick).unwrap().send);
    }
    assert_eq!(resent.len(), 1, "one resend after retry_ticks");
    assert_eq!((resent[0].0, resent[0].1.seq), (2, 1));
}

#[test]
fn backs_off_after_a_full_round_of_refusals() {
    let mut c = clerk();
    let _ = c.step(ClerkInput::Submit(get())).unwrap();
    let mut to = 1;
    for _ in 0..2 {
        let r = c.step(ClerkInput::Reply {
            from: to,
            reply: reply(1, Err(KvError::Timeout)),
        });
        to = sent_to(&r.unwrap())[0];
    }
    let r = c.step(ClerkInput::Reply {
        from: to,
        reply: reply(1, Err(KvError::Timeout)),
    });
    assert!(r.unwrap().send.is_empty(), "every server refused: pause");
    let sends: usize = (0..5)
        .map(|_| c.step(ClerkInput::Tick).unwrap().send.len())
        .sum();
    assert_eq!(sends, 1, "resent once the backoff passed");
}

#[test]
fn ignores_stale_and_foreign_replies() {
    let mut c = clerk();
    let _ = c.step(ClerkInput::Submit(get())).unwrap();
    let ok = |seq| reply(seq, Ok(Outcome::Done));
    let r = c
        .step(ClerkInput::Reply {
            from: 1,
            reply: ok(0),
        })
        .unwrap();
    assert!(r.completed.is_none() && r.send.is_empty());
    let late = reply(1, Err(KvError::Timeout));
    let r = c
        .step(ClerkInput::Reply {
            from: 2,
            reply: late,
        })
        .unwrap();
    assert!(
        r.send.is_empty(),
        "an error from a server not asked last changes nothing"
    );
    assert_eq!(c.replies_stale, 1);
    assert!(
        c.step(ClerkInput::Submit(get())).is_err(),
        "one operation at a time"
    );
}

#[test]
fn a_rejected_operation_completes_with_its_error() {
    let mut c = clerk();
    let _ = c.step(ClerkInput::Submit(get())).unwrap();
    let no = reply(
        1,
        Err(KvError::Rejected {
            reason: "too big".into(),
        }),
    );
    let r = c.step(ClerkInput::Reply { from: 1, reply: no }).unwrap();
    assert!(matches!(
        r.completed,
        Some(Completion {
            result: Err(KvError::Rejected { .. }),
            ..
        })
    ));
    assert!(c.is_idle());
}
