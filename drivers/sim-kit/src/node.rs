//! What runs in a slot of a [`World`](crate::World): a Raft node, bare or inside a
//! service. The world needs only to see the node (for the watch and for `describe`);
//! stepping it is the simulator's business, through `raft_core::Pipeline` (for a bare
//! pipeline, `pipeline.rs` has the steps).

use raft_core::Node;

use crate::disk::Disk;

pub trait SimNode {
    /// What `describe` calls one slot: "node", "server".
    const KIND: &'static str;

    /// The Raft node inside.
    fn raft(&self) -> &Node;

    /// One line of state for `World::describe`, given the slot's disk.
    fn describe(&self, disk: &Disk) -> String;

    /// The how-many-th tick from now may be the first to act
    /// (`raft_core::Node::ticks_until_due`): the world sleeps the node until then and
    /// the simulator hands the ticks in at once. The default, 1, ticks every period.
    fn ticks_until_due(&self) -> u32 {
        1
    }
}

/// What every slot's `describe` line starts with: role, term, leader, log and commit.
pub fn raft_summary(n: &Node) -> String {
    format!(
        "{:?} term {} leader {:?} last {} (term {}) commit {}",
        n.role(),
        n.term(),
        n.leader(),
        n.log().last_index(),
        n.log().last_term(),
        n.log().committed()
    )
}
