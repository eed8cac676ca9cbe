//! The doubly-linked list of call and return entries that the search walks (Lowe's
//! representation of Wing & Gong's history).
//!
//! Every operation contributes a call entry and a return entry, in time order. Linearizing
//! an operation *lifts* both of its entries out of the list; backtracking *unlifts* them.
//! Because unlifting happens in exactly the reverse order of lifting (the search is a
//! stack), each entry still remembers its old neighbours and reinsertion is O(1)
//! ("dancing links").

/// Node 0 is the head sentinel; the list is circular, so `next[last] == HEAD`.
const HEAD: u32 = 0;

pub(crate) struct Entries {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// The operation (index into the partition) an entry belongs to.
    op: Vec<u32>,
    /// For a call entry, its return entry; for a return entry, its call entry.
    partner: Vec<u32>,
    is_call: Vec<bool>,
    /// Per operation: how many call entries precede its own (its rank in call order).
    call_rank: Vec<u32>,
}

/// Sort key of an entry: time, then calls before returns at the same time (so touching
/// intervals count as concurrent), then returns that never happened, then operation index
/// for determinism.
fn entry_key(time: Option<u64>, is_call: bool, op: u32) -> (u64, u8, u32) {
    match (time, is_call) {
        (Some(t), true) => (t, 0, op),
        (Some(t), false) => (t, 1, op),
        (None, _) => (u64::MAX, 2, op),
    }
}

impl Entries {
    /// Builds the list from each operation's `(call, ret)` interval.
    pub(crate) fn new(intervals: &[(u64, Option<u64>)]) -> Self {
        assert!(
            intervals.len() < (u32::MAX / 2) as usize,
            "too many operations"
        );
        let mut order: Vec<(u64, u8, u32, bool)> = Vec::with_capacity(intervals.len() * 2);
        for (i, &(call, ret)) in intervals.iter().enumerate() {
            let (t, k, o) = entry_key(Some(call), true, i as u32);
            order.push((t, k, o, true));
            let (t, k, o) = entry_key(ret, false, i as u32);
            order.push((t, k, o, false));
        }
        order.sort_unstable();
        let n = order.len() + 1;
        let mut e = Entries {
            next: (1..=n as u32).map(|x| x % n as u32).collect(),
            prev: (0..n as u32)
                .map(|x| (x + n as u32 - 1) % n as u32)
                .collect(),
            op: vec![u32::MAX; n],
            partner: vec![u32::MAX; n],
            is_call: vec![false; n],
            call_rank: vec![u32::MAX; intervals.len()],
        };
        let mut call_node = vec![u32::MAX; intervals.len()];
        let mut calls = 0;
        for (pos, &(_, _, op, is_call)) in order.iter().enumerate() {
            let node = pos as u32 + 1;
            e.op[node as usize] = op;
            e.is_call[node as usize] = is_call;
            if is_call {
                call_node[op as usize] = node;
                e.call_rank[op as usize] = calls;
                calls += 1;
            } else {
                // The call sorts first (call <= ret is checked by the caller), so it is known.
                let call = call_node[op as usize];
                assert!(call != u32::MAX, "operation {op} returns before its call");
                e.partner[call as usize] = node;
                e.partner[node as usize] = call;
            }
        }
        e
    }

    /// The first entry, or `None` when every operation is linearized.
    pub(crate) fn first(&self) -> Option<u32> {
        let first = self.next[HEAD as usize];
        (first != HEAD).then_some(first)
    }

    /// The entry after `node`. Never the head when `node` is a call entry: the call's own
    /// return entry is still further along the list.
    pub(crate) fn next(&self, node: u32) -> u32 {
        let next = self.next[node as usize];
        debug_assert!(next != HEAD || !self.is_call(node));
        next
    }

    pub(crate) fn is_call(&self, node: u32) -> bool {
        self.is_call[node as usize]
    }

    pub(crate) fn op(&self, node: u32) -> usize {
        self.op[node as usize] as usize
    }

    /// The operation's rank among the call entries, in list order.
    pub(crate) fn call_rank(&self, op: usize) -> u32 {
        self.call_rank[op]
    }

    /// Removes a call entry and its return entry from the list.
    pub(crate) fn lift(&mut self, call: u32) {
        debug_assert!(self.is_call(call));
        self.unlink(call);
        self.unlink(self.partner[call as usize]);
    }

    /// Reverses the most recent `lift` still in force, which must have been of `call`.
    pub(crate) fn unlift(&mut self, call: u32) {
        debug_assert!(self.is_call(call));
        self.relink(self.partner[call as usize]);
        self.relink(call);
    }

    fn unlink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = n;
        self.prev[n as usize] = p;
    }

    fn relink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        debug_assert!(self.next[p as usize] == n && self.prev[n as usize] == p);
        self.next[p as usize] = node;
        self.prev[n as usize] = node;
    }
}

#[cfg(test)]
mod tests {
    use super::Entries;

    fn walk(e: &Entries) -> Vec<(usize, bool)> {
        let mut out = Vec::new();
        let mut node = e.first();
        while let Some(n) = node {
            out.push((e.op(n), e.is_call(n)));
            node = Some(e.next[n as usize]).filter(|&x| x != 0);
        }
        out
    }

    #[test]
    fn orders_by_time_with_calls_first_and_pending_last() {
        // op0 [1, 3], op1 [3, never], op2 [2, 5]
        let e = Entries::new(&[(1, Some(3)), (3, None), (2, Some(5))]);
        let expect = vec![
            (0, true),
            (2, true),
            (1, true),
            (0, false),
            (2, false),
            (1, false),
        ];
        assert_eq!(walk(&e), expect);
        let ranks: Vec<u32> = (0..3).map(|op| e.call_rank(op)).collect();
        assert_eq!(ranks, vec![0, 2, 1]);
    }

    #[test]
    fn lift_and_unlift_restore_the_list() {
        let mut e = Entries::new(&[(1, Some(4)), (2, Some(3)), (5, None)]);
        let before = walk(&e);
        let c1 = e.next(e.first().unwrap()); // op1's call
        assert_eq!((e.op(c1), e.is_call(c1)), (1, true));
        e.lift(c1);
        let c0 = e.first().unwrap();
        e.lift(c0);
        assert_eq!(walk(&e), vec![(2, true), (2, false)]);
        e.unlift(c0);
        e.unlift(c1);
        assert_eq!(walk(&e), before);
    }
}
