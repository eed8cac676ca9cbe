//! The step functions a trace can drive. Each is the very code that ran: replay
//! rebuilds it from the header's boot and feeds it the recorded inputs.

use std::fmt::Debug;

use kv_core::service::{Server, ServerConfig, ServerInput, ServerReady, StateMachine};
use kv_core::shardkv::{GroupInput, GroupReady, ShardGroup, ShardGroupConfig};
use kv_core::{KvState, ShardCtrl};
use raft_core::{Input, Message, Node, Observer, Pipeline, RestoredState, Work, WriteId};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::format::Kind;

pub trait Machine: Sized {
    const KIND: Kind;
    /// What the machine is built from: configuration (seed included) and the state
    /// its node restored from disk.
    type Boot: Serialize + DeserializeOwned + Debug;
    type Input: Serialize + DeserializeOwned + Debug;
    type Output: Serialize + DeserializeOwned + Debug;

    fn boot(boot: Self::Boot) -> Result<Self, String>;
    fn step(&mut self, input: Self::Input, obs: &mut dyn Observer) -> Self::Output;
    /// The Raft node inside, for views and checks (`None`: no Raft in this machine).
    fn node(&self) -> Option<&Node>;
    /// The peer message an input carries, if it is one.
    fn message_in(input: &Self::Input) -> Option<&Message>;
    /// The peer messages an output sends, in order.
    fn messages_out(output: &Self::Output) -> &[Message];
}

/// Boot of a machine built on a Raft node: its configuration and restored state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Boot<C> {
    pub config: C,
    pub restored: RestoredState,
}

/// A bare Raft node in the one Ready pipeline.
pub struct RaftMachine(pub Pipeline);

/// The pipeline's two entry points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RaftInput {
    Step(Input),
    Persisted(WriteId),
}

impl Machine for RaftMachine {
    const KIND: Kind = Kind::Raft;
    type Boot = Boot<raft_core::Config>;
    type Input = RaftInput;
    /// A refused input is part of the output (its reason as text).
    type Output = Result<Work, String>;

    fn boot(b: Self::Boot) -> Result<Self, String> {
        let node = Node::new(b.config, b.restored).map_err(|e| e.to_string())?;
        Ok(RaftMachine(Pipeline::new(node)))
    }

    fn step(&mut self, input: RaftInput, obs: &mut dyn Observer) -> Self::Output {
        match input {
            RaftInput::Step(i) => self.0.step_observed(i, obs).map_err(|e| e.to_string()),
            // A trace is read from a file: a report of another write than the oldest in
            // flight is refused, not asserted (a live driver's reports are).
            RaftInput::Persisted(id) => self
                .0
                .try_persisted_observed(id, obs)
                .map_err(|e| e.to_string()),
        }
    }

    fn node(&self) -> Option<&Node> {
        Some(self.0.node())
    }

    fn message_in(input: &RaftInput) -> Option<&Message> {
        match input {
            RaftInput::Step(Input::Message(m)) => Some(m),
            _ => None,
        }
    }

    fn messages_out(output: &Self::Output) -> &[Message] {
        output.as_ref().map_or(&[], |w| &w.messages)
    }
}

/// The state machines whose generic server can be traced, and the kind each is.
pub trait TracedService: StateMachine {
    const KIND: Kind;
}

impl TracedService for KvState {
    const KIND: Kind = Kind::Kv;
}

impl TracedService for ShardCtrl {
    const KIND: Kind = Kind::ShardCtrl;
}

impl<S: TracedService> Machine for Server<S> {
    const KIND: Kind = S::KIND;
    type Boot = Boot<ServerConfig>;
    type Input = ServerInput<S::Op>;
    type Output = ServerReady<S::Output>;

    fn boot(b: Self::Boot) -> Result<Self, String> {
        Server::new(b.config, b.restored).map_err(|e| e.to_string())
    }

    fn step(&mut self, input: Self::Input, obs: &mut dyn Observer) -> Self::Output {
        if let ServerInput::Persisted(id) = input {
            if self.oldest_write_in_flight() != Some(id) {
                // From a file, not a live driver: nothing happens, and the replay shows
                // the step diverging instead of the server asserting.
                return ServerReady::default();
            }
        }
        self.step_observed(input, obs)
    }

    fn node(&self) -> Option<&Node> {
        Some(Server::node(self))
    }

    fn message_in(input: &Self::Input) -> Option<&Message> {
        match input {
            ServerInput::Message(m) => Some(m),
            _ => None,
        }
    }

    fn messages_out(output: &Self::Output) -> &[Message] {
        &output.messages
    }
}

impl Machine for ShardGroup {
    const KIND: Kind = Kind::ShardGroup;
    type Boot = Boot<ShardGroupConfig>;
    type Input = GroupInput;
    type Output = GroupReady;

    fn boot(b: Self::Boot) -> Result<Self, String> {
        ShardGroup::new(b.config, b.restored).map_err(|e| e.to_string())
    }

    fn step(&mut self, input: GroupInput, obs: &mut dyn Observer) -> GroupReady {
        if let GroupInput::Persisted(id) = input {
            if self.server().oldest_write_in_flight() != Some(id) {
                return GroupReady::default(); // as for a server, above
            }
        }
        self.step_observed(input, obs)
    }

    fn node(&self) -> Option<&Node> {
        Some(self.server().node())
    }

    fn message_in(input: &GroupInput) -> Option<&Message> {
        match input {
            GroupInput::Message(m) => Some(m),
            _ => None,
        }
    }

    fn messages_out(output: &GroupReady) -> &[Message] {
        &output.messages
    }
}

/// The MapReduce coordinator: which task goes to which worker, and which completion
/// counts. No Raft inside, so a check has nothing to watch in it; replay and view work.
pub struct MrMachine(pub mr_core::Coordinator);

impl Machine for MrMachine {
    const KIND: Kind = Kind::MrCoordinator;
    type Boot = mr_core::Config;
    type Input = mr_core::Input;
    /// A refused report is part of the output (its reason as text).
    type Output = Result<mr_core::Output, String>;

    fn boot(config: mr_core::Config) -> Result<Self, String> {
        mr_core::Coordinator::new(config)
            .map(MrMachine)
            .map_err(|e| e.to_string())
    }

    fn step(&mut self, input: mr_core::Input, _obs: &mut dyn Observer) -> Self::Output {
        self.0.step(input).map_err(|e| e.to_string())
    }

    fn node(&self) -> Option<&Node> {
        None
    }

    fn message_in(_: &mr_core::Input) -> Option<&Message> {
        None
    }

    fn messages_out(_: &Self::Output) -> &[Message] {
        &[]
    }
}
