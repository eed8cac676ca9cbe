//! Membership changes under the unreliable network with crashes, over many seeds.

use raft_sim::membership;
use sim_kit::seeded_test;

seeded_test!(grow_3_to_5, 20, |s| drop(membership::grow_3_to_5(s)));
// 425992, 423501, 437110: a removed node still in the joint configuration wins term 2
// after a leader of term 3 committed entries it lacks; allowed (those were committed in a
// later term), and the checker once flagged it (issue 11).
seeded_test!(shrink_5_to_3, 20, pinned [425992, 423501, 437110], |s| drop(
    membership::shrink_5_to_3(s)
));
seeded_test!(replace_member, 20, |s| drop(membership::replace_member(s)));
seeded_test!(remove_leader, 20, |s| drop(membership::remove_leader(s)));
seeded_test!(add_learner_then_promote, 20, |s| drop(
    membership::add_learner_then_promote(s)
));
seeded_test!(change_interrupted_by_leader_crash, 20, |s| drop(
    membership::change_interrupted_by_leader_crash(s)
));
