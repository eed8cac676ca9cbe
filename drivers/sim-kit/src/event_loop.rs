//! The event loop's half in the world: popping what is due, dropping what no longer
//! applies (ticks and disk completions of a previous incarnation, messages over a cut
//! link or to a dead node), and sorting the rest into what the simulator must act on.

use raft_core::{Message, WriteId};

use crate::node::SimNode;
use crate::world::{slot_of, Event, World};

/// An event the simulator must act on.
pub(crate) enum Due<E> {
    Tick { slot: usize, incarnation: u32 },
    Message { slot: usize, message: Message },
    Persisted { slot: usize, id: WriteId },
    World(E),
}

impl<N: SimNode, E> World<N, E> {
    /// Pops events due by `until_us` until one needs the simulator; `None` once none is
    /// left, with the clock at `until_us`.
    pub(crate) fn next_due(&mut self, until_us: u64) -> Option<Due<E>> {
        while let Some((at_us, event)) = self.queue.pop_due(until_us) {
            assert!(at_us >= self.now_us, "time runs backwards");
            self.now_us = at_us;
            self.counters.events += 1;
            if self.counters.events > self.cfg.events_max {
                self.fail("event budget exhausted: runaway simulation");
            }
            if let Some(due) = self.sort(event) {
                return Some(due);
            }
        }
        self.now_us = until_us;
        None
    }

    /// What `event` asks of the simulator, if anything still applies.
    fn sort(&mut self, event: Event<E>) -> Option<Due<E>> {
        let current = |w: &Self, slot: usize, incarnation| {
            let current = w.slots[slot].is_current(incarnation);
            assert!(!current || w.is_alive(slot), "a current incarnation runs");
            current
        };
        match event {
            Event::Tick { slot, incarnation } => {
                current(self, slot, incarnation).then_some(Due::Tick { slot, incarnation })
            }
            Event::Deliver(message) => self.deliverable(message),
            Event::DiskDone { slot, incarnation } if current(self, slot, incarnation) => {
                let Some(done) = self.slots[slot].disk.sync_one() else {
                    self.fail("disk completion without a pending write");
                };
                let id = done.write.id;
                Some(Due::Persisted { slot, id })
            }
            Event::DiskDone { .. } => None, // the write died with its node
            Event::World(event) => Some(Due::World(event)),
        }
    }

    fn deliverable(&mut self, message: Message) -> Option<Due<E>> {
        let slot = slot_of(message.to);
        if slot >= self.n() {
            self.fail(&format!("a message to node {}, in no slot", message.to));
        }
        if !self.net.can_deliver(message.from, message.to) || !self.is_alive(slot) {
            self.counters.lost += 1;
            return None;
        }
        self.counters.delivered += 1;
        Some(Due::Message { slot, message })
    }

    pub(crate) fn schedule_tick(&mut self, slot: usize, incarnation: u32) {
        let period_us = self.slots[slot].tick_period_us;
        self.push(period_us, Event::Tick { slot, incarnation });
    }
}
