//! The wall-clock budget of one check. Running out yields `Unknown`, never a guess.

use std::time::{Duration, Instant};

/// A deadline shared by every partition of one check.
pub(crate) struct Budget {
    /// `None` when the budget is too large to represent: no deadline.
    deadline: Option<Instant>,
}

impl Budget {
    pub(crate) fn new(budget: Duration) -> Self {
        Budget {
            deadline: Instant::now().checked_add(budget),
        }
    }

    pub(crate) fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}
