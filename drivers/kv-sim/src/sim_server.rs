//! What runs in each slot of the service's world: a `kv-core` server, as the kit's
//! [`SimNode`].

use kv_core::service::Server;
use kv_core::StateMachine;
use sim_kit::disk::Disk;
use sim_kit::{raft_summary, SimNode};

/// A `kv-core` server in a world slot (a newtype, as the kit's trait and kv-core's type
/// are both foreign here).
pub struct SimServer<S: StateMachine>(pub Server<S>);

impl<S: StateMachine> SimNode for SimServer<S> {
    const KIND: &'static str = "server";

    fn raft(&self) -> &raft_core::Node {
        self.0.node()
    }

    fn ticks_until_due(&self) -> u32 {
        self.0.ticks_until_due()
    }

    fn describe(&self, disk: &Disk) -> String {
        format!(
            "{} applied {} raft state {} B, snapshot at {}",
            raft_summary(self.0.node()),
            self.0.applied(),
            disk.raft_state_bytes(),
            self.0.node().log().snapshot_position().index
        )
    }
}
