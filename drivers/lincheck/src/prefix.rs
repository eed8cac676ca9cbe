//! Tracking the longest linearizable prefix the search reaches, for explanations.
//!
//! Copying the whole stack at every new maximum would be quadratic in the partition size.
//! Instead the record remembers how much of it still agrees with the stack (`shared`: the
//! stack has not been popped below that depth since the last copy) and copies only the
//! part that differs, so the total cost is linear in the number of pushes.

#[derive(Default)]
pub(crate) struct BestPrefix {
    ops: Vec<usize>,
    /// Invariant: `ops[..shared]` equals the operations of `stack[..shared]`.
    shared: usize,
}

impl BestPrefix {
    /// Called after a push; `op_of` maps a stack frame to its operation.
    pub(crate) fn pushed<F>(&mut self, stack: &[F], op_of: impl Fn(&F) -> usize) {
        if stack.len() <= self.ops.len() {
            return;
        }
        debug_assert!(self.shared <= self.ops.len());
        self.ops.truncate(self.shared);
        self.ops.extend(stack[self.shared..].iter().map(op_of));
        self.shared = stack.len();
    }

    /// Called after a pop, with the stack's new depth.
    pub(crate) fn popped(&mut self, depth: usize) {
        self.shared = self.shared.min(depth);
    }

    pub(crate) fn take(&mut self) -> Vec<usize> {
        self.shared = 0;
        std::mem::take(&mut self.ops)
    }
}

#[cfg(test)]
mod tests {
    use super::BestPrefix;

    #[test]
    fn keeps_the_deepest_stack_seen() {
        let mut best = BestPrefix::default();
        let mut stack = Vec::new();
        for op in [1, 2, 3] {
            stack.push(op);
            best.pushed(&stack, |&x| x);
        }
        stack.truncate(1);
        best.popped(1);
        for op in [7, 8] {
            stack.push(op);
            best.pushed(&stack, |&x| x);
        }
        assert_eq!(best.ops, vec![1, 2, 3]); // not deeper yet
        stack.push(9);
        best.pushed(&stack, |&x| x);
        assert_eq!(best.take(), vec![1, 7, 8, 9]);
    }
}
