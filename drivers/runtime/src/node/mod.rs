//! One node of a replicated service as a process: a single-threaded event loop (a tokio
//! current-thread runtime) whose actor owns the service's `kv_core::service::Server`,
//! with sockets as tasks on the same thread and the disk on a storage thread beside it.
//!
//! ```text
//!  peer port ──frames──▶ inbound ─┐                      ┌─▶ outbound links ──▶ peers
//!  redis port ─RESP──▶ clerks ────┼─▶ actor (Server<S>) ─┤
//!  storage thread ─Persisted─────┘     ▲ ticks            └─▶ storage thread (fsync)
//! ```
//!
//! The actor is the only code that touches the state machine; everything else talks to
//! it through its inbox. It never blocks: writes go to the storage thread, which appends
//! every write waiting for it and syncs once (group commit), then reports them all.

mod actor;
mod clerk;
mod inbound;
mod links;
mod options;
mod storage_thread;

pub use actor::Event;
pub use clerk::NodeClerk;
pub use options::{parse_peers, NodeOptions, PeersError};

pub(crate) use actor::{Actor, Inbox};
pub(crate) use links::Links;

use std::net::SocketAddr;

use kv_core::service::{ServerError, StateMachine};
use thiserror::Error;
use tokio::sync::watch;

use crate::storage::{Storage, StorageError};

#[derive(Debug, Error)]
pub enum NodeError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot start the service from its stored state: {0}")]
    Restore(#[from] ServerError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("replica halted: {0}")]
    Halted(String),
}

/// What a running node hands its front ends: a way into the actor, the links to the
/// other nodes, and the shutdown signal.
#[derive(Clone)]
pub struct NodeHandle<S: StateMachine> {
    pub id: raft_core::NodeId,
    /// Every node of the cluster, this one first.
    pub servers: Vec<raft_core::NodeId>,
    pub(crate) inbox: Inbox<S>,
    pub(crate) links: Links,
    pub shutdown: watch::Receiver<bool>,
}

/// Opens the data directory, recovers, and runs the node until `shutdown` turns true
/// (or storage fails). `front_end` is started with a handle once the node is up: the
/// Redis listener for the key/value store, nothing for a bare service.
pub async fn run<S, F, Fut>(
    opts: NodeOptions,
    shutdown: watch::Receiver<bool>,
    front_end: F,
) -> Result<(), NodeError>
where
    S: StateMachine + Send + 'static,
    S::Op: Send + Sync,
    S::Output: Send + Sync,
    F: FnOnce(NodeHandle<S>) -> Fut,
    Fut: std::future::Future<Output = Result<(), NodeError>> + Send + 'static,
{
    let (storage, recovered) = Storage::open(&opts.data_dir, opts.storage.clone())?;
    let dir = opts.data_dir.display();
    tracing::info!(
        "node {} recovered: {} (from {dir})",
        opts.id,
        recovered.report
    );
    let peer_listener = inbound::bind(opts.peer_addr()).await?;
    let (actor, inbox_rx) = Actor::<S>::new(&opts, recovered.state, &storage)?;
    let (writes, storage_thread) = storage_thread::spawn(storage, actor.inbox());
    let links = links::spawn::<S>(&opts, actor.inbox(), shutdown.clone());
    let handle = NodeHandle {
        id: opts.id,
        servers: opts.servers_self_first(),
        inbox: actor.inbox(),
        links: links.clone(),
        shutdown: shutdown.clone(),
    };
    tokio::spawn(inbound::serve::<S>(
        peer_listener,
        opts.clone(),
        actor.inbox(),
        shutdown.clone(),
    ));
    let front = tokio::spawn(front_end(handle));
    let result = actor.run(inbox_rx, links, writes, shutdown).await;
    front.abort();
    // The actor dropped its sender: the thread finishes the writes it holds and ends.
    let _ = tokio::task::spawn_blocking(move || storage_thread.join()).await;
    result
}
