//! Recording a simulated service run as a trace (the `trace` crate's format): one
//! in-memory trace per server, every incarnation of it, written out as files when the
//! world is dropped — on request (`SIM_TRACE_DIR`) or when the seed runner reruns a
//! failed seed.
//!
//! The simulated network carries bare messages, so the link numbers the recorder gives
//! each send are matched to receipts here by content: the first delivery of a message
//! from A to B with these contents is the oldest such send not yet received (a
//! duplicate delivery matches nothing). Only retransmissions identical to a lost copy
//! can be attributed to the wrong send; the real runtime carries the numbers on the
//! wire instead.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use kv_core::service::{Server, ServerInput, ServerReady};
use kv_core::KvState;
use raft_core::{Message, NodeId};
use trace::{Boot, LinkSeq, Recorder, Sink};

use crate::service::{RecorderStart, SimService};

/// Sends awaiting their receipt, at most; past it matching restarts from empty.
const UNMATCHED_SENDS_MAX: usize = 1 << 20;

/// A recorder for one service's servers, type-erased so that services whose traces
/// cannot be replayed (a controller with a non-default shard count) record nothing.
pub trait ServerRecorder<S: SimService> {
    fn record(
        &mut self,
        time_us: u64,
        input: Vec<u8>,
        received: Option<LinkSeq>,
        output: &ServerReady<S::Output>,
    ) -> Vec<LinkSeq>;
    fn into_bytes(self: Box<Self>) -> Vec<u8>;
}

impl ServerRecorder<KvState> for Recorder<Server<KvState>> {
    fn record(
        &mut self,
        time_us: u64,
        input: Vec<u8>,
        received: Option<LinkSeq>,
        output: &ServerReady<kv_core::Outcome>,
    ) -> Vec<LinkSeq> {
        Recorder::record(self, time_us, input, received, output)
    }

    fn into_bytes(self: Box<Self>) -> Vec<u8> {
        Recorder::into_bytes(*self).expect("an in-memory recorder")
    }
}

/// Starts recording a key/value server (the services that can be replayed say so by
/// returning a recorder from `SimService::recorder`).
pub fn kv_recorder(start: RecorderStart) -> Box<dyn ServerRecorder<KvState>> {
    let RecorderStart {
        earlier,
        node,
        incarnation,
        now_us,
        config,
        restored,
    } = start;
    let sink = match earlier {
        Some(bytes) => Sink::Memory(bytes),
        None => Sink::memory(),
    };
    let boot = Boot { config, restored };
    let note = format!("kv-sim server {node}");
    let mut r = Recorder::<Server<KvState>>::start(sink, node, incarnation, now_us, &boot, note);
    r.with_outputs = true;
    Box::new(r)
}

pub struct SimRecording<S: SimService> {
    pub dir: PathBuf,
    live: Vec<Option<Box<dyn ServerRecorder<S>>>>,
    /// Each server's trace so far from incarnations that ended.
    ended: Vec<Option<Vec<u8>>>,
    unmatched: HashMap<(NodeId, NodeId, u64), VecDeque<LinkSeq>>,
    unmatched_count: usize,
    incarnations: Vec<u64>,
}

impl<S: SimService> SimRecording<S> {
    pub fn new(dir: PathBuf, servers: usize) -> Self {
        SimRecording {
            dir,
            live: (0..servers).map(|_| None).collect(),
            ended: (0..servers).map(|_| None).collect(),
            unmatched: HashMap::new(),
            unmatched_count: 0,
            incarnations: vec![0; servers],
        }
    }

    /// The bytes recorded so far for `slot`, ending its live incarnation (a restart
    /// continues them).
    pub fn end(&mut self, slot: usize) -> Option<Vec<u8>> {
        if let Some(r) = self.live[slot].take() {
            self.ended[slot] = Some(r.into_bytes());
        }
        self.ended[slot].take()
    }

    pub fn begin(&mut self, slot: usize, recorder: Option<Box<dyn ServerRecorder<S>>>) {
        self.live[slot] = recorder;
        self.incarnations[slot] += 1;
    }

    /// The number of the incarnation `slot` starts next (from 1).
    pub fn next_incarnation(&self, slot: usize) -> u64 {
        self.incarnations[slot] + 1
    }

    /// What to keep of an input before the step consumes it: its bytes and, for a
    /// message, the send it matches.
    pub fn before(
        &mut self,
        slot: usize,
        input: &ServerInput<S::Op>,
    ) -> Option<(Vec<u8>, Option<LinkSeq>)> {
        self.live[slot].as_ref()?;
        let received = match input {
            ServerInput::Message(m) => self.receipt(m),
            _ => None,
        };
        Some((
            postcard::to_allocvec(input).expect("inputs encode"),
            received,
        ))
    }

    /// Records a step of `slot`'s server and remembers its sends for matching.
    pub fn record(
        &mut self,
        slot: usize,
        time_us: u64,
        (input, received): (Vec<u8>, Option<LinkSeq>),
        output: &ServerReady<S::Output>,
    ) {
        let Some(r) = self.live[slot].as_mut() else {
            return;
        };
        let sent = r.record(time_us, input, received, output);
        for (m, link) in output.messages.iter().zip(sent) {
            if self.unmatched_count >= UNMATCHED_SENDS_MAX {
                self.unmatched.clear();
                self.unmatched_count = 0;
            }
            self.unmatched.entry(key(m)).or_default().push_back(link);
            self.unmatched_count += 1;
        }
    }

    fn receipt(&mut self, m: &Message) -> Option<LinkSeq> {
        let queue = self.unmatched.get_mut(&key(m))?;
        let link = queue.pop_front()?;
        self.unmatched_count -= 1;
        Some(link)
    }

    /// Writes every server's trace as `node-ID.000000.trace` in the directory.
    pub fn write(&mut self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        for slot in 0..self.live.len() {
            if let Some(bytes) = self.end(slot) {
                let name = trace::file::file_name(sim_kit::id_of(slot), 0);
                std::fs::write(self.dir.join(name), bytes)?;
            }
        }
        Ok(())
    }
}

fn key(m: &Message) -> (NodeId, NodeId, u64) {
    let mut h = DefaultHasher::new();
    m.hash(&mut h);
    (m.from, m.to, h.finish())
}
