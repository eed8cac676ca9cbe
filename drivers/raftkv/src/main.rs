//! `raftkv`: the project's command-line entry point. For now it runs a simulated cluster
//! (`raftkv demo`) and checks recorded histories for linearizability
//! (`raftkv check-history`); the real runtime's server and client subcommands come later.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check_history;
mod demo;

#[derive(Parser)]
#[command(
    name = "raftkv",
    version,
    about = "Raft-replicated key/value store (simulated cluster for now)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a simulated cluster through elections, replication, a crash and a partition,
    /// checking Raft's safety invariants after every event, and print what happened.
    Demo(demo::DemoArgs),
    /// Decide whether a recorded history of operations is linearizable.
    CheckHistory(check_history::CheckHistoryArgs),
}

fn main() -> ExitCode {
    let cli = parse_args();
    let result = match cli
        .command
        .unwrap_or(Command::Demo(demo::DemoArgs::default()))
    {
        Command::Demo(args) => demo::run(&args),
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
