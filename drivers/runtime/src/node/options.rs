//! A node's configuration as the command line gives it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use kv_core::ServerConfig;
use raft_core::NodeId;
use thiserror::Error;

use crate::frame::FRAME_BYTES_MAX_DEFAULT;
use crate::storage::StorageOptions;

#[derive(Clone, Debug)]
pub struct NodeOptions {
    pub id: NodeId,
    /// Every node's peer address, this one's included.
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// Where the Redis front end listens, if anywhere.
    pub client_addr: Option<SocketAddr>,
    pub data_dir: PathBuf,
    /// One Raft tick: the unit of every timeout in `server`.
    pub tick: Duration,
    pub server: ServerConfig,
    pub storage: StorageOptions,
    pub frame_bytes_max: usize,
    /// Frames queued for one peer before new ones are dropped (Raft resends).
    pub link_frames_max: usize,
    /// Random per start of this process: names this node's messages in traces.
    pub incarnation: u64,
    /// Record a trace of every step, if set.
    pub trace: Option<TraceOptions>,
}

/// Where and how a node records its trace (see the `trace` crate).
#[derive(Clone, Debug)]
pub struct TraceOptions {
    pub dir: PathBuf,
    /// A new file once one passes this size.
    pub file_bytes_max: u64,
    /// Files kept per node; the oldest go first. Replay needs an incarnation's first
    /// file, so keep enough to span the runs you want to replay.
    pub files_max: usize,
    /// Keep every step's whole output, not only its digest (a divergence then shows
    /// the expected output too; the trace grows several times larger).
    pub with_outputs: bool,
}

impl NodeOptions {
    /// Defaults for a 10 ms tick: elections after 300–600 ms of silence, heartbeats every
    /// 50 ms, a snapshot once the log passes 8 MiB, a random seed.
    pub fn new(id: NodeId, peers: BTreeMap<NodeId, SocketAddr>, data_dir: PathBuf) -> Self {
        let mut raft = raft_core::Config::new(id, peers.keys().copied().collect());
        raft.election_ticks = 30;
        raft.heartbeat_ticks = 5;
        // Random per start: it draws the election timeouts and keys the state's hash
        // tables, which a client must not be able to predict (hash flooding). A trace
        // records it, so a replay still repeats the run.
        raft.seed = crate::clerk_loop::fresh_client_id();
        let mut server = ServerConfig::new(raft);
        server.max_raft_state_bytes = Some(8 << 20);
        NodeOptions {
            id,
            peers,
            client_addr: None,
            data_dir,
            tick: Duration::from_millis(10),
            server,
            storage: StorageOptions::default(),
            frame_bytes_max: FRAME_BYTES_MAX_DEFAULT,
            link_frames_max: 4096,
            incarnation: crate::clerk_loop::fresh_client_id(),
            trace: None,
        }
    }

    pub fn peer_addr(&self) -> SocketAddr {
        self.peers[&self.id]
    }

    pub fn servers_self_first(&self) -> Vec<NodeId> {
        let others = self.peers.keys().copied().filter(|&p| p != self.id);
        std::iter::once(self.id).chain(others).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PeersError {
    #[error("peer {0:?} is not ID=HOST:PORT (e.g. 1=127.0.0.1:7001)")]
    Syntax(String),
    #[error("node id in {0:?} must be a positive integer")]
    Id(String),
    #[error("address in {0:?} is not HOST:PORT with a numeric IP (e.g. 127.0.0.1:7001)")]
    Addr(String),
    #[error("node {0} is listed twice")]
    Duplicate(NodeId),
    #[error("no peers given")]
    Empty,
}

/// Parses `1=127.0.0.1:7001,2=127.0.0.1:7002,...`.
pub fn parse_peers(list: &str) -> Result<BTreeMap<NodeId, SocketAddr>, PeersError> {
    let mut peers = BTreeMap::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (id, addr) = item
            .split_once('=')
            .ok_or_else(|| PeersError::Syntax(item.into()))?;
        let id: NodeId = id
            .trim()
            .parse()
            .ok()
            .filter(|&i| i > 0)
            .ok_or_else(|| PeersError::Id(item.into()))?;
        let addr = addr
            .trim()
            .parse()
            .map_err(|_| PeersError::Addr(item.into()))?;
        if peers.insert(id, addr).is_some() {
            return Err(PeersError::Duplicate(id));
        }
    }
    if peers.is_empty() {
        return Err(PeersError::Empty);
    }
    Ok(peers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse_and_bad_lists_say_why() {
        let p = parse_peers("1=127.0.0.1:7001, 2=127.0.0.1:7002").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[&2], "127.0.0.1:7002".parse().unwrap());
        assert_eq!(parse_peers(""), Err(PeersError::Empty));
        assert!(matches!(parse_peers("1:7001"), Err(PeersError::Syntax(_))));
        assert!(matches!(
            parse_peers("0=127.0.0.1:1"),
            Err(PeersError::Id(_))
        ));
        assert!(matches!(
            parse_peers("x=127.0.0.1:1"),
            Err(PeersError::Id(_))
        ));
        assert!(matches!(
            parse_peers("1=localhost"),
            Err(PeersError::Addr(_))
        ));
        let dup = parse_peers("1=127.0.0.1:1,1=127.0.0.1:2");
        assert_eq!(dup, Err(PeersError::Duplicate(1)));
    }
}
