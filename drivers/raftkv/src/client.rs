//! `raftkv get|put|append|del|cas|status`: a client of a running cluster. Operations
//! go through the pure clerk, which finds the leader and retries with the same sequence
//! number, so a write applies exactly once however often it is resent.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use kv_core::{KvState, Op, Outcome};
use raft_core::NodeId;
use runtime::client::{status, Client};
use runtime::node::parse_peers;

pub const DEFAULT_PEERS: &str = "1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003";

#[derive(Args, Clone, Debug)]
pub struct ClusterArgs {
    /// The cluster's nodes as ID=HOST:PORT (their peer addresses), comma-separated.
    #[arg(long, default_value = DEFAULT_PEERS, value_name = "ID=HOST:PORT,...")]
    pub peers: String,
    /// Give up after this many seconds without an answer from a leader.
    #[arg(long, default_value_t = 10)]
    pub timeout_secs: u64,
}

/// One operation from the command line.
#[derive(Clone, Debug)]
pub enum OpCommand {
    Get {
        key: String,
    },
    Put {
        key: String,
        value: String,
    },
    Append {
        key: String,
        value: String,
    },
    Del {
        key: String,
    },
    Cas {
        key: String,
        new: String,
        expected: Option<String>,
    },
}

impl OpCommand {
    fn op(self) -> Op {
        match self {
            OpCommand::Get { key } => Op::Get { key },
            OpCommand::Put { key, value } => Op::Put { key, value },
            OpCommand::Append { key, value } => Op::Append { key, value },
            OpCommand::Del { key } => Op::DeleteMany { keys: vec![key] },
            OpCommand::Cas { key, new, expected } => Op::Cas { key, expected, new },
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the event loop: {e}"))
}

fn peers(args: &ClusterArgs) -> Result<BTreeMap<NodeId, SocketAddr>, String> {
    parse_peers(&args.peers).map_err(|e| format!("--peers: {e}"))
}

pub fn run_op(cluster: &ClusterArgs, command: OpCommand) -> Result<(), String> {
    let peers = peers(cluster)?;
    let deadline = Duration::from_secs(cluster.timeout_secs);
    let outcome = runtime()?.block_on(async move {
        let mut client = Client::<KvState>::new(peers);
        client.call(command.op(), deadline).await
    });
    match outcome.map_err(|e| e.to_string())? {
        Outcome::Value(Some(v)) => println!("{v}"),
        Outcome::Value(None) => println!("(nil)"),
        Outcome::Done => println!("OK"),
        Outcome::Swapped(true) => println!("swapped"),
        Outcome::Swapped(false) => {
            return Err("not swapped: the value was not the expected one".into())
        }
        Outcome::Count(n) => println!("{n}"),
        other => println!("{other:?}"),
    }
    Ok(())
}

pub fn run_status(cluster: &ClusterArgs) -> Result<(), String> {
    let peers = peers(cluster)?;
    let rows = runtime()?.block_on(async move {
        let asks = peers.iter().map(|(&id, &addr)| async move {
            (
                id,
                addr,
                status::<KvState>(addr, Duration::from_secs(2)).await,
            )
        });
        let mut rows = Vec::new();
        for ask in asks {
            rows.push(ask.await);
        }
        rows
    });
    println!(
        "{:>4} {:<21} {:<10} {:>6} {:>6} {:>9} {:>9} {:>9} {:>12} {:>12}",
        "node",
        "address",
        "role",
        "term",
        "leader",
        "commit",
        "applied",
        "last",
        "log bytes",
        "snap bytes"
    );
    let mut reachable = 0;
    for (id, addr, s) in rows {
        match s {
            Ok(s) => {
                reachable += 1;
                let leader = s.leader.map_or("-".into(), |l| l.to_string());
                println!(
                    "{:>4} {:<21} {:<10} {:>6} {:>6} {:>9} {:>9} {:>9} {:>12} {:>12}",
                    id,
                    addr,
                    s.role,
                    s.term,
                    leader,
                    s.commit,
                    s.applied,
                    s.last_index,
                    s.log_bytes,
                    s.snapshot_bytes
                );
            }
            Err(e) => println!("{id:>4} {addr:<21} unreachable: {e}"),
        }
    }
    if reachable == 0 {
        return Err("no node answered".into());
    }
    Ok(())
}
