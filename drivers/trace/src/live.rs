//! A machine rebuilt from a header, driven by encoded inputs: what replay, check and
//! view share. The trace's kind picks the machine at run time.

use std::fmt::Debug;

use kv_core::service::Server;
use kv_core::shardkv::ShardGroup;
use kv_core::{KvState, ShardCtrl};
use raft_core::{Message, Node, NodeId, Observer};

use crate::format::{digest_of, Kind};
use crate::machine::{Machine, RaftMachine};

pub(crate) trait Driven {
    /// Steps the machine with an encoded input; the output's digest, or why the input
    /// does not decode.
    fn step(&mut self, input: &[u8], obs: &mut dyn Observer) -> Result<u64, String>;
    fn node(&self) -> Option<&Node>;
    /// The last step's output, for people.
    fn last_output(&self) -> String;
    /// The last step's outgoing messages: (to, one-line summary).
    fn last_messages(&self) -> Vec<(NodeId, String)>;
    fn describe_input(&self, input: &[u8]) -> String;
    fn describe_output(&self, output: &[u8]) -> String;
}

struct Live<M: Machine> {
    machine: M,
    last: Option<M::Output>,
}

/// Builds the machine of `kind` from a header's boot.
pub(crate) fn boot(kind: Kind, boot: &[u8]) -> Result<Box<dyn Driven>, String> {
    match kind {
        Kind::Raft => live::<RaftMachine>(boot),
        Kind::Kv => live::<Server<KvState>>(boot),
        Kind::ShardCtrl => live::<Server<ShardCtrl>>(boot),
        Kind::ShardGroup => live::<ShardGroup>(boot),
        Kind::MrCoordinator => live::<crate::machine::MrMachine>(boot),
    }
}

fn live<M: Machine + 'static>(boot: &[u8]) -> Result<Box<dyn Driven>, String> {
    let b: M::Boot =
        postcard::from_bytes(boot).map_err(|e| format!("boot does not decode: {e}"))?;
    Ok(Box::new(Live {
        machine: M::boot(b)?,
        last: None,
    }))
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    postcard::from_bytes(bytes).map_err(|e| format!("does not decode: {e}"))
}

fn summary(m: &Message) -> String {
    m.to_string()
}

fn debug_or<T: Debug>(r: Result<T, String>) -> String {
    match r {
        Ok(t) => format!("{t:?}"),
        Err(e) => e,
    }
}

impl<M: Machine> Driven for Live<M> {
    fn step(&mut self, input: &[u8], obs: &mut dyn Observer) -> Result<u64, String> {
        let input: M::Input = decode(input)?;
        let output = self.machine.step(input, obs);
        let digest = digest_of(&output);
        self.last = Some(output);
        Ok(digest)
    }

    fn node(&self) -> Option<&Node> {
        self.machine.node()
    }

    fn last_output(&self) -> String {
        self.last
            .as_ref()
            .map_or("(none)".into(), |o| format!("{o:?}"))
    }

    fn last_messages(&self) -> Vec<(NodeId, String)> {
        self.last.as_ref().map_or(Vec::new(), |o| {
            M::messages_out(o)
                .iter()
                .map(|m| (m.to, summary(m)))
                .collect()
        })
    }

    fn describe_input(&self, input: &[u8]) -> String {
        debug_or(decode::<M::Input>(input))
    }

    fn describe_output(&self, output: &[u8]) -> String {
        debug_or(decode::<M::Output>(output))
    }
}
