//! Recording a simulated service run as a trace: `trace::sim::SimRecording` over the
//! servers' inputs and outputs. Only services whose traces replay record (the
//! key/value store; a controller with a non-default shard count cannot be rebuilt).

use kv_core::service::{Server, ServerInput, ServerReady};
use kv_core::KvState;
use trace::sim::DynRecorder;
use trace::{Boot, Recorder, Sink};

use crate::service::{RecorderStart, SimService};

/// What a service world records with.
pub type ServiceRecording<S> = trace::sim::SimRecording<
    ServerInput<<S as kv_core::StateMachine>::Op>,
    ServerReady<<S as kv_core::StateMachine>::Output>,
>;

/// The recorder of one incarnation of one of `S`'s servers.
pub type ServerRecorder<S> = dyn DynRecorder<
    ServerInput<<S as kv_core::StateMachine>::Op>,
    ServerReady<<S as kv_core::StateMachine>::Output>,
>;

/// Starts recording a key/value server.
pub fn kv_recorder(start: RecorderStart) -> Box<ServerRecorder<KvState>> {
    let RecorderStart {
        earlier,
        node,
        incarnation,
        now_us,
        config,
        restored,
    } = start;
    let sink = earlier.map_or_else(Sink::memory, Sink::Memory);
    let boot = Boot { config, restored };
    let note = format!("kv-sim server {node}");
    let mut r = Recorder::<Server<KvState>>::start(sink, node, incarnation, now_us, &boot, note);
    r.with_outputs = true;
    Box::new(r)
}

/// A recording for `S`'s world, writing into `dir`.
pub fn new_recording<S: SimService>(
    dir: std::path::PathBuf,
    servers: usize,
) -> ServiceRecording<S> {
    let messages = trace::sim::Messages {
        message_in: |i: &ServerInput<S::Op>| match i {
            ServerInput::Message(m) => Some(m),
            _ => None,
        },
        messages_out: |o: &ServerReady<S::Output>| &o.messages,
    };
    trace::sim::SimRecording::new(dir, servers, messages, sim_kit::id_of)
}
