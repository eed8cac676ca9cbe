//! Recording the sharded world: controller servers and group servers are different
//! machines, so each kind has its own `trace::sim::SimRecording`; both write into the
//! run's one directory (node ids do not overlap).

use kv_core::service::{ServerInput, ServerReady};
use kv_core::shardkv::{GroupInput, GroupReady, ShardGroup};
use kv_core::{CtrlOp, CtrlOutcome, ShardCtrlServer};
use raft_core::RestoredState;
use trace::sim::{Messages, SimRecording};
use trace::Boot;

use super::world::NodeConfig;

pub struct ShardRecording {
    pub groups: SimRecording<GroupInput, GroupReady>,
    pub ctrl: SimRecording<ServerInput<CtrlOp>, ServerReady<CtrlOutcome>>,
}

impl ShardRecording {
    pub fn new(dir: std::path::PathBuf, nodes: usize) -> Self {
        ShardRecording {
            groups: SimRecording::new(
                dir.clone(),
                nodes,
                Messages::of::<ShardGroup>(),
                sim_kit::id_of,
            ),
            ctrl: SimRecording::new(
                dir,
                nodes,
                Messages::of::<ShardCtrlServer>(),
                sim_kit::id_of,
            ),
        }
    }

    /// The node at `slot` (re)started from `restored` with `config`.
    pub fn begin(&mut self, slot: usize, config: NodeConfig, restored: RestoredState, now_us: u64) {
        let note = format!("kv-sim shard world node {}", sim_kit::id_of(slot));
        match config {
            NodeConfig::Ctrl(config) => {
                let boot = Boot { config, restored };
                self.ctrl
                    .start_node::<ShardCtrlServer>(slot, &boot, now_us, note);
            }
            NodeConfig::Group(config) => {
                let boot = Boot { config, restored };
                self.groups
                    .start_node::<ShardGroup>(slot, &boot, now_us, note);
            }
        }
    }
}

/// A recording world writes its traces when it goes, also while a failed run unwinds.
impl Drop for super::world::ShardWorld {
    fn drop(&mut self) {
        if let Some(r) = self.recording_mut() {
            for written in [r.groups.write(), r.ctrl.write()] {
                if let Err(e) = written {
                    eprintln!("cannot write the trace to {}: {e}", r.groups.dir.display());
                }
            }
        }
    }
}
