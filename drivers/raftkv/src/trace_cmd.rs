//! `raftkv trace replay|check|dump|view DIR`: what a recorded trace holds, replayed
//! through the same code. Nodes record with `raftkv server --trace-dir DIR`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use trace::dump::DumpFilter;
use trace::replay::{read_dir, replay_node, NodeTrace};

#[derive(Subcommand, Clone, Debug)]
pub enum TraceCommand {
    /// Run a simulated 5-server key/value cluster (unreliable network, partitions,
    /// crashes, snapshots; the course's generic test) and record its trace into DIR.
    /// Real nodes record with `raftkv server --trace-dir DIR`.
    Record(RecordArgs),
    /// Rebuild every node from its trace and feed it its inputs: "identical", or the
    /// first step whose output differs.
    Replay(DirArgs),
    /// Replay the nodes together, merged by time, under the simulator's invariant
    /// checker: the first violation and the steps that led to it.
    Check(DirArgs),
    /// Print every step as text.
    Dump(DumpArgs),
    /// Write a self-contained HTML page drawing the trace as a space-time diagram.
    View(ViewArgs),
}

#[derive(Args, Clone, Debug)]
pub struct RecordArgs {
    /// Where to write the trace (one file per server).
    pub dir: PathBuf,
    /// The run's seed: the same seed, the same run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Args, Clone, Debug)]
pub struct DirArgs {
    /// The directory the nodes recorded into.
    pub dir: PathBuf,
}

#[derive(Args, Clone, Debug)]
pub struct RangeArgs {
    /// Only these nodes (comma-separated ids; all without it).
    #[arg(long, value_delimiter = ',')]
    pub node: Vec<u64>,
    /// Only steps at or after this time (the trace's microseconds).
    #[arg(long, default_value_t = 0)]
    pub from_us: u64,
    /// Only steps at or before this time.
    #[arg(long)]
    pub to_us: Option<u64>,
}

#[derive(Args, Clone, Debug)]
pub struct DumpArgs {
    pub dir: PathBuf,
    #[command(flatten)]
    pub range: RangeArgs,
}

#[derive(Args, Clone, Debug)]
pub struct ViewArgs {
    pub dir: PathBuf,
    /// Where to write the page.
    #[arg(long, short, default_value = "trace.html")]
    pub out: PathBuf,
    #[command(flatten)]
    pub range: RangeArgs,
}

pub fn run(command: TraceCommand) -> Result<(), String> {
    match command {
        TraceCommand::Record(a) => record(&a),
        TraceCommand::Replay(a) => replay(&read(&a.dir)?),
        TraceCommand::Check(a) => check(&read(&a.dir)?),
        TraceCommand::Dump(a) => {
            let filter = DumpFilter {
                nodes: a.range.node,
                from_us: a.range.from_us,
                to_us: a.range.to_us,
            };
            let out = &mut std::io::stdout().lock();
            match trace::dump::dump(&read(&a.dir)?, &filter, out) {
                // `raftkv trace dump DIR | head` closes the pipe early: not a failure.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.map_err(|e| e.to_string()),
            }
        }
        TraceCommand::View(a) => view(&a),
    }
}

fn read(dir: &std::path::Path) -> Result<Vec<NodeTrace>, String> {
    read_dir(dir).map_err(|e| e.to_string())
}

fn replay(traces: &[NodeTrace]) -> Result<(), String> {
    let mut failed = false;
    for t in traces {
        let r = replay_node(t);
        let tail = r.torn_tail.as_ref().map_or(String::new(), |(p, offset, bytes)| {
            format!(
                " (the trace ends with a frame cut short: {bytes} bytes at {}:{offset}; replayed up to the last whole one)",
                p.display()
            )
        });
        for why in &r.skipped {
            println!("node {}: skipped {why}", r.node);
        }
        match &r.divergence {
            None => println!(
                "node {}: identical: {} steps in {} incarnation(s){tail}",
                r.node, r.steps, r.incarnations
            ),
            Some(d) => {
                failed = true;
                println!("node {}: DIVERGED{tail}\n{d}", r.node);
            }
        }
        failed |= !r.skipped.is_empty();
    }
    if failed {
        return Err("the replay differs from the recording".into());
    }
    Ok(())
}

fn check(traces: &[NodeTrace]) -> Result<(), String> {
    let r = trace::check::check(traces);
    for why in &r.skipped {
        println!("skipped {why}");
    }
    println!(
        "{} nodes, {} steps checked ({} with an output other than recorded)",
        r.nodes, r.steps, r.divergent_steps
    );
    match r.violation {
        None => {
            println!("no invariant violated");
            Ok(())
        }
        Some(v) => {
            println!("VIOLATION: {v}");
            Err("an invariant is violated".into())
        }
    }
}

fn view(a: &ViewArgs) -> Result<(), String> {
    let mut traces = read(&a.dir)?;
    if !a.range.node.is_empty() {
        traces.retain(|t| a.range.node.contains(&t.node));
    }
    let title = format!("trace of {}", a.dir.display());
    let to = a.range.to_us.unwrap_or(u64::MAX);
    let model = trace::view::build(&traces, &title, a.range.from_us, to);
    let page = trace::view::html::render(&model);
    std::fs::write(&a.out, page).map_err(|e| format!("{}: {e}", a.out.display()))?;
    println!(
        "wrote {} ({} steps, {} messages)",
        a.out.display(),
        model.steps.len(),
        model.messages.len()
    );
    Ok(())
}

fn record(a: &RecordArgs) -> Result<(), String> {
    use kv_sim::lab3::{generic, Generic};
    let faulty = Generic {
        unreliable: true,
        crash: true,
        partitions: true,
        max_raft_state_bytes: Some(2000),
        ..Generic::new(5, 5)
    };
    let scratch = a.dir.join(".recording");
    let report = sim_kit::seeds::with_trace_dir(&scratch, || generic(a.seed, faulty));
    // The world writes into `seed<N>` under the directory it was given.
    let written = scratch.join(format!("seed{}", a.seed));
    for entry in std::fs::read_dir(&written).map_err(|e| format!("{}: {e}", written.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let to = a.dir.join(path.file_name().expect("a file"));
        std::fs::rename(&path, &to).map_err(|e| format!("{}: {e}", to.display()))?;
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!(
        "recorded seed {}: {} operations over {} simulated ms into {}",
        a.seed,
        report.operations,
        report.sim_ms,
        a.dir.display()
    );
    Ok(())
}
