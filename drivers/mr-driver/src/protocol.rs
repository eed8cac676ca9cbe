//! The messages between workers and the coordinator. A worker holds one connection and
//! sends one [`Request`] at a time; the coordinator answers each with one [`Reply`].

use std::path::Path;

use mr_core::{Assignment, AssignmentError, Attempt, TaskId};
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

/// Why a worker will not run a [`TaskSpec`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskSpecError {
    #[error(transparent)]
    Assignment(#[from] AssignmentError),
    #[error("the work directory {0:?} is not an absolute path")]
    WorkDir(String),
    #[error("a map task without an input file")]
    NoInput,
    #[error("the input file {0:?} is not an absolute path")]
    InputPath(String),
}

/// How much of a path an error message quotes.
const QUOTED_CHARS_MAX: usize = 200;

fn quoted(path: &str) -> String {
    path.chars().take(QUOTED_CHARS_MAX).collect()
}

impl TaskSpec {
    /// Checks what a worker relies on: the assignment is possible (see
    /// [`Assignment::validate`]), paths are absolute, and a map task has its input.
    pub fn validate(&self) -> Result<(), TaskSpecError> {
        self.assignment.validate()?;
        if !Path::new(&self.work_dir).is_absolute() {
            return Err(TaskSpecError::WorkDir(quoted(&self.work_dir)));
        }
        if let TaskId::Map(_) = self.assignment.attempt.task {
            let input = self.input.as_ref().ok_or(TaskSpecError::NoInput)?;
            if !Path::new(&input.path).is_absolute() {
                return Err(TaskSpecError::InputPath(quoted(&input.path)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use mr_core::AttemptId;

    use super::*;
    use crate::frame::{read_frame, write_frame, FrameError};

    fn spec() -> TaskSpec {
        TaskSpec {
            assignment: Assignment {
                attempt: Attempt {
                    id: AttemptId(7),
                    task: TaskId::Map(1),
                },
                n_map: 3,
                n_reduce: 2,
            },
            input: Some(InputFile {
                name: "pg-being_ernest.txt".into(),
                path: "/data/pg-being_ernest.txt".into(),
            }),
            app: AppSpec::Builtin {
                name: "wc".into(),
                args: Vec::new(),
            },
            work_dir: "/tmp/mr".into(),
        }
    }

    /// Every message either side sends, one frame each on one stream, reads back as
    /// sent, and the stream then ends cleanly.
    #[test]
    fn requests_and_replies_cross_frames_unchanged() {
        let attempt = spec().assignment.attempt;
        let requests = [
            Request::Ask,
            Request::Report {
                attempt,
                outcome: Outcome::Done,
            },
            Request::Report {
                attempt,
                outcome: Outcome::Failed {
                    reason: "exit status 1".into(),
                },
            },
        ];
        let replies = [
            Reply::Task(spec()),
            Reply::Wait {
                retry_after_ms: 250,
            },
            Reply::Exit,
            Reply::Ack,
            Reply::Rejected {
                reason: "full".into(),
            },
        ];
        let mut stream = Vec::new();
        requests
            .iter()
            .for_each(|r| write_frame(&mut stream, r).unwrap());
        let mut reader = stream.as_slice();
        for sent in &requests {
            assert_eq!(&read_frame::<_, Request>(&mut reader).unwrap(), sent);
        }
        let end = read_frame::<_, Request>(&mut reader);
        assert!(matches!(end, Err(FrameError::Closed)));
        let mut stream = Vec::new();
        replies
            .iter()
            .for_each(|r| write_frame(&mut stream, r).unwrap());
        let mut reader = stream.as_slice();
        for sent in &replies {
            assert_eq!(&read_frame::<_, Reply>(&mut reader).unwrap(), sent);
        }
        assert_eq!(spec().validate(), Ok(()));
    }
}
