//! What the coordinator must answer, kept from the rules its documentation states rather
//! than from its code: a task is handed out only when idle and in the current phase
//! (every map committed before any reduce); an attempt's completion counts while it is
//! one of the task's `attempts_live_per_task_max` newest unreported attempts and the
//! task is not committed; a running task not reported within `task_timeout_ticks` ticks
//! is handed out again (its attempt still counts); a counted failure frees the task, and
//! `failures_per_task_max` of them fail the job. Each check panics with the property it
//! guards.

use std::collections::{HashMap, VecDeque};

use mr_core::{Attempt, AttemptId, Config, Coordinator, Output, Phase, Stats, StepError, TaskId};

#[derive(Debug, Clone, Default)]
struct Task {
    /// Attempts whose completion would count, oldest first.
    live: VecDeque<AttemptId>,
    /// The attempt last handed out and the tick by which it must be reported.
    running: Option<(AttemptId, u64)>,
    committed: Option<AttemptId>,
    failures: u32,
}

/// What a report is, before the coordinator answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// No coordinator could have caused it.
    Hostile,
    /// The first completion of the task that counts.
    Commits,
    /// A failure that counts.
    Fails,
    /// Late, repeated, for a committed task, or filed under another task.
    Discarded,
}

pub struct Model {
    config: Config,
    maps: Vec<Task>,
    reduces: Vec<Task>,
    handed: HashMap<AttemptId, TaskId>,
    now_tick: u64,
    failed: Option<TaskId>,
    /// The coordinator's counters as they must be.
    pub stats: Stats,
}

impl Model {
    pub fn new(config: Config) -> Self {
        Model {
            config,
            maps: vec![Task::default(); config.n_map as usize],
            reduces: vec![Task::default(); config.n_reduce as usize],
            handed: HashMap::new(),
            now_tick: 0,
            failed: None,
            stats: Stats::default(),
        }
    }

    pub fn handed_out(&self) -> u64 {
        self.stats.assigned
    }

    /// The task an attempt id was handed out for.
    pub fn task_of(&self, id: AttemptId) -> Option<TaskId> {
        self.handed.get(&id).copied()
    }

    fn task(&self, id: TaskId) -> Option<&Task> {
        match id {
            TaskId::Map(i) => self.maps.get(i as usize),
            TaskId::Reduce(i) => self.reduces.get(i as usize),
        }
    }

    fn task_mut(&mut self, id: TaskId) -> &mut Task {
        let task = match id {
            TaskId::Map(i) => self.maps.get_mut(i as usize),
            TaskId::Reduce(i) => self.reduces.get_mut(i as usize),
        };
        task.expect("a task of this job")
    }

    fn all_committed(tasks: &[Task]) -> bool {
        tasks.iter().all(|t| t.committed.is_some())
    }

    pub fn phase(&self) -> Phase {
        match self.failed {
            Some(task) => Phase::Failed(task),
            None if !Self::all_committed(&self.maps) => Phase::Map,
            None if !Self::all_committed(&self.reduces) => Phase::Reduce,
            None => Phase::Done,
        }
    }

    /// Checks the answer to an ask and records an assignment.
    pub fn asked(&mut self, output: Output) {
        let phase = self.phase();
        let tasks = match phase {
            Phase::Map => &self.maps,
            Phase::Reduce => &self.reduces,
            Phase::Done | Phase::Failed(_) => {
                assert_eq!(output, Output::Exit, "the job is over ({phase:?})");
                return;
            }
        };
        let idle = |t: &Task| t.committed.is_none() && t.running.is_none();
        match output {
            Output::Wait => assert!(
                !tasks.iter().any(idle),
                "Wait while a task of the {phase:?} phase is idle"
            ),
            Output::Assign(assignment) => {
                let attempt = assignment.attempt;
                let shape = (assignment.n_map, assignment.n_reduce);
                assert_eq!(shape, (self.config.n_map, self.config.n_reduce));
                self.assigned(phase, attempt);
            }
            other => panic!("{other:?} in answer to an ask in the {phase:?} phase"),
        }
    }

    fn assigned(&mut self, phase: Phase, attempt: Attempt) {
        let kind_matches = matches!(
            (phase, attempt.task),
            (Phase::Map, TaskId::Map(_)) | (Phase::Reduce, TaskId::Reduce(_))
        );
        assert!(
            kind_matches,
            "{attempt:?} handed out in the {phase:?} phase (a reduce before every map committed?)"
        );
        let old = self.handed.insert(attempt.id, attempt.task);
        assert_eq!(old, None, "attempt id {:?} handed out twice", attempt.id);
        let task = self.task(attempt.task).expect("the task exists");
        assert!(
            task.committed.is_none(),
            "{attempt:?}: task already committed"
        );
        assert!(task.running.is_none(), "{attempt:?}: task already running");
        let (deadline, live_max) = (
            self.now_tick + self.config.task_timeout_ticks,
            self.config.attempts_live_per_task_max,
        );
        let task = self.task_mut(attempt.task);
        if task.live.len() == live_max {
            task.live.pop_front();
        }
        task.live.push_back(attempt.id);
        task.running = Some((attempt.id, deadline));
        self.stats.assigned += 1;
    }

    /// What reporting `attempt` must do, from the state before the report.
    pub fn classify(&self, attempt: Attempt, done: bool) -> Report {
        if !self.handed.contains_key(&attempt.id) {
            return Report::Hostile;
        }
        let Some(task) = self.task(attempt.task) else {
            return Report::Hostile;
        };
        match (task.live.contains(&attempt.id), done) {
            (false, _) => Report::Discarded,
            (true, true) => Report::Commits,
            (true, false) => Report::Fails,
        }
    }

    /// Checks the answer to a report classified `report` and records its effect.
    pub fn reported(&mut self, attempt: Attempt, report: Report, got: Result<Output, StepError>) {
        match report {
            Report::Hostile => self.refused(attempt, got),
            Report::Commits => {
                assert_eq!(got, Ok(Output::Commit(attempt)), "a counting completion");
                self.commit(attempt);
            }
            Report::Fails => {
                assert_eq!(got, Ok(Output::Discard(attempt)), "a counting failure");
                self.fail(attempt);
            }
            Report::Discarded => {
                assert_eq!(
                    got,
                    Ok(Output::Discard(attempt)),
                    "a report that cannot count"
                );
                self.stats.discarded += 1;
            }
        }
    }

    fn refused(&self, attempt: Attempt, got: Result<Output, StepError>) {
        let unknown = !self.handed.contains_key(&attempt.id);
        let missing = self.task(attempt.task).is_none();
        match got {
            Err(StepError::UnknownAttempt(id)) if unknown && id == attempt.id => {}
            Err(StepError::NoSuchTask(task)) if missing && task == attempt.task => {}
            other => panic!("{attempt:?} (never handed out: {unknown}; no such task: {missing}) answered {other:?}"),
        }
    }

    fn commit(&mut self, attempt: Attempt) {
        let handed_for = self.handed.get(&attempt.id).copied();
        assert_eq!(handed_for, Some(attempt.task), "commit of {attempt:?}");
        if let TaskId::Reduce(_) = attempt.task {
            assert!(
                Self::all_committed(&self.maps),
                "reduce committed before maps"
            );
        }
        let task = self.task_mut(attempt.task);
        assert_eq!(task.committed, None, "{:?} committed twice", attempt.task);
        task.committed = Some(attempt.id);
        task.live.clear();
        task.running = None;
        self.stats.committed += 1;
    }

    fn fail(&mut self, attempt: Attempt) {
        let failures_max = self.config.failures_per_task_max;
        let task = self.task_mut(attempt.task);
        task.live.retain(|&id| id != attempt.id);
        task.failures += 1;
        if task.running.is_some_and(|(id, _)| id == attempt.id) {
            task.running = None;
        }
        let gave_up = task.failures >= failures_max;
        if gave_up && self.failed.is_none() {
            self.failed = Some(attempt.task);
        }
        self.stats.failed += 1;
    }

    /// Checks a tick's answer: exactly the running tasks whose deadline it reaches time
    /// out, and are free to be handed out again.
    pub fn ticked(&mut self, output: Output) {
        self.now_tick += 1;
        let now_tick = self.now_tick;
        let mut timed_out = 0;
        for task in self.maps.iter_mut().chain(self.reduces.iter_mut()) {
            if task
                .running
                .is_some_and(|(_, deadline)| deadline <= now_tick)
            {
                task.running = None;
                timed_out += 1;
            }
        }
        assert_eq!(output, Output::Ticked { timed_out }, "tick {now_tick}");
        self.stats.timed_out += u64::from(timed_out);
    }

    /// The coordinator's own view agrees: counters, progress, phase.
    pub fn check(&self, coordinator: &Coordinator) {
        assert_eq!(coordinator.stats(), self.stats, "stats");
        let count = |tasks: &[Task]| tasks.iter().filter(|t| t.committed.is_some()).count();
        let progress = (count(&self.maps) as u32, count(&self.reduces) as u32);
        assert_eq!(coordinator.progress(), progress, "progress");
        assert_eq!(coordinator.phase(), self.phase(), "phase");
        assert_eq!(coordinator.is_done(), self.phase() == Phase::Done);
        if let Some(task) = self.failed {
            let failures = self.task(task).map_or(0, |t| t.failures);
            assert!(failures >= self.config.failures_per_task_max);
        }
    }

    /// Every task committed exactly once: the model refuses a second commit, so this
    /// asks that none is missing.
    pub fn every_task_committed(&self) -> bool {
        Self::all_committed(&self.maps) && Self::all_committed(&self.reduces)
    }
}
