//! What the simulator needs of a service beyond its [`StateMachine`]: what its clients
//! do when their script runs out. Lab 3's clients run the course's random key/value
//! workload; the shard controller's clerks only run scripts.

use std::convert::Infallible;

use rand_chacha::ChaCha8Rng;

use kv_core::{KvState, ShardCtrl, StateMachine};

use crate::client::Workload;
use crate::recording::{kv_recorder, ServerRecorder};

pub trait SimService: StateMachine<Op: PartialEq> + 'static {
    /// A client's background workload: the state it keeps between operations.
    type Workload;

    /// The next operation `client`'s workload issues.
    fn next_op(workload: &mut Self::Workload, client: usize, rng: &mut ChaCha8Rng) -> Self::Op;

    /// A recorder for a server of this service starting now, continuing `earlier`
    /// (its trace so far), if the service's traces can be replayed.
    fn recorder(_start: RecorderStart) -> Option<Box<ServerRecorder<Self>>> {
        None
    }
}

/// What a server's recorder starts from.
pub struct RecorderStart {
    pub earlier: Option<Vec<u8>>,
    pub node: raft_core::NodeId,
    pub incarnation: u64,
    pub now_us: u64,
    pub config: kv_core::ServerConfig,
    pub restored: raft_core::RestoredState,
}

impl SimService for KvState {
    type Workload = Workload;

    fn next_op(workload: &mut Workload, client: usize, rng: &mut ChaCha8Rng) -> Self::Op {
        workload.next(client, rng)
    }

    fn recorder(s: RecorderStart) -> Option<Box<ServerRecorder<Self>>> {
        Some(kv_recorder(s))
    }
}

/// The controller's tests script every operation: no workload can exist.
impl<const SHARDS: usize> SimService for ShardCtrl<SHARDS> {
    type Workload = Infallible;

    fn next_op(workload: &mut Infallible, _: usize, _: &mut ChaCha8Rng) -> Self::Op {
        match *workload {}
    }
}
