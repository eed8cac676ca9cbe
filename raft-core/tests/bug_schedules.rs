//! Scripted schedules that a deliberate bug (feature `bug-injection`) turns into a safety
//! violation, and the runner's checks that see it: the same schedule is safe without the
//! bug, so the check is shown to fail for the bug and only for it.
//!
//! Run: `cargo test -p raft-core --features bug-injection --test bug_schedules`.

mod script;

use raft_core::{NodeId, Role, Term};
use script::World;

/// Two voters added at once, then a partition that separates an old majority (2, 3)
/// from a new one (1, 4, 5). `{opts}` is appended to every `add-nodes` line.
///
/// The change entry 1/2 reaches nodes 2 and 3, but only node 2's acknowledgement gets
/// back: it commits on node 1 (1 and 2 are a majority of 1,2,3) and node 3 never
/// learns that. Node 1's next heartbeat finds 4 and 5, which it brings up to date
/// (node 2 hears nothing more).
/// Node 3, still in configuration 1,2,3, campaigns and gets node 2's vote. Node 4, in
/// the configuration node 1 committed, campaigns in the same term and gets 1's and 5's.
///
/// Correct: the entry is joint (voters=1,2,3,4,5 outgoing=1,2,3), so node 4 also needs
/// a majority of 1,2,3 and has only node 1: one leader in term 2. With `SkipJoint` the
/// entry is voters=1,2,3,4,5 directly: 4, 5, 1 are a majority of it, and nodes 3 and 4
/// both lead term 2.
const TWO_VOTERS_THEN_PARTITION: &str = "
add-nodes 3 pre-vote=false check-quorum=false {opts}
add-nodes 2 join=true pre-vote=false check-quorum=false {opts}
campaign 1
stabilize
change-membership 1 add-voter=4,5
deliver
persist all
deliver from=2 to=1
tick 1 3
drop to=2,3
drop from=3
stabilize 1,4,5
campaign 3
persist 3
deliver from=3 to=2
drop from=3
persist 2
deliver from=2 to=3
campaign 4
persist 4
deliver from=4 to=1,5
drop from=4
persist 1,5
deliver to=4
";

fn run(schedule: &str, opts: &str) -> (World, String) {
    let text = schedule.replace("{opts}", opts);
    script::run_commands(&text).unwrap_or_else(|e| panic!("{e}"))
}

/// Every (term, node) where a node leads now.
fn leaders(world: &World, ids: impl IntoIterator<Item = NodeId>) -> Vec<(Term, NodeId)> {
    ids.into_iter()
        .filter_map(|id| world.node(id))
        .filter(|n| n.role() == Role::Leader)
        .map(|n| (n.term(), n.id()))
        .collect()
}

#[test]
fn two_voter_change_through_joint_keeps_one_leader_per_term() {
    let (world, transcript) = run(TWO_VOTERS_THEN_PARTITION, "");
    assert!(
        transcript.contains("[1/2(voters=1,2,3,4,5 outgoing=1,2,3)]"),
        "the change goes through a joint configuration:\n{transcript}"
    );
    assert_eq!(world.violations, Vec::<String>::new(), "{transcript}");
    assert_eq!(leaders(&world, 1..=5), vec![(2, 3)], "{transcript}");
    let four = world.node(4).expect("node 4 runs");
    assert_eq!(
        four.role(),
        Role::Candidate,
        "4, 5 and 1 are no majority of the outgoing voters 1,2,3"
    );
}

#[test]
fn skipping_the_joint_step_elects_two_leaders_in_one_term_and_the_check_sees_it() {
    let (world, transcript) = run(TWO_VOTERS_THEN_PARTITION, "bug=skip-joint");
    assert!(
        transcript.contains("[1/2(voters=1,2,3,4,5)]"),
        "the bug enters the new configuration directly:\n{transcript}"
    );
    assert_eq!(leaders(&world, 1..=5), vec![(2, 3), (2, 4)], "{transcript}");
    assert_eq!(
        world.violations,
        vec!["election safety: 3 and 4 both lead term 2".to_string()],
        "{transcript}"
    );
    assert!(transcript.contains("VIOLATION election safety: 3 and 4 both lead term 2"));
}

fn figure8_old_term() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/figure8-old-term-not-committed.txt"
    );
    std::fs::read_to_string(path).expect("the Figure 8 script exists")
}

/// The Figure 8 script, run as it is, is safe (the script runner checks that too); with
/// `CommitOldTerm` node 1 commits and applies 2/2 by counting replicas in (c), and in
/// (d) the others apply 3/2 at the same index.
#[test]
fn figure8_with_commit_by_counting_old_term_replicas_applies_two_entries_at_one_index() {
    let text = figure8_old_term();
    let add_nodes = "add-nodes 5 pre-vote=false check-quorum=false append-bytes-max=1";
    assert!(text.contains(add_nodes), "the script's setup line changed");
    let (world, transcript) = script::run_commands(&text).unwrap();
    assert_eq!(world.violations, Vec::<String>::new(), "{transcript}");
    let buggy = text.replace(add_nodes, &format!("{add_nodes} bug=commit-old-term"));
    let (world, transcript) = script::run_commands(&buggy).unwrap();
    let want = "state machine safety: 2 applied 3/2(noop) where 1 applied 2/2(noop)";
    assert!(
        world.violations.iter().any(|v| v == want),
        "{:?}\n{transcript}",
        world.violations
    );
}
