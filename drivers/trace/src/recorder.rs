//! Recording one node: a header per incarnation, a step per call into its step
//! function. A recorder never stops the node it records: the first error (a full
//! disk, say) is kept, recording stops, and the node carries on.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use raft_core::NodeId;
use serde::Serialize;

use crate::file::{Sink, TraceError};
use crate::format::{digest_of, Frame, Header, LinkSeq, Step, FORMAT_VERSION};
use crate::machine::Machine;

/// Peers a recorder numbers links to; past it messages go unnumbered (seq 0).
const LINKS_MAX: usize = 4096;

pub struct Recorder<M: Machine> {
    sink: Sink,
    node: NodeId,
    incarnation: u64,
    note: String,
    steps: u64,
    /// The last sequence number used on the link to each peer.
    seqs: BTreeMap<NodeId, u64>,
    /// Keep each step's whole output too (the simulator does: a divergence then shows
    /// what was expected, not only that the digest differs).
    pub with_outputs: bool,
    failed: Option<TraceError>,
    _machine: PhantomData<fn(M)>,
}

impl<M: Machine> Recorder<M> {
    /// Starts recording incarnation `incarnation` of `node`, booted from `boot`.
    pub fn start(
        mut sink: Sink,
        node: NodeId,
        incarnation: u64,
        started_us: u64,
        boot: &M::Boot,
        note: String,
    ) -> Self {
        let header = Header {
            version: FORMAT_VERSION,
            kind: M::KIND,
            node,
            incarnation,
            started_us,
            first_step: 0,
            boot: postcard::to_allocvec(boot).expect("boots encode"),
            note: note.clone(),
        };
        let failed = sink
            .write(&Frame::Header(header), || unreachable!("a header fits"))
            .err();
        Recorder {
            sink,
            node,
            incarnation,
            note,
            steps: 0,
            seqs: BTreeMap::new(),
            with_outputs: false,
            failed,
            _machine: PhantomData,
        }
    }

    /// The input's bytes as the trace keeps them: take them before the input is
    /// consumed by the step.
    pub fn encode_input(input: &M::Input) -> Vec<u8> {
        postcard::to_allocvec(input).expect("inputs encode")
    }

    /// Records one step; numbers the messages its output sends (one `LinkSeq` per
    /// message, in order) so the transport can carry the numbers to the receivers.
    pub fn record(
        &mut self,
        time_us: u64,
        input: Vec<u8>,
        received: Option<LinkSeq>,
        output: &M::Output,
    ) -> Vec<LinkSeq> {
        let sent = self.number(M::messages_out(output).iter().map(|m| m.to));
        self.steps += 1;
        if self.failed.is_some() {
            return sent;
        }
        let step = Step {
            time_us,
            input,
            digest: digest_of(output),
            received,
            sent: sent.clone(),
            output: self.with_outputs.then(|| encode(output)),
        };
        let (node, incarnation, first_step) = (self.node, self.incarnation, self.steps);
        let note = self.note.clone();
        let continue_with = move || Header {
            version: FORMAT_VERSION,
            kind: M::KIND,
            node,
            incarnation,
            started_us: time_us,
            first_step,
            boot: Vec::new(),
            note,
        };
        if let Err(e) = self.sink.write(&Frame::Step(step), continue_with) {
            self.failed = Some(e);
        }
        sent
    }

    fn number(&mut self, to: impl Iterator<Item = NodeId>) -> Vec<LinkSeq> {
        to.map(|to| {
            let seq = if self.seqs.len() < LINKS_MAX || self.seqs.contains_key(&to) {
                let s = self.seqs.entry(to).or_insert(0);
                *s += 1;
                *s
            } else {
                0
            };
            LinkSeq {
                from: self.node,
                to,
                incarnation: self.incarnation,
                seq,
            }
        })
        .collect()
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Why recording stopped, if it did.
    pub fn failure(&self) -> Option<&TraceError> {
        self.failed.as_ref()
    }

    /// Why recording stopped, taken out once (recording stays stopped; later calls
    /// return `None`).
    pub fn take_failure(&mut self) -> Option<TraceError> {
        match self.failed.take()? {
            TraceError::Stopped => {
                self.failed = Some(TraceError::Stopped);
                None
            }
            e => {
                self.failed = Some(TraceError::Stopped);
                Some(e)
            }
        }
    }

    pub fn flush(&mut self) {
        if self.failed.is_none() {
            if let Err(e) = self.sink.flush() {
                self.failed = Some(e);
            }
        }
    }

    /// The bytes of an in-memory trace (a file's content), if this one is.
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        match self.sink {
            Sink::Memory(bytes) => Some(bytes),
            Sink::Files(_) => None,
        }
    }
}

fn encode<T: Serialize>(t: &T) -> Vec<u8> {
    postcard::to_allocvec(t).expect("outputs encode")
}
