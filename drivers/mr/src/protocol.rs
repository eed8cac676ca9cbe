//! The messages between workers and the coordinator. A worker holds one connection and
//! sends one [`Request`] at a time; the coordinator answers each with one [`Reply`].

use mr_core::{Assignment, Attempt};
use serde::{Deserialize, Serialize};

use crate::job::AppSpec;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Give me a task.
    Ask,
    /// I finished (or gave up on) this attempt.
    Report { attempt: Attempt, outcome: Outcome },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Every temporary file of the attempt is written and closed.
    Done,
    Failed {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    Task(TaskSpec),
    /// Nothing to do yet: ask again after this long.
    Wait {
        retry_after_ms: u32,
    },
    /// The job is over; exit.
    Exit,
    /// The report was received (whether it counted is the coordinator's business).
    Ack,
    /// The request made no sense or the coordinator is full; the worker should give up.
    Rejected {
        reason: String,
    },
}

/// Everything a worker needs: the workers are generic and learn the job from the coordinator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    pub assignment: Assignment,
    /// For a map task: the input file, as the user named it (passed to `map`) and as an
    /// absolute path (to read it).
    pub input: Option<InputFile>,
    pub app: AppSpec,
    /// Absolute path of the shared directory holding intermediate and output files.
    pub work_dir: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    pub name: String,
    pub path: String,
}
