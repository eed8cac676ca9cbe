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
    pub fn step_pipeline(&mut self, slot: usize, input: Input) -> Result<Work, StepError> {
        let (pipeline, watch) = self.node_and_watch(slot);
        match watch.step(slot, pipeline, input) {
            Ok(work) => Ok(work),
            Err(Ok(broken)) => self.fail(&broken),
            Err(Err(refused)) => Err(refused),
        }
    }

    /// Reports write `id` of the live pipeline at `slot` durable, under the watch.
    pub fn persist_pipeline(&mut self, slot: usize, id: WriteId) -> Work {
        let (pipeline, watch) = self.node_and_watch(slot);
        watch
            .persisted(slot, pipeline, id)
            .unwrap_or_else(|broken| self.fail(&broken))
    }
}
