//! The search for a linearization of one partition: Wing & Gong's backtracking over the
//! entry list, with Lowe's memoisation of visited configurations.
//!
//! Walk the list from the front. At a call entry, try to linearize that operation next:
//! if the model accepts it and the resulting configuration is new, lift its entries, push
//! a frame and restart from the front. At a return entry, the operation it closes was not
//! linearized although it has returned, so nothing after this point may come next either:
//! pop the last choice and try the entry after it instead. The history is linearizable
//! when the list is empty; not linearizable when a return entry is met with nothing to pop.
//!
//! The memo tables grow within a byte bound the caller gives each turn; outgrowing it ends
//! the search without an answer.

use crate::entries::Entries;
use crate::linearized::Linearized;
use crate::memo::{MemoryFull, StateId, StateTable, Visited};
use crate::prefix::BestPrefix;
use crate::{Model, Operation};

pub(crate) enum Outcome {
    Linearizable,
    /// Carries the longest linearizable prefix found (positions in the partition's
    /// operations, in linearization order).
    NotLinearizable(Vec<usize>),
    /// The memo tables would have outgrown the bytes allowed.
    MemoryBoundReached,
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
    /// For undoing the insertion into the linearized set.
    high_before: u32,
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
    linearized: Linearized,
    /// Scratch space for the memo key of a configuration.
    key: Vec<u64>,
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
        let init = model.init();
        let init_bytes = model.state_heap_bytes(&init);
        // The first state is charged to no bound: a search without it cannot start.
        let mut unbounded = usize::MAX;
        let state = states
            .intern(init, init_bytes, &mut unbounded)
            .expect("an empty table has room for one state");
        Search {
            model,
            entries: Entries::new(&intervals),
            states,
            visited: Visited::new(),
            linearized: Linearized::new(),
            key: Vec::new(),
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

    /// Bytes held by the memo tables: what grows as the search goes on.
    pub(crate) fn memo_bytes(&self) -> usize {
        self.visited.bytes() + self.states.bytes()
    }

    /// Runs at most `steps_max` more steps, letting the memo tables grow to at most
    /// `memo_bytes_max`; `None` if the answer is not known yet.
    pub(crate) fn run(&mut self, steps_max: u64, memo_bytes_max: usize) -> Option<Outcome> {
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
                continue;
            }
            match self.try_linearize(node, memo_bytes_max) {
                Ok(true) => match self.entries.first() {
                    Some(first) => node = first,
                    None => return Some(Outcome::Linearizable),
                },
                Ok(false) => node = self.entries.next(node),
                Err(MemoryFull) => {
                    self.cursor = Some(node);
                    return Some(Outcome::MemoryBoundReached);
                }
            }
        }
        self.cursor = Some(node);
        None
    }

    /// Linearizes the operation of `call` next if the model allows it and the resulting
    /// configuration has not been expanded before. Fails, changing nothing, if recording
    /// the configuration would take the memo past `memo_bytes_max`.
    fn try_linearize(&mut self, call: u32, memo_bytes_max: usize) -> Result<bool, MemoryFull> {
        let i = self.entries.op(call);
        let op = self.ops[i];
        let before = self.states.get(self.state);
        let Some(after) = self.model.step(before, &op.input, op.output.as_ref()) else {
            debug_assert!(
                op.output.is_some(),
                "model contract: an operation with an unknown output is legal in every state"
            );
            return Ok(false);
        };
        let mut room = memo_bytes_max.saturating_sub(self.memo_bytes());
        // Reads leave the state as it was: skip hashing it again (states can be long).
        let after = if after == *before {
            self.state
        } else {
            let heap_bytes = self.model.state_heap_bytes(&after);
            self.states.intern(after, heap_bytes, &mut room)?
        };
        let rank = self.entries.call_rank(i);
        let high_before = self.linearized.insert(rank);
        self.linearized.encode(&mut self.key);
        let new = self.visited.insert(&self.key, after, room);
        if new != Ok(true) {
            self.linearized.remove(rank, high_before);
            return new;
        }
        self.stack.push(Frame {
            call,
            state_before: self.state,
            high_before,
        });
        self.state = after;
        self.entries.lift(call);
        self.best.pushed(&self.stack, |f| self.entries.op(f.call));
        Ok(true)
    }

    /// Undoes the last choice; returns the entry to try instead, or `None` if no choice
    /// is left.
    fn backtrack(&mut self) -> Option<u32> {
        let frame = self.stack.pop()?;
        let rank = self.entries.call_rank(self.entries.op(frame.call));
        self.linearized.remove(rank, frame.high_before);
        self.state = frame.state_before;
        self.entries.unlift(frame.call);
        self.best.popped(self.stack.len());
        Some(self.entries.next(frame.call))
    }
}
