//! One `mr_coordinator` run: the coordinator, the model checking it, and the workers
//! with the attempts each holds.

use mr_core::{Attempt, AttemptId, Config, Coordinator, Input, Output, Phase, TaskId};

use super::model::{Model, Report};
use super::{Action, Setup, BEHAVED_STEPS_MAX};

/// What a run reached. Counts are of the schedule only: the well-behaved phase after it
/// is a check, not exploration.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub n_map: u32,
    pub n_reduce: u32,
    pub workers: usize,
    /// Tasks committed by the schedule.
    pub committed: u64,
    /// Reports that could not count (late, repeated, misfiled), answered `Discard`.
    pub duplicates_discarded: u64,
    /// Running tasks handed out again after their timeout.
    pub timeouts: u64,
    /// Failures that counted towards the task's limit.
    pub failures: u64,
    /// Reports no coordinator could have caused, refused with a `StepError`.
    pub hostile_refused: u64,
    /// The job failed (a task reached its failure limit).
    pub job_failed: bool,
    /// Every task was committed before the schedule ended.
    pub finished_in_schedule: bool,
    /// Steps the well-behaved phase took to end the job.
    pub behaved_steps: usize,
}

pub struct Job {
    coordinator: Coordinator,
    model: Model,
    /// The attempts each worker holds and has not reported.
    workers: Vec<Vec<Attempt>>,
    /// Every report of a real attempt made so far, for repeating.
    reports: Vec<Attempt>,
    summary: Summary,
}

impl Job {
    pub fn new(setup: Setup) -> Self {
        let config = Config {
            n_map: 1 + u32::from(setup.n_map % 8),
            n_reduce: 1 + u32::from(setup.n_reduce % 8),
            task_timeout_ticks: 1 + u64::from(setup.timeout_ticks % 8),
            attempts_live_per_task_max: 1 + usize::from(setup.attempts_live % 4),
            failures_per_task_max: 1 + u32::from(setup.failures_max % 4),
        };
        let workers = 1 + usize::from(setup.workers % 4);
        Job {
            coordinator: Coordinator::new(config).expect("a valid configuration"),
            model: Model::new(config),
            workers: vec![Vec::new(); workers],
            reports: Vec::new(),
            summary: Summary {
                n_map: config.n_map,
                n_reduce: config.n_reduce,
                workers,
                ..Summary::default()
            },
        }
    }

    pub fn act(&mut self, action: Action) {
        match action {
            Action::Ask(w) => {
                self.ask(self.worker(w));
            }
            Action::AskAndFinish(w) => {
                let w = self.worker(w);
                if let Output::Assign(_) = self.ask(w) {
                    let attempt = self.workers[w].pop().expect("the assignment just made");
                    self.report(attempt, true);
                }
            }
            Action::Done { worker, held } => self.report_held(worker, held, true),
            Action::Fail { worker, held } => self.report_held(worker, held, false),
            Action::Repeat { report, done } => {
                if !self.reports.is_empty() {
                    let attempt = self.reports[usize::from(report) % self.reports.len()];
                    self.report(attempt, done);
                }
            }
            Action::Forged {
                done,
                beyond,
                reduce,
                index,
            } => {
                let id = AttemptId(self.model.handed_out() + u64::from(beyond));
                let task = task_id(reduce, u32::from(index));
                self.report(Attempt { id, task }, done);
            }
            Action::Misfiled {
                done,
                attempt,
                reduce,
                index,
            } => self.misfiled(done, attempt, reduce, index),
            Action::Tick(times) => (0..=times % 4).for_each(|_| self.tick()),
            Action::Die(w) => {
                let w = self.worker(w);
                self.workers[w].clear();
            }
        }
    }

    fn worker(&self, w: u8) -> usize {
        usize::from(w) % self.workers.len()
    }

    fn report_held(&mut self, worker: u8, held: u8, done: bool) {
        let w = self.worker(worker);
        if self.workers[w].is_empty() {
            return;
        }
        let at = usize::from(held) % self.workers[w].len();
        let attempt = self.workers[w].swap_remove(at);
        self.report(attempt, done);
    }

    /// A real attempt filed under task `index` of a kind, among the job's tasks and two
    /// beyond them.
    fn misfiled(&mut self, done: bool, attempt: u8, reduce: bool, index: u8) {
        let handed = self.model.handed_out();
        if handed == 0 {
            return;
        }
        let id = AttemptId(u64::from(attempt) % handed);
        let config = self.coordinator.config();
        let tasks = if reduce {
            config.n_reduce
        } else {
            config.n_map
        };
        let task = task_id(reduce, u32::from(index) % (tasks + 2));
        self.report(Attempt { id, task }, done);
    }

    /// Worker `w` asks; an assignment is now its to report.
    fn ask(&mut self, w: usize) -> Output {
        let output = self
            .coordinator
            .step(Input::Ask)
            .expect("an ask is never refused");
        self.model.asked(output);
        self.model.check(&self.coordinator);
        if let Output::Assign(assignment) = output {
            self.workers[w].push(assignment.attempt);
        }
        output
    }

    fn report(&mut self, attempt: Attempt, done: bool) {
        let input = match done {
            true => Input::Done(attempt),
            false => Input::Failed(attempt),
        };
        let report = self.model.classify(attempt, done);
        // A refused report must leave every field as it was, not only the counters.
        let before = (report == Report::Hostile).then(|| format!("{:?}", self.coordinator));
        let got = self.coordinator.step(input);
        if let Some(before) = before {
            let after = format!("{:?}", self.coordinator);
            assert_eq!(before, after, "a refused {input:?} changed the coordinator");
        }
        self.model.reported(attempt, report, got);
        self.model.check(&self.coordinator);
        if self.model.task_of(attempt.id).is_some() && report != Report::Hostile {
            self.reports.push(attempt);
        }
        let s = &mut self.summary;
        match report {
            Report::Hostile => s.hostile_refused += 1,
            Report::Commits => s.committed += 1,
            Report::Fails => s.failures += 1,
            Report::Discarded => s.duplicates_discarded += 1,
        }
    }

    fn tick(&mut self) {
        let output = self
            .coordinator
            .step(Input::Tick)
            .expect("a tick is never refused");
        self.model.ticked(output);
        self.model.check(&self.coordinator);
    }

    /// Ends the schedule: records what it reached, then lets the workers behave (whose
    /// reports are not counted in the summary).
    pub fn finish(mut self) -> Summary {
        let reached = Summary {
            timeouts: self.coordinator.stats().timed_out,
            job_failed: matches!(self.coordinator.phase(), Phase::Failed(_)),
            finished_in_schedule: self.coordinator.is_done(),
            ..self.summary
        };
        let behaved_steps = self.behave(reached.job_failed);
        Summary {
            behaved_steps,
            ..reached
        }
    }

    /// Workers finish what they hold, then ask, do every assignment at once and tick
    /// when told to wait, until each is told to exit. The job must end: done with every
    /// task committed exactly once, unless it had already failed.
    fn behave(&mut self, failed: bool) -> usize {
        for w in 0..self.workers.len() {
            while let Some(attempt) = self.workers[w].pop() {
                self.report(attempt, true);
            }
        }
        let mut exited = vec![false; self.workers.len()];
        let mut steps = 0;
        while exited.contains(&false) {
            assert!(
                steps < BEHAVED_STEPS_MAX,
                "the job does not end: {steps} steps"
            );
            let w = steps % exited.len();
            steps += 1;
            if exited[w] {
                continue;
            }
            match self.ask(w) {
                Output::Assign(_) => {
                    let attempt = self.workers[w].pop().expect("the assignment just made");
                    self.report(attempt, true);
                }
                Output::Wait => self.tick(),
                _ => exited[w] = true,
            }
        }
        match self.coordinator.phase() {
            // Nothing fails from here on: the schedule failed it.
            Phase::Failed(_) => assert!(failed, "the job failed while workers behaved"),
            phase => {
                assert_eq!(phase, Phase::Done, "every worker exited");
                assert!(self.model.every_task_committed(), "a task was lost");
            }
        }
        steps
    }
}

fn task_id(reduce: bool, index: u32) -> TaskId {
    match reduce {
        true => TaskId::Reduce(index),
        false => TaskId::Map(index),
    }
}
