//! The event loop's half in the world: popping what is due, dropping what no longer
//! applies (ticks and disk completions of a previous incarnation, messages over a cut
//! link or to a dead node), and sorting the rest into what the simulator must act on.

use raft_core::{Message, WriteId, TICKS_PER_INPUT_MAX};

use crate::node::SimNode;
use crate::world::{slot_of, Event, World};

/// An event the simulator must act on.
pub(crate) enum Due<E> {
    /// The node at `slot` is due: hand it `count` ticks (taken from what it is owed).
    Tick {
        slot: usize,
        count: u32,
    },
    Message {
        slot: usize,
        message: Message,
    },
    Persisted {
        slot: usize,
        id: WriteId,
    },
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
            Event::Tick { slot, incarnation } if current(self, slot, incarnation) => {
                self.wake(slot)
            }
            Event::Tick { .. } => None, // the node it was for is dead
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

    /// A wake-up of the live node at `slot` came due: the ticks it is owed, if it is due
    /// by them; else it sleeps on to the tick it is due.
    fn wake(&mut self, slot: usize) -> Option<Due<E>> {
        if self.slots[slot].tick_wake_us != self.now_us {
            return None; // superseded by an earlier wake-up, which came first
        }
        self.slots[slot].tick_wake_us = u64::MAX;
        let owed = self.ticks_owed(slot);
        if owed == 0 || owed < u64::from(self.ticks_until_due(slot)) {
            // Handed in already with another input, or no longer due: sleep on.
            self.rearm_tick(slot);
            return None;
        }
        let count = self.owed_ticks(slot);
        assert!(count > 0, "{owed} ticks owed");
        Some(Due::Tick { slot, count })
    }

    fn ticks_until_due(&self, slot: usize) -> u32 {
        let node = self.slots[slot].node.as_ref().expect("a live node");
        if self.cfg.eager_ticks {
            return 1;
        }
        let due = node.ticks_until_due();
        assert!(due >= 1, "a node is due at its next tick at the soonest");
        due
    }

    /// Ticks of the live node at `slot`'s clock that fell by now and were not handed in.
    fn ticks_owed(&self, slot: usize) -> u64 {
        let s = &self.slots[slot];
        match self.now_us.checked_sub(s.tick_next_us) {
            None => 0,
            Some(since_us) => since_us / s.tick_period_us + 1,
        }
    }

    /// Takes the ticks the node at `slot` is owed by now, at most
    /// `raft_core::TICKS_PER_INPUT_MAX` (what one input may hand in): the caller hands
    /// them in before any other input. 0 if none, or the node is down.
    pub fn owed_ticks(&mut self, slot: usize) -> u32 {
        if !self.is_alive(slot) {
            return 0;
        }
        let owed = self.ticks_owed(slot).min(u64::from(TICKS_PER_INPUT_MAX));
        let s = &mut self.slots[slot];
        s.tick_next_us += owed * s.tick_period_us;
        u32::try_from(owed).expect("capped")
    }

    /// Schedules a wake-up of the live node at `slot` at the tick it is due, unless one
    /// is scheduled sooner. Called after every step (by `step_pipeline`, or by a
    /// simulator that steps its nodes itself): a step may bring the tick closer.
    pub fn rearm_tick(&mut self, slot: usize) {
        if !self.is_alive(slot) {
            return;
        }
        let due = u64::from(self.ticks_until_due(slot));
        let (s, now_us) = (&self.slots[slot], self.now_us);
        let wake_us = s.tick_next_us + (due - 1) * s.tick_period_us;
        assert!(
            wake_us >= now_us,
            "node {}: ticks owed but not handed in",
            slot + 1
        );
        if wake_us < s.tick_wake_us {
            let incarnation = s.incarnation;
            self.slots[slot].tick_wake_us = wake_us;
            self.push(wake_us - now_us, Event::Tick { slot, incarnation });
        }
    }

    /// A simulator that steps a node without handing it its ticks first would show it
    /// time standing still.
    pub fn assert_no_ticks_owed(&self, slot: usize) {
        assert!(
            !self.is_alive(slot) || self.ticks_owed(slot) == 0,
            "node {} stepped without the ticks it is owed",
            slot + 1
        );
    }
}
