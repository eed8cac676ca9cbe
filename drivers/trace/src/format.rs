//! The file format. A trace file is the 8-byte magic `RKVTRACE` followed by frames,
//! each `[len u32 LE][crc32c u32 LE][postcard Frame]`, appended as the node runs. A
//! file cut short by a crash is readable up to its last whole frame.
//!
//! A node's trace is one or more files. A [`Header`] frame starts each incarnation of
//! the node (each start or restart) and each file of it (rotation by size continues the
//! same incarnation in the next file, with `first_step` saying where). Every [`Step`]
//! after it is one call into the node's step function: the input as the machine's own
//! type (postcard), a digest of the output it produced, and the link sequence numbers
//! of the message it received and the messages it sent, which is how a receipt is
//! matched with its send across nodes.

use raft_core::NodeId;
use serde::{Deserialize, Serialize};

pub const MAGIC: [u8; 8] = *b"RKVTRACE";
/// Bumped whenever a frame's meaning changes; readers refuse other versions.
pub const FORMAT_VERSION: u32 = 1;
/// The largest frame a reader accepts, checked from the length before allocating. A
/// header holds the node's whole restored state (snapshot and log tail).
pub const FRAME_BYTES_MAX: usize = 256 << 20;
/// Bytes before a frame's payload: length and checksum.
pub const FRAME_HEADER_BYTES: usize = 8;

/// Which step function a trace drives, so a replay rebuilds the right machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// A bare `raft_core::Pipeline` (raft-sim, embedders).
    Raft,
    /// `kv_core::service::Server<KvState>`: the replicated key/value store.
    Kv,
    /// `kv_core::service::Server<ShardCtrl>`: the shard controller.
    ShardCtrl,
    /// `kv_core::shardkv::ShardGroup`: one server of a shard group.
    ShardGroup,
    /// `mr_core::Coordinator`: the MapReduce coordinator (no Raft inside).
    MrCoordinator,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Raft => "raft",
            Kind::Kv => "kv",
            Kind::ShardCtrl => "shardctrl",
            Kind::ShardGroup => "shardgroup",
            Kind::MrCoordinator => "mr-coordinator",
        }
    }
}

/// The start of a node incarnation, or of a file continuing one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub version: u32,
    pub kind: Kind,
    pub node: NodeId,
    /// Unique per start of the node (random in a real process, the restart count in
    /// the simulator): names the sender of a message together with `node`.
    pub incarnation: u64,
    /// When the incarnation (or this file) started, in the trace's clock: virtual
    /// microseconds in the simulator, Unix microseconds in a real process.
    pub started_us: u64,
    /// The number of the first step in this file: 0 at the start of an incarnation,
    /// more in a file that continues one after rotation.
    pub first_step: u64,
    /// The machine's boot (configuration, seed included, and the state restored from
    /// disk) as postcard; empty in a file that continues an incarnation.
    pub boot: Vec<u8>,
    /// What recorded it (program, version, seed): for people.
    pub note: String,
}

/// One end of a message: the `seq`-th message node `from` (in incarnation
/// `incarnation`) sent to node `to`. Numbered by the sender per link, from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LinkSeq {
    pub from: NodeId,
    pub to: NodeId,
    pub incarnation: u64,
    pub seq: u64,
}

/// One call into the node's step function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub time_us: u64,
    /// The input, as postcard of the machine's input type.
    pub input: Vec<u8>,
    /// FNV-1a of the postcard of the output the step produced.
    pub digest: u64,
    /// The message this input carried, if it was one received from a peer.
    pub received: Option<LinkSeq>,
    /// The messages the output sent, in the output's order.
    pub sent: Vec<LinkSeq>,
    /// The whole output (postcard), when the recorder keeps outputs.
    pub output: Option<Vec<u8>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    Header(Header),
    Step(Step),
}

impl Frame {
    /// Appends the frame, length and checksum first, to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let payload = postcard::to_allocvec(self).expect("in-memory frames always encode");
        let len = u32::try_from(payload.len()).expect("a frame fits in u32");
        assert!(
            payload.len() <= FRAME_BYTES_MAX,
            "a frame over the reader's limit"
        );
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
    }
}

/// The output digest: FNV-1a (sim-kit's) of the output's postcard.
pub fn digest_of<T: Serialize>(output: &T) -> u64 {
    let mut h = sim_kit::digest::Fnv::default();
    h.write(&postcard::to_allocvec(output).expect("outputs encode"));
    h.finish()
}
