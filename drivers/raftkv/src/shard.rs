//! `raftkv shard ...`: administer and use a sharded store. `join`, `leave`, `move` and
//! `query` talk to the shard controller; `get`, `put` and `append` go to the group that
//! owns the key's shard (found through the controller).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Subcommand};
use kv_core::shardkv::{server_id, ShardOp, ShardOutput};
use kv_core::{Config, CtrlOp, CtrlOutcome, ShardCtrl};
use raft_core::NodeId;
use runtime::client::Client;
use runtime::node::parse_peers;
use runtime::shard::ShardClient;

pub const DEFAULT_CTRL: &str = "1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103";

#[derive(Args, Clone, Debug)]
pub struct CtrlArgs {
    /// The shard controller's nodes as ID=HOST:PORT (their peer addresses).
    #[arg(long, default_value = DEFAULT_CTRL, value_name = "ID=HOST:PORT,...")]
    pub ctrl: String,
    /// Give up after this many seconds without an answer.
    #[arg(long, default_value_t = 10)]
    pub timeout_secs: u64,
}

#[derive(Subcommand, Clone, Debug)]
pub enum ShardCommand {
    /// Add a shard group (its servers as ID=HOST:PORT, their peer addresses); the
    /// controller rebalances and the groups move the shards between them.
    Join {
        #[arg(long)]
        gid: u64,
        #[arg(long, value_name = "ID=HOST:PORT,...")]
        servers: String,
        #[command(flatten)]
        ctrl: CtrlArgs,
    },
    /// Remove shard groups; their shards move to the groups that remain.
    Leave {
        #[arg(long, value_delimiter = ',', required = true)]
        gid: Vec<u64>,
        #[command(flatten)]
        ctrl: CtrlArgs,
    },
    /// Put one shard on one group (until the next join or leave rebalances).
    Move {
        #[arg(long)]
        shard: usize,
        #[arg(long)]
        gid: u64,
        #[command(flatten)]
        ctrl: CtrlArgs,
    },
    /// Show configuration NUM (the latest without it).
    Query {
        #[arg(long)]
        num: Option<u64>,
        #[command(flatten)]
        ctrl: CtrlArgs,
    },
    /// Read a key (linearizable).
    Get {
        key: String,
        #[command(flatten)]
        ctrl: CtrlArgs,
    },
    /// Set a key.
    Put {
        key: String,
        value: String,
        #[command(flatten)]
        ctrl: CtrlArgs,
    },
    /// Append to a key's value.
    Append {
        key: String,
        value: String,
        #[command(flatten)]
        ctrl: CtrlArgs,
    },
}

pub fn run(command: ShardCommand) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the event loop: {e}"))?;
    rt.block_on(async move {
        match command {
            ShardCommand::Join { gid, servers, ctrl } => join(gid, &servers, &ctrl).await,
            ShardCommand::Leave { gid, ctrl } => admin(CtrlOp::Leave { gids: gid }, &ctrl).await,
            ShardCommand::Move { shard, gid, ctrl } => {
                admin(CtrlOp::Move { shard, gid }, &ctrl).await
            }
            ShardCommand::Query { num, ctrl } => {
                let config = query(num, &ctrl).await?;
                print_config(&config);
                Ok(())
            }
            ShardCommand::Get { key, ctrl } => data(ShardOp::Get { key }, &ctrl).await,
            ShardCommand::Put { key, value, ctrl } => {
                data(ShardOp::Put { key, value }, &ctrl).await
            }
            ShardCommand::Append { key, value, ctrl } => {
                data(ShardOp::Append { key, value }, &ctrl).await
            }
        }
    })
}

fn ctrl_nodes(args: &CtrlArgs) -> Result<BTreeMap<NodeId, SocketAddr>, String> {
    parse_peers(&args.ctrl).map_err(|e| format!("--ctrl: {e}"))
}

async fn call_ctrl(op: CtrlOp, args: &CtrlArgs) -> Result<CtrlOutcome, String> {
    let mut client = Client::<ShardCtrl>::new(ctrl_nodes(args)?);
    let deadline = Duration::from_secs(args.timeout_secs);
    client.call(op, deadline).await.map_err(|e| e.to_string())
}

async fn query(num: Option<u64>, args: &CtrlArgs) -> Result<Config, String> {
    match call_ctrl(CtrlOp::Query { num }, args).await? {
        CtrlOutcome::Config(c) => Ok(c),
        other => Err(format!("unexpected answer to a query: {other:?}")),
    }
}

/// Joins a group after checking that none of its node ids is taken: a node id names
/// one server across the whole deployment (groups find each other by id).
async fn join(gid: u64, servers: &str, args: &CtrlArgs) -> Result<(), String> {
    let servers = parse_peers(servers).map_err(|e| format!("--servers: {e}"))?;
    let ctrl = ctrl_nodes(args)?;
    if let Some(id) = servers.keys().find(|id| ctrl.contains_key(id)) {
        return Err(format!("node id {id} is the controller's"));
    }
    let latest = query(None, args).await?;
    for (&other, names) in latest.groups.iter().filter(|(&g, _)| g != gid) {
        if let Some(id) = names
            .iter()
            .filter_map(|n| server_id(n))
            .find(|id| servers.contains_key(id))
        {
            return Err(format!("node id {id} already serves group {other}"));
        }
    }
    let names = servers
        .iter()
        .map(|(id, addr)| format!("{id}@{addr}"))
        .collect();
    admin(
        CtrlOp::Join {
            groups: BTreeMap::from([(gid, names)]),
        },
        args,
    )
    .await
}

async fn admin(op: CtrlOp, args: &CtrlArgs) -> Result<(), String> {
    match call_ctrl(op, args).await? {
        CtrlOutcome::Configured { num } => {
            println!("made configuration {num}");
            Ok(())
        }
        CtrlOutcome::Refused(e) => Err(format!("refused: {e}")),
        other => Err(format!("unexpected answer: {other:?}")),
    }
}

async fn data(op: ShardOp, args: &CtrlArgs) -> Result<(), String> {
    let mut client = ShardClient::new(ctrl_nodes(args)?);
    let deadline = Duration::from_secs(args.timeout_secs);
    match client.call(op, deadline).await.map_err(|e| e.to_string())? {
        ShardOutput::Value(Some(v)) => println!("{v}"),
        ShardOutput::Value(None) => println!("(nil)"),
        ShardOutput::Done => println!("OK"),
        other => return Err(format!("unexpected answer: {other:?}")),
    }
    Ok(())
}

fn print_config(c: &Config) {
    println!("configuration {}", c.num);
    let shards: Vec<String> = c.shards.iter().map(u64::to_string).collect();
    println!("shards (0..{}): {}", c.shards.len(), shards.join(" "));
    for (gid, names) in &c.groups {
        println!("group {gid}: {}", names.join(" "));
    }
}
