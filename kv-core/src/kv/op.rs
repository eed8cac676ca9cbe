//! What key/value clients ask for and what they get back. The request and reply
//! envelopes around them are the generic service's ([`crate::service::Request`]).
//!
//! Lab 3 needs Get / Put / Append (Delete and compare-and-set are ours). The multi-key
//! operations, counters and counts are what a Redis front end needs: each is one
//! operation, so an MSET is one log entry and applies atomically.

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
    /// Append that answers the value's new length in bytes (Redis's APPEND).
    AppendLen {
        key: String,
        value: String,
    },
    /// Adds one to the decimal integer stored at `key` (absent counts as 0).
    Incr {
        key: String,
    },
    /// Deletes every key; answers how many existed.
    DeleteMany {
        keys: Vec<String>,
    },
    /// Sets every pair, in order (a later pair for the same key wins), as one write.
    PutMany {
        pairs: Vec<(String, String)>,
    },
    /// Reads every key at one point in time.
    GetMany {
        keys: Vec<String>,
    },
    /// How many of `keys` exist (a key named twice counts twice, as in Redis).
    Exists {
        keys: Vec<String>,
    },
    /// How many keys the store holds.
    Len,
}

impl Op {
    /// Reads change nothing, so they need no log entry and no deduplication.
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Op::Get { .. } | Op::GetMany { .. } | Op::Exists { .. } | Op::Len
        )
    }
}

/// The result of an operation that took effect.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// A Get's value (`None`: the key is absent).
    Value(Option<String>),
    /// A Put, Append, Delete or PutMany took effect.
    Done,
    /// Whether a Cas swapped.
    Swapped(bool),
    /// A GetMany's values, in the order asked.
    Values(Vec<Option<String>>),
    /// What DeleteMany, Exists and Len count.
    Count(u64),
    /// An Incr's new value.
    Integer(i64),
    /// An Incr found a value that is not a decimal i64, or would overflow; nothing
    /// changed.
    NotAnInteger,
    /// A write would make a value longer than [`VALUE_BYTES_MAX`] or store a key longer
    /// than [`KEY_BYTES_MAX`], or a read would answer more than [`READ_BYTES_MAX`];
    /// nothing changed.
    TooLarge { size_bytes: u64, max_bytes: u64 },
}

/// The longest value a key may hold. Appends can grow a value without bound, and every
/// replica keeps every value in memory and in each snapshot: Redis stops at 512 MB,
/// this store much earlier, so one value always fits in one reply on the wire.
pub const VALUE_BYTES_MAX: usize = 4 << 20;

/// The longest key a write may store (Redis allows 512 MB; the store's records need
/// lengths that fit 31 bits, and a key this long is already unusual).
pub const KEY_BYTES_MAX: usize = 4 << 20;

/// The most value bytes one read answers: a GetMany naming one large key thousands of
/// times would otherwise build a reply of gigabytes on the server.
pub const READ_BYTES_MAX: usize = 6 << 20;
