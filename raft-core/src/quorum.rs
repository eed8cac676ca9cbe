//! Majority arithmetic as pure functions, for one voter set and for joint configurations
//! (where a decision needs a majority of the incoming **and** of the outgoing voters).

use std::collections::BTreeSet;

use crate::types::{Index, NodeId};

/// The smallest number of voters that forms a majority of `voters`.
pub fn majority(voters: usize) -> usize {
    voters / 2 + 1
}

/// The highest index that a majority of voters has matched, given each voter's match.
/// An empty voter set commits nothing.
pub fn committed_index(matches: &[Index]) -> Index {
    committed_index_of(matches.len(), matches.iter().copied())
}

/// Voter sets up to this size are ranked on the stack: a leader computes its commit
/// index on every acknowledgement, and a heap copy per call showed in profiles.
const STACK_VOTERS: usize = 16;

/// [`committed_index`] of exactly `n` matches given one by one.
fn committed_index_of(n: usize, matches: impl Iterator<Item = Index>) -> Index {
    if n <= STACK_VOTERS {
        let mut buf = [0; STACK_VOTERS];
        let mut len = 0;
        for m in matches {
            buf[len] = m;
            len += 1;
        }
        assert_eq!(len, n, "the caller counted the matches");
        majority_matched(&mut buf[..len])
    } else {
        majority_matched(&mut matches.collect::<Vec<_>>())
    }
}

/// The `majority`-th largest of `matches` (reordering them); 0 for none.
fn majority_matched(matches: &mut [Index]) -> Index {
    if matches.is_empty() {
        return 0;
    }
    let k = majority(matches.len()) - 1;
    *matches.select_nth_unstable_by(k, |a, b| b.cmp(a)).1
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteResult {
    Won,
    Lost,
    Pending,
}

/// The outcome of an election given each voter's answer so far (`None` = not yet heard).
pub fn vote_result(voters: &[NodeId], answer: impl Fn(NodeId) -> Option<bool>) -> VoteResult {
    let (mut granted, mut rejected) = (0, 0);
    for &v in voters {
        match answer(v) {
            Some(true) => granted += 1,
            Some(false) => rejected += 1,
            None => {}
        }
    }
    let need = majority(voters.len());
    if granted >= need {
        VoteResult::Won
    } else if rejected > voters.len() - need {
        VoteResult::Lost
    } else {
        VoteResult::Pending
    }
}

/// The highest index committed under a possibly joint configuration: the lower of the
/// two halves' majority-matched indexes. An empty outgoing half (not joint) constrains
/// nothing.
pub fn joint_committed_index(
    voters: &BTreeSet<NodeId>,
    outgoing: &BTreeSet<NodeId>,
    matched: impl Fn(NodeId) -> Index,
) -> Index {
    let half =
        |set: &BTreeSet<NodeId>| committed_index_of(set.len(), set.iter().map(|&id| matched(id)));
    if outgoing.is_empty() {
        half(voters)
    } else {
        half(voters).min(half(outgoing))
    }
}

/// An election under a possibly joint configuration: won once both halves are won, lost
/// once either is lost.
pub fn joint_vote_result(
    voters: &BTreeSet<NodeId>,
    outgoing: &BTreeSet<NodeId>,
    answer: impl Fn(NodeId) -> Option<bool>,
) -> VoteResult {
    let incoming: Vec<NodeId> = voters.iter().copied().collect();
    let first = vote_result(&incoming, &answer);
    if outgoing.is_empty() {
        return first;
    }
    let outgoing: Vec<NodeId> = outgoing.iter().copied().collect();
    match (first, vote_result(&outgoing, &answer)) {
        (VoteResult::Lost, _) | (_, VoteResult::Lost) => VoteResult::Lost,
        (VoteResult::Won, VoteResult::Won) => VoteResult::Won,
        _ => VoteResult::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;

    #[test]
    fn committed_index_table() {
        let cases: &[(&[Index], Index)] = &[
            (&[], 0),
            (&[5], 5),
            (&[5, 3], 3),
            (&[5, 3, 1], 3),
            (&[1, 3, 5], 3),
            (&[2, 2, 9, 9], 2),
            (&[4, 8, 8, 1, 0], 4),
            (&[0, 0, 0, 7, 7], 0),
        ];
        for (matches, want) in cases {
            assert_eq!(committed_index(matches), *want, "matches {matches:?}");
        }
    }

    #[test]
    fn vote_result_table() {
        use VoteResult::*;
        let voters = [1, 2, 3];
        let cases: &[(&[Option<bool>], VoteResult)] = &[
            (&[Some(true), None, None], Pending),
            (&[Some(true), Some(true), None], Won),
            (&[Some(true), Some(false), None], Pending),
            (&[Some(true), Some(false), Some(false)], Lost),
            (&[Some(false), Some(false), None], Lost),
        ];
        for (answers, want) in cases {
            let got = vote_result(&voters, |id| answers[(id - 1) as usize]);
            assert_eq!(got, *want, "answers {answers:?}");
        }
        assert_eq!(vote_result(&[1], |_| Some(true)), Won);
    }

    quickcheck! {
        /// Against the definition: the largest x such that a majority has match >= x.
        fn committed_index_is_largest_majority_matched(matches: Vec<u8>) -> bool {
            let matches: Vec<Index> = matches.into_iter().map(Index::from).collect();
            if matches.is_empty() { return committed_index(&matches) == 0; }
            let need = majority(matches.len());
            let brute = (0..=255u64)
                .filter(|x| matches.iter().filter(|m| *m >= x).count() >= need)
                .max()
                .unwrap_or(0);
            committed_index(&matches) == brute
        }

        /// Won and Lost are final: no assignment of the unheard voters changes them.
        fn vote_result_agrees_with_brute_force(answers: Vec<Option<bool>>) -> bool {
            let n = answers.len().min(9);
            if n == 0 { return true; }
            let voters: Vec<NodeId> = (1..=n as NodeId).collect();
            let got = vote_result(&voters, |id| answers[(id - 1) as usize]);
            let unheard: Vec<usize> = (0..n).filter(|&i| answers[i].is_none()).collect();
            let (mut can_win, mut can_lose) = (false, false);
            for mask in 0..(1u32 << unheard.len()) {
                let granted = (0..n).filter(|&i| match answers[i] {
                    Some(g) => g,
                    None => mask >> unheard.iter().position(|&u| u == i).unwrap() & 1 == 1,
                }).count();
                if granted >= majority(n) { can_win = true } else { can_lose = true }
            }
            match got {
                VoteResult::Won => !can_lose,
                VoteResult::Lost => !can_win,
                VoteResult::Pending => can_win && can_lose,
            }
        }
    }
}

#[cfg(test)]
mod joint_tests;
