//! The controller's operations one by one: configurations made and kept, typed refusals
//! for hostile inputs (which change nothing), queries out of range, snapshots, and
//! determinism of a Join or Leave whatever order its groups are listed in.

use std::collections::BTreeMap;

use quickcheck::quickcheck;

use super::*;
use crate::shardctrl::rebalance::tests::shuffle;

fn servers(gid: Gid) -> Vec<String> {
    vec![format!("{gid}a"), format!("{gid}b")]
}

fn join(gids: &[Gid]) -> Change {
    Change::Join {
        groups: gids.iter().map(|&g| (g, servers(g))).collect(),
    }
}

fn leave(gids: &[Gid]) -> Change {
    Change::Leave {
        gids: gids.to_vec(),
    }
}

fn configured<const N: usize>(ctrl: &mut ShardCtrl<N>, change: Change) -> u64 {
    match ctrl.apply(&change) {
        CtrlOutcome::Configured { num } => num,
        other => panic!("{change:?} answered {other:?}"),
    }
}

fn refused<const N: usize>(ctrl: &mut ShardCtrl<N>, change: Change) -> CtrlError {
    let before = ctrl.clone();
    let CtrlOutcome::Refused(e) = ctrl.apply(&change) else {
        panic!("{change:?} was accepted");
    };
    assert_eq!(*ctrl, before, "a refused {change:?} changed nothing");
    e
}

#[test]
fn configuration_zero_has_every_shard_on_group_zero() {
    let ctrl = ShardCtrl::<DEFAULT_SHARDS>::default();
    assert_eq!(*ctrl.latest(), Config::initial(10));
    assert_eq!(ctrl.query(&None), CtrlOutcome::Config(Config::initial(10)));
    assert_eq!(ShardCtrl::<3>::default().latest().shards, vec![0; 3]);
}

#[test]
fn every_accepted_write_makes_one_configuration_and_history_is_kept() {
    let mut ctrl: ShardCtrl = ShardCtrl::default();
    assert_eq!(configured(&mut ctrl, join(&[1])), 1);
    assert_eq!(ctrl.latest().shards, vec![1; 10]);
    assert_eq!(configured(&mut ctrl, join(&[2, 3])), 2);
    assert_eq!(ctrl.latest().shard_counts().values().sum::<usize>(), 10);
    let two = ctrl.latest().clone();
    // A move to the shard's current owner still makes a configuration (the course's rule).
    let owner = two.shards[0];
    assert_eq!(
        configured(
            &mut ctrl,
            Change::Move {
                shard: 0,
                gid: owner
            }
        ),
        3
    );
    assert_eq!(ctrl.latest().shards, two.shards);
    let other = if owner == 1 { 2 } else { 1 };
    assert_eq!(
        configured(
            &mut ctrl,
            Change::Move {
                shard: 0,
                gid: other
            }
        ),
        4
    );
    assert_eq!(ctrl.latest().shards[0], other, "moved, not rebalanced");
    assert_eq!(configured(&mut ctrl, leave(&[1, 2, 3])), 5);
    assert_eq!(
        ctrl.latest().shards,
        vec![0; 10],
        "no groups: back to group 0"
    );
    assert_eq!(ctrl.query(&Some(2)), CtrlOutcome::Config(two));
    assert_eq!(ctrl.config(Some(0)), &Config::initial(10));
}

#[test]
fn queries_beyond_the_latest_get_the_latest() {
    let mut ctrl: ShardCtrl = ShardCtrl::default();
    configured(&mut ctrl, join(&[4]));
    let latest = CtrlOutcome::Config(ctrl.latest().clone());
    for num in [None, Some(2), Some(u64::MAX)] {
        assert_eq!(ctrl.query(&num), latest, "{num:?}");
    }
}

#[test]
fn hostile_writes_are_refused_with_a_reason_and_change_nothing() {
    let mut ctrl: ShardCtrl = ShardCtrl::default();
    configured(&mut ctrl, join(&[1, 2]));
    let no_servers = Change::Join {
        groups: BTreeMap::from([(5, servers(5)), (6, vec![])]),
    };
    let cases = [
        (join(&[]), CtrlError::Empty),
        (leave(&[]), CtrlError::Empty),
        (join(&[0]), CtrlError::ReservedGid),
        (join(&[3, 0]), CtrlError::ReservedGid),
        (join(&[2]), CtrlError::AlreadyJoined { gid: 2 }),
        (join(&[3, 2]), CtrlError::AlreadyJoined { gid: 2 }),
        (no_servers, CtrlError::NoServers { gid: 6 }),
        (leave(&[7]), CtrlError::UnknownGroup { gid: 7 }),
        (leave(&[1, 9, 8]), CtrlError::UnknownGroup { gid: 8 }),
        (leave(&[0]), CtrlError::UnknownGroup { gid: 0 }),
        (
            Change::Move { shard: 10, gid: 1 },
            CtrlError::ShardOutOfRange {
                shard: 10,
                shards: 10,
            },
        ),
        (
            Change::Move {
                shard: usize::MAX,
                gid: 1,
            },
            CtrlError::ShardOutOfRange {
                shard: usize::MAX,
                shards: 10,
            },
        ),
        (
            Change::Move { shard: 0, gid: 3 },
            CtrlError::UnknownGroup { gid: 3 },
        ),
        (
            Change::Move { shard: 0, gid: 0 },
            CtrlError::UnknownGroup { gid: 0 },
        ),
    ];
    for (change, want) in cases {
        assert_eq!(refused(&mut ctrl, change.clone()), want, "{change:?}");
    }
    assert_eq!(ctrl.latest().num, 1);
}

#[test]
fn a_gid_listed_twice_in_a_leave_leaves_once() {
    let mut ctrl: ShardCtrl = ShardCtrl::default();
    configured(&mut ctrl, join(&[1, 2, 3]));
    configured(&mut ctrl, leave(&[2, 2]));
    assert_eq!(
        ctrl.latest().groups.keys().copied().collect::<Vec<_>>(),
        [1, 3]
    );
}

#[test]
fn snapshots_round_trip_and_reject_impossible_states() {
    let mut ctrl: ShardCtrl = ShardCtrl::default();
    configured(&mut ctrl, join(&[1, 2]));
    configured(&mut ctrl, Change::Move { shard: 3, gid: 1 });
    let bytes = ctrl.snapshot();
    assert_eq!(ShardCtrl::<10>::restore(&bytes), Ok(ctrl.clone()));
    let other_count = ShardCtrl::<4>::restore(&bytes);
    assert!(
        matches!(other_count, Err(DecodeError::Invalid { .. })),
        "{other_count:?}"
    );
    let mut orphan = ctrl.configs.clone();
    orphan[2].shards[0] = 9;
    let forged = encode(&Saved {
        shards: 10,
        configs: orphan,
    });
    assert!(matches!(
        ShardCtrl::<10>::restore(&forged),
        Err(DecodeError::Invalid { .. })
    ));
    let mut gap = ctrl.configs.clone();
    gap.remove(1);
    let forged = encode(&Saved {
        shards: 10,
        configs: gap,
    });
    assert!(ShardCtrl::<10>::restore(&forged).is_err());
    assert!(ShardCtrl::<10>::restore(&bytes[..bytes.len() / 2]).is_err());
}

quickcheck! {
    /// A Join's groups arrive as a map, so the order the client inserted them in cannot
    /// reach the log; a Leave's list can, and must not matter. Both checked from a
    /// start made of random joins and moves.
    fn join_and_leave_are_order_independent(gids: Vec<u8>, moves: Vec<(u8, u8)>, seed: u64) -> bool {
        let gids: Vec<Gid> = gids.iter().map(|&g| 1 + Gid::from(g % 16)).collect();
        let mut listed = gids.clone();
        shuffle(&mut listed, seed);
        let build = |order: &[Gid]| -> BTreeMap<Gid, Vec<String>> {
            let mut m = BTreeMap::new();
            for &g in order { m.insert(g, servers(g)); }
            m
        };
        let mut a: ShardCtrl = ShardCtrl::default();
        let mut b: ShardCtrl = ShardCtrl::default();
        a.apply(&Change::Join { groups: build(&gids) });
        b.apply(&Change::Join { groups: build(&listed) });
        for &(shard, gid) in &moves {
            let mv = Change::Move { shard: usize::from(shard % 10), gid: 1 + Gid::from(gid % 16) };
            a.apply(&mv);
            b.apply(&mv);
        }
        let half = gids.len() / 2;
        let mut leaving = gids[..half].to_vec();
        a.apply(&leave(&leaving));
        shuffle(&mut leaving, seed.rotate_left(7));
        b.apply(&leave(&leaving));
        a == b && a.latest().invalid_because().is_none()
    }
}
