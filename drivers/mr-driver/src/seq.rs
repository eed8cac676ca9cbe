//! `mr seq`: the sequential reference — every map, then one reduce, in this process.

use std::path::{Path, PathBuf};

use mr_core::output_name;

use crate::files::{check_input, read_input, write_atomically, FilesError};
use crate::job::{AppSpec, Job, JobError};

#[derive(Debug, thiserror::Error)]
pub enum SeqError {
    #[error("no input files given")]
    NoInputs,
    #[error(transparent)]
    App(#[from] JobError),
    #[error("input file {0}")]
    Input(FilesError),
    #[error("writing output: {0}")]
    Output(FilesError),
    #[error("app failed on {input}: {reason}")]
    Failed { input: String, reason: String },
}

/// Runs the whole job sequentially and writes `mr-out-0` into `output_dir`.
pub fn run_sequential(
    app: &AppSpec,
    inputs: &[PathBuf],
    output_dir: &Path,
) -> Result<PathBuf, SeqError> {
    if inputs.is_empty() {
        return Err(SeqError::NoInputs);
    }
    let job = Job::resolve(app)?;
    for input in inputs {
        check_input(input).map_err(SeqError::Input)?;
    }
    let mut pairs = Vec::new();
    for input in inputs {
        let name = input.display().to_string();
        let contents = read_input(input).map_err(SeqError::Input)?;
        let mapped = job.map(&name, &contents).map_err(|e| SeqError::Failed {
            input: name,
            reason: e.0,
        })?;
        pairs.extend(mapped);
    }
    let output = job.reduce(pairs).map_err(|e| SeqError::Failed {
        input: "(reduce)".into(),
        reason: e.0,
    })?;
    std::fs::create_dir_all(output_dir)
        .map_err(|e| SeqError::Output(crate::files::io_error(output_dir)(e)))?;
    write_atomically(output_dir, &output_name(0), &output).map_err(SeqError::Output)
}
