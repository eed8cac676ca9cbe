//! `mr run`: a coordinator in this process and N worker processes, with progress bars.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use mr_core::{intermediate_name, output_name, Stats};

use crate::server::{Progress, Server, ServerError, ServerOptions};

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub server: ServerOptions,
    pub workers: usize,
    /// Keep the `mr-X-Y` intermediate files instead of deleting them after success.
    pub keep_intermediate: bool,
    pub progress_bars: bool,
}

pub const WORKERS_MAX: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("--workers must be between 1 and {WORKERS_MAX}, got {0}")]
    Workers(usize),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("cannot start a worker process: {0}")]
    Spawn(std::io::Error),
    #[error("all {0} workers exited before the job finished (their errors are above)")]
    WorkersGone(usize),
}

/// What `mr run` produced.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub outputs: Vec<PathBuf>,
    pub stats: Stats,
}

pub fn run(options: RunOptions) -> Result<RunSummary, RunError> {
    if options.workers == 0 || options.workers > WORKERS_MAX {
        return Err(RunError::Workers(options.workers));
    }
    let server = Server::start(options.server.clone())?;
    let exe = std::env::current_exe().map_err(RunError::Spawn)?;
    let addr = server.local_addr().to_string();
    let mut workers: Vec<Child> = Vec::with_capacity(options.workers);
    for _ in 0..options.workers {
        let child = Command::new(&exe)
            .args(["worker", "--coordinator", &addr])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(RunError::Spawn)?;
        workers.push(child);
    }
    let watched = watch(&server, &mut workers, options.progress_bars);
    let result = watched.and_then(|()| Ok(server.wait(Duration::from_secs(1))?));
    reap(&mut workers, Duration::from_secs(2));
    let stats = result?;
    let progress = server.progress();
    if !options.keep_intermediate {
        remove_intermediate(server.work_dir(), progress);
    }
    let outputs = (0..progress.n_reduce)
        .map(|y| server.work_dir().join(output_name(y)))
        .collect();
    Ok(RunSummary { outputs, stats })
}

/// Shows progress until the job is over; fails if every worker died first.
fn watch(server: &Server, workers: &mut [Child], progress_bars: bool) -> Result<(), RunError> {
    let start = server.progress();
    let bars = MultiProgress::new();
    if !progress_bars {
        bars.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let style = ProgressStyle::with_template("{prefix:>6} [{bar:40}] {pos}/{len} tasks {elapsed}")
        .expect("static template")
        .progress_chars("=> ");
    let map = bars.add(
        ProgressBar::new(u64::from(start.n_map))
            .with_style(style.clone())
            .with_prefix("map"),
    );
    let reduce = bars.add(
        ProgressBar::new(u64::from(start.n_reduce))
            .with_style(style)
            .with_prefix("reduce"),
    );
    loop {
        let now = server.progress();
        map.set_position(u64::from(now.maps_done));
        reduce.set_position(u64::from(now.reduces_done));
        if now.finished {
            map.finish();
            reduce.finish();
            return Ok(());
        }
        let alive = workers
            .iter_mut()
            .map(|w| w.try_wait())
            .filter(|status| matches!(status, Ok(None)))
            .count();
        if alive == 0 {
            map.abandon();
            reduce.abandon();
            return Err(RunError::WorkersGone(workers.len()));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Waits up to `grace` for workers to exit (they were told to), then kills the rest.
fn reap(workers: &mut [Child], grace: Duration) {
    let deadline = Instant::now() + grace;
    for worker in workers.iter_mut() {
        while matches!(worker.try_wait(), Ok(None)) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        if matches!(worker.try_wait(), Ok(None)) {
            let _ = worker.kill();
            let _ = worker.wait();
        }
    }
}

fn remove_intermediate(work_dir: &Path, progress: Progress) {
    for x in 0..progress.n_map {
        for y in 0..progress.n_reduce {
            let _ = std::fs::remove_file(work_dir.join(intermediate_name(x, y)));
        }
    }
}
