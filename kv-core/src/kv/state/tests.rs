//! The key/value machine under the generic session layer, as the server runs it.

use super::*;
use crate::service::{Applied, ClientId, Command, Replicated};

type Kv = Replicated<KvState>;

fn cmd(client: ClientId, seq: u64, op: Op) -> Command<Op> {
    Command { client, seq, op }
}

fn append(key: &str, value: &str) -> Op {
    Op::Append {
        key: key.into(),
        value: value.into(),
    }
}

fn get(key: &str) -> Op {
    Op::Get { key: key.into() }
}

#[test]
fn operations_follow_their_meaning() {
    let mut kv = Kv::default();
    assert_eq!(
        kv.apply(&cmd(1, 1, get("k"))),
        Applied::Fresh(Outcome::Value(None))
    );
    kv.apply(&cmd(1, 2, append("k", "a")));
    kv.apply(&cmd(1, 3, append("k", "b")));
    assert_eq!(kv.machine().get("k"), Some("ab"));
    let put = Op::Put {
        key: "k".into(),
        value: "v".into(),
    };
    assert_eq!(kv.apply(&cmd(1, 4, put)), Applied::Fresh(Outcome::Done));
    assert_eq!(kv.machine().get("k"), Some("v"));
    kv.apply(&cmd(1, 5, Op::Delete { key: "k".into() }));
    assert_eq!(kv.machine().get("k"), None);
    assert!(kv.machine().is_empty());
}

#[test]
fn cas_swaps_only_on_the_expected_value() {
    let mut kv = Kv::default();
    let cas = |expected: Option<&str>, new: &str| Op::Cas {
        key: "k".into(),
        expected: expected.map(String::from),
        new: new.into(),
    };
    let table = [
        (cas(Some("x"), "1"), false, None),
        (cas(None, "1"), true, Some("1")),
        (cas(None, "2"), false, Some("1")),
        (cas(Some("1"), "2"), true, Some("2")),
        (cas(Some("1"), "3"), false, Some("2")),
    ];
    for (seq, (op, swapped, after)) in table.into_iter().enumerate() {
        let got = kv.apply(&cmd(7, seq as u64 + 1, op.clone()));
        assert_eq!(got, Applied::Fresh(Outcome::Swapped(swapped)), "{op:?}");
        assert_eq!(kv.machine().get("k"), after, "{op:?}");
    }
}

#[test]
fn a_retried_write_applies_once_and_gets_its_first_outcome() {
    let mut kv = Kv::default();
    let first = kv.apply(&cmd(1, 1, append("k", "x")));
    assert_eq!(first, Applied::Fresh(Outcome::Done));
    assert_eq!(
        kv.apply(&cmd(1, 1, append("k", "x"))),
        Applied::Duplicate(Outcome::Done)
    );
    assert_eq!(kv.machine().get("k"), Some("x"));
    kv.apply(&cmd(1, 2, append("k", "y")));
    assert_eq!(kv.apply(&cmd(1, 1, append("k", "x"))), Applied::Stale);
    assert_eq!(kv.machine().get("k"), Some("xy"));
    assert_eq!(kv.cached(1, 2), Some(&Outcome::Done));
    assert!(kv.is_stale(1, 1) && !kv.is_stale(2, 1));
}

#[test]
fn a_cas_retry_returns_the_first_verdict_not_a_new_one() {
    let mut kv = Kv::default();
    let op = Op::Cas {
        key: "k".into(),
        expected: None,
        new: "1".into(),
    };
    assert_eq!(
        kv.apply(&cmd(3, 1, op.clone())),
        Applied::Fresh(Outcome::Swapped(true))
    );
    // Re-executed, it would fail (the key now exists); the session answers true again.
    assert_eq!(
        kv.apply(&cmd(3, 1, op)),
        Applied::Duplicate(Outcome::Swapped(true))
    );
}

#[test]
fn sessions_survive_a_snapshot_round_trip() {
    let mut kv = Kv::default();
    kv.apply(&cmd(1, 1, append("k", "x")));
    kv.apply(&cmd(2, 4, append("j", "y")));
    let mut restored = Kv::restore(&kv.snapshot()).expect("own snapshot decodes");
    assert_eq!(restored, kv);
    assert_eq!(
        restored.apply(&cmd(2, 4, append("j", "y"))),
        Applied::Duplicate(Outcome::Done)
    );
    assert_eq!(restored.machine().get("j"), Some("y"));
}

#[test]
fn garbage_is_a_typed_error() {
    let version = crate::service::SNAPSHOT_VERSION;
    assert!(matches!(
        Kv::restore(&[version, 0xff, 0xff, 0xff]),
        Err(DecodeError::Snapshot { .. })
    ));
    assert!(matches!(
        Kv::restore(&[version + 1]),
        Err(DecodeError::Version { .. })
    ));
    assert!(matches!(
        KvState::restore(&[0x05, 0x01]),
        Err(DecodeError::Snapshot { .. })
    ));
    assert!(matches!(
        Command::<Op>::decode(&[0xff]),
        Err(DecodeError::Command(_))
    ));
    assert_eq!(Kv::restore(&[]), Ok(Kv::default()));
}

quickcheck::quickcheck! {
    /// Replaying a command sequence with arbitrary duplicates inserted gives the same
    /// state as applying each command once.
    fn duplicates_never_change_the_state(ops: Vec<(u8, bool, u8)>) -> bool {
        let mut once = Kv::default();
        let mut dup = Kv::default();
        for (i, (client, is_put, v)) in ops.iter().enumerate() {
            let key = format!("k{}", v % 3);
            let op = if *is_put {
                Op::Put { key, value: v.to_string() }
            } else {
                append(&key, &v.to_string())
            };
            let c = cmd(u64::from(client % 4), i as u64 + 1, op);
            once.apply(&c);
            dup.apply(&c);
            dup.apply(&c);
        }
        once == dup
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn redis_style_operations_follow_their_meaning() {
    let mut kv = KvState::default();
    let pairs = vec![("a".into(), "1".into()), ("b".into(), "x".into())];
    assert_eq!(kv.apply(&Op::PutMany { pairs }), Outcome::Done);
    assert_eq!(kv.apply(&Op::Incr { key: "a".into() }), Outcome::Integer(2));
    let append = Op::AppendLen {
        key: "b".into(),
        value: "yz".into(),
    };
    assert_eq!(kv.apply(&append), Outcome::Count(3));
    assert_eq!(
        kv.apply(&Op::Incr { key: "new".into() }),
        Outcome::Integer(1)
    );
    assert_eq!(
        kv.apply(&Op::Incr { key: "b".into() }),
        Outcome::NotAnInteger
    );
    let keys = strings(&["a", "zz", "b"]);
    let values = vec![Some("2".to_string()), None, Some("xyz".to_string())];
    assert_eq!(kv.query(&Read::GetMany(keys)), Outcome::Values(values));
    let exists = Read::Exists(strings(&["a", "a", "zz"]));
    assert_eq!(
        kv.query(&exists),
        Outcome::Count(2),
        "a key named twice counts twice"
    );
    assert_eq!(kv.query(&Read::Len), Outcome::Count(3));
    let delete = Op::DeleteMany {
        keys: strings(&["a", "zz", "new"]),
    };
    assert_eq!(kv.apply(&delete), Outcome::Count(2));
    assert_eq!(kv.query(&Read::Len), Outcome::Count(1));
}

#[test]
fn incr_refuses_what_redis_refuses_and_changes_nothing() {
    let mut kv = KvState::default();
    for bad in ["+1", " 1", "1.5", "", "9223372036854775807", "abc"] {
        let put = Op::Put {
            key: "k".into(),
            value: bad.into(),
        };
        kv.apply(&put);
        assert_eq!(
            kv.apply(&Op::Incr { key: "k".into() }),
            Outcome::NotAnInteger,
            "{bad:?}"
        );
        assert_eq!(kv.get("k"), Some(bad), "unchanged");
    }
    let put = Op::Put {
        key: "k".into(),
        value: "-5".into(),
    };
    kv.apply(&put);
    assert_eq!(
        kv.apply(&Op::Incr { key: "k".into() }),
        Outcome::Integer(-4)
    );
}

#[test]
fn reads_route_to_queries_and_writes_to_the_log() {
    for op in [
        get("k"),
        Op::GetMany { keys: vec![] },
        Op::Exists { keys: vec![] },
        Op::Len,
    ] {
        assert!(op.is_read());
        assert!(matches!(KvState::route(op), Access::Read(_)));
    }
    for op in [
        append("k", "v"),
        Op::Incr { key: "k".into() },
        Op::PutMany { pairs: vec![] },
    ] {
        assert!(!op.is_read());
        assert!(matches!(KvState::route(op), Access::Write(_)));
    }
}

#[test]
fn values_and_reads_stay_within_their_limits() {
    let mut kv = KvState::default();
    let chunk = "x".repeat(1 << 20);
    for _ in 0..4 {
        let append = Op::Append {
            key: "big".into(),
            value: chunk.clone(),
        };
        assert_eq!(kv.apply(&append), Outcome::Done);
    }
    let one_more = Op::AppendLen {
        key: "big".into(),
        value: "y".into(),
    };
    let refused = Outcome::TooLarge {
        size_bytes: (VALUE_BYTES_MAX + 1) as u64,
        max_bytes: VALUE_BYTES_MAX as u64,
    };
    assert_eq!(kv.apply(&one_more), refused);
    assert_eq!(
        kv.get("big").map(str::len),
        Some(VALUE_BYTES_MAX),
        "unchanged"
    );
    let once = Read::GetMany(strings(&["big"]));
    assert!(matches!(kv.query(&once), Outcome::Values(_)));
    let twice = Read::GetMany(strings(&["big", "big"]));
    assert!(matches!(kv.query(&twice), Outcome::TooLarge { .. }));
}

/// A node configured without an entry limit can commit a write of any size; the store
/// refuses keys and values past their limits, whole and on every replica alike.
#[test]
fn writes_past_the_key_or_value_limit_are_refused_whole() {
    let mut kv = KvState::default();
    let long_key = "k".repeat(KEY_BYTES_MAX + 1);
    let long_value = "v".repeat(VALUE_BYTES_MAX + 1);
    let key_refused = Outcome::TooLarge {
        size_bytes: (KEY_BYTES_MAX + 1) as u64,
        max_bytes: KEY_BYTES_MAX as u64,
    };
    let value_refused = Outcome::TooLarge {
        size_bytes: (VALUE_BYTES_MAX + 1) as u64,
        max_bytes: VALUE_BYTES_MAX as u64,
    };
    let put = |key: &str, value: &str| Op::Put {
        key: key.into(),
        value: value.into(),
    };
    assert_eq!(kv.apply(&put(&long_key, "v")), key_refused);
    assert_eq!(kv.apply(&put("k", &long_value)), value_refused);
    let cas = Op::Cas {
        key: "k".into(),
        expected: None,
        new: long_value.clone(),
    };
    assert_eq!(kv.apply(&cas), value_refused);
    assert_eq!(
        kv.apply(&Op::Incr {
            key: long_key.clone()
        }),
        key_refused
    );
    let many = Op::PutMany {
        pairs: vec![("a".into(), "1".into()), ("b".into(), long_value)],
    };
    assert_eq!(kv.apply(&many), value_refused);
    assert!(kv.is_empty(), "nothing of a refused write is stored");
    let at_the_limit = put(&"k".repeat(KEY_BYTES_MAX), &"v".repeat(VALUE_BYTES_MAX));
    assert_eq!(kv.apply(&at_the_limit), Outcome::Done);
}
