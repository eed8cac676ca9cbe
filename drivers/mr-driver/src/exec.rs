//! Running one task attempt on a worker: read inputs, call the job, write temporary files.

use std::path::Path;

use mr_core::{
    attempt_files, decode_bucket, encode_bucket, intermediate_name, partition_pairs, AppError,
    TaskId,
};

use crate::files::{read_input, tmp_dir, write_file, FilesError};
use crate::job::Job;
use crate::protocol::TaskSpec;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error("app failed: {0}")]
    App(#[from] AppError),
    #[error("intermediate file {path}: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("map task without an input file")]
    NoInput,
}

/// Runs the attempt described by `spec`, leaving its complete temporary files behind.
pub fn execute(job: &Job, spec: &TaskSpec) -> Result<(), ExecError> {
    let work_dir = Path::new(&spec.work_dir);
    let attempt = spec.assignment.attempt;
    let n_reduce = spec.assignment.n_reduce;
    let files = attempt_files(attempt, n_reduce);
    let tmp = tmp_dir(work_dir);
    match attempt.task {
        TaskId::Map(_) => {
            let input = spec.input.as_ref().ok_or(ExecError::NoInput)?;
            let contents = read_input(Path::new(&input.path))?;
            let pairs = job.map(&input.name, &contents)?;
            drop(contents);
            let buckets = partition_pairs(pairs, n_reduce);
            assert_eq!(buckets.len(), files.len());
            for (bucket, (temporary, _)) in buckets.iter().zip(&files) {
                write_file(&tmp.join(temporary), &encode_bucket(bucket))?;
            }
        }
        TaskId::Reduce(reduce) => {
            let mut pairs = Vec::new();
            for map in 0..spec.assignment.n_map {
                let path = work_dir.join(intermediate_name(map, reduce));
                let bytes = std::fs::read(&path).map_err(crate::files::io_error(&path))?;
                let decoded = decode_bucket(&bytes).map_err(|e| ExecError::Corrupt {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                pairs.extend(decoded);
            }
            let output = job.reduce(pairs)?;
            assert_eq!(files.len(), 1, "a reduce task writes one output");
            write_file(&tmp.join(&files[0].0), &output)?;
        }
    }
    Ok(())
}
