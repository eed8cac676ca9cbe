//! A bare Raft node in its `raft_core::Pipeline` as what a slot runs (raft-sim), and
//! stepping it under the world's watch: a broken invariant fails the run there, so a
//! simulator of bare pipelines only carries out the returned work.

use raft_core::{Input, Node, Pipeline, StepError, Work, WriteId};

use crate::disk::Disk;
use crate::node::{raft_summary, SimNode};
use crate::world::World;

/// The application is the simulator's.
impl SimNode for Pipeline {
    const KIND: &'static str = "node";

    fn raft(&self) -> &Node {
        self.node()
    }

    fn ticks_until_due(&self) -> u32 {
        self.node().ticks_until_due()
    }

    fn describe(&self, disk: &Disk) -> String {
        let n = self.node();
        let m = n.membership();
        format!(
            "{} persisted {} pending writes {} voters {:?} outgoing {:?} learners {:?}",
            raft_summary(n),
            n.log().persisted(),
            disk.pending.len(),
            m.voters,
            m.voters_outgoing,
            m.learners
        )
    }
}

impl<E> World<Pipeline, E> {
    /// Steps the live pipeline at `slot` under the watch; `Err` is an input the node
    /// refused (a proposal to a follower, say).
    /// The node must have been handed the ticks it is owed ([`World::owed_ticks`]).
    pub fn step_pipeline(&mut self, slot: usize, input: Input) -> Result<Work, StepError> {
        self.assert_no_ticks_owed(slot);
        let (pipeline, watch) = self.node_and_watch(slot);
        let stepped = match watch.step(slot, pipeline, input) {
            Ok(work) => Ok(work),
            Err(Ok(broken)) => self.fail(&broken),
            Err(Err(refused)) => Err(refused),
        };
        self.rearm_tick(slot);
        stepped
    }

    /// Reports write `id` of the live pipeline at `slot` durable, under the watch. The
    /// node must have been handed the ticks it is owed.
    pub fn persist_pipeline(&mut self, slot: usize, id: WriteId) -> Work {
        self.assert_no_ticks_owed(slot);
        let (pipeline, watch) = self.node_and_watch(slot);
        let work = watch
            .persisted(slot, pipeline, id)
            .unwrap_or_else(|broken| self.fail(&broken));
        self.rearm_tick(slot);
        work
    }

    /// The ticks the node at `slot` is owed, as the input that hands them in (taking
    /// them: see [`World::owed_ticks`]). A simulator steps it before any other input.
    pub fn owed_ticks_input(&mut self, slot: usize) -> Option<Input> {
        match self.owed_ticks(slot) {
            0 => None,
            1 => Some(Input::Tick),
            count => Some(Input::Ticks { count }),
        }
    }
}
