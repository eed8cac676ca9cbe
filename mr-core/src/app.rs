//! The application interface: what a MapReduce job computes.

use serde::{Deserialize, Serialize};

/// One intermediate pair emitted by `map`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

impl KeyValue {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// An application failed on its input; the task is reported failed and retried elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AppError(pub String);

/// A MapReduce application. Both functions must be deterministic: the job's output must not
/// depend on which worker ran which task, or how many times.
pub trait MapReduce: Send + Sync {
    /// Turns one input file into intermediate pairs. Pairs may repeat a key.
    fn map(&self, file_name: &str, contents: &str) -> Result<Vec<KeyValue>, AppError>;

    /// Folds every value emitted for `key` (in no particular order) into the output value.
    fn reduce(&self, key: &str, values: &[String]) -> Result<String, AppError>;
}
