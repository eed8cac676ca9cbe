//! Errors from reading history files.

use thiserror::Error;

/// Why a history file could not be turned into operations.
#[derive(Debug, Error)]
pub enum ParseError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is {size_bytes} bytes, more than the limit of {limit_bytes}")]
    TooLarge { size_bytes: u64, limit_bytes: u64 },
    #[error("line {line}: more than {limit} operations")]
    TooManyOperations { line: usize, limit: usize },
    #[error("line {line}: {error}")]
    Line { line: usize, error: LineError },
}

impl ParseError {
    /// The 1-based line the error is about, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            ParseError::TooManyOperations { line, .. } | ParseError::Line { line, .. } => {
                Some(*line)
            }
            ParseError::Io(_) | ParseError::TooLarge { .. } => None,
        }
    }
}

/// What is wrong with one line.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum LineError {
    #[error("not a {{:field value, ...}} map: {0}")]
    Syntax(String),
    #[error("missing field :{0}")]
    MissingField(&'static str),
    #[error("field :{field} has an unexpected value {found}")]
    BadField { field: &'static str, found: String },
    #[error("client {0} completes an operation it never invoked")]
    CompletionWithoutInvocation(u64),
    #[error("client {0} invokes an operation while its previous one is still open")]
    DoubleInvocation(u64),
    #[error("the completion ({found}) does not match the open invocation ({invoked})")]
    Mismatch { invoked: String, found: String },
}

impl LineError {
    pub(crate) fn at(self, line: usize) -> ParseError {
        ParseError::Line { line, error: self }
    }
}
