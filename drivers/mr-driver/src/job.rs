//! What a job computes: a built-in app by name, or an external mapper and reducer
//! (streaming mode), behind one interface the worker and `mr seq` share.

use mr_core::apps::{Grep, Indexer, WordCount};
use mr_core::{reduce_pairs, AppError, KeyValue, MapReduce};
use serde::{Deserialize, Serialize};

use crate::streaming::run_command;

/// How the user named the computation; sent to workers inside every task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppSpec {
    Builtin {
        name: String,
        args: Vec<String>,
    },
    /// Shell commands (run with `sh -c`): lines on stdin, `key<TAB>value` lines on stdout.
    Streaming {
        mapper: String,
        reducer: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("unknown app {name:?}; available apps: {}", available_apps().join(", "))]
    UnknownApp { name: String },
    #[error("app {name:?}: {reason}")]
    BadArgs { name: String, reason: String },
}

/// The names `--app` accepts in this build.
pub fn available_apps() -> Vec<&'static str> {
    let builtin = ["wc", "indexer", "grep"];
    #[cfg(feature = "test-apps")]
    return builtin
        .iter()
        .chain(crate::test_apps::NAMES)
        .copied()
        .collect();
    #[cfg(not(feature = "test-apps"))]
    builtin.to_vec()
}

/// A resolved, runnable job.
pub enum Job {
    App(Box<dyn MapReduce>),
    Streaming { mapper: String, reducer: String },
}

impl Job {
    pub fn resolve(spec: &AppSpec) -> Result<Job, JobError> {
        let (name, args) = match spec {
            AppSpec::Streaming { mapper, reducer } => {
                return Ok(Job::Streaming {
                    mapper: mapper.clone(),
                    reducer: reducer.clone(),
                })
            }
            AppSpec::Builtin { name, args } => (name.as_str(), args.as_slice()),
        };
        let bad = |reason: &str| JobError::BadArgs {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        let app: Box<dyn MapReduce> = match (name, args) {
            ("wc", []) => Box::new(WordCount),
            ("indexer", []) => Box::new(Indexer),
            ("grep", [pattern]) => Box::new(Grep::new(pattern).map_err(|e| bad(&e.0))?),
            ("grep", _) => {
                return Err(bad("needs exactly one --app-arg: the string to search for"))
            }
            ("wc" | "indexer", _) => return Err(bad("takes no --app-arg")),
            _ => return Self::resolve_test_app(name),
        };
        Ok(Job::App(app))
    }

    #[cfg(feature = "test-apps")]
    fn resolve_test_app(name: &str) -> Result<Job, JobError> {
        crate::test_apps::lookup(name)
            .map(Job::App)
            .ok_or(JobError::UnknownApp {
                name: name.to_string(),
            })
    }

    #[cfg(not(feature = "test-apps"))]
    fn resolve_test_app(name: &str) -> Result<Job, JobError> {
        Err(JobError::UnknownApp {
            name: name.to_string(),
        })
    }

    /// Map one input file.
    pub fn map(&self, name: &str, contents: &str) -> Result<Vec<KeyValue>, AppError> {
        match self {
            Job::App(app) => app.map(name, contents),
            Job::Streaming { mapper, .. } => {
                let stdout = run_command(mapper, contents.as_bytes(), name)?;
                Ok(mr_core::streaming::parse_records(&stdout))
            }
        }
    }

    /// Reduce one partition's pairs into output-file bytes (`KEY VALUE` lines).
    pub fn reduce(&self, pairs: Vec<KeyValue>) -> Result<Vec<u8>, AppError> {
        match self {
            Job::App(app) => reduce_pairs(app.as_ref(), pairs),
            Job::Streaming { reducer, .. } => {
                let stdin = mr_core::streaming::reducer_input(pairs);
                let stdout = run_command(reducer, &stdin, "")?;
                Ok(mr_core::streaming::reducer_output(&stdout))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin(name: &str, args: &[&str]) -> AppSpec {
        AppSpec::Builtin {
            name: name.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn resolves_names_and_rejects_bad_ones() {
        assert!(Job::resolve(&builtin("wc", &[])).is_ok());
        assert!(Job::resolve(&builtin("grep", &["x"])).is_ok());
        let err = Job::resolve(&builtin("nope", &[])).err().unwrap();
        assert!(
            err.to_string()
                .contains("unknown app \"nope\"; available apps: wc, indexer, grep"),
            "{err}"
        );
        assert!(matches!(
            Job::resolve(&builtin("grep", &[])),
            Err(JobError::BadArgs { .. })
        ));
        assert!(matches!(
            Job::resolve(&builtin("wc", &["x"])),
            Err(JobError::BadArgs { .. })
        ));
    }
}
