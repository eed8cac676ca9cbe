//! Safety invariants, checked after every step of every node (Raft paper, Figure 3):
//! election safety, log matching, leader append-only, leader completeness, state-machine
//! safety, and monotonic commit/apply within one incarnation of a node.
//!
//! The checks are incremental so they can run after every event: log matching keeps a
//! registry of every (index, term) ever written with its content digest and predecessor
//! term — by induction, equal (index, term) everywhere implies equal prefixes.

use std::collections::{BTreeMap, HashMap};
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
    /// (index, term) -> (content digest, predecessor term).
    written: HashMap<(Index, Term), (u64, Term)>,
    /// Every index known committed, with the term and digest of its entry.
    committed: BTreeMap<Index, (Term, u64)>,
    views: BTreeMap<NodeId, NodeView>,
}

pub fn digest_entry(e: &Entry) -> u64 {
    let mut h = crate::digest::Fnv::default();
    h.write(&[e.kind as u8]);
    h.write(&e.data);
    h.finish()
}

impl Checker {
    /// A node restarted: its volatile cursors start over.
    pub fn on_restart(&mut self, node: &Node) {
        let view = NodeView {
            role_leader_term: None,
            last_index: node.log().last_index(),
            commit: node.log().committed(),
            applied: 0,
        };
        self.views.insert(node.id(), view);
    }

    /// Checks everything a step of `node` could have broken; `ready` is what it produced.
    pub fn after_step(&mut self, node: &Node, ready: &Ready) -> Result<(), Violation> {
        let id = node.id();
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
        let compacted = snapshot.index;
        for (&index, &(t, _)) in self.committed.range(compacted + 1..) {
            if node.log().term(index) != Some(t) {
                return Err(Violation::LeaderCompleteness {
                    leader: id,
                    term,
                    missing: index,
                });
            }
        }
        Ok(())
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
