//! The coordinator process: the pure [`Coordinator`] behind a mutex, a TCP listener with one
//! thread per worker connection, and a ticker thread that turns wall time into ticks.
//! Connections that leave a request unsent past a deadline, or sit idle when the
//! connection limit is reached, are closed (see `connections.rs`).

use std::io::BufReader;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use mr_core::{Config, ConfigError, Coordinator, Input, Output, Phase, Stats, StepError, TaskId};

use trace::machine::MrMachine;
use trace::Recorder;

use crate::connections::{is_timeout, Admission, ConnectionId, Deadlined, Registry};
use crate::files::{self, check_input, tmp_dir, FilesError};
use crate::frame::{read_frame, write_frame, FrameError};
use crate::job::{AppSpec, Job, JobError};
use crate::protocol::{InputFile, Outcome, Reply, Request, TaskSpec};

#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub listen: SocketAddr,
    pub inputs: Vec<PathBuf>,
    pub n_reduce: u32,
    pub app: AppSpec,
    pub work_dir: PathBuf,
    pub tick_ms: u64,
    pub task_timeout_ms: u64,
    /// What an idle worker is told to wait before asking again.
    pub wait_retry_ms: u32,
    /// More connections than this evict the longest-idle one (or are refused if none is
    /// idle).
    pub connections_max: usize,
    /// A connection must deliver each request within this long of the previous reply (of
    /// connecting, for the first), or it is closed. A worker holding a task has
    /// `task_timeout_ms` more to report it.
    pub idle_timeout_ms: u64,
    /// Record the coordinator's every step in this directory (`raftkv trace replay`
    /// reads it).
    pub trace_dir: Option<PathBuf>,
}

impl ServerOptions {
    pub fn new(inputs: Vec<PathBuf>, app: AppSpec, work_dir: PathBuf) -> ServerOptions {
        ServerOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            inputs,
            n_reduce: 10,
            app,
            work_dir,
            tick_ms: 100,
            task_timeout_ms: 10_000,
            wait_retry_ms: 20,
            connections_max: 256,
            idle_timeout_ms: 10_000,
            trace_dir: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("no input files given")]
    NoInputs,
    #[error("input file {0}")]
    Input(FilesError),
    #[error("work directory {0}")]
    WorkDir(FilesError),
    #[error(transparent)]
    App(#[from] JobError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("task {task:?} failed too many times; last error: {reason}")]
    JobFailed { task: TaskId, reason: String },
    #[error("cannot commit output: {0}")]
    Commit(FilesError),
    #[error("cannot record the trace: {0}")]
    Trace(trace::TraceError),
}

/// Where the job is, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub n_map: u32,
    pub n_reduce: u32,
    pub maps_done: u32,
    pub reduces_done: u32,
    pub finished: bool,
}

struct State {
    core: Coordinator,
    inputs: Vec<InputFile>,
    last_failure: String,
    fatal: Option<FilesError>,
    recorder: Option<Recorder<MrMachine>>,
}

impl State {
    /// Steps the coordinator, recording the step if a trace is being recorded.
    fn step(&mut self, input: Input) -> Result<Output, StepError> {
        let Some(r) = self.recorder.as_mut() else {
            return self.core.step(input);
        };
        let bytes = Recorder::<MrMachine>::encode_input(&input);
        let out = self.core.step(input);
        r.record(
            unix_us(),
            bytes,
            None,
            &out.clone().map_err(|e| e.to_string()),
        );
        r.flush();
        out
    }
    fn finished(&self) -> bool {
        self.fatal.is_some() || matches!(self.core.phase(), Phase::Done | Phase::Failed(_))
    }
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    connections: Registry,
    app: AppSpec,
    work_dir: PathBuf,
    wait_retry_ms: u32,
    /// How long a connection may take to deliver its next request (see [`ServerOptions`]).
    idle_timeout: Duration,
    /// Added to `idle_timeout` while a connection's worker holds a task.
    task_timeout: Duration,
}

/// A running coordinator. Dropping it leaves its threads serving until the process exits.
pub struct Server {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl Server {
    /// Validates the job (inputs exist, app is known), binds, and starts serving.
    pub fn start(options: ServerOptions) -> Result<Server, ServerError> {
        if options.inputs.is_empty() {
            return Err(ServerError::NoInputs);
        }
        Job::resolve(&options.app)?;
        let mut inputs = Vec::with_capacity(options.inputs.len());
        for path in &options.inputs {
            let absolute = check_input(path).map_err(ServerError::Input)?;
            inputs.push(InputFile {
                name: path.display().to_string(),
                path: absolute.display().to_string(),
            });
        }
        let work_dir = prepare_work_dir(&options.work_dir).map_err(ServerError::WorkDir)?;
        let n_map = u32::try_from(inputs.len()).unwrap_or(u32::MAX);
        let tick_ms = options.tick_ms.max(1);
        let config = Config {
            task_timeout_ticks: options.task_timeout_ms.div_ceil(tick_ms).max(1),
            ..Config::new(n_map, options.n_reduce)
        };
        let core = Coordinator::new(config)?;
        let recorder = match &options.trace_dir {
            Some(dir) => Some(start_recorder(dir, &config)?),
            None => None,
        };
        let listener = TcpListener::bind(options.listen).map_err(|source| ServerError::Bind {
            addr: options.listen,
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: options.listen,
            source,
        })?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                core,
                inputs,
                last_failure: String::new(),
                fatal: None,
                recorder,
            }),
            changed: Condvar::new(),
            connections: Registry::default(),
            app: options.app,
            work_dir,
            wait_retry_ms: options.wait_retry_ms,
            idle_timeout: Duration::from_millis(options.idle_timeout_ms.max(1)),
            task_timeout: Duration::from_millis(options.task_timeout_ms),
        });
        let accepting = Arc::clone(&shared);
        let connections_max = options.connections_max;
        thread::spawn(move || accept_loop(&accepting, &listener, connections_max));
        let ticking = Arc::clone(&shared);
        thread::spawn(move || tick_loop(&ticking, Duration::from_millis(tick_ms)));
        Ok(Server { shared, addr })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn work_dir(&self) -> &Path {
        &self.shared.work_dir
    }

    pub fn progress(&self) -> Progress {
        let state = self.shared.lock();
        let (maps_done, reduces_done) = state.core.progress();
        let config = state.core.config();
        Progress {
            n_map: config.n_map,
            n_reduce: config.n_reduce,
            maps_done,
            reduces_done,
            finished: state.finished(),
        }
    }

    /// Blocks until the job is over, then up to `grace` more so connected workers can hear
    /// "exit"; removes the temporary directory and says how the job ended.
    pub fn wait(&self, grace: Duration) -> Result<Stats, ServerError> {
        let mut state = self.shared.lock();
        while !state.finished() {
            state = self
                .shared
                .changed
                .wait_timeout(state, Duration::from_millis(100))
                .expect("lock")
                .0;
        }
        let deadline = Instant::now() + grace;
        while self.shared.connections.len() > 0 && Instant::now() < deadline {
            state = self
                .shared
                .changed
                .wait_timeout(state, Duration::from_millis(20))
                .expect("lock")
                .0;
        }
        // Late attempts may still be writing here; whatever they leave is garbage by now.
        let _ = std::fs::remove_dir_all(tmp_dir(&self.shared.work_dir));
        if let Some(error) = state.fatal.take() {
            return Err(ServerError::Commit(error));
        }
        match state.core.phase() {
            Phase::Failed(task) => Err(ServerError::JobFailed {
                task,
                reason: state.last_failure.clone(),
            }),
            phase => {
                assert_eq!(phase, Phase::Done);
                Ok(state.core.stats())
            }
        }
    }
}

fn prepare_work_dir(dir: &Path) -> Result<PathBuf, FilesError> {
    std::fs::create_dir_all(tmp_dir(dir)).map_err(files::io_error(dir))?;
    std::fs::canonicalize(dir).map_err(files::io_error(dir))
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock is a bug already reported; keep serving the state.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn handle(&self, request: Request) -> Reply {
        let mut state = self.lock();
        let reply = match request {
            Request::Ask => self.ask(&mut state),
            Request::Report { attempt, outcome } => match self.report(&mut state, attempt, outcome)
            {
                Ok(()) => Reply::Ack,
                Err(e) => Reply::Rejected {
                    reason: e.to_string(),
                },
            },
        };
        drop(state);
        self.changed.notify_all();
        reply
    }

    fn ask(&self, state: &mut State) -> Reply {
        if state.fatal.is_some() {
            return Reply::Exit;
        }
        match state.step(Input::Ask).expect("asking cannot be malformed") {
            Output::Assign(assignment) => {
                let input = match assignment.attempt.task {
                    TaskId::Map(map) => Some(state.inputs[map as usize].clone()),
                    TaskId::Reduce(_) => None,
                };
                let work_dir = self.work_dir.display().to_string();
                Reply::Task(TaskSpec {
                    assignment,
                    input,
                    app: self.app.clone(),
                    work_dir,
                })
            }
            Output::Wait => Reply::Wait {
                retry_after_ms: self.wait_retry_ms,
            },
            Output::Exit => Reply::Exit,
            other => unreachable!("Ask answered with {other:?}"),
        }
    }

    fn report(
        &self,
        state: &mut State,
        attempt: mr_core::Attempt,
        outcome: Outcome,
    ) -> Result<(), StepError> {
        let n_reduce = state.core.config().n_reduce;
        let input = match outcome {
            Outcome::Done if files::attempt_complete(&self.work_dir, attempt, n_reduce) => {
                Input::Done(attempt)
            }
            Outcome::Done => {
                state.last_failure = format!("{attempt:?} reported done but its files are missing");
                Input::Failed(attempt)
            }
            Outcome::Failed { reason } => {
                eprintln!(
                    "mr coordinator: {:?} attempt {} failed: {reason}",
                    attempt.task, attempt.id.0
                );
                state.last_failure = reason;
                Input::Failed(attempt)
            }
        };
        match state.step(input)? {
            Output::Commit(attempt) => {
                if let Err(e) = files::commit(&self.work_dir, attempt, n_reduce) {
                    state.fatal.get_or_insert(e);
                }
            }
            Output::Discard(attempt) => {
                if let Err(e) = files::discard(&self.work_dir, attempt, n_reduce) {
                    eprintln!("mr coordinator: cannot clean up: {e}");
                }
            }
            other => unreachable!("report answered with {other:?}"),
        }
        Ok(())
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener, connections_max: usize) {
    for stream in listener.incoming() {
        let mut stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                // Out of file descriptors, say: wait for some to close instead of spinning.
                eprintln!("mr coordinator: cannot accept a connection: {e}");
                thread::sleep(ACCEPT_RETRY);
                continue;
            }
        };
        let id = match shared.connections.admit(&stream, connections_max) {
            Ok(Admission::Admitted(id)) => id,
            Ok(Admission::Full) => {
                let reason = format!("coordinator already serves {connections_max} busy workers");
                let _ = write_frame(&mut stream, &Reply::Rejected { reason });
                continue;
            }
            Err(e) => {
                eprintln!("mr coordinator: cannot accept a connection: {e}");
                continue;
            }
        };
        let serving = Arc::clone(shared);
        let spawned = thread::Builder::new().spawn(move || {
            if let Err(e) = serve(&serving, id, stream) {
                eprintln!("mr coordinator: dropped a worker connection: {e}");
            }
            serving.connections.remove(id);
            serving.changed.notify_all();
        });
        if let Err(e) = spawned {
            eprintln!("mr coordinator: cannot serve a connection: {e}");
            shared.connections.remove(id);
        }
    }
}

/// How long the accept loop pauses after the listener fails.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Answers the requests of one connection until it closes, misses a deadline or is evicted.
fn serve(shared: &Shared, id: ConnectionId, stream: TcpStream) -> Result<(), FrameError> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(Deadlined {
        stream: stream.try_clone()?,
        deadline: Instant::now() + shared.idle_timeout,
    });
    let mut writer = stream;
    loop {
        let request: Request = match read_frame(&mut reader) {
            Ok(request) => request,
            Err(FrameError::Closed) => return Ok(()),
            // Silent or too slow: the deadline is the whole story, nothing to report.
            Err(FrameError::Io(e)) if is_timeout(&e) => return Ok(()),
            Err(e) => return Err(e),
        };
        shared.connections.set_idle(id, false);
        let reply = shared.handle(request);
        let holds_task = matches!(reply, Reply::Task(_));
        write_frame(&mut writer, &reply)?;
        let patience = match holds_task {
            true => shared.idle_timeout + shared.task_timeout,
            false => shared.idle_timeout,
        };
        reader.get_mut().deadline = Instant::now() + patience;
        shared.connections.set_idle(id, !holds_task);
    }
}

fn tick_loop(shared: &Shared, tick: Duration) {
    loop {
        thread::sleep(tick);
        let mut state = shared.lock();
        if state.finished() {
            return;
        }
        if let Output::Ticked { timed_out } =
            state.step(Input::Tick).expect("ticks are always valid")
        {
            if timed_out > 0 {
                eprintln!("mr coordinator: {timed_out} task(s) timed out; handing them out again");
            }
        }
    }
}

fn unix_us() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// The coordinator's trace, as node 1 of its directory: the coordinator is one process.
fn start_recorder(
    dir: &std::path::Path,
    config: &Config,
) -> Result<Recorder<MrMachine>, ServerError> {
    let files =
        trace::file::RotatingFiles::create(dir, 1, 64 << 20, 16).map_err(ServerError::Trace)?;
    let incarnation = u64::from(std::process::id());
    let note = format!("mr coordinator {}", env!("CARGO_PKG_VERSION"));
    let sink = trace::Sink::Files(Box::new(files));
    let mut r = Recorder::start(sink, 1, incarnation, unix_us(), config, note);
    match r.take_failure() {
        Some(e) => Err(ServerError::Trace(e)),
        None => Ok(r),
    }
}
