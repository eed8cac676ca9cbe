//! `raftkv`: the key/value store's command line. `server` runs one node; `demo` starts a
//! local cluster of real processes and runs a workload through a leader crash; the
//! client commands talk to a running cluster; `sim` runs the simulated cluster;
//! `check-history` checks a recorded history for linearizability.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check_history;
mod client;
mod demo;
mod server;
mod shard;
mod sim;
mod trace_cmd;

#[derive(Parser)]
#[command(
    name = "raftkv",
    version,
    about = "Raft-replicated key/value store: servers, a client, a demo cluster, a simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run one node of a cluster (log and snapshots in --data-dir; Redis clients on --client).
    Server(server::ServerArgs),
    /// Start a local 3-node cluster of real processes, run a workload from several
    /// clients, SIGKILL the leader mid-load, restart it, and check every answer
    /// (acknowledged writes present, history linearizable). The default command.
    Demo(demo::DemoArgs),
    /// A sharded store: join, leave, move and query groups at the controller; get,
    /// put and append keys at the group that owns them.
    #[command(subcommand)]
    Shard(shard::ShardCommand),
    /// Recorded traces (`raftkv server --trace-dir`): replay, check, dump, view.
    #[command(subcommand)]
    Trace(trace_cmd::TraceCommand),
    /// Ask every node for its role, term, commit and applied index, log and snapshot size.
    Status(client::ClusterArgs),
    #[command(flatten)]
    Op(OpArgs),
    /// Run a simulated cluster through elections, replication, a crash and a partition,
    /// checking Raft's safety invariants after every event, and print what happened.
    Sim(sim::SimArgs),
    /// Decide whether a recorded history of operations is linearizable.
    CheckHistory(check_history::CheckHistoryArgs),
}

#[derive(Subcommand)]
enum OpArgs {
    /// Read a key (linearizable).
    Get(OpCli<GetArgs>),
    /// Set a key.
    Put(OpCli<KeyValue>),
    /// Append to a key's value.
    Append(OpCli<KeyValue>),
    /// Delete a key.
    Del(OpCli<GetArgs>),
    /// Compare-and-set: set KEY to NEW if its value is --expected (absent without it).
    Cas(OpCli<CasArgs>),
}

#[derive(clap::Args)]
struct OpCli<A: clap::Args> {
    #[command(flatten)]
    args: A,
    #[command(flatten)]
    cluster: client::ClusterArgs,
}

#[derive(clap::Args)]
struct GetArgs {
    key: String,
}

#[derive(clap::Args)]
struct KeyValue {
    key: String,
    value: String,
}

#[derive(clap::Args)]
struct CasArgs {
    key: String,
    new: String,
    #[arg(long)]
    expected: Option<String>,
}

fn op(args: OpArgs) -> Result<(), String> {
    use client::OpCommand as C;
    let (cluster, command) = match args {
        OpArgs::Get(a) => (a.cluster, C::Get { key: a.args.key }),
        OpArgs::Put(a) => (
            a.cluster,
            C::Put {
                key: a.args.key,
                value: a.args.value,
            },
        ),
        OpArgs::Append(a) => (
            a.cluster,
            C::Append {
                key: a.args.key,
                value: a.args.value,
            },
        ),
        OpArgs::Del(a) => (a.cluster, C::Del { key: a.args.key }),
        OpArgs::Cas(a) => {
            let CasArgs { key, new, expected } = a.args;
            (a.cluster, C::Cas { key, new, expected })
        }
    };
    client::run_op(&cluster, command)
}

fn main() -> ExitCode {
    init_logging();
    let cli = parse_args();
    let result = match cli
        .command
        .unwrap_or(Command::Demo(demo::DemoArgs::default()))
    {
        Command::Server(args) => server::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Status(args) => client::run_status(&args),
        Command::Shard(command) => shard::run(command),
        Command::Trace(command) => trace_cmd::run(command),
        Command::Op(args) => op(args),
        Command::Sim(args) => sim::run(&args),
        Command::CheckHistory(args) => return check_history::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("raftkv: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Quiet by default (warnings and errors on stderr); `RUST_LOG=info` or finer widens it.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Parses the command line. A usage error exits with clap's usual code 2, except under
/// `check-history`, where 2 means "unknown" and bad arguments are bad input (3).
fn parse_args() -> Cli {
    Cli::try_parse().unwrap_or_else(|e| {
        let checking = std::env::args_os()
            .nth(1)
            .is_some_and(|a| a == "check-history");
        if checking && e.use_stderr() {
            let _ = e.print();
            std::process::exit(check_history::EXIT_BAD_INPUT.into());
        }
        e.exit()
    })
}
