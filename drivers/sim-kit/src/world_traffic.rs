//! What leaves a node: Raft messages onto the network, writes onto the disk; and the
//! links between slots, which tests cut and heal.

use rand::Rng;

use raft_core::{Message, Write};

use crate::disk::PendingWrite;
use crate::node::SimNode;
use crate::world::{id_of, Event, World};

/// Writes one disk may have in flight. Each completes within one disk latency of the one
/// before it, so the FIFO holds what a node writes in a few milliseconds; a FIFO this
/// long means a runaway.
const PENDING_WRITES_MAX: usize = 1 << 16;

impl<N: SimNode, E> World<N, E> {
    /// Schedules one of the world's own events `delay_us` from now.
    pub fn schedule(&mut self, delay_us: u64, event: E) {
        self.push(delay_us, Event::World(event));
    }

    pub(crate) fn push(&mut self, delay_us: u64, event: Event<E>) {
        if self.queue.is_full() {
            self.fail(&format!(
                "event queue full ({} pending): runaway simulation",
                self.queue.len()
            ));
        }
        self.queue.push(self.now_us + delay_us, event);
    }

    /// Sends a Raft message: the network decides how many copies arrive, and when.
    pub fn send(&mut self, m: Message) {
        let delays = self.net.plan(&m, &mut self.rng);
        if delays.is_empty() {
            self.counters.lost += 1;
        }
        // Only duplicates pay for a clone; the last copy takes the message itself.
        if let Some((&last, extra)) = delays.split_last() {
            for &delay in extra {
                self.push(delay, Event::Deliver(m.clone()));
            }
            self.push(last, Event::Deliver(m));
        }
    }

    /// Hands `write` to the disk of `slot`: durable after a random latency, and after
    /// every earlier write of that disk. Its completion is reported through
    /// [`Sim::on_persisted`](crate::Sim::on_persisted) unless the node dies first.
    pub fn write(&mut self, slot: usize, write: Write) {
        assert!(self.is_alive(slot), "a write from a node that is down");
        if self.slots[slot].disk.pending.len() >= PENDING_WRITES_MAX {
            self.fail(&format!("node {}: disk queue full", id_of(slot)));
        }
        let (lo, hi) = self.cfg.disk_latency_us;
        let latency_us = self.rng.gen_range(lo..=hi);
        let s = &mut self.slots[slot];
        let incarnation = s.incarnation;
        let done_at_us = s.disk.next_done_at(self.now_us, latency_us);
        s.disk.pending.push_back(PendingWrite { write, done_at_us });
        let delay_us = done_at_us - self.now_us;
        self.push(delay_us, Event::DiskDone { slot, incarnation });
    }

    pub fn connect(&mut self, slot: usize) {
        self.net.set_connected(id_of(slot), true);
    }

    pub fn disconnect(&mut self, slot: usize) {
        self.net.set_connected(id_of(slot), false);
    }

    pub fn is_connected(&self, slot: usize) -> bool {
        self.net.is_connected(id_of(slot))
    }

    /// Splits the slots into groups: links between groups are cut both ways; slots in
    /// no group are cut from everyone. Replaces any earlier partition or link block.
    pub fn partition(&mut self, groups: &[Vec<usize>]) {
        let all: Vec<_> = (0..self.n()).map(id_of).collect();
        let groups: Vec<Vec<_>> = groups
            .iter()
            .map(|g| g.iter().map(|&s| id_of(s)).collect())
            .collect();
        self.net.partition(&all, &groups);
    }
}
