//! Safety invariants, checked after every step of every node (Raft paper, Figure 3):
//! election safety, log matching, leader append-only, leader completeness, state-machine
//! safety, and monotonic commit/apply within one incarnation of a node.
//!
//! The checks are incremental so they can run after every event: log matching keeps a
//! registry of every (index, term) ever written with its content digest and predecessor
//! term — by induction, equal (index, term) everywhere implies equal prefixes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use raft_core::{Entry, Index, Node, NodeId, Ready, Role, Term};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    ElectionSafety {
        term: Term,
        leaders: (NodeId, NodeId),
    },
    LogMatching {
        node: NodeId,
        index: Index,
        term: Term,
    },
    LeaderAppendOnly {
        node: NodeId,
        term: Term,
        truncated_at: Index,
    },
    LeaderCompleteness {
        leader: NodeId,
        term: Term,
        missing: Index,
    },
    StateMachineSafety {
        node: NodeId,
        index: Index,
    },
    CommitRegressed {
        node: NodeId,
        from: Index,
        to: Index,
    },
    /// A leader lost its term in a crash (its term never reached its disk) after it had
    /// already told others it leads, or committed in that term.
    LeadershipLostAfterActing {
        node: NodeId,
        term: Term,
    },
    ApplyOutOfOrder {
        node: NodeId,
        expected: Index,
        got: Index,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::ElectionSafety { term, leaders } => {
                write!(
                    f,
                    "election safety: term {term} has two leaders {} and {}",
                    leaders.0, leaders.1
                )
            }
            Violation::LogMatching { node, index, term } => {
                write!(f, "log matching: node {node} holds a different entry or prefix at ({index}, term {term})")
            }
            Violation::LeaderAppendOnly {
                node,
                term,
                truncated_at,
            } => {
                write!(f, "leader append-only: leader {node} of term {term} rewrote its log from {truncated_at}")
            }
            Violation::LeaderCompleteness {
                leader,
                term,
                missing,
            } => {
                write!(f, "leader completeness: leader {leader} of term {term} lacks committed entry {missing}")
            }
            Violation::StateMachineSafety { node, index } => {
                write!(
                    f,
                    "state-machine safety: node {node} applied a different entry at index {index}"
                )
            }
            Violation::CommitRegressed { node, from, to } => {
                write!(
                    f,
                    "monotonic commit: node {node} went from {from} back to {to}"
                )
            }
            Violation::LeadershipLostAfterActing { node, term } => {
                write!(
                    f,
                    "durable leadership: leader {node} of term {term} acted before its term was durable, then lost it in a crash"
                )
            }
            Violation::ApplyOutOfOrder {
                node,
                expected,
                got,
            } => {
                write!(
                    f,
                    "monotonic apply: node {node} applied {got}, expected {expected}"
                )
            }
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct NodeView {
    role_leader_term: Option<Term>,
    last_index: Index,
    commit: Index,
    applied: Index,
}

#[derive(Debug, Default)]
pub struct Checker {
    leaders: HashMap<Term, NodeId>,
    /// Terms whose leader sent a message in the step it produced it (not held until a
    /// write was durable): others may know of that leadership.
    leaders_heard: HashSet<Term>,
    /// A violation found outside a step (at a restart), reported by the next step.
    pending: Option<Violation>,
    /// (index, term) -> (content digest, predecessor term).
    written: HashMap<(Index, Term), (u64, Term)>,
    /// Every index known committed, with the term and digest of its entry.
    committed: BTreeMap<Index, (Term, u64)>,
    /// The term in which each index was first seen committed: the term of the leader
    /// that committed it (every other node learns commit from a leader at least as new).
    committed_in: BTreeMap<Index, Term>,
    views: BTreeMap<NodeId, NodeView>,
}

pub fn digest_entry(e: &Entry) -> u64 {
    let mut h = crate::digest::Fnv::default();
    h.write(&[e.kind as u8]);
    h.write(&e.data);
    h.finish()
}

/// Leader completeness (Raft §5.4): a leader of `term` holds every entry committed in an
/// earlier term. An entry committed in `term` or later may be missing: a node can win an
/// old term after a newer leader committed (a restarted voter still at that term gives
/// the last vote), and it never commits there, since the newer term's leaders hold a
/// quorum of logs ahead of it. Returns the first committed index past `compacted` that
/// `held` (the leader's term at an index) lacks.
fn first_missing(
    committed: &BTreeMap<Index, (Term, u64)>,
    committed_in: &BTreeMap<Index, Term>,
    term: Term,
    compacted: Index,
    held: impl Fn(Index) -> Option<Term>,
) -> Option<Index> {
    committed
        .range(compacted + 1..)
        .filter(|(index, _)| committed_in.get(index).is_some_and(|&t| t < term))
        .find(|(&index, &(t, _))| held(index) != Some(t))
        .map(|(&index, _)| index)
}

impl Checker {
    /// A node restarted: its volatile cursors start over, and a leadership its disk does
    /// not remember is void.
    pub fn on_restart(&mut self, node: &Node) {
        self.void_lost_leadership(node);
        let view = NodeView {
            role_leader_term: None,
            last_index: node.log().last_index(),
            commit: node.log().committed(),
            applied: 0,
        };
        self.views.insert(node.id(), view);
    }

    /// A sole voter wins its term in the step it campaigns, before its vote is durable,
    /// and holds every message until it is (`raft_core::Node`'s `own_term_durable`). If
    /// it crashes first, it restarts in an older term and may vote another node leader
    /// of that same term. The lost leadership had no effect: nothing it wrote or sent
    /// left the node. So the watch forgets it and its entries, after checking that it
    /// indeed sent nothing at once and committed nothing.
    fn void_lost_leadership(&mut self, node: &Node) {
        let (id, durable_term) = (node.id(), node.term());
        let lost: Vec<Term> = self
            .leaders
            .iter()
            .filter(|&(&term, &leader)| leader == id && term > durable_term)
            .map(|(&term, _)| term)
            .collect();
        for term in lost {
            let committed = self.committed_in.values().any(|&t| t == term);
            if self.leaders_heard.contains(&term) || committed {
                self.pending
                    .get_or_insert(Violation::LeadershipLostAfterActing { node: id, term });
                continue;
            }
            self.leaders.remove(&term);
            self.written.retain(|&(_, t), _| t != term);
        }
    }

    /// Checks everything a step of `node` could have broken; `ready` is what it produced.
    pub fn after_step(&mut self, node: &Node, ready: &Ready) -> Result<(), Violation> {
        if let Some(v) = self.pending.take() {
            return Err(v);
        }
        let id = node.id();
        if node.role() == Role::Leader && ready.messages.iter().any(|m| m.term == node.term()) {
            self.leaders_heard.insert(node.term());
        }
        let mut view = self.views.get(&id).copied().unwrap_or_default();
        self.check_written(node, ready, &mut view)?;
        self.check_commit(node, &mut view)?;
        if node.role() == Role::Leader && view.role_leader_term != Some(node.term()) {
            self.check_new_leader(node)?;
            view.role_leader_term = Some(node.term());
        } else if node.role() != Role::Leader {
            view.role_leader_term = None;
        }
        view.last_index = node.log().last_index();
        self.views.insert(id, view);
        Ok(())
    }

    fn check_written(
        &mut self,
        node: &Node,
        ready: &Ready,
        view: &mut NodeView,
    ) -> Result<(), Violation> {
        let id = node.id();
        if let (Some(first), Some(term)) = (ready.entries.first(), view.role_leader_term) {
            if node.role() == Role::Leader && node.term() == term && first.index <= view.last_index
            {
                return Err(Violation::LeaderAppendOnly {
                    node: id,
                    term,
                    truncated_at: first.index,
                });
            }
        }
        for e in &ready.entries {
            let prev_term = node.log().term(e.index - 1).unwrap_or(0);
            let seen = *self
                .written
                .entry((e.index, e.term))
                .or_insert((digest_entry(e), prev_term));
            if seen != (digest_entry(e), prev_term) {
                return Err(Violation::LogMatching {
                    node: id,
                    index: e.index,
                    term: e.term,
                });
            }
        }
        Ok(())
    }

    fn check_commit(&mut self, node: &Node, view: &mut NodeView) -> Result<(), Violation> {
        let id = node.id();
        let commit = node.log().committed();
        if commit < view.commit {
            return Err(Violation::CommitRegressed {
                node: id,
                from: view.commit,
                to: commit,
            });
        }
        for e in node.log().entries(view.commit + 1, commit) {
            self.committed_in.entry(e.index).or_insert(node.term());
            let d = digest_entry(e);
            let known = *self.committed.entry(e.index).or_insert((e.term, d));
            if known != (e.term, d) {
                return Err(Violation::StateMachineSafety {
                    node: id,
                    index: e.index,
                });
            }
        }
        view.commit = commit;
        Ok(())
    }

    fn check_new_leader(&mut self, node: &Node) -> Result<(), Violation> {
        let (id, term) = (node.id(), node.term());
        let holder = *self.leaders.entry(term).or_insert(id);
        if holder != id {
            return Err(Violation::ElectionSafety {
                term,
                leaders: (holder, id),
            });
        }
        let snapshot = node.log().snapshot_position();
        let known = self.committed.get(&snapshot.index).map(|&(t, _)| t);
        if snapshot.index > 0 && known != Some(snapshot.term) {
            return Err(Violation::LeaderCompleteness {
                leader: id,
                term,
                missing: snapshot.index,
            });
        }
        let held = |index| node.log().term(index);
        match first_missing(
            &self.committed,
            &self.committed_in,
            term,
            snapshot.index,
            held,
        ) {
            Some(missing) => Err(Violation::LeaderCompleteness {
                leader: id,
                term,
                missing,
            }),
            None => Ok(()),
        }
    }

    /// The driver replaced `id`'s state machine with a snapshot holding `entries` (every
    /// applied entry from index 1): each must be what was committed at its index.
    pub fn on_install(&mut self, id: NodeId, entries: &[Entry]) -> Result<(), Violation> {
        let view = self.views.entry(id).or_default();
        for (i, e) in entries.iter().enumerate() {
            let expected = i as Index + 1;
            if e.index != expected {
                return Err(Violation::ApplyOutOfOrder {
                    node: id,
                    expected,
                    got: e.index,
                });
            }
            if self.committed.get(&e.index) != Some(&(e.term, digest_entry(e))) {
                return Err(Violation::StateMachineSafety {
                    node: id,
                    index: e.index,
                });
            }
        }
        view.applied = entries.len() as Index;
        Ok(())
    }

    /// `id`'s state machine now holds a snapshot through `index`, whose contents this
    /// checker cannot see (a service's own state): applying resumes after it.
    pub fn on_install_at(&mut self, id: NodeId, index: Index) {
        self.views.entry(id).or_default().applied = index;
    }

    /// The driver applied `entries` on `node`, in order.
    pub fn on_apply(&mut self, id: NodeId, entries: &[Entry]) -> Result<(), Violation> {
        let view = self.views.entry(id).or_default();
        for e in entries {
            if e.index != view.applied + 1 {
                return Err(Violation::ApplyOutOfOrder {
                    node: id,
                    expected: view.applied + 1,
                    got: e.index,
                });
            }
            view.applied = e.index;
            // Applying something never registered as committed is as wrong as a mismatch.
            if self.committed.get(&e.index) != Some(&(e.term, digest_entry(e))) {
                return Err(Violation::StateMachineSafety {
                    node: id,
                    index: e.index,
                });
            }
        }
        Ok(())
    }

    pub fn committed_count(&self) -> usize {
        self.committed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Indexes 1..=3 committed with entry terms [1, 1, 3], in terms [1, 2, 3].
    fn committed() -> (BTreeMap<Index, (Term, u64)>, BTreeMap<Index, Term>) {
        let entries = BTreeMap::from([(1, (1, 0)), (2, (1, 0)), (3, (3, 0))]);
        let in_term = BTreeMap::from([(1, 1), (2, 2), (3, 3)]);
        (entries, in_term)
    }

    #[test]
    fn leader_completeness_covers_earlier_terms_only() {
        let (entries, in_term) = committed();
        let log = |terms: &'static [Term]| move |i: Index| terms.get(i as usize - 1).copied();
        // (leader term, its log's terms, compacted prefix, expected first missing)
        let cases: [(Term, &'static [Term], Index, Option<Index>); 6] = [
            (4, &[1, 1, 3], 0, None),
            (4, &[1, 1], 0, Some(3)),
            (4, &[1, 2, 3], 0, Some(2)),
            (2, &[1], 0, None), // 2 and 3 were committed in terms 2 and 3: not required
            (3, &[1, 1], 0, None), // 3 was committed in term 3 itself
            (3, &[], 2, None),  // compacted into a snapshot (checked separately)
        ];
        for (term, terms, compacted, want) in cases {
            let got = first_missing(&entries, &in_term, term, compacted, log(terms));
            assert_eq!(got, want, "leader of term {term} holding {terms:?}");
        }
    }

    /// A sole voter that wins term 1 as it campaigns (its vote not yet durable).
    fn sole_voter_leading(checker: &mut Checker, id: NodeId) -> (raft_core::Node, Ready) {
        let cfg = raft_core::Config::new(id, vec![id]);
        let mut node = raft_core::Node::new(cfg, Default::default()).expect("a node");
        checker.on_restart(&node);
        let ready = node.step(raft_core::Input::Campaign).expect("a campaign");
        assert_eq!((node.role(), node.term()), (Role::Leader, 1));
        (node, ready)
    }

    /// Node `id` crashed before its first write: it restarts from an empty disk.
    fn restart_empty(checker: &mut Checker, id: NodeId) {
        let cfg = raft_core::Config::new(id, vec![id]);
        let node = raft_core::Node::new(cfg, Default::default()).expect("a node");
        checker.on_restart(&node);
    }

    #[test]
    fn a_leadership_lost_before_its_term_was_durable_is_void() {
        let mut checker = Checker::default();
        let (node, ready) = sole_voter_leading(&mut checker, 1);
        checker
            .after_step(&node, &ready)
            .expect("one leader of term 1");
        restart_empty(&mut checker, 1);
        let (node2, ready2) = sole_voter_leading(&mut checker, 2);
        checker
            .after_step(&node2, &ready2)
            .expect("term 1's first leader is forgotten");
    }

    #[test]
    fn a_leadership_lost_after_it_was_heard_is_a_violation() {
        let mut checker = Checker::default();
        let (node, mut ready) = sole_voter_leading(&mut checker, 1);
        // As if the leader had sent at once rather than after its write.
        ready.messages.push(raft_core::Message {
            from: 1,
            to: 2,
            term: 1,
            body: raft_core::MessageBody::Heartbeat {
                commit: 0,
                round: 1,
            },
        });
        checker
            .after_step(&node, &ready)
            .expect("one leader of term 1");
        restart_empty(&mut checker, 1);
        let (node2, ready2) = sole_voter_leading(&mut checker, 2);
        let v = checker
            .after_step(&node2, &ready2)
            .expect_err("a violation");
        assert!(
            matches!(v, Violation::LeadershipLostAfterActing { node: 1, term: 1 }),
            "{v}"
        );
    }
}
