//! What a configuration must satisfy, as pure checks over what clients read: the
//! course's check (groups, live owners, balance) and minimal transfers, computed here
//! from the definitions rather than with the controller's own code.

use std::collections::{BTreeMap, BTreeSet};

use kv_core::{Config, Gid};

/// Exactly the groups `gids`, every shard on one of them (when there are any), and
/// shard counts within one of each other.
pub fn check_groups(c: &Config, gids: &[Gid]) -> Result<(), String> {
    let want: BTreeSet<Gid> = gids.iter().copied().collect();
    let have: BTreeSet<Gid> = c.groups.keys().copied().collect();
    if have != want {
        return Err(format!(
            "config {}: groups {have:?}, wanted {want:?}",
            c.num
        ));
    }
    if let Some(s) = c
        .shards
        .iter()
        .position(|g| !want.is_empty() && !want.contains(g))
    {
        return Err(format!(
            "config {}: shard {s} on group {}, not live",
            c.num, c.shards[s]
        ));
    }
    if want.is_empty() && c.shards.iter().any(|&g| g != 0) {
        return Err(format!(
            "config {}: no groups, yet shards {:?}",
            c.num, c.shards
        ));
    }
    let counts = c.shard_counts();
    let (min, max) = (
        counts.values().min().copied(),
        counts.values().max().copied(),
    );
    match min.zip(max) {
        Some((min, max)) if max > min + 1 => Err(format!(
            "config {}: max {max} shards per group, min {min}: {:?}",
            c.num, c.shards
        )),
        _ => Ok(()),
    }
}

/// `after` (made by one Join or Leave from `before`) moved exactly the fewest shards a
/// balanced assignment over its groups can, and none from a live group that ends
/// with as many shards as it began with or more.
pub fn check_minimal(before: &Config, after: &Config) -> Result<(), String> {
    let moved: Vec<usize> = (0..before.shards.len())
        .filter(|&s| before.shards[s] != after.shards[s])
        .collect();
    let bound = fewest_moves(&before.shards, &after.groups.keys().copied().collect());
    if moved.len() != bound {
        return Err(format!(
            "configs {} -> {}: {} shards moved ({moved:?}), the fewest possible is {bound}: {:?} -> {:?}",
            before.num,
            after.num,
            moved.len(),
            before.shards,
            after.shards
        ));
    }
    let held = |c: &Config, g: Gid| c.shards.iter().filter(|&&o| o == g).count();
    let robbed = moved
        .iter()
        .map(|&s| before.shards[s])
        .find(|&g| after.groups.contains_key(&g) && held(after, g) >= held(before, g));
    match robbed {
        Some(g) => Err(format!(
            "configs {} -> {}: group {g} lost a shard it did not have to give up",
            before.num, after.num
        )),
        None => Ok(()),
    }
}

/// A run of changes of one kind, for [`check_stayed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    Joins,
    Leaves,
}

/// The course's "minimal transfers" check, over the real gids (`stayers`: groups in
/// both `from` and `to`). After a run of joins, a shard that ends on a stayer was
/// already there (shards go only to newcomers); after a run of leaves, a stayer's shard
/// is still there (only the leavers' shards move).
pub fn check_stayed(from: &Config, to: &Config, run: Run) -> Result<(), String> {
    let stayers: BTreeSet<Gid> = from
        .groups
        .keys()
        .filter(|g| to.groups.contains_key(g))
        .copied()
        .collect();
    let moved = (0..from.shards.len()).find(|&s| {
        let (a, b) = (from.shards[s], to.shards[s]);
        let pinned = match run {
            Run::Joins => b,
            Run::Leaves => a,
        };
        a != b && stayers.contains(&pinned)
    });
    match moved {
        Some(s) => Err(format!(
            "non-minimal transfer after {run:?}: shard {s} went from {} to {} (configs {} -> {})",
            from.shards[s], to.shards[s], from.num, to.num
        )),
        None => Ok(()),
    }
}

/// The lower bound on moves, from its definition: with `b = N / G` and `e = N % G`, a
/// balanced result gives `e` groups `b + 1` shards and the rest `b`; at most
/// `min(held, target)` of a group's shards stay; the most stay when the larger targets
/// go to the largest holders.
fn fewest_moves(shards: &[Gid], groups: &BTreeSet<Gid>) -> usize {
    if groups.is_empty() {
        return shards.iter().filter(|&&g| g != 0).count();
    }
    let mut held: BTreeMap<Gid, usize> = groups.iter().map(|&g| (g, 0)).collect();
    for g in shards {
        if let Some(n) = held.get_mut(g) {
            *n += 1;
        }
    }
    let mut counts: Vec<usize> = held.into_values().collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let (base, extra) = (shards.len() / groups.len(), shards.len() % groups.len());
    let kept: usize = counts
        .iter()
        .enumerate()
        .map(|(rank, &c)| c.min(base + usize::from(rank < extra)))
        .sum();
    shards.len() - kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(num: u64, shards: &[Gid], gids: &[Gid]) -> Config {
        Config {
            num,
            shards: shards.to_vec(),
            groups: gids.iter().map(|&g| (g, vec![format!("{g}a")])).collect(),
        }
    }

    #[test]
    fn the_checks_catch_what_they_claim_to() {
        let before = config(1, &[1, 1, 1, 2, 2, 2], &[1, 2]);
        let good = config(2, &[1, 1, 3, 2, 2, 3], &[1, 2, 3]);
        assert_eq!(check_minimal(&before, &good), Ok(()));
        assert_eq!(check_stayed(&before, &good, Run::Joins), Ok(()));
        let too_many = config(2, &[3, 3, 1, 1, 2, 2], &[1, 2, 3]);
        assert!(check_minimal(&before, &too_many).is_err());
        assert!(check_stayed(&before, &too_many, Run::Joins).is_err());
        let left = config(3, &[1, 1, 1, 2, 2, 2], &[1, 2]);
        assert_eq!(check_stayed(&good, &left, Run::Leaves), Ok(()));
        let shuffled = config(3, &[2, 1, 1, 1, 2, 2], &[1, 2]);
        assert!(check_stayed(&good, &shuffled, Run::Leaves).is_err());
        let three = config(1, &[1, 1, 2, 3], &[1, 2, 3]);
        let swapped = config(2, &[1, 3, 2, 4], &[1, 2, 3, 4]);
        assert!(
            check_minimal(&three, &swapped).is_err(),
            "two moves where one does"
        );
        assert!(check_stayed(&three, &swapped, Run::Joins).is_err());
        assert!(check_groups(&config(3, &[1, 1, 1, 2], &[1, 2]), &[1, 2]).is_err());
        assert!(check_groups(&config(3, &[1, 1, 5, 2], &[1, 2]), &[1, 2]).is_err());
        assert!(check_groups(&config(3, &[1, 1, 2, 2], &[1, 2]), &[1]).is_err());
        assert_eq!(
            check_groups(&config(3, &[1, 2, 2, 1], &[1, 2]), &[2, 1]),
            Ok(())
        );
    }
}
