//! Rebalancing as a table of cases (each with its expected assignment, checked
//! exactly), then as properties over arbitrary assignments and group sets.

use std::collections::BTreeSet;

use quickcheck::{quickcheck, Arbitrary, Gen, TestResult};

use super::*;

fn set(gids: &[Gid]) -> BTreeSet<Gid> {
    gids.iter().copied().collect()
}

#[test]
fn table() {
    struct Case {
        name: &'static str,
        shards: Vec<Gid>,
        groups: Vec<Gid>,
        want: Vec<Gid>,
    }
    let case = |name, shards: &[Gid], groups: &[Gid], want: &[Gid]| Case {
        name,
        shards: shards.to_vec(),
        groups: groups.to_vec(),
        want: want.to_vec(),
    };
    let cases = [
        case("first join takes all", &[0; 4], &[7], &[7; 4]),
        case("no groups: all to 0", &[1, 2, 1, 2], &[], &[0; 4]),
        case(
            "two on empty, lower gid first",
            &[0; 5],
            &[1, 2],
            &[1, 1, 1, 2, 2],
        ),
        case(
            "join: the surplus moves, lowest shards stay",
            &[1; 4],
            &[1, 2],
            &[1, 1, 2, 2],
        ),
        case(
            "join a third: one from each",
            &[1, 1, 1, 2, 2, 2],
            &[1, 2, 3],
            &[1, 1, 3, 2, 2, 3],
        ),
        case(
            "leave: only the leaver's shards move",
            &[1, 2, 3, 1, 2, 3],
            &[1, 2],
            &[1, 2, 1, 1, 2, 2],
        ),
        case(
            "the extra goes to the bigger holder",
            &[1, 2, 2, 2, 0],
            &[1, 2],
            &[1, 2, 2, 2, 1],
        ),
        case(
            "tie for the extra: lower gid",
            &[1, 1, 2, 2, 0],
            &[1, 2],
            &[1, 1, 2, 2, 1],
        ),
        case(
            "more groups than shards: holders keep",
            &[5, 6],
            &[4, 5, 6],
            &[5, 6],
        ),
        case(
            "more groups than shards: one each at most",
            &[5, 5],
            &[4, 5, 6],
            &[5, 4],
        ),
        case(
            "balanced stays put",
            &[3, 1, 2, 3, 1, 2],
            &[1, 2, 3],
            &[3, 1, 2, 3, 1, 2],
        ),
        case(
            "after moves: unbalance repaired",
            &[1, 1, 1, 1, 1, 2],
            &[1, 2],
            &[1, 1, 1, 2, 2, 2],
        ),
        case(
            "a departed owner's shard and a surplus",
            &[9, 1, 1, 1],
            &[1, 2],
            &[2, 1, 1, 2],
        ),
    ];
    for c in cases {
        let got = rebalance(&c.shards, &set(&c.groups));
        assert_eq!(got, c.want, "{}", c.name);
        let moved = moves(&c.shards, &got);
        assert_eq!(moved, min_moves(&c.shards, &set(&c.groups)), "{}", c.name);
    }
}

#[test]
fn min_moves_by_hand() {
    // 10 shards on one group; a second joins: 5 must move.
    assert_eq!(min_moves(&[1; 10], &set(&[1, 2])), 5);
    // 10 on three groups 4/3/3; a fourth joins: targets 3,3,2,2 (the larger ones to the
    // larger holders) — one shard from group 1, one from group 3.
    let s = [1, 1, 1, 1, 2, 2, 2, 3, 3, 3];
    assert_eq!(min_moves(&s, &set(&[1, 2, 3, 4])), 2);
    // Group 3 leaves: its 3 shards move, nothing else.
    assert_eq!(min_moves(&s, &set(&[1, 2])), 3);
}

/// An assignment of up to 40 shards over gids 0..12 (0 and some gids may be dead),
/// and a set of live groups drawn from 1..12.
#[derive(Clone, Debug)]
struct Scenario {
    shards: Vec<Gid>,
    groups: BTreeSet<Gid>,
}

impl Arbitrary for Scenario {
    fn arbitrary(g: &mut Gen) -> Self {
        let n = 1 + usize::arbitrary(g) % 40;
        let gid = |g: &mut Gen| u64::arbitrary(g) % 12;
        let shards = (0..n).map(|_| gid(g)).collect();
        let k = usize::arbitrary(g) % 12;
        let groups = (0..k).map(|_| 1 + u64::arbitrary(g) % 11).collect();
        Scenario { shards, groups }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        let groups = self.groups.clone();
        let fewer_shards = self.shards.shrink().filter(|s| !s.is_empty()).map({
            let groups = groups.clone();
            move |shards| Scenario {
                shards,
                groups: groups.clone(),
            }
        });
        let shards = self.shards.clone();
        let fewer_groups = groups
            .into_iter()
            .collect::<Vec<_>>()
            .shrink()
            .map(move |g| Scenario {
                shards: shards.clone(),
                groups: g.into_iter().collect(),
            });
        Box::new(fewer_shards.chain(fewer_groups))
    }
}

/// Every shard on a live group (0 when none), and counts within one of each other.
fn balanced(s: &[Gid], groups: &BTreeSet<Gid>) -> bool {
    if groups.is_empty() {
        return s.iter().all(|&g| g == 0);
    }
    let counts = counts(s, groups);
    let (min, max) = (counts.values().min(), counts.values().max());
    let base = s.len() / groups.len();
    s.iter().all(|g| groups.contains(g))
        && max.zip(min).is_some_and(|(max, min)| max - min <= 1)
        && counts.values().all(|&c| c == base || c == base + 1)
}

quickcheck! {
    fn result_is_balanced_on_live_groups(sc: Scenario) -> bool {
        balanced(&rebalance(&sc.shards, &sc.groups), &sc.groups)
    }

    /// The moves equal the lower bound, and no shard leaves a live group that held no
    /// more than its target.
    fn movement_is_minimal(sc: Scenario) -> bool {
        let after = rebalance(&sc.shards, &sc.groups);
        let targets = targets(&sc.shards, &sc.groups);
        let held = counts(&sc.shards, &sc.groups);
        let robbed = sc.shards.iter().zip(&after).any(|(b, a)| {
            a != b && held.get(b).is_some_and(|&c| c <= targets[b])
        });
        moves(&sc.shards, &after) == min_moves(&sc.shards, &sc.groups) && !robbed
    }

    /// The bound is a bound: it never exceeds the moves of a brute-force balanced
    /// assignment that keeps as many shards as any can (checked against the slow
    /// definition: try every way to hand out the `N % G` larger targets).
    fn min_moves_matches_brute_force(sc: Scenario) -> TestResult {
        if sc.groups.len() > 8 || sc.groups.is_empty() {
            return TestResult::discard();
        }
        let gids: Vec<Gid> = sc.groups.iter().copied().collect();
        let held = counts(&sc.shards, &sc.groups);
        let (base, extra) = (sc.shards.len() / gids.len(), sc.shards.len() % gids.len());
        let best_kept = (0u32..1 << gids.len())
            .filter(|m| m.count_ones() as usize == extra)
            .map(|m| {
                gids.iter().enumerate().map(|(i, g)| {
                    held[g].min(base + usize::from(m & (1 << i) != 0))
                }).sum::<usize>()
            })
            .max()
            .expect("some choice of larger targets");
        TestResult::from_bool(min_moves(&sc.shards, &sc.groups) == sc.shards.len() - best_kept)
    }

    /// A Join's worth of new groups, added in any order, gives one answer; so does a
    /// Leave's list of departing gids in any order.
    fn order_of_groups_does_not_matter(sc: Scenario, seed: u64) -> bool {
        let mut listed: Vec<Gid> = sc.groups.iter().copied().collect();
        shuffle(&mut listed, seed);
        let mut built = BTreeSet::new();
        for g in listed {
            built.insert(g);
        }
        rebalance(&sc.shards, &built) == rebalance(&sc.shards, &sc.groups)
    }

    /// Joining groups one call at a time from a balanced start moves shards only to the
    /// newcomers: no shard changes hands between groups that were already there.
    fn join_moves_only_to_newcomers(sc: Scenario, new: Vec<u8>) -> bool {
        let start = rebalance(&sc.shards, &sc.groups);
        let mut groups = sc.groups.clone();
        groups.extend(new.iter().map(|&g| 100 + Gid::from(g % 20)));
        let after = rebalance(&start, &groups);
        start.iter().zip(&after).all(|(b, a)| a == b || !sc.groups.contains(a))
            && balanced(&after, &groups)
    }

    /// Leaving moves only the leavers' shards.
    fn leave_moves_only_the_leavers_shards(sc: Scenario, leaving: Vec<u8>) -> bool {
        let start = rebalance(&sc.shards, &sc.groups);
        let gone: BTreeSet<Gid> = leaving.iter().map(|&g| Gid::from(g % 12)).collect();
        let groups: BTreeSet<Gid> = sc.groups.difference(&gone).copied().collect();
        let after = rebalance(&start, &groups);
        let stays = start.iter().zip(&after).all(|(b, a)| a == b || !groups.contains(b));
        // With more groups than shards a leaver may hold none: nothing moves then.
        stays && moves(&start, &after) == min_moves(&start, &groups)
    }

    fn rebalancing_twice_changes_nothing(sc: Scenario) -> bool {
        let once = rebalance(&sc.shards, &sc.groups);
        rebalance(&once, &sc.groups) == once
    }
}

/// Fisher–Yates with a small LCG: quickcheck hands us the seed, so a failure shrinks.
pub(crate) fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut x = seed | 1;
    for i in (1..items.len()).rev() {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        items.swap(i, (x >> 33) as usize % (i + 1));
    }
}
