//! `raftkv server`: one node of a cluster, in this process, until SIGTERM or Ctrl-C.
//! The node serves one of three services: the replicated key/value store, the shard
//! controller of a sharded store, or one shard group of a sharded store.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use kv_core::shardkv::{ShardGroup, ShardGroupConfig};
use kv_core::{ClerkConfig, KvState, ShardCtrl};
use raft_core::NodeId;
use runtime::clerk_loop::fresh_client_id;
use runtime::node::{self, parse_peers, NodeError, NodeOptions, TraceOptions};
use runtime::redis;
use runtime::shard::GroupReplica;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// The replicated key/value store (every node holds every key).
    Kv,
    /// The shard controller of a sharded store: which group serves which shard.
    Shardctrl,
    /// One shard group of a sharded store (needs --gid and --ctrl).
    Shardgroup,
}

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
    /// Which service this node serves.
    #[arg(long, value_enum, default_value_t = Service::Kv)]
    pub service: Service,
    /// The shard group this node belongs to (a positive number; --service shardgroup).
    #[arg(long, value_name = "GID")]
    pub gid: Option<u64>,
    /// The shard controller's nodes as ID=HOST:PORT (their peer addresses),
    /// comma-separated (--service shardgroup). Node ids must be unique across the
    /// controller and every group.
    #[arg(long, value_name = "ID=HOST:PORT,...")]
    pub ctrl: Option<String>,
    /// Record a trace of every step of this node in DIR (`raftkv trace replay|check|view
    /// DIR` read it).
    #[arg(long, value_name = "DIR")]
    pub trace_dir: Option<PathBuf>,
    /// Start a new trace file once one passes this many bytes.
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub trace_file_bytes: u64,
    /// Trace files kept for this node (the oldest are deleted; replaying a run needs
    /// the file its incarnation started in).
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub trace_files: usize,
    /// Keep every step's whole output in the trace, not only its digest.
    #[arg(long)]
    pub trace_outputs: bool,
}

pub fn run(args: &ServerArgs) -> Result<(), String> {
    return_large_frees_to_the_system();
    let peers = parse_peers(&args.peers).map_err(|e| format!("--peers: {e}"))?;
    if !peers.contains_key(&args.id) {
        return Err(format!("--id {} is not one of the ids in --peers", args.id));
    }
    let group = shard_group_args(args)?;
    if args.service == Service::Shardctrl && args.client.is_some() {
        return Err(
            "--client: the controller has no Redis front end (its clients are \
                    `raftkv shard` and the shard groups)"
                .into(),
        );
    }
    if let Some((_, ctrl)) = &group {
        if let Some(id) = ctrl.keys().find(|id| peers.contains_key(id)) {
            return Err(format!("node id {id} is in both --peers and --ctrl"));
        }
    }
    let mut opts = NodeOptions::new(args.id, peers, args.data_dir.clone());
    opts.client_addr = args.client;
    opts.server.max_raft_state_bytes = Some(args.snapshot_log_bytes);
    if let Some(dir) = &args.trace_dir {
        if args.trace_file_bytes == 0 || args.trace_files == 0 {
            return Err("--trace-file-bytes and --trace-files must be positive".into());
        }
        // A file ends within one frame past this; the reader refuses larger files.
        let frame_bytes =
            (trace::format::FRAME_BYTES_MAX + trace::format::FRAME_HEADER_BYTES) as u64;
        let most = trace::file::TRACE_FILE_BYTES_MAX - frame_bytes;
        if args.trace_file_bytes > most {
            return Err(format!(
                "--trace-file-bytes: at most {most}, so every file stays readable"
            ));
        }
        opts.trace = Some(TraceOptions {
            dir: dir.clone(),
            file_bytes_max: args.trace_file_bytes,
            files_max: args.trace_files,
            with_outputs: args.trace_outputs,
        });
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the event loop: {e}"))?;
    rt.block_on(serve(opts, args.service, group))
}

type Ctrl = BTreeMap<NodeId, SocketAddr>;

/// --gid and --ctrl, checked against --service.
fn shard_group_args(args: &ServerArgs) -> Result<Option<(u64, Ctrl)>, String> {
    match (args.service, args.gid, &args.ctrl) {
        (Service::Shardgroup, Some(0), _) => {
            Err("--gid: 0 means \"no group\"; pick a positive number".into())
        }
        (Service::Shardgroup, Some(gid), Some(ctrl)) => {
            let ctrl = parse_peers(ctrl).map_err(|e| format!("--ctrl: {e}"))?;
            Ok(Some((gid, ctrl)))
        }
        (Service::Shardgroup, _, _) => Err("--service shardgroup needs --gid and --ctrl".into()),
        (_, None, None) => Ok(None),
        (other, _, _) => Err(format!(
            "--gid and --ctrl are for --service shardgroup, not {other:?}"
        )),
    }
}

/// Stops the node on SIGTERM or Ctrl-C.
fn on_signal(stop_tx: watch::Sender<bool>) -> Result<(), String> {
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    });
    Ok(())
}

async fn serve(
    opts: NodeOptions,
    service: Service,
    group: Option<(u64, Ctrl)>,
) -> Result<(), String> {
    let (stop_tx, stop_rx) = watch::channel(false);
    on_signal(stop_tx)?;
    // Bind the Redis port before the node starts, so a bad address fails at once.
    let listener = match opts.client_addr {
        Some(addr) => Some(redis::bind(addr).await.map_err(|e| e.to_string())?),
        None => None,
    };
    let id = opts.id;
    let ran = match (service, group) {
        (Service::Kv, _) => serve_kv(opts, stop_rx, listener).await,
        (Service::Shardctrl, _) => {
            let no_front_end = |_| async { Ok(()) };
            node::run::<ShardCtrl, _, _>(opts, stop_rx, no_front_end).await
        }
        (Service::Shardgroup, Some((gid, ctrl))) => {
            serve_group(opts, gid, ctrl, stop_rx, listener).await
        }
        (Service::Shardgroup, None) => unreachable!("checked by shard_group_args"),
    };
    ran.map_err(|e| format!("node {id}: {e}"))
}

async fn serve_kv(
    opts: NodeOptions,
    stop_rx: watch::Receiver<bool>,
    listener: Option<TcpListener>,
) -> Result<(), NodeError> {
    let front_end = move |handle| async move {
        match listener {
            Some(l) => redis::serve(l, handle).await,
            None => Ok(()),
        }
    };
    node::run::<KvState, _, _>(opts, stop_rx, front_end).await
}

async fn serve_group(
    opts: NodeOptions,
    gid: u64,
    ctrl: Ctrl,
    stop_rx: watch::Receiver<bool>,
    listener: Option<TcpListener>,
) -> Result<(), NodeError> {
    let clerk = ClerkConfig::new(fresh_client_id(), ctrl.keys().copied().collect());
    let cfg = ShardGroupConfig::new(opts.server.clone(), gid, clerk);
    let ctrl_addrs = ctrl.clone();
    // A data directory of another group is refused by the replica (see its failure()).
    let make = move |restored: raft_core::RestoredState| {
        let group = ShardGroup::new(cfg.clone(), restored.clone())?;
        let boot = trace::Boot {
            config: cfg,
            restored,
        };
        Ok((GroupReplica::new(group, ctrl_addrs), boot))
    };
    let front_end = move |handle| async move {
        match listener {
            Some(l) => redis::serve_sharded(l, handle, ctrl).await,
            None => Ok(()),
        }
    };
    node::run_replica(opts, make, stop_rx, front_end).await
}

/// Allocations of 1 MiB and more (the key/value store's pages and hash table, snapshots)
/// get their own mappings, so freeing one returns it to the system. glibc otherwise
/// raises this threshold as large blocks are freed, after which they come from the main
/// heap and a freed one (a hash table outgrown, say) stays there as a hole: 24 MB of a
/// node holding a million keys (BENCHMARKS.md, "Memory"). Smaller, frequent allocations
/// (messages, requests) keep reusing the heap.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_frees_to_the_system() {
    const MMAP_THRESHOLD_BYTES: libc::c_int = 1024 * 1024;
    // SAFETY: mallopt sets one allocator parameter, under the allocator's own lock.
    let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) };
    if set != 1 {
        tracing::warn!("mallopt(M_MMAP_THRESHOLD) refused; large frees may stay in the heap");
    }
}

/// Other allocators return large blocks their own way.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_frees_to_the_system() {}
