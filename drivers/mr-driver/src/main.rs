//! `mr`: run MapReduce jobs — a coordinator, workers, both at once, or the sequential reference.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use mr_driver::job::AppSpec;
use mr_driver::run::{run, RunOptions};
use mr_driver::seq::run_sequential;
use mr_driver::server::{Server, ServerOptions};
use mr_driver::worker::{run_worker, WorkerOptions};

#[derive(Parser)]
#[command(
    name = "mr",
    version,
    about = "MapReduce (MIT 6.824 lab 1): coordinator, workers, sequential reference"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a coordinator for one job and wait for workers to run it.
    Coordinator {
        #[command(flatten)]
        job: JobArgs,
        /// Address to listen on (port 0 picks a free port; the address is printed).
        #[arg(long, default_value = "127.0.0.1:7800")]
        listen: SocketAddr,
        /// Shared directory for intermediate and output files.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// How long workers get to hear "exit" after the job is done.
        #[arg(long, default_value_t = 1000)]
        exit_grace_ms: u64,
    },
    /// Run tasks for a coordinator until the job is done.
    Worker {
        /// Coordinator address (HOST:PORT).
        #[arg(long, default_value = "127.0.0.1:7800")]
        coordinator: String,
        /// How long to keep trying to reach the coordinator at start.
        #[arg(long, default_value_t = 5000)]
        connect_timeout_ms: u64,
    },
    /// Run a whole job on this machine: a coordinator and N worker processes.
    Run {
        #[command(flatten)]
        job: JobArgs,
        /// Number of worker processes.
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// Where to write mr-out-* (default: the current directory).
        #[arg(long, default_value = ".")]
        output: PathBuf,
        /// Keep the intermediate mr-X-Y files.
        #[arg(long)]
        keep_intermediate: bool,
        /// No progress bars.
        #[arg(long)]
        quiet: bool,
    },
    /// The sequential reference: one process, one output file mr-out-0.
    Seq {
        #[command(flatten)]
        app: AppArgs,
        /// Where to write mr-out-0 (default: the current directory).
        #[arg(long, default_value = ".")]
        output: PathBuf,
        /// Input files.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
}

#[derive(Args)]
struct AppArgs {
    /// Built-in app: wc, indexer or grep (see --app-arg).
    #[arg(long, required_unless_present = "mapper", conflicts_with_all = ["mapper", "reducer"])]
    app: Option<String>,
    /// Argument for the app (grep: the string to search for). Repeatable.
    #[arg(long = "app-arg")]
    app_args: Vec<String>,
    /// Streaming mode: shell command reading input on stdin, writing key<TAB>value lines.
    #[arg(long, requires = "reducer")]
    mapper: Option<String>,
    /// Streaming mode: shell command reading sorted key<TAB>value lines, writing key<TAB>value.
    #[arg(long, requires = "mapper")]
    reducer: Option<String>,
}

impl AppArgs {
    fn spec(self) -> AppSpec {
        match (self.app, self.mapper, self.reducer) {
            (Some(name), _, _) => AppSpec::Builtin {
                name,
                args: self.app_args,
            },
            (None, Some(mapper), Some(reducer)) => AppSpec::Streaming { mapper, reducer },
            _ => unreachable!("clap requires --app or both --mapper and --reducer"),
        }
    }
}

#[derive(Args)]
struct JobArgs {
    #[command(flatten)]
    app: AppArgs,
    /// Number of reduce tasks (output files).
    #[arg(long, default_value_t = 10)]
    n_reduce: u32,
    /// A task not reported within this time is handed to another worker.
    #[arg(long, default_value_t = 10_000)]
    task_timeout_ms: u64,
    /// Coordinator clock resolution.
    #[arg(long, default_value_t = 100)]
    tick_ms: u64,
    /// A connection that leaves its next request unsent this long is closed (a worker
    /// holding a task has --task-timeout-ms more).
    #[arg(long, default_value_t = 10_000)]
    idle_timeout_ms: u64,
    /// Record the coordinator's every step as a trace in DIR (`raftkv trace replay
    /// DIR` replays it).
    #[arg(long, value_name = "DIR")]
    trace_dir: Option<PathBuf>,
    /// Input files, one map task each.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

impl JobArgs {
    fn options(self, dir: PathBuf) -> ServerOptions {
        let mut options = ServerOptions::new(self.inputs, self.app.spec(), dir);
        options.n_reduce = self.n_reduce;
        options.task_timeout_ms = self.task_timeout_ms;
        options.tick_ms = self.tick_ms;
        options.idle_timeout_ms = self.idle_timeout_ms;
        options.trace_dir = self.trace_dir;
        options
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mr: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn execute(command: Command) -> Result<(), String> {
    match command {
        Command::Coordinator {
            job,
            listen,
            dir,
            exit_grace_ms,
        } => coordinator(job, listen, dir, exit_grace_ms),
        Command::Worker {
            coordinator,
            connect_timeout_ms,
        } => {
            let mut options = WorkerOptions::new(coordinator);
            options.connect_timeout = Duration::from_millis(connect_timeout_ms);
            run_worker(&options).map(|_| ()).map_err(|e| e.to_string())
        }
        Command::Run {
            job,
            workers,
            output,
            keep_intermediate,
            quiet,
        } => {
            let options = RunOptions {
                server: job.options(output),
                workers,
                keep_intermediate,
                progress_bars: !quiet,
            };
            let summary = run(options).map_err(|e| e.to_string())?;
            let dir = summary.outputs[0]
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let last = summary.outputs.len() - 1;
            say(format_args!(
                "output: {} files in {dir}: mr-out-0 .. mr-out-{last}",
                last + 1
            ));
            Ok(())
        }
        Command::Seq {
            app,
            output,
            inputs,
        } => {
            let path = run_sequential(&app.spec(), &inputs, &output).map_err(|e| e.to_string())?;
            say(format_args!("output: {}", path.display()));
            Ok(())
        }
    }
}

fn coordinator(
    job: JobArgs,
    listen: SocketAddr,
    dir: PathBuf,
    exit_grace_ms: u64,
) -> Result<(), String> {
    let mut options = job.options(dir);
    options.listen = listen;
    let server = Server::start(options).map_err(|e| e.to_string())?;
    say(format_args!(
        "mr coordinator listening on {}",
        server.local_addr()
    ));
    let stats = server
        .wait(Duration::from_millis(exit_grace_ms))
        .map_err(|e| e.to_string())?;
    say(format_args!(
        "job done: {} tasks committed ({} handed out, {} timed out); output: {}/mr-out-*",
        stats.committed,
        stats.assigned,
        stats.timed_out,
        server.work_dir().display()
    ));
    Ok(())
}

/// Prints a status line. A closed stdout (the reader went away) must not fail a job whose
/// work is already done, so write errors are ignored rather than panicking like `println!`.
fn say(line: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}
