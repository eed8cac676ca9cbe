//! The event loop, written once: a simulator implements [`Sim`] (what a tick, a
//! delivered message, a durable write and its own events do to it) and gets
//! [`Sim::advance_us`], plus the skeleton's queries as provided methods.
//!
//! The loop drops what no longer applies before the simulator sees it: ticks and disk
//! completions of a previous incarnation, messages over a cut link or to a dead node.

use raft_core::{Message, WriteId};

use crate::net::{Network, MS};
use crate::node::SimNode;
use crate::world::{slot_of, Event, World};

/// An event the simulator must act on.
enum Due<E> {
    Tick { slot: usize, incarnation: u32 },
    Message { slot: usize, message: Message },
    Persisted { slot: usize, id: WriteId },
    World(E),
}

pub trait Sim: Sized {
    type Node: SimNode;
    /// The simulator's own events (`std::convert::Infallible` for none).
    type Event;

    fn world(&self) -> &World<Self::Node, Self::Event>;
    fn world_mut(&mut self) -> &mut World<Self::Node, Self::Event>;

    /// The node at `slot` ticks (its next tick is scheduled once this returns).
    fn on_tick(&mut self, slot: usize);
    /// `message` reached the live node at `slot`.
    fn on_message(&mut self, slot: usize, message: Message);
    /// The disk of the live node at `slot` made write `id` durable (writes complete in
    /// the order they were handed to [`World::write`]).
    fn on_persisted(&mut self, slot: usize, id: WriteId);
    /// One of the simulator's own events came due.
    fn on_event(&mut self, event: Self::Event);

    /// Runs events until virtual time reaches `now + us`.
    fn advance_us(&mut self, us: u64) {
        let until_us = self.world().now_us() + us;
        while let Some(due) = self.world_mut().next_due(until_us) {
            match due {
                Due::Tick { slot, incarnation } => {
                    self.on_tick(slot);
                    self.world_mut().schedule_tick(slot, incarnation);
                }
                Due::Message { slot, message } => self.on_message(slot, message),
                Due::Persisted { slot, id } => self.on_persisted(slot, id),
                Due::World(event) => self.on_event(event),
            }
        }
    }

    fn sleep_ms(&mut self, ms: u64) {
        self.advance_us(ms * MS);
    }

    fn now_us(&self) -> u64 {
        self.world().now_us()
    }

    fn seed(&self) -> u64 {
        self.world().seed()
    }

    /// The number of slots.
    fn n(&self) -> usize {
        self.world().n()
    }

    fn is_alive(&self, slot: usize) -> bool {
        self.world().is_alive(slot)
    }

    fn is_connected(&self, slot: usize) -> bool {
        self.world().is_connected(slot)
    }

    fn connect(&mut self, slot: usize) {
        self.world_mut().connect(slot);
    }

    fn disconnect(&mut self, slot: usize) {
        self.world_mut().disconnect(slot);
    }

    /// The network, for partitions, one-way blocks and its reliability settings.
    fn net(&mut self) -> &mut Network {
        &mut self.world_mut().net
    }

    /// A digest of every `Ready` produced so far, in order: equal digests mean equal runs.
    fn output_digest(&self) -> u64 {
        self.world().watch.output_digest()
    }

    fn describe(&self) -> String {
        self.world().describe()
    }

    /// Fails the run with its seed, time and state (see [`World::fail`]).
    fn fail(&self, what: &str) -> ! {
        self.world().fail(what)
    }
}

impl<N: SimNode, E> World<N, E> {
    /// Pops events due by `until_us` until one needs the simulator; `None` once none is
    /// left, with the clock at `until_us`.
    fn next_due(&mut self, until_us: u64) -> Option<Due<E>> {
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

    fn schedule_tick(&mut self, slot: usize, incarnation: u32) {
        let period_us = self.slots[slot].tick_period_us;
        self.push(period_us, Event::Tick { slot, incarnation });
    }
}
