//! The event queue of a simulated world: events popped in (time, insertion) order, so
//! two events due at the same microsecond run in the order they were scheduled and a
//! seed fully determines the run. Time is in whatever unit the world counts (µs in the
//! Raft worlds, ms in the MapReduce one); the queue only orders it.
//!
//! The queue is bounded: a world that schedules without end (a message storm, a timer
//! that re-arms twice) fills it and fails, instead of eating memory until the machine
//! gives out. Callers check [`EventQueue::is_full`] to fail with their own context.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The heap orders small keys; the events themselves (a Raft message is 80 bytes) stay
/// put in a slab, so a push or pop moves a few words per heap level instead of whole
/// events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    at_us: u64,
    seq: u64,
    slot: u32,
}

#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<Key>>,
    /// Events by slab slot; `None` for a free slot (listed in `free`).
    events: Vec<Option<E>>,
    free: Vec<u32>,
    seq: u64,
    len_max: usize,
}

impl<E> EventQueue<E> {
    /// An empty queue that holds at most `len_max` pending events.
    pub fn new(len_max: usize) -> Self {
        assert!(len_max > 0, "a queue must hold an event");
        assert!(len_max <= u32::MAX as usize, "slab slots are 32-bit");
        EventQueue {
            heap: BinaryHeap::new(),
            events: Vec::new(),
            free: Vec::new(),
            seq: 0,
            len_max,
        }
    }

    /// Schedules `event` at `at_us`, after every event already scheduled for that time.
    /// The queue must not be full.
    pub fn push(&mut self, at_us: u64, event: E) {
        assert!(!self.is_full(), "event queue full: {} pending", self.len());
        self.seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                let free = &mut self.events[slot as usize];
                assert!(free.is_none(), "a free slot holds no event");
                *free = Some(event);
                slot
            }
            None => {
                self.events.push(Some(event));
                u32::try_from(self.events.len() - 1).expect("len_max fits 32 bits")
            }
        };
        let seq = self.seq;
        self.heap.push(Reverse(Key { at_us, seq, slot }));
    }

    /// The earliest event due at or before `until_us`, with its time.
    pub fn pop_due(&mut self, until_us: u64) -> Option<(u64, E)> {
        if self.heap.peek()?.0.at_us > until_us {
            return None;
        }
        let Reverse(key) = self.heap.pop().expect("peeked");
        let event = self.events[key.slot as usize]
            .take()
            .expect("a scheduled slot holds its event");
        self.free.push(key.slot);
        assert_eq!(
            self.heap.len() + self.free.len(),
            self.events.len(),
            "every slot is scheduled or free"
        );
        Some((key.at_us, event))
    }

    /// The earliest event, whenever it is due.
    pub fn pop(&mut self) -> Option<(u64, E)> {
        self.pop_due(u64::MAX)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.heap.len() >= self.len_max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_insertion_order() {
        let mut q = EventQueue::new(8);
        q.push(5, "b");
        q.push(3, "a");
        q.push(5, "c");
        q.push(9, "d");
        let mut out = Vec::new();
        while let Some((t, e)) = q.pop_due(5) {
            out.push((t, e));
        }
        assert_eq!(out, vec![(3, "a"), (5, "b"), (5, "c")]);
        assert_eq!(q.len(), 1, "the event after the horizon stays");
        assert_eq!(q.pop(), Some((9, "d")));
    }

    #[test]
    fn slots_of_popped_events_are_reused() {
        let mut q = EventQueue::new(8);
        for round in 0..100u64 {
            q.push(round, round);
            q.push(round, round + 1000);
            assert_eq!(q.pop(), Some((round, round)));
            assert_eq!(q.pop(), Some((round, round + 1000)));
        }
        assert!(q.is_empty());
        assert_eq!(q.events.len(), 2, "two slots served every round");
    }

    #[test]
    #[should_panic(expected = "event queue full")]
    fn a_full_queue_refuses_more() {
        let mut q = EventQueue::new(2);
        q.push(1, ());
        q.push(1, ());
        assert!(q.is_full());
        q.push(1, ());
    }
}
