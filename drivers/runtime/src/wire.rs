//! What travels inside a frame on a node's peer port, and the handshake that opens a
//! connection.
//!
//! A connection starts with a [`Hello`] from the side that dialed. A node dials every
//! other node and sends its Raft messages on that outbound connection; a clerk (the
//! `raftkv` client, or a node forwarding a Redis client's command) dials a node and sends
//! requests. Replies go back on the connection their request came in on.
//!
//! `O` and `T` are the replicated service's operation and output, so one transport
//! serves the key/value store and, unchanged, any other `kv_core::StateMachine`.

use kv_core::service::{Reply, Request};
use raft_core::{Index, Message, NodeId, Role, Term};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use thiserror::Error;

/// Bumped whenever a frame's meaning changes; a node refuses a different version.
/// 2: the hello names the service and the sender's incarnation; Raft frames carry the
/// sender's link sequence number.
pub const WIRE_VERSION: u32 = 2;

/// The first frame on every connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub version: u32,
    /// The dialing node, or `None` for a client.
    pub from: Option<NodeId>,
    /// The dialing node's Redis address, so others can name the leader's (INFO).
    pub client_addr: Option<String>,
    /// The service whose frames follow ([`WireService::NAME`]); a node of another
    /// service refuses the connection. postcard frames carry no types, so without
    /// this a key/value `Put` sent to a controller's port by mistake could decode as a
    /// controller operation and be carried out. `None`: status requests only.
    pub service: Option<String>,
    /// Random per start of the dialing node: with a Raft frame's `seq`, names the
    /// message in both nodes' traces (0 from clients).
    pub incarnation: u64,
}

/// Names the service an operation type belongs to, for the hello.
pub trait WireService {
    const NAME: &'static str;
}

impl WireService for kv_core::Op {
    const NAME: &'static str = "kv";
}

impl WireService for kv_core::CtrlOp {
    const NAME: &'static str = "shardctrl";
}

impl WireService for kv_core::shardkv::ShardOp {
    const NAME: &'static str = "shardkv";
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Wire<O, T> {
    Hello(Hello),
    /// `seq`: the sender's number for this message on this link (from 1; 0 when the
    /// sender does not record a trace), so a trace matches its receipt with its send.
    Raft {
        seq: u64,
        message: Message,
    },
    Request(Request<O>),
    Reply(Reply<T>),
    StatusRequest,
    Status(NodeStatus),
}

/// What `raftkv status` and INFO show about one node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    pub id: NodeId,
    pub role: String,
    pub term: Term,
    pub leader: Option<NodeId>,
    pub leader_client_addr: Option<String>,
    pub commit: Index,
    pub applied: Index,
    pub last_index: Index,
    pub log_bytes: u64,
    pub snapshot_bytes: u64,
    /// Frames from peers that did not decode (the connection was dropped each time).
    pub peer_frames_bad: u64,
}

pub fn role_name(role: Role) -> String {
    format!("{role:?}").to_lowercase()
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("undecodable frame payload ({size_bytes} bytes): {source}")]
pub struct WireError {
    pub size_bytes: usize,
    #[source]
    pub source: postcard::Error,
}

impl<O: Serialize, T: Serialize> Wire<O, T> {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("in-memory values always encode")
    }
}

impl<O: DeserializeOwned, T: DeserializeOwned> Wire<O, T> {
    /// postcard checks every length against the bytes left before copying, so a frame
    /// already bounded in size cannot make this allocate much more than its own length.
    pub fn decode(payload: &[u8]) -> Result<Self, WireError> {
        postcard::from_bytes(payload).map_err(|source| WireError {
            size_bytes: payload.len(),
            source,
        })
    }
}
