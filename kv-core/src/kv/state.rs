//! The key/value map as a [`StateMachine`]: Get / Put / Append / Delete / compare-and-set
//! over string keys. Sessions are not here: the generic service wraps this map in
//! [`crate::service::Replicated`], which applies each (client, seq) at most once and
//! snapshots the session table next to the map.

use serde::de::DeserializeSeed;
use serde::{Deserialize, Serialize};

use super::op::{Op, Outcome, KEY_BYTES_MAX, READ_BYTES_MAX, VALUE_BYTES_MAX};
use super::store::{HashKey, Store, StoreSeed};
use crate::service::state_machine::{
    decode, encode, encode_into, Access, DecodeError, StateMachine,
};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvState {
    data: Store,
}

impl KvState {
    /// What the map's table hashes keys with (a server's: from its seed).
    pub fn hash_key(&self) -> HashKey {
        self.data.hash_key()
    }
}

impl StateMachine for KvState {
    type Op = Op;
    /// Every operation can go through the log; a Get that does (the server never sends
    /// one) is a read in log order, still correct.
    type Command = Op;
    type Query = Read;
    type Output = Outcome;

    fn route(op: Op) -> Access<Op, Read> {
        match op {
            Op::Get { key } => Access::Read(Read::Get(key)),
            Op::GetMany { keys } => Access::Read(Read::GetMany(keys)),
            Op::Exists { keys } => Access::Read(Read::Exists(keys)),
            Op::Len => Access::Read(Read::Len),
            write => Access::Write(write),
        }
    }

    fn apply(&mut self, op: &Op) -> Outcome {
        if let Some(too_large) = write_too_large(op) {
            return too_large;
        }
        match op {
            Op::Get { key } => self.query(&Read::Get(key.clone())),
            Op::GetMany { keys } => self.query(&Read::GetMany(keys.clone())),
            Op::Exists { keys } => self.query(&Read::Exists(keys.clone())),
            Op::Len => self.query(&Read::Len),
            Op::Put { key, value } => {
                self.data.insert(key, value);
                Outcome::Done
            }
            Op::Append { key, value } => match self.append(key, value) {
                Ok(_) => Outcome::Done,
                Err(too_large) => too_large,
            },
            Op::Delete { key } => {
                self.data.remove(key);
                Outcome::Done
            }
            Op::Cas { key, expected, new } => {
                let swap = self.data.get(key) == expected.as_deref();
                if swap {
                    self.data.insert(key, new);
                }
                Outcome::Swapped(swap)
            }
            Op::AppendLen { key, value } => match self.append(key, value) {
                Ok(len) => Outcome::Count(len as u64),
                Err(too_large) => too_large,
            },
            Op::Incr { key } => self.incr(key),
            Op::DeleteMany { keys } => {
                let removed = keys.iter().filter(|k| self.data.remove(k));
                Outcome::Count(removed.count() as u64)
            }
            Op::PutMany { pairs } => {
                for (k, v) in pairs {
                    self.data.insert(k, v);
                }
                Outcome::Done
            }
        }
    }

    fn query(&self, read: &Read) -> Outcome {
        match read {
            Read::Get(key) => Outcome::Value(self.data.get(key).map(str::to_string)),
            Read::GetMany(keys) => {
                let size: usize = keys
                    .iter()
                    .filter_map(|k| self.data.get(k))
                    .map(str::len)
                    .sum();
                if size > READ_BYTES_MAX {
                    return too_large(size, READ_BYTES_MAX);
                }
                let value = |k: &String| self.data.get(k).map(str::to_string);
                Outcome::Values(keys.iter().map(value).collect())
            }
            Read::Exists(keys) => {
                let present = keys.iter().filter(|k| self.data.contains_key(k));
                Outcome::Count(present.count() as u64)
            }
            Read::Len => Outcome::Count(self.data.len() as u64),
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        encode(self)
    }

    fn snapshot_into(&self, out: &mut Vec<u8>) {
        // The pages' live bytes (records with their 8-byte headers) are about the
        // encoding's size (postcard's two length prefixes take 2 to 10 bytes): one
        // allocation, and no copy into a second buffer.
        out.reserve(self.data.live_bytes() + 16);
        encode_into(self, out);
    }

    fn restore(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode(bytes)
    }

    fn with_hash_seed(self, seed: u64) -> Self {
        KvState {
            data: self.data.rekeyed(HashKey::from_seed(seed)),
        }
    }

    /// Decodes straight into a table under the server's key (hashing every key once).
    fn restore_with_hash_seed(bytes: &[u8], seed: u64) -> Result<Self, DecodeError> {
        let mut decoder = postcard::Deserializer::from_bytes(bytes);
        let data = StoreSeed(HashKey::from_seed(seed))
            .deserialize(&mut decoder)
            .map_err(|source| DecodeError::Snapshot {
                size_bytes: bytes.len(),
                source,
            })?;
        Ok(KvState { data })
    }
}

/// A read: answered from local state once ReadIndex (or the lease) confirms it is fresh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read {
    Get(String),
    GetMany(Vec<String>),
    Exists(Vec<String>),
    Len,
}

/// A write that would store a key longer than [`KEY_BYTES_MAX`] or a value longer than
/// [`VALUE_BYTES_MAX`] is refused whole, on every replica alike. (Appends check the value
/// they would make in `append`.) A node's entry limit keeps such writes out of the log
/// by default; one configured without limit must not let them reach the store.
fn write_too_large(op: &Op) -> Option<Outcome> {
    let check = |key: &str, value_len: usize| {
        if key.len() > KEY_BYTES_MAX {
            return Some(too_large(key.len(), KEY_BYTES_MAX));
        }
        (value_len > VALUE_BYTES_MAX).then(|| too_large(value_len, VALUE_BYTES_MAX))
    };
    match op {
        Op::Put { key, value } => check(key, value.len()),
        Op::Cas { key, new, .. } => check(key, new.len()),
        Op::Append { key, .. } | Op::AppendLen { key, .. } | Op::Incr { key } => check(key, 0),
        Op::PutMany { pairs } => pairs.iter().find_map(|(k, v)| check(k, v.len())),
        _ => None,
    }
}

fn too_large(size_bytes: usize, max_bytes: usize) -> Outcome {
    Outcome::TooLarge {
        size_bytes: size_bytes as u64,
        max_bytes: max_bytes as u64,
    }
}

impl KvState {
    /// Appends unless the value would outgrow [`VALUE_BYTES_MAX`]; the new length.
    fn append(&mut self, key: &str, value: &str) -> Result<usize, Outcome> {
        let len = self.data.get(key).map_or(0, str::len) + value.len();
        if len > VALUE_BYTES_MAX {
            return Err(too_large(len, VALUE_BYTES_MAX));
        }
        let appended = self.data.append(key, value);
        assert_eq!(appended, len);
        Ok(len)
    }

    /// Redis's INCR: the value must be a decimal i64 and the sum must not overflow;
    /// otherwise nothing changes.
    fn incr(&mut self, key: &str) -> Outcome {
        // Rust accepts a leading '+', Redis does not.
        let parse = |v: &str| v.parse::<i64>().ok().filter(|_| !v.starts_with('+'));
        let current = self.data.get(key).map_or(Some(0), parse);
        match current.and_then(|n| n.checked_add(1)) {
            Some(n) => {
                self.data.insert(key, &n.to_string());
                Outcome::Integer(n)
            }
            None => Outcome::NotAnInteger,
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.data.get(key)
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

#[cfg(test)]
mod tests;
