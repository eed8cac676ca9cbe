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

/// Configuration `num` with every shard at `gid` (0: no group at all).
fn all_at(num: u64, gid: Gid) -> Config {
    config(num, [gid; SHARDS])
}

/// Every group leaves (the controller gives every shard to nobody), then group 2 joins:
/// it pulls the data from group 1, which kept it parked meanwhile.
#[test]
fn a_shard_given_to_nobody_stays_with_its_holder_until_the_next_owner_pulls_it() {
    let (mut g1, mut g2) = (ShardKv::default(), ShardKv::default());
    for (num, gid) in [(1, 1), (2, 0)] {
        assert_eq!(
            step(&mut g1, 1, &all_at(num, gid)),
            ShardOutput::Stepped(true)
        );
        assert_eq!(
            step(&mut g2, 2, &all_at(num, gid)),
            ShardOutput::Stepped(true)
        );
        if num == 1 {
            assert_eq!(put(&mut g1, 9, 1, "a", "x"), ShardOutput::Done);
        }
    }
    assert_eq!(g1.slots()[&A_SHARD].0, Status::Parked);
    assert!(g1.settled(), "a parked shard does not hold its group back");
    assert_eq!(
        get(&g1, "a"),
        ShardOutput::WrongGroup,
        "parked is not served"
    );
    assert_eq!(
        g1.home(1),
        Some(&["1".to_string()][..]),
        "kept after leaving"
    );

    let c3 = all_at(3, 2);
    assert_eq!(step(&mut g1, 1, &c3), ShardOutput::Stepped(true));
    assert_eq!(step(&mut g2, 2, &c3), ShardOutput::Stepped(true));
    assert_eq!(g1.slots()[&A_SHARD].0, Status::Leaving);
    let (pulls, _) = g2.pending_moves();
    assert!(
        pulls.contains(&(A_SHARD, 1)),
        "pulled from the last holder: {pulls:?}"
    );
    assert_eq!(
        g2.home(1),
        Some(&["1".to_string()][..]),
        "group 1's servers"
    );
    let fetched = g1.query(&ShardQuery::Fetch {
        shard: A_SHARD,
        num: 3,
    });
    let ShardOutput::Shard { data, .. } = fetched else {
        panic!("the holder hands the parked shard out: {fetched:?}")
    };
    let install = ShardOp::Install {
        shard: A_SHARD,
        num: 3,
        data,
    };
    assert_eq!(
        g2.apply_in_session(0, 0, &install),
        ShardOutput::Stepped(true)
    );
    assert_eq!(get(&g2, "a"), ShardOutput::Value(Some("x".into())));
}

/// A shard parked at its holder and then given back to it is served again, with its
/// data and sessions; one nobody ever held starts empty.
#[test]
fn a_parked_shard_given_back_to_its_holder_is_served_again() {
    let mut g = ShardKv::default();
    assert_eq!(step(&mut g, 1, &all_at(1, 1)), ShardOutput::Stepped(true));
    assert_eq!(put(&mut g, 9, 1, "a", "x"), ShardOutput::Done);
    assert_eq!(step(&mut g, 1, &all_at(2, 0)), ShardOutput::Stepped(true));
    assert_eq!(step(&mut g, 1, &all_at(3, 1)), ShardOutput::Stepped(true));
    assert!(g.settled(), "nothing to pull from anyone");
    assert_eq!(get(&g, "a"), ShardOutput::Value(Some("x".into())));
    assert_eq!(put(&mut g, 9, 1, "a", "x"), ShardOutput::Done);
    assert_eq!(
        get(&g, "a"),
        ShardOutput::Value(Some("x".into())),
        "the session came back"
    );
    assert_eq!(ShardKv::restore(&g.snapshot()), Ok(g.clone()));

    let mut fresh = ShardKv::default();
    assert_eq!(
        step(&mut fresh, 5, &all_at(1, 5)),
        ShardOutput::Stepped(true)
    );
    assert_eq!(
        fresh.slots()[&A_SHARD].0,
        Status::Serving,
        "never held: empty"
    );
}

/// A configuration the controller could not have made (a shard on a group it does not
/// list) is refused, not applied: it comes from another process.
#[test]
fn an_impossible_configuration_is_refused() {
    let mut g = ShardKv::default();
    let mut bad = all_at(1, 1);
    bad.groups.clear();
    assert_eq!(step(&mut g, 1, &bad), ShardOutput::Stepped(false));
    assert_eq!(g.current().num, 0);
}
