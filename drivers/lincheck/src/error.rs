//! Errors from reading history files.
//!
//! Messages quote what they found, shortened: a malformed line may hold a token of
//! megabytes, and an error message is read by a person.

use std::borrow::Cow;

use thiserror::Error;

/// How many characters of a token a message quotes.
const QUOTED_CHARS_MAX: usize = 80;

/// `text`, or its first [`QUOTED_CHARS_MAX`] characters and "…" if it is longer.
pub(crate) fn shorten(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(QUOTED_CHARS_MAX) {
        None => Cow::Borrowed(text),
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
    }
}

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
    #[error("field :{field} has an unexpected value {}", shorten(.found))]
    BadField { field: &'static str, found: String },
    #[error("client {0} completes an operation it never invoked")]
    CompletionWithoutInvocation(u64),
    #[error("client {0} invokes an operation while its previous one is still open")]
    DoubleInvocation(u64),
    #[error(
        "the completion ({}) does not match the open invocation ({})",
        shorten(.found),
        shorten(.invoked)
    )]
    Mismatch { invoked: String, found: String },
}

impl LineError {
    pub(crate) fn at(self, line: usize) -> ParseError {
        ParseError::Line { line, error: self }
    }
}

#[cfg(test)]
mod tests {
    use super::{shorten, LineError};

    #[test]
    fn long_tokens_are_shortened_on_a_character_boundary() {
        assert_eq!(shorten("short"), "short");
        let exact = "é".repeat(80);
        assert_eq!(shorten(&exact), exact);
        let long = "é".repeat(81);
        assert_eq!(shorten(&long), format!("{}…", "é".repeat(80)));
        let error = LineError::BadField {
            field: "value",
            found: "z".repeat(200_000),
        };
        assert!(error.to_string().len() < 200, "{error}");
    }
}
