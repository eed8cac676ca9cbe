//! What a node's actor owns: one replica of a replicated service. For most services
//! that is `kv_core::service::Server<S>` itself; a shard group is a server with a
//! controller clerk inside it, which also sends requests to other services (the
//! controller, other groups) and hears their answers. This trait is the one shape the
//! actor steps, so one event loop, one transport and one storage thread serve both.
//!
//! It is **not** a second Ready contract: every implementation steps a
//! `kv_core::service::Server` (and through it the one `raft_core::Pipeline`) and passes
//! its result through; it only adds the calls out and the answers in.

use std::convert::Infallible;
use std::fmt::Debug;

use kv_core::service::{Reply, Request, Server, ServerInput, ServerReady};
use raft_core::{Index, Message, Node, Write, WriteId};
use serde::{de::DeserializeOwned, Serialize};

use trace::machine::{Machine, TracedService};

use crate::wire::WireService;

/// Everything that can happen to a replica.
pub enum ReplicaInput<O, A> {
    Tick,
    Message(Message),
    Persisted(WriteId),
    /// A request from a client, or from another service's server.
    Request(Request<O>),
    /// Requests that arrived together, in order (only for a replica that
    /// [`Replica::BATCHES_REQUESTS`]).
    Requests(Vec<Request<O>>),
    /// Another service's answer to one of this replica's calls.
    Answer(A),
}

/// What the node must do after a step: the server's messages, writes and replies, plus
/// this replica's requests to other services.
pub struct ReplicaReady<T, C> {
    pub messages: Vec<Message>,
    pub writes: Vec<Write>,
    pub replies: Vec<Reply<T>>,
    pub calls: Vec<C>,
}

impl<T, C> Default for ReplicaReady<T, C> {
    fn default() -> Self {
        ReplicaReady {
            messages: Vec::new(),
            writes: Vec::new(),
            replies: Vec::new(),
            calls: Vec::new(),
        }
    }
}

impl<T, C> ReplicaReady<T, C> {
    pub fn merge(&mut self, more: Self) {
        self.messages.extend(more.messages);
        self.writes.extend(more.writes);
        self.replies.extend(more.replies);
        self.calls.extend(more.calls);
    }
}

impl<T, C> From<ServerReady<T>> for ReplicaReady<T, C> {
    fn from(r: ServerReady<T>) -> Self {
        ReplicaReady {
            messages: r.messages,
            writes: r.writes,
            replies: r.replies,
            calls: Vec::new(),
        }
    }
}

/// Where a replica's calls go: set up by the replica when the node starts (it knows
/// which transports its calls need), given a way to post answers back into the actor.
pub type CallSink<C> = Box<dyn FnMut(C) + Send>;
/// Posts an answer into the actor's inbox; false if the inbox is full or gone (the
/// answer is then lost, as a packet would be, and the replica asks again).
pub type AnswerSink<A> = std::sync::Arc<dyn Fn(A) -> bool + Send + Sync>;

pub trait Replica: Send + 'static {
    /// What clients (and other services' servers) send it, and what it answers.
    type Op: WireService + Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static;
    type Output: Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static;
    /// A request this replica makes of another service, and that service's answer.
    type Call: Send + 'static;
    type Answer: Send + 'static;
    /// The step function inside, as traces record and replay it.
    type Machine: Machine;
    /// Whether the replica takes requests that arrived together as one input
    /// ([`ReplicaInput::Requests`]), proposing their writes as one batch.
    const BATCHES_REQUESTS: bool = false;

    fn machine(&mut self) -> &mut Self::Machine;
    /// The machine's own input for an event.
    fn native(input: ReplicaInput<Self::Op, Self::Answer>) -> MachineInput<Self>;
    /// What the node does with the machine's output.
    fn finish(&mut self, output: MachineOutput<Self>) -> ReplicaReady<Self::Output, Self::Call>;

    fn step(
        &mut self,
        input: ReplicaInput<Self::Op, Self::Answer>,
    ) -> ReplicaReady<Self::Output, Self::Call> {
        let output = self.machine().step(Self::native(input), &mut ());
        self.finish(output)
    }

    /// The Raft node inside (for status: role, term, leader, indexes).
    fn node(&self) -> &Node;
    /// The last index applied to the service's state.
    fn applied(&self) -> Index;
    /// Why the replica halted, if it did: the node then stops.
    fn failure(&self) -> Option<String>;
    /// Starts whatever carries this replica's calls. Called once, inside the node's
    /// event loop, before the first step.
    fn start_calls(&self, answers: AnswerSink<Self::Answer>) -> CallSink<Self::Call>;
}

pub type MachineInput<R> = <<R as Replica>::Machine as Machine>::Input;
pub type MachineOutput<R> = <<R as Replica>::Machine as Machine>::Output;

/// A plain replicated service: it calls nobody.
impl<S> Replica for Server<S>
where
    S: TracedService + Send + 'static,
    S::Op: WireService + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Query: Send,
{
    type Op = S::Op;
    type Output = S::Output;
    type Call = Infallible;
    type Answer = Infallible;
    type Machine = Server<S>;
    const BATCHES_REQUESTS: bool = true;

    fn machine(&mut self) -> &mut Server<S> {
        self
    }

    fn native(input: ReplicaInput<S::Op, Infallible>) -> ServerInput<S::Op> {
        match input {
            ReplicaInput::Tick => ServerInput::Tick,
            ReplicaInput::Message(m) => ServerInput::Message(m),
            ReplicaInput::Persisted(id) => ServerInput::Persisted(id),
            ReplicaInput::Request(r) => ServerInput::Request(r),
            ReplicaInput::Requests(rs) => ServerInput::Requests(rs),
            ReplicaInput::Answer(never) => match never {},
        }
    }

    fn finish(&mut self, output: ServerReady<S::Output>) -> ReplicaReady<S::Output, Infallible> {
        output.into()
    }

    fn node(&self) -> &Node {
        Server::node(self)
    }

    fn applied(&self) -> Index {
        Server::applied(self)
    }

    fn failure(&self) -> Option<String> {
        Server::failure(self).map(|e| e.to_string())
    }

    fn start_calls(&self, _answers: AnswerSink<Infallible>) -> CallSink<Infallible> {
        Box::new(|never| match never {})
    }
}
