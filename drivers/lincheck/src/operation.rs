//! The record of one operation in a history.

/// One operation of a concurrent history: which client ran it, what it asked, what it got
/// back, and the interval during which it was in flight.
///
/// Times are opaque, monotonic `u64`s in any unit (simulated nanoseconds, line numbers of a
/// log ...); only their order matters. An operation whose return time equals another's call
/// time counts as *concurrent* with it: with ambiguous timestamps the checker gives the
/// history the benefit of the doubt rather than reporting a violation that may not exist.
/// That holds for two operations of the same client too, so a recorder whose clock can
/// stand still should stamp a client's next call strictly after its previous return, or
/// the checker will be lenient about the order of those two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<I, O> {
    /// Who issued the operation (informational: a client's operations are ordered by their
    /// times like everyone else's).
    pub client: u64,
    /// What was asked.
    pub input: I,
    /// What came back; `None` when the outcome is unknown (any output is accepted).
    pub output: Option<O>,
    /// Invocation time.
    pub call: u64,
    /// Return time; `None` if the operation never returned: it is treated as returning at
    /// +infinity, so it may take effect at any time after `call`. With an unknown output
    /// that includes never (taking effect after everything else is indistinguishable);
    /// with a known output it did take effect, since someone saw its result.
    pub ret: Option<u64>,
}

impl<I, O> Operation<I, O> {
    /// True when `self` returned strictly before `other` was invoked, so any linearization
    /// must place `self` first.
    pub fn precedes(&self, other: &Self) -> bool {
        matches!(self.ret, Some(ret) if ret < other.call)
    }
}
