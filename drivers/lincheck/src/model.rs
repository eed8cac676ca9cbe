//! What a sequential specification looks like to the checker.

use std::fmt::Debug;
use std::hash::Hash;

use crate::Operation;

/// A sequential specification: the states an object can be in and which operations are
/// legal in each.
///
/// Contract:
/// - `step` is deterministic: a given state and input lead to at most one next state.
/// - An operation with an unknown output (`output: None`) is legal in every state (`step`
///   returns `Some`). This is what lets the checker treat an operation that never returned
///   as returning at +infinity: "it never took effect" and "it took effect after everything
///   else" are then indistinguishable.
/// - `partition`, if overridden, must split the history into groups that touch disjoint
///   parts of the state, so that the whole history is linearizable exactly when each group
///   is (P-compositionality, Herlihy & Wing). `init` is then the initial state of one group.
pub trait Model {
    /// The object's state (for a partitioned model, the state of one partition).
    type State: Clone + Eq + Hash + Debug;
    /// An operation's request.
    type Input: Debug;
    /// An operation's response.
    type Output: Debug;

    /// The initial state.
    fn init(&self) -> Self::State;

    /// Applies `input` to `state`. Returns the next state if the operation is legal there
    /// and produces `output` (any output when `None`), or `None` if it is illegal.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// True when `input` never changes the state (a read). Operations that are read-only
    /// *and* have an unknown output are dropped before the search: they are legal anywhere
    /// and invisible to everyone else, so they cannot affect the verdict.
    fn is_read_only(&self, _input: &Self::Input) -> bool {
        false
    }

    /// Splits the history into independent groups of operation indices (see the contract
    /// above). The default is a single group holding everything.
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..history.len()).collect()]
    }

    /// Bytes a state owns outside itself (the buffer of a string ...), so that the memory
    /// bound of a check counts them. The default, 0, suits states without heap data.
    fn state_heap_bytes(&self, _state: &Self::State) -> usize {
        0
    }

    /// A short human-readable rendering of an operation, such as `get("k") -> "v"`.
    fn describe_operation(&self, input: &Self::Input, output: Option<&Self::Output>) -> String;

    /// A short human-readable rendering of a state.
    fn describe_state(&self, state: &Self::State) -> String;
}
