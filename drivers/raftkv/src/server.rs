//! `raftkv server`: one node of a cluster, in this process, until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use kv_core::KvState;
use runtime::node::{self, parse_peers, NodeOptions};
use runtime::redis;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

#[derive(Args, Clone, Debug)]
pub struct ServerArgs {
    /// This node's id: one of the ids in --peers.
    #[arg(long)]
    pub id: u64,
    /// Every node of the cluster as ID=HOST:PORT, comma-separated, this one included
    /// (its address is where it listens for peers and `raftkv` clients).
    #[arg(long, value_name = "ID=HOST:PORT,...")]
    pub peers: String,
    /// Where to serve Redis clients (RESP2): redis-cli, redis-benchmark, any Redis library.
    #[arg(long, value_name = "HOST:PORT")]
    pub client: Option<SocketAddr>,
    /// Where this node keeps its log and snapshots (created if missing; one process at a time).
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Take a snapshot once the Raft log passes this many bytes.
    #[arg(long, default_value_t = 8 << 20, value_name = "BYTES")]
    pub snapshot_log_bytes: usize,
}

pub fn run(args: &ServerArgs) -> Result<(), String> {
    let peers = parse_peers(&args.peers).map_err(|e| format!("--peers: {e}"))?;
    if !peers.contains_key(&args.id) {
        return Err(format!("--id {} is not one of the ids in --peers", args.id));
    }
    let mut opts = NodeOptions::new(args.id, peers, args.data_dir.clone());
    opts.client_addr = args.client;
    opts.server.max_raft_state_bytes = Some(args.snapshot_log_bytes);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the event loop: {e}"))?;
    rt.block_on(serve(opts))
}

async fn serve(opts: NodeOptions) -> Result<(), String> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    });
    // Bind the Redis port before the node starts, so a bad address fails at once.
    let listener = match opts.client_addr {
        Some(addr) => Some(redis::bind(addr).await.map_err(|e| e.to_string())?),
        None => None,
    };
    let id = opts.id;
    let front_end = move |handle| async move {
        match listener {
            Some(l) => redis::serve(l, handle).await,
            None => Ok(()),
        }
    };
    node::run::<KvState, _, _>(opts, stop_rx, front_end)
        .await
        .map_err(|e| format!("node {id}: {e}"))
}
