//! Rebalancing: from the current shard → group assignment and the set of live groups,
//! the assignment after a Join or a Leave. A pure function, so every replica computes
//! the same answer from the same log entry, and tests can check it alone.
//!
//! # What it guarantees
//!
//! - **Live owners**: every shard belongs to a live group; with no groups, to group 0.
//! - **Balance**: with `G` groups and `N` shards, every group holds `N / G` or
//!   `N / G + 1` shards (so max − min ≤ 1; with more groups than shards, each holds 0
//!   or 1).
//! - **Determinism**: the result depends only on the values given (a slice and an
//!   ordered set), never on the order groups were joined or listed.
//! - **Minimal movement**: a shard moves only if its owner is gone (or is group 0) or
//!   its owner holds more than its target; a group within its target loses nothing.
//!
//! # Why the movement is minimal
//!
//! Let `c_g` be how many shards live group `g` holds now, `b = N / G`, `e = N % G`.
//! Any balanced result gives `e` groups a target of `b + 1` and the rest `b`; a shard
//! can stay put only if its owner is live and keeps at most its target, so at most
//! `Σ_g min(c_g, t_g)` shards stay and at least `N − Σ_g min(c_g, t_g)` move, whatever
//! the result. That sum is largest when the `b + 1` targets go to the groups holding
//! the most shards: swapping a larger target from a group with fewer shards to one with
//! more never lowers it, because `min(c, b + 1) − min(c, b)` (1 if `c > b`, else 0) does
//! not decrease as `c` grows. [`targets`] hands them out that way, and [`rebalance`]
//! keeps exactly `min(c_g, t_g)` shards of each live group (it frees only departed
//! owners' shards and each group's surplus over its target), so it moves exactly the
//! lower bound, [`min_moves`].

use std::collections::{BTreeMap, BTreeSet};

use super::config::Gid;

/// The new owner of every shard, given the current owners and the live groups.
pub fn rebalance(shards: &[Gid], groups: &BTreeSet<Gid>) -> Vec<Gid> {
    if groups.is_empty() {
        return vec![0; shards.len()];
    }
    let targets = targets(shards, groups);
    let mut held: BTreeMap<Gid, usize> = groups.iter().map(|&g| (g, 0)).collect();
    let mut next = shards.to_vec();
    let mut free = Vec::new();
    // Each live group keeps its lowest-numbered shards up to its target; everything else
    // (departed owners, group 0, surpluses) is freed, in shard order.
    for (shard, owner) in shards.iter().enumerate() {
        match (held.get_mut(owner), targets.get(owner)) {
            (Some(n), Some(&t)) if *n < t => *n += 1,
            _ => free.push(shard),
        }
    }
    // Freed shards fill the groups below their targets, in gid order.
    let mut free = free.into_iter();
    for (&gid, &target) in &targets {
        for _ in held[&gid]..target {
            let shard = free.next().expect("targets sum to the number of shards");
            next[shard] = gid;
        }
    }
    assert!(free.next().is_none(), "every freed shard found a group");
    debug_assert_eq!(moves(shards, &next), min_moves(shards, groups));
    next
}

/// How many shards each live group should hold: `N / G`, plus one for the `N % G`
/// groups holding the most shards now (ties to the lower gid), which is what keeps
/// movement minimal (see the module docs).
pub fn targets(shards: &[Gid], groups: &BTreeSet<Gid>) -> BTreeMap<Gid, usize> {
    if groups.is_empty() {
        return BTreeMap::new();
    }
    let counts = counts(shards, groups);
    let (base, extra) = (shards.len() / groups.len(), shards.len() % groups.len());
    let mut by_holding: Vec<(Gid, usize)> = counts.into_iter().collect();
    // Stable sort over gid order: equal holdings stay in gid order.
    by_holding.sort_by_key(|&(_, held)| std::cmp::Reverse(held));
    let targets: BTreeMap<Gid, usize> = by_holding
        .iter()
        .enumerate()
        .map(|(rank, &(gid, _))| (gid, base + usize::from(rank < extra)))
        .collect();
    assert_eq!(targets.values().sum::<usize>(), shards.len());
    targets
}

/// The fewest shards any balanced assignment over `groups` must move from `shards`:
/// `N − Σ_g min(c_g, t_g)` with the targets of [`targets`].
pub fn min_moves(shards: &[Gid], groups: &BTreeSet<Gid>) -> usize {
    if groups.is_empty() {
        return shards.iter().filter(|&&g| g != 0).count();
    }
    let counts = counts(shards, groups);
    let kept: usize = targets(shards, groups)
        .iter()
        .map(|(gid, &t)| counts[gid].min(t))
        .sum();
    shards.len() - kept
}

/// How many shards have a different owner in `after` than in `before`.
pub fn moves(before: &[Gid], after: &[Gid]) -> usize {
    assert_eq!(before.len(), after.len(), "the number of shards is fixed");
    before.iter().zip(after).filter(|(a, b)| a != b).count()
}

/// How many shards each live group holds (0 for a group holding none).
fn counts(shards: &[Gid], groups: &BTreeSet<Gid>) -> BTreeMap<Gid, usize> {
    let mut counts: BTreeMap<Gid, usize> = groups.iter().map(|&g| (g, 0)).collect();
    for owner in shards {
        if let Some(n) = counts.get_mut(owner) {
            *n += 1;
        }
    }
    counts
}

#[cfg(test)]
pub(crate) mod tests;
