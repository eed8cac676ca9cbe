//! One node of a replicated service as a process: a single-threaded event loop (a tokio
//! current-thread runtime) whose actor owns the service's replica (a
//! `kv_core::service::Server`, or a shard group built around one: [`Replica`]),
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
mod replica;
mod storage_thread;

pub use actor::Event;
pub use clerk::NodeClerk;
pub use options::{parse_peers, NodeOptions, PeersError, TraceOptions};
pub use replica::{AnswerSink, CallSink, Replica, ReplicaInput, ReplicaReady};

pub(crate) use actor::{Actor, Inbox};
pub(crate) use links::Links;

use std::net::SocketAddr;

use kv_core::service::{Server, ServerError};
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
    #[error("cannot record the trace: {0}")]
    Trace(#[from] trace::TraceError),
}

/// What a running node hands its front ends: a way into the actor, the links to the
/// other nodes, and the shutdown signal.
pub struct NodeHandle<R: Replica> {
    pub id: raft_core::NodeId,
    /// Every node of the cluster, this one first.
    pub servers: Vec<raft_core::NodeId>,
    pub(crate) inbox: Inbox<R>,
    pub(crate) links: Links,
    pub shutdown: watch::Receiver<bool>,
}

// Not derived: that would ask for `R: Clone`, and a replica is never cloned.
impl<R: Replica> Clone for NodeHandle<R> {
    fn clone(&self) -> Self {
        NodeHandle {
            id: self.id,
            servers: self.servers.clone(),
            inbox: self.inbox.clone(),
            links: self.links.clone(),
            shutdown: self.shutdown.clone(),
        }
    }
}

/// What a replica's machine is built from.
pub type BootOf<R> = <<R as Replica>::Machine as trace::Machine>::Boot;

/// The node handle of a plain replicated service of state machine `S`.
pub type ServiceHandle<S> = NodeHandle<Server<S>>;

/// Opens the data directory, recovers, and runs a node of service `S` until `shutdown`
/// turns true (or storage fails). `front_end` is started with a handle once the node is
/// up: the Redis listener for the key/value store, nothing for a bare service.
pub async fn run<S, F, Fut>(
    opts: NodeOptions,
    shutdown: watch::Receiver<bool>,
    front_end: F,
) -> Result<(), NodeError>
where
    S: trace::machine::TracedService + Send + 'static,
    S::Op: crate::wire::WireService + Send + Sync,
    S::Output: Send + Sync,
    S::Query: Send,
    F: FnOnce(ServiceHandle<S>) -> Fut,
    Fut: std::future::Future<Output = Result<(), NodeError>> + Send + 'static,
{
    let config = opts.server.clone();
    let make = move |restored: raft_core::RestoredState| {
        let server = Server::<S>::new(config.clone(), restored.clone())?;
        Ok((server, trace::Boot { config, restored }))
    };
    run_replica(opts, make, shutdown, front_end).await
}

/// [`run`] for any replica: `make` builds it from what the disk holds, and says what
/// it was built from (a trace's header, so a replay can build it again).
pub async fn run_replica<R, M, F, Fut>(
    opts: NodeOptions,
    make: M,
    shutdown: watch::Receiver<bool>,
    front_end: F,
) -> Result<(), NodeError>
where
    R: Replica,
    M: FnOnce(raft_core::RestoredState) -> Result<(R, BootOf<R>), NodeError>,
    F: FnOnce(NodeHandle<R>) -> Fut,
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
    let (replica, boot) = make(recovered.state)?;
    let (actor, inbox_rx) = Actor::<R>::new(&opts, replica, &boot, &storage)?;
    let (writes, storage_thread) = storage_thread::spawn(storage, actor.inbox());
    let links = links::spawn::<R>(&opts, actor.inbox(), shutdown.clone());
    let handle = NodeHandle {
        id: opts.id,
        servers: opts.servers_self_first(),
        inbox: actor.inbox(),
        links: links.clone(),
        shutdown: shutdown.clone(),
    };
    tokio::spawn(inbound::serve::<R>(
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
