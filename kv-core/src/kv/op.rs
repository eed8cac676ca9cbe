//! What key/value clients ask for and what they get back. The request and reply
//! envelopes around them are the generic service's ([`crate::service::Request`]).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    Get {
        key: String,
    },
    Put {
        key: String,
        value: String,
    },
    /// Concatenates `value` to the current value (an absent key counts as "").
    Append {
        key: String,
        value: String,
    },
    Delete {
        key: String,
    },
    /// Sets `new` iff the current value equals `expected` (`None`: only if absent).
    Cas {
        key: String,
        expected: Option<String>,
        new: String,
    },
}

impl Op {
    pub fn key(&self) -> &str {
        match self {
            Op::Get { key }
            | Op::Put { key, .. }
            | Op::Append { key, .. }
            | Op::Delete { key }
            | Op::Cas { key, .. } => key,
        }
    }

    /// Reads change nothing, so they need no log entry and no deduplication.
    pub fn is_read(&self) -> bool {
        matches!(self, Op::Get { .. })
    }
}

/// The result of an operation that took effect.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// A Get's value (`None`: the key is absent).
    Value(Option<String>),
    /// A Put, Append or Delete took effect.
    Done,
    /// Whether a Cas swapped.
    Swapped(bool),
}
