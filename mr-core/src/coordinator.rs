//! The coordinator: which task goes to which worker, when a task is retried, and which one
//! completion of each task counts.
//!
//! It is a state machine over [`Input`]s. It never touches files: when a completion counts it
//! returns [`Output::Commit`] and the driver renames that attempt's temporary files to their
//! final names; every other completion of the task gets [`Output::Discard`]. So each final
//! file is committed exactly once however many workers ran the task.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::task::{Assignment, Attempt, AttemptId, TaskId};

/// Job shape and timing. Time is counted in ticks; the driver decides how long a tick is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub n_map: u32,
    pub n_reduce: u32,
    /// A task not reported within this many ticks is handed out again (10 s at 100 ms ticks).
    pub task_timeout_ticks: u64,
    /// Attempts of one task whose completion would still count; the oldest is forgotten beyond.
    pub attempts_live_per_task_max: usize,
    /// Reported failures of one task before the whole job is declared failed.
    pub failures_per_task_max: u32,
}

impl Config {
    pub const TASKS_MAX: u32 = 100_000;

    pub fn new(n_map: u32, n_reduce: u32) -> Config {
        Config {
            n_map,
            n_reduce,
            task_timeout_ticks: 100,
            attempts_live_per_task_max: 8,
            failures_per_task_max: 5,
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.n_map == 0 || self.n_map > Self::TASKS_MAX {
            return Err(ConfigError::MapTasks(self.n_map));
        }
        if self.n_reduce == 0 || self.n_reduce > Self::TASKS_MAX {
            return Err(ConfigError::ReduceTasks(self.n_reduce));
        }
        if self.task_timeout_ticks == 0 {
            return Err(ConfigError::Timeout);
        }
        if self.attempts_live_per_task_max == 0 || self.failures_per_task_max == 0 {
            return Err(ConfigError::Limits);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the job needs between 1 and 100000 map tasks (input files), got {0}")]
    MapTasks(u32),
    #[error("the job needs between 1 and 100000 reduce tasks, got {0}")]
    ReduceTasks(u32),
    #[error("the task timeout must be at least one tick")]
    Timeout,
    #[error("attempt and failure limits must be positive")]
    Limits,
}

/// What happened, from the coordinator's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// A worker wants something to do.
    Ask,
    /// A worker finished an attempt and its temporary files are complete.
    Done(Attempt),
    /// A worker could not finish an attempt (its app or command failed).
    Failed(Attempt),
    /// Time passed.
    Tick,
}

/// What the driver must do or answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Output {
    /// Hand this attempt to the asking worker.
    Assign(Assignment),
    /// Nothing to hand out right now; ask again later.
    Wait,
    /// The job is over (done or failed); the worker should exit.
    Exit,
    /// The first completion of a task: rename its temporary files to their final names
    /// before stepping again.
    Commit(Attempt),
    /// A duplicate, late or failed attempt: delete its temporary files, if any.
    Discard(Attempt),
    /// A tick was counted; this many running tasks timed out and will be handed out again.
    Ticked { timed_out: u32 },
}

/// A worker sent something no coordinator could have caused. The driver answers with an
/// error; the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("report for {0:?}, which this job does not have")]
    NoSuchTask(TaskId),
    #[error("report for attempt {0:?}, which was never handed out")]
    UnknownAttempt(AttemptId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Map,
    Reduce,
    Done,
    /// A task failed `failures_per_task_max` times.
    Failed(TaskId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskState {
    Idle,
    Running {
        attempt: AttemptId,
        deadline_tick: u64,
    },
    Committed,
}

#[derive(Debug, Clone)]
struct Task {
    state: TaskState,
    /// Attempts whose `Done` would still commit, oldest first; empty once committed.
    live: VecDeque<AttemptId>,
    failures: u32,
}

/// Counts for progress bars and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub assigned: u64,
    pub committed: u64,
    pub discarded: u64,
    pub timed_out: u64,
    pub failed: u64,
}

/// The MapReduce coordinator state machine.
#[derive(Debug, Clone)]
pub struct Coordinator {
    config: Config,
    maps: Vec<Task>,
    reduces: Vec<Task>,
    maps_committed: u32,
    reduces_committed: u32,
    now_tick: u64,
    attempt_next: u64,
    failed: Option<TaskId>,
    stats: Stats,
}

impl Coordinator {
    pub fn new(config: Config) -> Result<Coordinator, ConfigError> {
        config.validate()?;
        let fresh = Task {
            state: TaskState::Idle,
            live: VecDeque::new(),
            failures: 0,
        };
        Ok(Coordinator {
            config,
            maps: vec![fresh.clone(); config.n_map as usize],
            reduces: vec![fresh; config.n_reduce as usize],
            maps_committed: 0,
            reduces_committed: 0,
            now_tick: 0,
            attempt_next: 0,
            failed: None,
            stats: Stats::default(),
        })
    }

    pub fn config(&self) -> Config {
        self.config
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// `(maps committed, reduces committed)`.
    pub fn progress(&self) -> (u32, u32) {
        (self.maps_committed, self.reduces_committed)
    }

    pub fn phase(&self) -> Phase {
        if let Some(task) = self.failed {
            Phase::Failed(task)
        } else if self.maps_committed < self.config.n_map {
            Phase::Map
        } else if self.reduces_committed < self.config.n_reduce {
            Phase::Reduce
        } else {
            Phase::Done
        }
    }

    /// Every reduce output is committed.
    pub fn is_done(&self) -> bool {
        self.phase() == Phase::Done
    }

    pub fn step(&mut self, input: Input) -> Result<Output, StepError> {
        let output = match input {
            Input::Ask => Ok(self.ask()),
            Input::Done(attempt) => self.done(attempt),
            Input::Failed(attempt) => self.fail(attempt),
            Input::Tick => Ok(self.tick()),
        };
        self.check_invariants();
        output
    }

    fn ask(&mut self) -> Output {
        let (tasks, kind): (&mut Vec<Task>, fn(u32) -> TaskId) = match self.phase() {
            Phase::Map => (&mut self.maps, TaskId::Map),
            Phase::Reduce => (&mut self.reduces, TaskId::Reduce),
            Phase::Done | Phase::Failed(_) => return Output::Exit,
        };
        let Some(index) = tasks.iter().position(|t| t.state == TaskState::Idle) else {
            return Output::Wait;
        };
        let id = AttemptId(self.attempt_next);
        self.attempt_next += 1;
        let task = &mut tasks[index];
        if task.live.len() == self.config.attempts_live_per_task_max {
            // The oldest attempt timed out long ago; its late completion may now be discarded.
            task.live.pop_front();
        }
        task.live.push_back(id);
        let deadline_tick = self.now_tick + self.config.task_timeout_ticks;
        task.state = TaskState::Running {
            attempt: id,
            deadline_tick,
        };
        self.stats.assigned += 1;
        let attempt = Attempt {
            id,
            task: kind(index as u32),
        };
        Output::Assign(Assignment {
            attempt,
            n_map: self.config.n_map,
            n_reduce: self.config.n_reduce,
        })
    }

    fn task_mut(&mut self, attempt: Attempt) -> Result<&mut Task, StepError> {
        if attempt.id.0 >= self.attempt_next {
            return Err(StepError::UnknownAttempt(attempt.id));
        }
        let task = match attempt.task {
            TaskId::Map(i) => self.maps.get_mut(i as usize),
            TaskId::Reduce(i) => self.reduces.get_mut(i as usize),
        };
        task.ok_or(StepError::NoSuchTask(attempt.task))
    }

    fn done(&mut self, attempt: Attempt) -> Result<Output, StepError> {
        let task = self.task_mut(attempt)?;
        if !task.live.contains(&attempt.id) {
            self.stats.discarded += 1;
            return Ok(Output::Discard(attempt));
        }
        assert_ne!(
            task.state,
            TaskState::Committed,
            "a committed task keeps no live attempts"
        );
        task.state = TaskState::Committed;
        task.live.clear();
        match attempt.task {
            TaskId::Map(_) => self.maps_committed += 1,
            TaskId::Reduce(_) => {
                assert_eq!(
                    self.maps_committed, self.config.n_map,
                    "reduce before maps done"
                );
                self.reduces_committed += 1;
            }
        }
        self.stats.committed += 1;
        Ok(Output::Commit(attempt))
    }

    fn fail(&mut self, attempt: Attempt) -> Result<Output, StepError> {
        let failures_max = self.config.failures_per_task_max;
        let task = self.task_mut(attempt)?;
        let Some(position) = task.live.iter().position(|&id| id == attempt.id) else {
            self.stats.discarded += 1;
            return Ok(Output::Discard(attempt));
        };
        task.live.remove(position);
        task.failures += 1;
        let gave_up = task.failures >= failures_max;
        if matches!(task.state, TaskState::Running { attempt: running, .. } if running == attempt.id)
        {
            task.state = TaskState::Idle;
        }
        self.stats.failed += 1;
        if gave_up && self.failed.is_none() {
            self.failed = Some(attempt.task);
        }
        Ok(Output::Discard(attempt))
    }

    fn tick(&mut self) -> Output {
        self.now_tick += 1;
        let now_tick = self.now_tick;
        let mut timed_out = 0;
        for task in self.maps.iter_mut().chain(self.reduces.iter_mut()) {
            if let TaskState::Running { deadline_tick, .. } = task.state {
                if deadline_tick <= now_tick {
                    // The attempt stays live: if it was only slow, its completion still counts.
                    task.state = TaskState::Idle;
                    timed_out += 1;
                }
            }
        }
        self.stats.timed_out += u64::from(timed_out);
        Output::Ticked { timed_out }
    }

    fn check_invariants(&self) {
        assert!(self.maps_committed <= self.config.n_map);
        assert!(self.reduces_committed <= self.config.n_reduce);
        if cfg!(debug_assertions) {
            let count = |tasks: &[Task]| {
                tasks
                    .iter()
                    .filter(|t| t.state == TaskState::Committed)
                    .count()
            };
            assert_eq!(count(&self.maps), self.maps_committed as usize);
            assert_eq!(count(&self.reduces), self.reduces_committed as usize);
            if self
                .reduces
                .iter()
                .any(|t| t.state != TaskState::Idle || !t.live.is_empty())
            {
                assert_eq!(
                    self.maps_committed, self.config.n_map,
                    "reduce started before maps done"
                );
            }
        }
    }
}
