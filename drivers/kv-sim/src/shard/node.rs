//! What runs in each slot of the shard world: a controller server or a shard group's
//! server, as the kit's [`SimNode`].

use kv_core::shardkv::ShardGroup;
use kv_core::ShardCtrlServer;
use sim_kit::disk::Disk;
use sim_kit::{raft_summary, SimNode};

// The variants are alike in size (two servers); boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum ShardNode {
    Ctrl(ShardCtrlServer),
    Group(ShardGroup),
}

impl SimNode for ShardNode {
    const KIND: &'static str = "server";

    fn raft(&self) -> &raft_core::Node {
        match self {
            ShardNode::Ctrl(s) => s.node(),
            ShardNode::Group(g) => g.server().node(),
        }
    }

    fn describe(&self, disk: &Disk) -> String {
        let what = match self {
            ShardNode::Ctrl(s) => format!("controller at config {}", s.state().latest().num),
            ShardNode::Group(g) => {
                let st = g.state();
                let moves = st.pending_moves();
                format!(
                    "group {} at config {}, shards {:?}, pulling {:?}, notifying {:?}",
                    g.gid(),
                    st.current().num,
                    st.slots().keys().collect::<Vec<_>>(),
                    moves.0,
                    moves.1
                )
            }
        };
        format!(
            "{} {what}; raft state {} B",
            raft_summary(self.raft()),
            disk.raft_state_bytes()
        )
    }
}
