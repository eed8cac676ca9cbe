//! What a simulator is to the kit: it implements [`Sim`] (how to start a node, what a
//! tick, a delivered message, a durable write and its own events do) and gets the event
//! loop ([`Sim::advance_us`]), kill / crash / restart, and the skeleton's queries as
//! provided methods, written once for every simulator.

use raft_core::{Message, WriteId};

use crate::event_loop::Due;
use crate::net::{Network, MS};
use crate::node::SimNode;
use crate::world::World;

pub trait Sim: Sized {
    type Node: SimNode;
    /// The simulator's own events (`std::convert::Infallible` for none).
    type Event;

    /// The world; [`sim_world!`](crate::sim_world) writes this and `world_mut`.
    fn world(&self) -> &World<Self::Node, Self::Event>;
    fn world_mut(&mut self) -> &mut World<Self::Node, Self::Event>;

    /// Starts (or restarts) the node at `slot` from what its disk holds: [`World::start`]
    /// with this simulator's node. Connectivity is unchanged.
    fn start(&mut self, slot: usize);
    /// The node at `slot` is due: hand it `count` ticks, in one input if it takes
    /// several (`Input::Ticks`; a node saying it is due every tick gets them one at a
    /// time). Its next wake-up is scheduled once this returns.
    fn on_tick(&mut self, slot: usize, count: u32);
    /// `message` reached the live node at `slot`.
    fn on_message(&mut self, slot: usize, message: Message);
    /// The disk of the live node at `slot` made write `id` durable (writes complete in
    /// the order they were handed to [`World::write`]).
    fn on_persisted(&mut self, slot: usize, id: WriteId);
    /// One of the simulator's own events came due.
    fn on_event(&mut self, event: Self::Event);
    /// The node at `slot` was just killed: forget what only it could have answered.
    fn on_kill(&mut self, _slot: usize) {}

    /// Kills the node at `slot` if it runs: its memory and unsynced writes are gone; its
    /// disk stays.
    fn kill(&mut self, slot: usize) {
        if self.world_mut().kill(slot) {
            self.on_kill(slot);
        }
    }

    /// The course's crash: disconnect, then kill (unsynced writes lost).
    fn crash(&mut self, slot: usize) {
        self.disconnect(slot);
        self.kill(slot);
    }

    /// Kills the node at `slot` if it runs and starts it again from its disk, without
    /// reconnecting it (the course's start1).
    fn restart(&mut self, slot: usize) {
        self.kill(slot);
        self.start(slot);
    }

    /// Runs events until virtual time reaches `now + us`.
    fn advance_us(&mut self, us: u64) {
        let until_us = self.world().now_us() + us;
        while let Some(due) = self.world_mut().next_due(until_us) {
            match due {
                Due::Tick { slot, count } => {
                    self.on_tick(slot, count);
                    self.world_mut().rearm_tick(slot);
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

/// Writes the world half of a [`Sim`] impl for a simulator that keeps its world in a
/// field: `sim_kit::sim_world!(world: Pipeline, Infallible);` declares `Node`, `Event`,
/// `world` and `world_mut`.
#[macro_export]
macro_rules! sim_world {
    ($field:ident: $node:ty, $event:ty) => {
        type Node = $node;
        type Event = $event;

        fn world(&self) -> &$crate::World<$node, $event> {
            &self.$field
        }

        fn world_mut(&mut self) -> &mut $crate::World<$node, $event> {
            &mut self.$field
        }
    };
}
