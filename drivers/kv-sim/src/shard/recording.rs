//! Recording the sharded world: controller servers and group servers are different
//! machines, so each kind has its own `trace::sim::SimRecording`; both write into the
//! run's one directory (node ids do not overlap).

use kv_core::service::{ServerInput, ServerReady};
use kv_core::shardkv::{GroupInput, GroupReady, ShardGroup};
use kv_core::{CtrlOp, CtrlOutcome, ShardCtrlServer};
use raft_core::RestoredState;
use trace::sim::{Messages, SimRecording};
use trace::{Boot, Recorder, Sink};

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
        let id = sim_kit::id_of(slot);
        let note = format!("kv-sim shard world node {id}");
        match config {
            NodeConfig::Ctrl(config) => {
                let r = &mut self.ctrl;
                let sink = r.end(slot).map_or_else(Sink::memory, Sink::Memory);
                let boot = Boot { config, restored };
                let mut rec = Recorder::<ShardCtrlServer>::start(
                    sink,
                    id,
                    r.next_incarnation(slot),
                    now_us,
                    &boot,
                    note,
                );
                rec.with_outputs = true;
                r.begin(slot, Some(Box::new(rec)));
            }
            NodeConfig::Group(config) => {
                let r = &mut self.groups;
                let sink = r.end(slot).map_or_else(Sink::memory, Sink::Memory);
                let boot = Boot { config, restored };
                let mut rec = Recorder::<ShardGroup>::start(
                    sink,
                    id,
                    r.next_incarnation(slot),
                    now_us,
                    &boot,
                    note,
                );
                rec.with_outputs = true;
                r.begin(slot, Some(Box::new(rec)));
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
