//! Joint-quorum arithmetic against brute force over small random configurations.

use std::collections::BTreeSet;

use quickcheck::quickcheck;

use super::*;

/// Up to seven nodes; each byte's bits say whether node i is incoming and/or outgoing.
fn halves(roles: &[u8]) -> (BTreeSet<NodeId>, BTreeSet<NodeId>) {
    let mut incoming = BTreeSet::new();
    let mut outgoing = BTreeSet::new();
    for (i, r) in roles.iter().take(7).enumerate() {
        let id = i as NodeId + 1;
        if r & 1 == 1 {
            incoming.insert(id);
        }
        if r & 2 == 2 {
            outgoing.insert(id);
        }
    }
    (incoming, outgoing)
}

/// The definition: `set` (if non-empty) has a majority whose members satisfy `ok`.
fn majority_of(set: &BTreeSet<NodeId>, ok: impl Fn(NodeId) -> bool) -> bool {
    set.is_empty() || set.iter().filter(|&&id| ok(id)).count() > set.len() / 2
}

#[test]
fn joint_table() {
    let set = |ids: &[NodeId]| ids.iter().copied().collect::<BTreeSet<_>>();
    let matched = |id: NodeId| [0, 9, 9, 1, 1, 1][id as usize];
    // Incoming {1,2,3} has 9 on a majority; outgoing {3,4,5} only 1.
    assert_eq!(
        joint_committed_index(&set(&[1, 2, 3]), &set(&[]), matched),
        9
    );
    assert_eq!(
        joint_committed_index(&set(&[1, 2, 3]), &set(&[3, 4, 5]), matched),
        1
    );
    let answer =
        |id: NodeId| [None, Some(true), Some(true), None, Some(false), Some(false)][id as usize];
    assert_eq!(
        joint_vote_result(&set(&[1, 2, 3]), &set(&[]), answer),
        VoteResult::Won
    );
    assert_eq!(
        joint_vote_result(&set(&[1, 2, 3]), &set(&[3, 4, 5]), answer),
        VoteResult::Lost
    );
    assert_eq!(
        joint_vote_result(&set(&[1, 2, 3]), &set(&[1, 2, 4]), answer),
        VoteResult::Won
    );
    assert_eq!(
        joint_vote_result(&set(&[1, 2, 3]), &set(&[2, 3, 4]), answer),
        VoteResult::Pending
    );
}

quickcheck! {
    /// The largest x that a majority of each non-empty half has matched.
    fn joint_commit_matches_brute_force(roles: Vec<u8>, matches: Vec<u8>) -> bool {
        let (incoming, outgoing) = halves(&roles);
        if incoming.is_empty() { return true; }
        let matched = |id: NodeId| Index::from(*matches.get(id as usize).unwrap_or(&0) % 16);
        let brute = (0..16u64)
            .filter(|&x| majority_of(&incoming, |id| matched(id) >= x)
                && majority_of(&outgoing, |id| matched(id) >= x))
            .max()
            .unwrap_or(0);
        joint_committed_index(&incoming, &outgoing, matched) == brute
    }

    /// Won and Lost are final (no way of answering for the unheard changes them), and
    /// Pending means both outcomes are still possible.
    fn joint_vote_matches_brute_force(roles: Vec<u8>, answers: Vec<u8>) -> bool {
        let (incoming, outgoing) = halves(&roles);
        if incoming.is_empty() { return true; }
        let answer = |id: NodeId| match answers.get(id as usize).map(|a| a % 3) {
            Some(1) => Some(true),
            Some(2) => Some(false),
            _ => None,
        };
        let all: Vec<NodeId> = incoming.union(&outgoing).copied().collect();
        let unheard: Vec<NodeId> = all.iter().copied().filter(|&id| answer(id).is_none()).collect();
        let (mut can_win, mut can_lose) = (false, false);
        for mask in 0..(1u32 << unheard.len()) {
            let grant = |id: NodeId| match answer(id) {
                Some(g) => g,
                None => mask >> unheard.iter().position(|&u| u == id).unwrap() & 1 == 1,
            };
            if majority_of(&incoming, grant) && majority_of(&outgoing, grant) {
                can_win = true;
            } else {
                can_lose = true;
            }
        }
        match joint_vote_result(&incoming, &outgoing, answer) {
            VoteResult::Won => !can_lose,
            VoteResult::Lost => !can_win,
            VoteResult::Pending => can_win && can_lose,
        }
    }
}
