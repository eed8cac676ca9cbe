//! Starting, killing and reaching the nodes of a world: the per-slot life cycle every
//! simulator shares. A start recovers the slot's disk and schedules the first tick at a
//! random phase; a kill crashes the disk and bumps the incarnation, so the dead node's
//! ticks and disk completions are dropped when they come due.
//!
//! Ticks are handed in lazily. A node's clock ticks every period, but the world wakes it
//! only at the tick it is due (`SimNode::ticks_until_due`): the ticks before it would
//! only count. Whatever steps the node first (a wake-up, a message, a durable write, a
//! test's proposal) hands it every tick owed by then, in one input, so the node sees
//! the same ticks before each input as if it had been ticked every period.

use rand::Rng;

use raft_core::{NodeId, RestoredState};

use crate::node::SimNode;
use crate::watch::RaftWatch;
use crate::world::{id_of, Event, World};

/// What a simulator gets to build a node from at a (re)start.
pub struct Boot {
    pub slot: usize,
    pub id: NodeId,
    /// The node's own PRNG seed: a function of the run's seed, the slot and the
    /// incarnation, so a restarted node does not replay its election timeouts.
    pub seed: u64,
    /// What the disk held, torn tail cut off.
    pub restored: RestoredState,
}

impl<N: SimNode, E> World<N, E> {
    /// Starts (or restarts) `slot` from what its disk holds, with the node `build`
    /// makes of it; `Err` fails the run with that message. Connectivity is unchanged.
    pub fn start(&mut self, slot: usize, build: impl FnOnce(Boot) -> Result<N, String>) {
        assert!(!self.is_alive(slot), "start of a running node {slot}");
        let (restored, torn) = self.slots[slot].recover();
        self.counters.torn_writes_repaired += u64::from(torn);
        let incarnation = self.slots[slot].incarnation;
        let boot = Boot {
            slot,
            id: id_of(slot),
            seed: self.cfg.seed ^ (u64::from(incarnation) << 32) ^ ((slot as u64) << 48),
            restored,
        };
        let node = build(boot).unwrap_or_else(|why| self.fail(&why));
        self.watch.on_start(slot, node.raft());
        self.slots[slot].node = Some(node);
        let phase_us = self.rng.gen_range(0..self.slots[slot].tick_period_us);
        let s = &mut self.slots[slot];
        s.tick_next_us = self.now_us + phase_us;
        s.tick_wake_us = s.tick_next_us;
        self.push(phase_us, Event::Tick { slot, incarnation });
    }

    /// Kills the node at `slot`: its memory and unsynced writes are gone; its disk
    /// stays. Returns whether it was running.
    pub fn kill(&mut self, slot: usize) -> bool {
        let Some(lost) = self.slots[slot].kill() else {
            return false;
        };
        self.counters.writes_lost += lost as u64;
        self.counters.crashes += 1;
        true
    }

    /// The running node at `slot`, with the watch to step it under.
    pub fn node_and_watch(&mut self, slot: usize) -> (&mut N, &mut RaftWatch) {
        let node = self.slots[slot]
            .node
            .as_mut()
            .expect("only live nodes are stepped");
        (node, &mut self.watch)
    }
}
