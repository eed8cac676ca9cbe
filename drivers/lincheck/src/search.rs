//! The search for a linearization of one partition: Wing & Gong's backtracking over the
//! entry list, with Lowe's memoisation of visited configurations.
//!
//! Walk the list from the front. At a call entry, try to linearize that operation next:
//! if the model accepts it and the resulting configuration is new, lift its entries, push
//! a frame and restart from the front. At a return entry, the operation it closes was not
//! linearized although it has returned, so nothing after this point may come next either:
//! pop the last choice and try the entry after it instead. The history is linearizable
//! when the list is empty; not linearizable when a return entry is met with nothing to pop.

use crate::bitset::Bitset;
use crate::entries::Entries;
use crate::memo::{StateId, StateTable, Visited};
use crate::prefix::BestPrefix;
use crate::{Model, Operation};

pub(crate) enum Outcome {
    Linearizable,
    /// Carries the longest linearizable prefix found (positions in the partition's
    /// operations, in linearization order).
    NotLinearizable(Vec<usize>),
}

/// Work done by one search so far.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Work {
    pub(crate) steps: u64,
    pub(crate) states: usize,
    pub(crate) configurations: usize,
}

struct Frame {
    call: u32,
    state_before: StateId,
}

/// A resumable search over one partition, so that the caller can share time between
/// partitions (a violation in an easy partition is then found even when another partition
/// would take a very long time).
pub(crate) struct Search<'a, M: Model> {
    model: &'a M,
    ops: Vec<&'a Operation<M::Input, M::Output>>,
    entries: Entries,
    states: StateTable<M::State>,
    visited: Visited,
    linearized: Bitset,
    state: StateId,
    stack: Vec<Frame>,
    best: BestPrefix,
    /// The entry to look at next; `None` before the first step.
    cursor: Option<u32>,
    steps: u64,
}

impl<'a, M: Model> Search<'a, M> {
    /// Prepares a search of `ops`, which must all belong to one partition.
    pub(crate) fn new(model: &'a M, ops: Vec<&'a Operation<M::Input, M::Output>>) -> Self {
        let intervals: Vec<_> = ops.iter().map(|op| (op.call, op.ret)).collect();
        let mut states = StateTable::new();
        let state = states.intern(model.init());
        let linearized = Bitset::new(ops.len());
        Search {
            model,
            entries: Entries::new(&intervals),
            states,
            visited: Visited::new(linearized.words().len()),
            linearized,
            ops,
            state,
            stack: Vec::new(),
            best: BestPrefix::default(),
            cursor: None,
            steps: 0,
        }
    }

    pub(crate) fn work(&self) -> Work {
        Work {
            steps: self.steps,
            states: self.states.len(),
            configurations: self.visited.len(),
        }
    }

    /// Runs at most `steps_max` more steps; `None` if the answer is not known yet.
    pub(crate) fn run(&mut self, steps_max: u64) -> Option<Outcome> {
        let mut node = match self.cursor {
            Some(node) => node,
            None => match self.entries.first() {
                Some(first) => first,
                None => return Some(Outcome::Linearizable),
            },
        };
        for _ in 0..steps_max {
            self.steps += 1;
            if !self.entries.is_call(node) {
                match self.backtrack() {
                    Some(next) => node = next,
                    None => return Some(Outcome::NotLinearizable(self.best.take())),
                }
            } else if self.try_linearize(node) {
                match self.entries.first() {
                    Some(first) => node = first,
                    None => return Some(Outcome::Linearizable),
                }
            } else {
                node = self.entries.next(node);
            }
        }
        self.cursor = Some(node);
        None
    }

    /// Linearizes the operation of `call` next if the model allows it and the resulting
    /// configuration has not been expanded before.
    fn try_linearize(&mut self, call: u32) -> bool {
        let i = self.entries.op(call);
        let op = self.ops[i];
        let before = self.states.get(self.state);
        let Some(after) = self.model.step(before, &op.input, op.output.as_ref()) else {
            debug_assert!(
                op.output.is_some(),
                "model contract: an operation with an unknown output is legal in every state"
            );
            return false;
        };
        // Reads leave the state as it was: skip hashing it again (states can be long).
        let after = if after == *before {
            self.state
        } else {
            self.states.intern(after)
        };
        self.linearized.set(i);
        if !self.visited.insert(&self.linearized, after) {
            self.linearized.clear(i);
            return false;
        }
        self.stack.push(Frame {
            call,
            state_before: self.state,
        });
        self.state = after;
        self.entries.lift(call);
        self.best.pushed(&self.stack, |f| self.entries.op(f.call));
        true
    }

    /// Undoes the last choice; returns the entry to try instead, or `None` if no choice
    /// is left.
    fn backtrack(&mut self) -> Option<u32> {
        let frame = self.stack.pop()?;
        let i = self.entries.op(frame.call);
        debug_assert!(self.linearized.contains(i));
        self.linearized.clear(i);
        self.state = frame.state_before;
        self.entries.unlift(frame.call);
        self.best.popped(self.stack.len());
        Some(self.entries.next(frame.call))
    }
}
