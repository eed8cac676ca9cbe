//! The vocabulary every other module speaks: identifiers, log entries, hard state.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::membership::Membership;

/// A cluster member's identifier. Zero is reserved as "nobody" in some wire formats, so
/// [`crate::Config::validate`] refuses it.
pub type NodeId = u64;
/// A Raft term: a logical clock that only grows.
pub type Term = u64;
/// A position in the replicated log; the first entry has index 1.
pub type Index = u64;

/// What an entry carries. The leader's no-op is its own kind so applications can skip it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntryKind {
    /// A command proposed by the application.
    Normal,
    /// The no-op a new leader appends so entries of its term can commit promptly.
    Empty,
    /// A configuration: `data` is the postcard encoding of the whole [`Membership`], in
    /// force once the entry commits.
    Membership,
}

/// One replicated log entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    pub term: Term,
    pub index: Index,
    pub kind: EntryKind,
    pub data: Payload,
}

/// Bytes an entry's fixed fields take on the wire at most (term, index as varints, kind, length).
pub const ENTRY_OVERHEAD_BYTES: usize = 24;

impl Entry {
    /// An upper bound on the entry's encoded size; used for message and window limits.
    pub fn size_bytes(&self) -> usize {
        ENTRY_OVERHEAD_BYTES + self.data.len()
    }

    pub fn position(&self) -> LogPosition {
        LogPosition {
            term: self.term,
            index: self.index,
        }
    }
}

/// A (term, index) pair naming one log slot as written in one term.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct LogPosition {
    pub term: Term,
    pub index: Index,
}

/// What must be durable before a node makes promises: its term, its vote, and how far it
/// knows the log to be committed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HardState {
    pub term: Term,
    pub vote: Option<NodeId>,
    pub commit: Index,
}

/// Where a snapshot ends: it covers every entry up to and including `index`, the last of
/// which had term `term`, and the configuration in force at `index`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SnapshotMeta {
    pub index: Index,
    pub term: Term,
    pub membership: Membership,
}

impl SnapshotMeta {
    pub fn position(&self) -> LogPosition {
        LogPosition {
            term: self.term,
            index: self.index,
        }
    }
}

/// The application's state after applying every entry up to `meta.index`, as opaque bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Snapshot {
    pub meta: SnapshotMeta,
    #[serde(with = "bytes")]
    pub data: Vec<u8>,
}

/// An entry's bytes, immutable and shared. An entry is handed out many times over — to
/// the write, to every follower's append, to the application, to the in-memory disks —
/// and a clone of a `Payload` is a reference count, not a copy of the bytes (about half
/// of the in-process benchmark's time went into those copies when this was a `Vec<u8>`).
///
/// It holds the proposer's (or decoder's) vector itself rather than an `Arc<[u8]>`, so
/// making one never copies the bytes either (the two measured alike in the benchmark;
/// this one copies nothing however large the payload); spare capacity is given back,
/// since the log's byte accounting counts only the length.
///
/// It reads as a `[u8]` and encodes exactly as a `Vec<u8>` does, so the wire and disk
/// formats are unchanged.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Payload(Arc<Vec<u8>>);

impl Payload {
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl Deref for Payload {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Payload {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a Payload {
    type Item = &'a u8;
    type IntoIter = std::slice::Iter<'a, u8>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

impl From<Vec<u8>> for Payload {
    fn from(mut v: Vec<u8>) -> Self {
        // In place when there is slack (the allocator shrinks the block), free otherwise.
        v.shrink_to_fit();
        Payload(Arc::new(v))
    }
}

impl From<&[u8]> for Payload {
    fn from(v: &[u8]) -> Self {
        Payload(Arc::new(v.to_vec()))
    }
}

impl<const N: usize> From<[u8; N]> for Payload {
    fn from(v: [u8; N]) -> Self {
        Payload::from(&v[..])
    }
}

impl<const N: usize> From<&[u8; N]> for Payload {
    fn from(v: &[u8; N]) -> Self {
        Payload::from(&v[..])
    }
}

impl From<&str> for Payload {
    fn from(v: &str) -> Self {
        Payload::from(v.as_bytes())
    }
}

impl From<Payload> for Vec<u8> {
    fn from(p: Payload) -> Self {
        Arc::unwrap_or_clone(p.0)
    }
}

impl PartialEq<[u8]> for Payload {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<&[u8]> for Payload {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_slice() == *other
    }
}

impl PartialEq<Vec<u8>> for Payload {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<const N: usize> PartialEq<[u8; N]> for Payload {
    fn eq(&self, other: &[u8; N]) -> bool {
        self.as_slice() == other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for Payload {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.as_slice() == *other
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Postcard encodes bytes exactly as a `Vec<u8>` (a length, then the bytes), but
        // in one copy rather than one call per byte.
        serializer.serialize_bytes(self.as_slice())
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        bytes::deserialize(deserializer).map(Payload::from)
    }
}

/// `#[serde(with = "bytes")]` for a `Vec<u8>` field: the same encoding in postcard (a
/// length, then the bytes), written and read in one copy instead of one call per byte.
/// Snapshots and their chunks are the large byte fields this is for.
pub(crate) mod bytes {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_byte_buf(super::BytesVisitor)
    }
}

/// Takes bytes whole, or a sequence of bytes from a format that writes them so.
struct BytesVisitor;

impl<'de> serde::de::Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bytes")
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        // Capped: a length read from a peer must not reserve memory on its own say-so.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(b) = seq.next_element()? {
            out.push(b);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;

    quickcheck! {
        /// Disks and the wire hold entries written when `data` was a `Vec<u8>`: a
        /// payload encodes to the same bytes and decodes back to the same value.
        fn payload_encodes_as_a_byte_vector(bytes: Vec<u8>) -> bool {
            let payload = Payload::from(bytes.clone());
            let encoded = postcard::to_allocvec(&payload).unwrap();
            let decoded: Payload = postcard::from_bytes(&encoded).unwrap();
            encoded == postcard::to_allocvec(&bytes).unwrap() && decoded == bytes
        }
    }

    #[test]
    fn snapshot_bytes_encode_as_a_byte_vector() {
        let s = Snapshot {
            meta: SnapshotMeta::default(),
            data: (0..=255).collect(),
        };
        let encoded = postcard::to_allocvec(&s).unwrap();
        assert_eq!(encoded, postcard::to_allocvec(&(&s.meta, &s.data)).unwrap());
        assert_eq!(postcard::from_bytes::<Snapshot>(&encoded).unwrap(), s);
    }

    #[test]
    fn a_cloned_payload_shares_its_bytes() {
        let a = Payload::from(vec![1, 2, 3]);
        let b = a.clone();
        assert_eq!(a.as_ptr(), b.as_ptr());
        assert_eq!(b, [1, 2, 3]);
    }
}
