//! Recording a simulated run: one in-memory trace per node, every incarnation of it,
//! written out as files when the simulator is done — on request (`SIM_TRACE_DIR`) or
//! when the seed runner reruns a failed seed. Every simulator that records uses this.
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

use raft_core::{Message, NodeId};
use serde::Serialize;

use crate::file::Sink;
use crate::format::LinkSeq;
use crate::machine::Machine;
use crate::recorder::Recorder;

/// Sends awaiting their receipt, at most; past it matching restarts from empty.
const UNMATCHED_SENDS_MAX: usize = 1 << 20;

/// A recorder of some machine whose input is `I` and output `O`: what a simulator
/// generic over services holds (a service whose traces cannot be replayed has none).
pub trait DynRecorder<I, O> {
    fn record(
        &mut self,
        time_us: u64,
        input: Vec<u8>,
        received: Option<LinkSeq>,
        output: &O,
    ) -> Vec<LinkSeq>;
    fn into_bytes(self: Box<Self>) -> Vec<u8>;
}

impl<M: Machine> DynRecorder<M::Input, M::Output> for Recorder<M> {
    fn record(
        &mut self,
        time_us: u64,
        input: Vec<u8>,
        received: Option<LinkSeq>,
        output: &M::Output,
    ) -> Vec<LinkSeq> {
        Recorder::record(self, time_us, input, received, output)
    }

    fn into_bytes(self: Box<Self>) -> Vec<u8> {
        Recorder::into_bytes(*self).expect("a simulator records in memory")
    }
}

/// The messages an input carries and an output sends.
pub struct Messages<I, O> {
    pub message_in: fn(&I) -> Option<&Message>,
    pub messages_out: fn(&O) -> &[Message],
}

impl<I, O> Messages<I, O> {
    /// The messages as machine `M` defines them.
    pub fn of<M: Machine<Input = I, Output = O>>() -> Self {
        Messages {
            message_in: M::message_in,
            messages_out: M::messages_out,
        }
    }
}

pub struct SimRecording<I, O> {
    pub dir: PathBuf,
    messages: Messages<I, O>,
    live: Vec<Option<Box<dyn DynRecorder<I, O>>>>,
    /// Each node's trace so far from incarnations that ended.
    ended: Vec<Option<Vec<u8>>>,
    incarnations: Vec<u64>,
    unmatched: HashMap<(NodeId, NodeId, u64), VecDeque<LinkSeq>>,
    unmatched_count: usize,
    node_of: fn(usize) -> NodeId,
}

impl<I: Serialize, O> SimRecording<I, O> {
    /// Records `nodes` nodes into `dir`; `node_of` names the node in a slot.
    pub fn new(
        dir: PathBuf,
        nodes: usize,
        messages: Messages<I, O>,
        node_of: fn(usize) -> NodeId,
    ) -> Self {
        SimRecording {
            dir,
            messages,
            live: (0..nodes).map(|_| None).collect(),
            ended: (0..nodes).map(|_| None).collect(),
            incarnations: vec![0; nodes],
            unmatched: HashMap::new(),
            unmatched_count: 0,
            node_of,
        }
    }

    /// The bytes recorded so far for `slot`, ending its live incarnation (a restart
    /// continues them: pass them to the next recorder's sink).
    pub fn end(&mut self, slot: usize) -> Option<Vec<u8>> {
        if let Some(r) = self.live[slot].take() {
            self.ended[slot] = Some(r.into_bytes());
        }
        self.ended[slot].take()
    }

    /// `slot` (re)started, recorded by `recorder` (`None`: not recorded).
    pub fn begin(&mut self, slot: usize, recorder: Option<Box<dyn DynRecorder<I, O>>>) {
        self.live[slot] = recorder;
        self.incarnations[slot] += 1;
    }

    /// The number of the incarnation `slot` starts next (from 1).
    pub fn next_incarnation(&self, slot: usize) -> u64 {
        self.incarnations[slot] + 1
    }

    /// `slot` (re)started as machine `M` from `boot`: records it from now on, after
    /// what its earlier incarnations recorded, keeping whole outputs.
    pub fn start_node<M>(&mut self, slot: usize, boot: &M::Boot, now_us: u64, note: String)
    where
        M: Machine<Input = I, Output = O> + 'static,
    {
        let sink = self.end(slot).map_or_else(Sink::memory, Sink::Memory);
        let (node, incarnation) = ((self.node_of)(slot), self.next_incarnation(slot));
        let mut r = Recorder::<M>::start(sink, node, incarnation, now_us, boot, note);
        r.with_outputs = true;
        self.begin(slot, Some(Box::new(r)));
    }

    /// What to keep of an input before the step consumes it: its bytes and, for a
    /// message, the send it matches.
    pub fn before(&mut self, slot: usize, input: &I) -> Option<(Vec<u8>, Option<LinkSeq>)> {
        self.live[slot].as_ref()?;
        let received = (self.messages.message_in)(input).and_then(|m| self.receipt(m));
        Some((
            postcard::to_allocvec(input).expect("inputs encode"),
            received,
        ))
    }

    /// Records a step of `slot`'s node and remembers its sends for matching.
    pub fn record(
        &mut self,
        slot: usize,
        time_us: u64,
        (input, received): (Vec<u8>, Option<LinkSeq>),
        output: &O,
    ) {
        let Some(r) = self.live[slot].as_mut() else {
            return;
        };
        let sent = r.record(time_us, input, received, output);
        for (m, link) in (self.messages.messages_out)(output).iter().zip(sent) {
            if self.unmatched_count >= UNMATCHED_SENDS_MAX {
                self.unmatched.clear();
                self.unmatched_count = 0;
            }
            self.unmatched.entry(key(m)).or_default().push_back(link);
            self.unmatched_count += 1;
        }
    }

    fn receipt(&mut self, m: &Message) -> Option<LinkSeq> {
        let link = self.unmatched.get_mut(&key(m))?.pop_front()?;
        self.unmatched_count -= 1;
        Some(link)
    }

    /// Writes every node's trace as `node-ID.000000.trace` in the directory.
    pub fn write(&mut self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        for slot in 0..self.live.len() {
            if let Some(bytes) = self.end(slot) {
                let name = crate::file::file_name((self.node_of)(slot), 0);
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
