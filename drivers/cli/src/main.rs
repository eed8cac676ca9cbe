//! `raftkv`: the project's command-line entry point. For now it runs a simulated cluster
//! (`raftkv demo`); the real runtime's server and client subcommands come later.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli
        .command
        .unwrap_or(Command::Demo(demo::DemoArgs::default()))
    {
        Command::Demo(args) => demo::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("raftkv: {e}");
            ExitCode::FAILURE
        }
    }
}
