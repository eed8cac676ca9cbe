//! Tasks, attempts and the names of the files they produce.

use serde::{Deserialize, Serialize};

use crate::coordinator::Config;

/// One unit of work: map input file `X`, or reduce partition `Y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TaskId {
    Map(u32),
    Reduce(u32),
}

/// A unique number for each time the coordinator hands a task out. Two workers running the
/// same task write to different temporary names, so their files never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AttemptId(pub u64);

/// A task together with the attempt that is running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attempt {
    pub id: AttemptId,
    pub task: TaskId,
}

/// What a worker needs to know to run an attempt (the driver adds file paths and the app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub attempt: Attempt,
    pub n_map: u32,
    pub n_reduce: u32,
}

impl Assignment {
    /// Checks that the assignment describes a task of a job this crate could have made:
    /// 1 to [`Config::TASKS_MAX`] tasks of each kind, and the task among them. A worker
    /// checks what it is sent before sizing anything by it; the functions below assume it.
    pub fn validate(&self) -> Result<(), AssignmentError> {
        let (n_map, n_reduce) = (self.n_map, self.n_reduce);
        if !(1..=Config::TASKS_MAX).contains(&n_map) {
            return Err(AssignmentError::MapTasks(n_map));
        }
        if !(1..=Config::TASKS_MAX).contains(&n_reduce) {
            return Err(AssignmentError::ReduceTasks(n_reduce));
        }
        let task = self.attempt.task;
        let in_range = match task {
            TaskId::Map(map) => map < n_map,
            TaskId::Reduce(reduce) => reduce < n_reduce,
        };
        if !in_range {
            return Err(AssignmentError::TaskOutOfRange {
                task,
                n_map,
                n_reduce,
            });
        }
        Ok(())
    }
}

/// Why an [`Assignment`] cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignmentError {
    #[error("{0} map tasks, but a job has 1 to {max}", max = Config::TASKS_MAX)]
    MapTasks(u32),
    #[error("{0} reduce tasks, but a job has 1 to {max}", max = Config::TASKS_MAX)]
    ReduceTasks(u32),
    #[error("task {task:?} is outside a job of {n_map} map and {n_reduce} reduce tasks")]
    TaskOutOfRange {
        task: TaskId,
        n_map: u32,
        n_reduce: u32,
    },
}

/// Final name of the intermediate file of map task `map` for reduce partition `reduce`.
pub fn intermediate_name(map: u32, reduce: u32) -> String {
    format!("mr-{map}-{reduce}")
}

/// Final name of the output of reduce partition `reduce`.
pub fn output_name(reduce: u32) -> String {
    format!("mr-out-{reduce}")
}

/// Temporary name an attempt writes `final_name` to before the coordinator commits it. It is
/// relative to the job's temporary directory, so `mr-out*` globs never see half-written files.
pub fn temporary_name(final_name: &str, attempt: AttemptId) -> String {
    format!("{final_name}.attempt-{}", attempt.0)
}

/// Every `(temporary, final)` file-name pair an attempt produces. `n_reduce` must be in
/// `1..=Config::TASKS_MAX` (see [`Assignment::validate`]): a map attempt has that many files.
pub fn attempt_files(attempt: Attempt, n_reduce: u32) -> Vec<(String, String)> {
    assert!(
        (1..=Config::TASKS_MAX).contains(&n_reduce),
        "n_reduce {n_reduce}"
    );
    let finals: Vec<String> = match attempt.task {
        TaskId::Map(map) => (0..n_reduce).map(|r| intermediate_name(map, r)).collect(),
        TaskId::Reduce(reduce) => vec![output_name(reduce)],
    };
    finals
        .into_iter()
        .map(|name| (temporary_name(&name, attempt.id), name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_course_convention() {
        assert_eq!(intermediate_name(3, 7), "mr-3-7");
        assert_eq!(output_name(7), "mr-out-7");
        let attempt = Attempt {
            id: AttemptId(9),
            task: TaskId::Map(2),
        };
        let files = attempt_files(attempt, 3);
        assert_eq!(files.len(), 3);
        assert_eq!(
            files[1],
            ("mr-2-1.attempt-9".to_string(), "mr-2-1".to_string())
        );
    }

    fn assignment(task: TaskId, n_map: u32, n_reduce: u32) -> Assignment {
        Assignment {
            attempt: Attempt {
                id: AttemptId(1),
                task,
            },
            n_map,
            n_reduce,
        }
    }

    #[test]
    fn assignments_are_validated() {
        let max = Config::TASKS_MAX;
        assert_eq!(assignment(TaskId::Map(0), 1, 1).validate(), Ok(()));
        assert_eq!(
            assignment(TaskId::Reduce(max - 1), max, max).validate(),
            Ok(())
        );
        let refused = [
            (
                assignment(TaskId::Map(0), 1, 0),
                AssignmentError::ReduceTasks(0),
            ),
            (
                assignment(TaskId::Map(0), 1, u32::MAX),
                AssignmentError::ReduceTasks(u32::MAX),
            ),
            (
                assignment(TaskId::Map(0), 0, 1),
                AssignmentError::MapTasks(0),
            ),
            (
                assignment(TaskId::Reduce(0), max + 1, 1),
                AssignmentError::MapTasks(max + 1),
            ),
        ];
        for (bad, error) in refused {
            assert_eq!(bad.validate(), Err(error));
        }
        for (task, n_map, n_reduce) in [(TaskId::Map(3), 3, 1), (TaskId::Reduce(1), 3, 1)] {
            assert_eq!(
                assignment(task, n_map, n_reduce).validate(),
                Err(AssignmentError::TaskOutOfRange {
                    task,
                    n_map,
                    n_reduce
                })
            );
        }
    }
}
