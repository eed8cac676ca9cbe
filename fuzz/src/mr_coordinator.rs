//! `mr_coordinator`: the MapReduce coordinator state machine (`mr_core::Coordinator`)
//! driven by a schedule of worker behaviour the input decodes into: asks, reports of
//! attempts held, duplicate and forged reports, ticks, workers that die holding work.
//! A model of the rules the coordinator documents checks every output and its counters
//! after every step; then the workers behave (ask, do every assignment, tick when told
//! to wait) and the job must finish with every task committed exactly once. A panic is
//! the finding.

use arbitrary::Arbitrary;

mod job;
mod model;

pub use job::{Job, Summary};

/// Actions per input: enough for every task to be handed out, time out, fail and be
/// reported twice, few enough that one execution stays well under a millisecond.
pub const ACTIONS_MAX: usize = 512;

/// Steps of the well-behaved phase. A job of at most 16 tasks with a timeout of at most
/// 8 ticks needs a few hundred; running out means the job cannot finish.
pub const BEHAVED_STEPS_MAX: usize = 10_000;

/// The job, read from the front of the input; each field is taken modulo its range, so
/// every byte string is a valid setup.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Setup {
    /// 1 to 8 map tasks.
    pub n_map: u8,
    /// 1 to 8 reduce tasks.
    pub n_reduce: u8,
    /// 1 to 8 ticks before a running task is handed out again.
    pub timeout_ticks: u8,
    /// 1 to 4 attempts of a task whose completion still counts.
    pub attempts_live: u8,
    /// 1 to 4 reported failures of a task before the job fails.
    pub failures_max: u8,
    /// 1 to 4 workers.
    pub workers: u8,
}

/// One step of the schedule. Worker and attempt numbers are taken modulo the number
/// there are (an action on a worker holding nothing does nothing).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Action {
    /// Worker w asks for a task.
    Ask(u8),
    /// Worker w asks and reports what it is given done at once: lets a short input get
    /// through a job instead of spelling out each ask and report.
    AskAndFinish(u8),
    /// Worker w reports one of the attempts it holds done (its files are written).
    Done { worker: u8, held: u8 },
    /// Worker w reports one of the attempts it holds failed.
    Fail { worker: u8, held: u8 },
    /// A report already made is made again (a retransmission, a confused worker), as
    /// done or as failed.
    Repeat { report: u8, done: bool },
    /// A report of an attempt id never handed out (`beyond` past the last one), naming
    /// task `index` (which may not exist): no coordinator caused it, so it is refused.
    Forged {
        done: bool,
        beyond: u8,
        reduce: bool,
        index: u8,
    },
    /// A real attempt reported under task `index` of the given kind: its own task, one
    /// it was not running, or one the job does not have.
    Misfiled {
        done: bool,
        attempt: u8,
        reduce: bool,
        index: u8,
    },
    /// 1 to 4 ticks.
    Tick(u8),
    /// Worker w dies: the attempts it holds are never reported.
    Die(u8),
}

/// The fuzz target: decodes `data` into a setup and a schedule and runs it. Panics on a
/// finding; any byte string is a valid input otherwise.
pub fn run(data: &[u8]) {
    play(data);
}

/// [`run`], returning what the run reached (`None`: no setup decodes from it), so
/// tests can tell a corpus that exercises the coordinator from one that only asks.
pub fn play(data: &[u8]) -> Option<Summary> {
    let (setup, actions) = describe(data);
    let mut job = Job::new(setup?);
    for action in actions {
        job.act(action);
    }
    Some(job.finish())
}

/// The setup and schedule `data` decodes to, for reading a finding.
pub fn describe(data: &[u8]) -> (Option<Setup>, Vec<Action>) {
    crate::schedule(data, ACTIONS_MAX)
}
