use std::collections::BTreeMap;

use super::*;

fn config(num: u64, shards: [Gid; SHARDS]) -> Config {
    let mut groups = BTreeMap::new();
    for &g in shards.iter().filter(|&&g| g != 0) {
        groups.insert(g, vec![format!("{g}")]);
    }
    Config {
        num,
        shards: shards.to_vec(),
        groups,
    }
}

fn step(kv: &mut ShardKv, gid: Gid, config: &Config) -> ShardOutput {
    let op = ShardOp::Reconfigure {
        gid,
        config: config.clone(),
    };
    kv.apply_in_session(0, 0, &op)
}

fn put(kv: &mut ShardKv, client: ClientId, seq: u64, key: &str, value: &str) -> ShardOutput {
    let op = ShardOp::Append {
        key: key.into(),
        value: value.into(),
    };
    kv.apply_in_session(client, seq, &op)
}

fn get(kv: &ShardKv, key: &str) -> ShardOutput {
    kv.query(&ShardQuery::Get { key: key.into() })
}

/// "a" is shard 7 (97 mod 10).
const A_SHARD: Shard = 7;

#[test]
fn a_shard_moves_with_its_sessions_and_is_deleted_once_delivered() {
    let c1 = config(1, [1; SHARDS]);
    let mut c2 = c1.clone();
    c2.num = 2;
    c2.shards[A_SHARD] = 2;
    c2.groups.insert(2, vec!["2".into()]);
    let (mut g1, mut g2) = (ShardKv::default(), ShardKv::default());
    assert_eq!(step(&mut g1, 1, &c1), ShardOutput::Stepped(true));
    assert_eq!(step(&mut g2, 2, &c1), ShardOutput::Stepped(true));
    assert_eq!(put(&mut g1, 9, 1, "a", "x"), ShardOutput::Done);
    assert_eq!(put(&mut g2, 9, 1, "a", "x"), ShardOutput::WrongGroup);

    assert_eq!(step(&mut g1, 1, &c2), ShardOutput::Stepped(true));
    assert_eq!(step(&mut g2, 2, &c2), ShardOutput::Stepped(true));
    assert_eq!(
        get(&g1, "a"),
        ShardOutput::WrongGroup,
        "frozen once given away"
    );
    assert_eq!(get(&g2, "a"), ShardOutput::WrongGroup, "not arrived yet");
    assert_eq!(g2.pending_moves(), (vec![(A_SHARD, 1)], vec![]));
    assert!(!g1.settled() && !g2.settled());

    let fetched = g1.query(&ShardQuery::Fetch {
        shard: A_SHARD,
        num: 2,
    });
    let ShardOutput::Shard { data, .. } = fetched else {
        panic!("the old owner hands the shard out: {fetched:?}")
    };
    let install = ShardOp::Install {
        shard: A_SHARD,
        num: 2,
        data,
    };
    assert_eq!(
        g2.apply_in_session(0, 0, &install),
        ShardOutput::Stepped(true)
    );
    assert_eq!(
        g2.apply_in_session(0, 0, &install),
        ShardOutput::Stepped(false)
    );
    assert_eq!(
        get(&g2, "a"),
        ShardOutput::Value(Some("x".into())),
        "served at once"
    );
    // The retry of (9, 1) crosses the migration: the session came along.
    assert_eq!(put(&mut g2, 9, 1, "a", "x"), ShardOutput::Done);
    assert_eq!(get(&g2, "a"), ShardOutput::Value(Some("x".into())));

    let delete = ShardOp::Delete {
        shard: A_SHARD,
        num: 2,
    };
    let deleted = ShardOutput::Deleted {
        shard: A_SHARD,
        num: 2,
    };
    assert_eq!(g1.apply_in_session(5, 1, &delete), deleted);
    assert!(!g1.slots().contains_key(&A_SHARD) && g1.settled());
    assert_eq!(g1.apply_in_session(5, 1, &delete), deleted, "idempotent");
    let delivered = ShardOp::Delivered {
        shard: A_SHARD,
        num: 2,
    };
    assert_eq!(
        g2.apply_in_session(0, 0, &delivered),
        ShardOutput::Stepped(true)
    );
    assert!(g2.settled());
}

#[test]
fn steps_one_configuration_at_a_time_and_only_when_settled() {
    let c1 = config(1, [1; SHARDS]);
    let mut c3 = c1.clone();
    c3.num = 3;
    let mut g = ShardKv::default();
    assert_eq!(
        step(&mut g, 1, &c3),
        ShardOutput::Stepped(false),
        "skips one"
    );
    assert_eq!(step(&mut g, 1, &c1), ShardOutput::Stepped(true));
    assert_eq!(
        step(&mut g, 1, &c1),
        ShardOutput::Stepped(false),
        "a duplicate"
    );
    let mut c2 = config(2, [2; SHARDS]);
    c2.groups.insert(1, vec!["1".into()]);
    assert_eq!(step(&mut g, 1, &c2), ShardOutput::Stepped(true));
    let mut c3 = c2.clone();
    c3.num = 3;
    assert_eq!(
        step(&mut g, 1, &c3),
        ShardOutput::Stepped(false),
        "still leaving"
    );
}

#[test]
fn snapshots_round_trip_and_refuse_nonsense() {
    let mut g = ShardKv::default();
    assert_eq!(
        step(&mut g, 1, &config(1, [1; SHARDS])),
        ShardOutput::Stepped(true)
    );
    put(&mut g, 3, 1, "k", "v");
    assert_eq!(ShardKv::restore(&g.snapshot()), Ok(g.clone()));
    g.slots
        .insert(SHARDS, (Status::Serving, ShardData::default()));
    assert!(ShardKv::restore(&g.snapshot()).is_err());
}
