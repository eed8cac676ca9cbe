//! Tasks, attempts and the names of the files they produce.

use serde::{Deserialize, Serialize};

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

/// Every `(temporary, final)` file-name pair an attempt produces.
pub fn attempt_files(attempt: Attempt, n_reduce: u32) -> Vec<(String, String)> {
    assert!(n_reduce > 0);
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
}
