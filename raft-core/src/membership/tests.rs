use super::*;
use ConfChange::*;

fn set(ids: &[NodeId]) -> BTreeSet<NodeId> {
    ids.iter().copied().collect()
}

fn joint(
    voters: &[NodeId],
    outgoing: &[NodeId],
    learners: &[NodeId],
    next: &[NodeId],
) -> Membership {
    Membership {
        voters: set(voters),
        voters_outgoing: set(outgoing),
        learners: set(learners),
        learners_next: set(next),
    }
}

#[test]
fn apply_table() {
    let base = joint(&[1, 2, 3], &[], &[4], &[]);
    let cases: Vec<(&[ConfChange], Result<Membership, MembershipError>)> = vec![
        // One voter moves: simple.
        (&[AddVoter(5)], Ok(joint(&[1, 2, 3, 5], &[], &[4], &[]))),
        (&[Remove(3)], Ok(joint(&[1, 2], &[], &[4], &[]))),
        (&[AddVoter(4)], Ok(joint(&[1, 2, 3, 4], &[], &[], &[]))),
        (
            &[AddLearner(6), Remove(4)],
            Ok(joint(&[1, 2, 3], &[], &[6], &[])),
        ),
        (&[AddVoter(2)], Ok(base.clone())),
        // Demoting one voter is one voter change: simple.
        (&[AddLearner(3)], Ok(joint(&[1, 2], &[], &[3, 4], &[]))),
        // Two voters move: joint.
        (
            &[AddVoter(5), AddVoter(6)],
            Ok(joint(&[1, 2, 3, 5, 6], &[1, 2, 3], &[4], &[])),
        ),
        (
            &[AddVoter(5), Remove(1)],
            Ok(joint(&[2, 3, 5], &[1, 2, 3], &[4], &[])),
        ),
        (
            &[AddVoter(4), AddLearner(1)],
            Ok(joint(&[2, 3, 4], &[1, 2, 3], &[], &[1])),
        ),
        // Refusals.
        (&[], Err(MembershipError::Empty)),
        (&[AddVoter(0)], Err(MembershipError::ZeroId)),
        (
            &[AddVoter(5), Remove(5)],
            Err(MembershipError::Duplicate(5)),
        ),
        (&[Remove(9)], Err(MembershipError::Unknown(9))),
        (
            &[Remove(1), Remove(2), Remove(3)],
            Err(MembershipError::NoVoters),
        ),
    ];
    for (changes, want) in cases {
        assert_eq!(base.apply(changes), want, "changes {changes:?}");
    }
}

#[test]
fn joint_cannot_change_again_and_leaves_to_incoming_half() {
    let j = joint(&[2, 3, 4], &[1, 2, 3], &[5], &[1]);
    assert_eq!(j.validate(), Ok(()));
    assert_eq!(j.apply(&[AddVoter(6)]), Err(MembershipError::AlreadyJoint));
    assert_eq!(j.leave_joint(), joint(&[2, 3, 4], &[], &[1, 5], &[]));
    assert!(j.is_voter(1) && j.is_voter(4) && !j.is_voter(5));
    assert_eq!(j.members(), set(&[1, 2, 3, 4, 5]));
}

#[test]
fn validate_table() {
    let bad = [
        (joint(&[1, 2], &[], &[2], &[]), "a learner is also a voter"),
        (
            joint(&[1, 2], &[1, 3], &[3], &[]),
            "a learner is also a voter",
        ),
        (
            joint(&[1, 2], &[], &[], &[3]),
            "a demoted voter is not an outgoing voter",
        ),
        (
            joint(&[1, 2], &[1, 2], &[], &[2]),
            "a demoted voter is an incoming voter",
        ),
    ];
    for (m, why) in bad {
        assert_eq!(
            m.validate(),
            Err(MembershipError::Inconsistent(why)),
            "{m:?}"
        );
    }
    assert_eq!(
        joint(&[0], &[], &[], &[]).validate(),
        Err(MembershipError::ZeroId)
    );
}

quickcheck::quickcheck! {
    /// Whatever is requested, an accepted change yields a valid configuration in which
    /// every quorum of the new (or joint) configuration meets every quorum of the old one.
    fn accepted_changes_are_valid(edits: Vec<(u8, u8)>) -> bool {
        let base = joint(&[1, 2, 3], &[], &[4], &[]);
        let changes: Vec<ConfChange> = edits.iter().take(4).map(|&(kind, id)| {
            let id = NodeId::from(id % 7);
            match kind % 3 { 0 => AddVoter(id), 1 => AddLearner(id), _ => Remove(id) }
        }).collect();
        match base.apply(&changes) {
            Err(_) => true,
            Ok(next) => next.validate().is_ok()
                && (next.is_joint() || next.voters.symmetric_difference(&base.voters).count() <= 1)
                && (!next.is_joint() || next.voters_outgoing == base.voters),
        }
    }
}
