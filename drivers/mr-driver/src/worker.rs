//! The worker process: ask for a task, run it, report, repeat — until told to exit or the
//! coordinator is gone.

use std::io::BufReader;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::thread;
use std::time::{Duration, Instant};

use crate::exec::execute;
use crate::frame::{read_frame, write_frame, FrameError};
use crate::job::{AppSpec, Job};
use crate::protocol::{Outcome, Reply, Request, TaskSpecError};

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub coordinator: String,
    /// How long to keep trying to connect at start before giving up.
    pub connect_timeout: Duration,
    /// The coordinator answers at once; a reply slower than this means it is stuck.
    pub reply_timeout: Duration,
}

impl WorkerOptions {
    pub fn new(coordinator: impl Into<String>) -> WorkerOptions {
        WorkerOptions {
            coordinator: coordinator.into(),
            connect_timeout: Duration::from_secs(5),
            reply_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("{addr:?} is not a valid coordinator address (expected HOST:PORT)")]
    BadAddress { addr: String },
    #[error("cannot reach the coordinator at {addr} (tried for {waited_ms} ms): {source}")]
    Unreachable {
        addr: String,
        waited_ms: u128,
        source: std::io::Error,
    },
    #[error("talking to the coordinator: {0}")]
    Protocol(#[from] FrameError),
    #[error("the coordinator refused: {0}")]
    Rejected(String),
    #[error("unexpected reply from the coordinator: {0}")]
    Unexpected(String),
    /// The coordinator sent a task that cannot be run as described.
    #[error("invalid task from the coordinator: {0}")]
    InvalidTask(#[from] TaskSpecError),
}

/// How a worker's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The coordinator said the job is over.
    Exit,
    /// The coordinator went away (the course's signal that the job is over).
    CoordinatorGone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerSummary {
    pub tasks_done: u64,
    pub tasks_failed: u64,
    pub ending: Ending,
}

struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    fn open(options: &WorkerOptions) -> Result<Connection, WorkerError> {
        let bad = || WorkerError::BadAddress {
            addr: options.coordinator.clone(),
        };
        let addrs: Vec<SocketAddr> = options
            .coordinator
            .to_socket_addrs()
            .map_err(|_| bad())?
            .collect();
        let addr = *addrs.first().ok_or_else(bad)?;
        let started = Instant::now();
        let stream = loop {
            match TcpStream::connect_timeout(&addr, options.connect_timeout) {
                Ok(stream) => break stream,
                Err(source) if started.elapsed() >= options.connect_timeout => {
                    let waited_ms = started.elapsed().as_millis();
                    return Err(WorkerError::Unreachable {
                        addr: options.coordinator.clone(),
                        waited_ms,
                        source,
                    });
                }
                Err(_) => thread::sleep(Duration::from_millis(50)),
            }
        };
        stream.set_nodelay(true).map_err(FrameError::Io)?;
        stream
            .set_read_timeout(Some(options.reply_timeout))
            .map_err(FrameError::Io)?;
        let reader = BufReader::new(stream.try_clone().map_err(FrameError::Io)?);
        Ok(Connection {
            reader,
            writer: stream,
        })
    }

    fn call(&mut self, request: &Request) -> Result<Reply, FrameError> {
        write_frame(&mut self.writer, request)?;
        read_frame(&mut self.reader)
    }
}

/// Runs tasks until the job is over. A coordinator that vanishes mid-job ends the worker
/// normally, as in the course: it exits once the job is done.
pub fn run_worker(options: &WorkerOptions) -> Result<WorkerSummary, WorkerError> {
    let mut connection = Connection::open(options)?;
    let mut summary = WorkerSummary {
        tasks_done: 0,
        tasks_failed: 0,
        ending: Ending::Exit,
    };
    let mut job: Option<(AppSpec, Job)> = None;
    loop {
        let reply = match connection.call(&Request::Ask) {
            Ok(reply) => reply,
            Err(FrameError::Closed) => {
                return Ok(WorkerSummary {
                    ending: Ending::CoordinatorGone,
                    ..summary
                })
            }
            Err(e) => return Err(e.into()),
        };
        let spec = match reply {
            Reply::Task(spec) => spec,
            Reply::Wait { retry_after_ms } => {
                thread::sleep(Duration::from_millis(u64::from(retry_after_ms.min(5_000))));
                continue;
            }
            Reply::Exit => return Ok(summary),
            Reply::Rejected { reason } => return Err(WorkerError::Rejected(reason)),
            Reply::Ack => {
                return Err(WorkerError::Unexpected(
                    "Ack to a request for a task".into(),
                ))
            }
        };
        // Checked before anything is sized by it (files per map task, inputs per reduce).
        spec.validate()?;
        let outcome = match resolve_cached(&mut job, &spec.app) {
            Ok(resolved) => run_one(resolved, &spec),
            Err(reason) => Outcome::Failed { reason },
        };
        match outcome {
            Outcome::Done => summary.tasks_done += 1,
            Outcome::Failed { .. } => summary.tasks_failed += 1,
        }
        let report = Request::Report {
            attempt: spec.assignment.attempt,
            outcome,
        };
        match connection.call(&report) {
            Ok(Reply::Ack) => {}
            Ok(Reply::Rejected { reason }) => return Err(WorkerError::Rejected(reason)),
            Ok(other) => return Err(WorkerError::Unexpected(format!("{other:?} to a report"))),
            Err(FrameError::Closed) => {
                return Ok(WorkerSummary {
                    ending: Ending::CoordinatorGone,
                    ..summary
                })
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The job for `app`, resolved once per worker: test apps keep per-process state.
fn resolve_cached<'a>(
    cache: &'a mut Option<(AppSpec, Job)>,
    app: &AppSpec,
) -> Result<&'a Job, String> {
    if !matches!(cache, Some((cached, _)) if cached == app) {
        *cache = Some((app.clone(), Job::resolve(app).map_err(|e| e.to_string())?));
    }
    Ok(&cache.as_ref().expect("just filled").1)
}

fn run_one(job: &Job, spec: &crate::protocol::TaskSpec) -> Outcome {
    match execute(job, spec) {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Failed {
            reason: e.to_string(),
        },
    }
}
