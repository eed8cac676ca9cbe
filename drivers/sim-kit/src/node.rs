//! What runs in a slot of a [`World`](crate::World): a Raft node, bare or inside a
//! service. The world needs only to see the node (for the watch and for `describe`);
//! stepping it is the simulator's business, through `raft_core::Pipeline`.

use raft_core::{Node, Pipeline};

use crate::disk::Disk;

pub trait SimNode {
    /// What `describe` calls one slot: "node", "server".
    const KIND: &'static str;

    /// The Raft node inside.
    fn raft(&self) -> &Node;

    /// One line of state for `World::describe`, given the slot's disk.
    fn describe(&self, disk: &Disk) -> String;
}

/// A bare Raft node in its pipeline (raft-sim): the application is the simulator's.
impl SimNode for Pipeline {
    const KIND: &'static str = "node";

    fn raft(&self) -> &Node {
        self.node()
    }

    fn describe(&self, disk: &Disk) -> String {
        let n = self.node();
        let m = n.membership();
        format!(
            "{:?} term {} leader {:?} last {} (term {}) commit {} persisted {} pending writes {} voters {:?} outgoing {:?} learners {:?}",
            n.role(),
            n.term(),
            n.leader(),
            n.log().last_index(),
            n.log().last_term(),
            n.log().committed(),
            n.log().persisted(),
            disk.pending.len(),
            m.voters,
            m.voters_outgoing,
            m.learners
        )
    }
}
