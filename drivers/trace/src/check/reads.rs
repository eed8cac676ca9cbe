//! Read freshness, as raft-sim checks it: a read a node confirms must be at or past
//! the highest index committed anywhere in its Raft group when the read was issued.
//! Watched through the same observer hook as the rest of the checks.

use std::collections::BTreeMap;

use raft_core::{Index, Input, Node, NodeId, Observer, Ready};

/// Reads awaiting confirmation, at most (reads aborted by a leader change are never
/// confirmed; the oldest are forgotten past this).
const OPEN_READS_MAX: usize = 1 << 16;

#[derive(Default)]
pub(crate) struct ReadWatch {
    /// The highest commit index seen on any node of the group so far.
    frontier: Index,
    /// (node, read id) → the frontier when it was issued.
    open: BTreeMap<(NodeId, u64), Index>,
}

/// The read watch and the rest of the checks, as one observer of one step.
pub(crate) struct WithReads<'a, O: Observer> {
    pub(crate) reads: &'a mut ReadWatch,
    pub(crate) inner: O,
    pub(crate) stale: Option<String>,
}

impl<O: Observer> Observer for WithReads<'_, O> {
    fn before_step(&mut self, node: &Node, input: &Input) {
        let ids = match input {
            Input::Read { id } => std::slice::from_ref(id),
            Input::ReadBatch { ids } => ids.as_slice(),
            _ => &[],
        };
        let w = &mut *self.reads;
        for id in ids {
            if w.open.len() >= OPEN_READS_MAX {
                w.open.pop_first();
            }
            w.open.insert((node.id(), *id), w.frontier);
        }
        self.inner.before_step(node, input);
    }

    fn after_step(&mut self, node: &Node, ready: &Ready) {
        self.inner.after_step(node, ready);
        let w = &mut *self.reads;
        for r in &ready.reads {
            let Some(issued_at) = w.open.remove(&(node.id(), r.id)) else {
                continue;
            };
            if r.index < issued_at && self.stale.is_none() {
                self.stale = Some(format!(
                    "invariant violated: read freshness: node {} confirmed read {} at index {}, \
                     but index {issued_at} had committed before it was issued",
                    node.id(),
                    r.id,
                    r.index
                ));
            }
        }
        w.frontier = w.frontier.max(node.log().committed());
    }
}
