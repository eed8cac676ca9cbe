//! Where the key/value map keeps its strings: every key and its value packed side by
//! side, as one record, in pages of [`PAGE_BYTES`], and found through a hash table of
//! 8-byte handles (page, offset).
//!
//! Why not a `BTreeMap<String, String>`: for a million 9-byte keys of 128-byte values it
//! took 1.98× the raw bytes (two heap allocations per key, each rounded up by malloc,
//! plus the tree's nodes). Here a record costs its bytes plus an 8-byte header, and the
//! table about 9 bytes per bucket: about 1.2× (BENCHMARKS.md, "Memory").
//!
//! A record that is replaced by one of another size, or removed, becomes garbage in its
//! page. A page that is not being appended to (the tail) keeps at least
//! [`LIVE_FRACTION_MIN`] of its bytes live: below that, its live records move to the
//! tail and the page is freed. Moving a byte is paid for by at least half a byte of
//! garbage, and the pages hold at most 1.5× the live bytes plus the tail.
//!
//! The table hashes keys with SipHash keyed from the server's seed (`siphash.rs`), so a
//! client cannot choose keys that all land in one bucket.
//!
//! What it is **not**: ordered. Nothing the service offers walks keys in order; only the
//! snapshot does, and it sorts, so every replica encodes the same state to the same bytes
//! (the bytes a `BTreeMap<String, String>` encodes to, so older snapshots still restore).

use std::fmt;

use hashbrown::HashTable;
use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::op::{KEY_BYTES_MAX, VALUE_BYTES_MAX};
pub use super::siphash::HashKey;

/// Records are appended to pages of this size; a larger record gets a page of its own.
pub const PAGE_BYTES: usize = 1 << 20;

/// A page other than the tail keeps at least this fraction of its bytes live
/// (numerator, denominator).
pub const LIVE_FRACTION_MIN: (usize, usize) = (2, 3);

/// Decoding reserves table room for at most this many announced entries (about 19 MiB).
const RESERVE_ENTRIES_MAX: usize = 1 << 20;

/// key length and value length, u32 little-endian each. The key length's top bit marks
/// a record nothing points at any more (garbage), so a walk over a page finds the live
/// records without asking the table.
const HEADER_BYTES: usize = 8;
const GARBAGE_BIT: u32 = 1 << 31;

/// Where a record starts: page number in the high half, byte offset in the low half.
type Handle = u64;

#[derive(Clone, Default)]
struct Page {
    bytes: Vec<u8>,
    live_bytes: usize,
}

/// A map from string keys to string values. See the module docs.
#[derive(Clone)]
pub struct Store {
    /// [`PAGE_BYTES`], but tests fill pages faster with smaller ones.
    page_bytes: usize,
    /// What the table hashes keys with: keyed per server (see `siphash.rs`).
    hash_key: HashKey,
    table: HashTable<Handle>,
    /// Indexed by page number; a freed page is an empty `Page` whose number is reused.
    pages: Vec<Page>,
    free_pages: Vec<u32>,
    /// The page records are appended to, if any.
    tail: Option<u32>,
    /// Sealed pages that may have fallen below `LIVE_FRACTION_MIN`.
    to_check: Vec<u32>,
}

impl Default for Store {
    fn default() -> Store {
        Store::with_page_bytes(PAGE_BYTES)
    }
}

impl Store {
    pub fn with_page_bytes(page_bytes: usize) -> Store {
        assert!(page_bytes >= 64, "a page holds records, not just headers");
        Store {
            page_bytes,
            hash_key: HashKey::default(),
            table: HashTable::new(),
            pages: Vec::new(),
            free_pages: Vec::new(),
            tail: None,
            to_check: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn hash_key(&self) -> HashKey {
        self.hash_key
    }

    /// The store with its table keyed by `hash_key`: every key hashed again.
    pub fn rekeyed(mut self, hash_key: HashKey) -> Store {
        if hash_key == self.hash_key {
            return self;
        }
        let handles: Vec<Handle> = self.table.drain().collect();
        self.hash_key = hash_key;
        let pages = &self.pages;
        for handle in handles {
            let hash = hash_of(hash_key, pages, handle);
            self.table
                .insert_unique(hash, handle, |&h| hash_of(hash_key, pages, h));
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        let handle = self.find(key)?;
        Some(self.value(handle))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_some()
    }

    /// Sets `key` to `value`; a value of the same length is overwritten in place.
    pub fn insert(&mut self, key: &str, value: &str) {
        if let Some(handle) = self.find(key) {
            if self.value(handle).len() == value.len() {
                let start = self.value_start(handle);
                let (page, _) = split(handle);
                self.pages[page as usize].bytes[start..start + value.len()]
                    .copy_from_slice(value.as_bytes());
                return;
            }
        }
        self.put(key, &[value.as_bytes()]);
    }

    /// Appends `suffix` to the value of `key` (absent: empty); returns the new length.
    pub fn append(&mut self, key: &str, suffix: &str) -> usize {
        let old = self.get(key).unwrap_or("").as_bytes().to_vec();
        self.put(key, &[&old, suffix.as_bytes()]);
        old.len() + suffix.len()
    }

    /// Removes `key`; returns whether it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        let hash = self.hash_key.hash(key.as_bytes());
        let pages = &self.pages;
        let found = self
            .table
            .find_entry(hash, |&h| record_key(pages, h) == key.as_bytes());
        let Ok(entry) = found else {
            return false;
        };
        let (handle, _) = entry.remove();
        self.make_garbage(handle);
        self.collect();
        true
    }

    /// Every (key, value), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.table
            .iter()
            .map(move |&h| (as_str(record_key(&self.pages, h)), self.value(h)))
    }

    /// Every (key, value) in key order: what a snapshot encodes.
    pub fn sorted(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        // Comparing keys where they lie would chase a pointer into the pages on every
        // comparison, a cache miss each: 0.9 s for a million keys. Each key's first 16
        // bytes, copied next to its handle, decide most comparisons locally.
        // The pages are walked in order (the table's order would be a cache miss per key).
        let pages = &self.pages;
        let mut order: Vec<([u64; 2], Handle)> = Vec::with_capacity(self.len());
        for (number, page) in pages.iter().enumerate() {
            let live = live_records(&page.bytes);
            order.extend(live.map(|(offset, key, _)| (prefix(key), join(number as u32, offset))));
        }
        assert_eq!(order.len(), self.len(), "the live records are the table's");
        order.sort_unstable_by(|a, b| {
            let by_key = || record_key(pages, a.1).cmp(record_key(pages, b.1));
            a.0.cmp(&b.0).then_with(by_key)
        });
        order
            .into_iter()
            .map(move |(_, h)| (as_str(record_key(pages, h)), self.value(h)))
    }

    /// Bytes held by pages (live records, garbage and the tail's unused room excluded).
    #[cfg(test)]
    pub fn page_bytes(&self) -> usize {
        self.pages.iter().map(|p| p.bytes.len()).sum()
    }

    /// Bytes of live records, headers included.
    pub fn live_bytes(&self) -> usize {
        self.pages.iter().map(|p| p.live_bytes).sum()
    }

    /// Checks every page against the records the table points at: slow, for tests.
    #[cfg(test)]
    pub fn check_invariants(&self) {
        let mut live = vec![0usize; self.pages.len()];
        for &h in self.table.iter() {
            let (page, _) = split(h);
            live[page as usize] += self.record_len(h);
            let key = record_key(&self.pages, h);
            assert_eq!(
                self.find(as_str(key)),
                Some(h),
                "a key is in the table once"
            );
        }
        for (number, page) in self.pages.iter().enumerate() {
            assert_eq!(page.live_bytes, live[number], "page {number}'s live bytes");
            let unmarked: usize = live_records(&page.bytes)
                .map(|(_, k, v)| HEADER_BYTES + k.len() + v.len())
                .sum();
            assert_eq!(
                unmarked, live[number],
                "page {number}'s records not marked garbage"
            );
            let (num, den) = LIVE_FRACTION_MIN;
            let sealed = self.tail != Some(number as u32);
            assert!(
                !sealed || page.bytes.is_empty() || page.live_bytes * den >= page.bytes.len() * num,
                "page {number} holds {} live bytes of {}",
                page.live_bytes,
                page.bytes.len()
            );
        }
        assert!(self.to_check.is_empty(), "every sealed page was checked");
    }

    fn find(&self, key: &str) -> Option<Handle> {
        let pages = &self.pages;
        self.table
            .find(self.hash_key.hash(key.as_bytes()), |&h| {
                record_key(pages, h) == key.as_bytes()
            })
            .copied()
    }

    /// Writes a new record for `key` (its value the concatenation of `parts`) and points
    /// the table at it; the old record, if any, becomes garbage.
    fn put(&mut self, key: &str, parts: &[&[u8]]) {
        let value_len: usize = parts.iter().map(|p| p.len()).sum();
        let handle = self.write_record(key.as_bytes(), parts, value_len);
        let (hash_key, hash) = (self.hash_key, self.hash_key.hash(key.as_bytes()));
        let pages = &self.pages;
        let old = match self.table.find_mut(hash, |&h| {
            h != handle && record_key(pages, h) == key.as_bytes()
        }) {
            Some(slot) => Some(std::mem::replace(slot, handle)),
            None => {
                self.table
                    .insert_unique(hash, handle, |&h| hash_of(hash_key, pages, h));
                None
            }
        };
        if let Some(old) = old {
            self.make_garbage(old);
        }
        self.collect();
    }

    /// Appends one record at the tail (or on a page of its own) and counts it live.
    fn write_record(&mut self, key: &[u8], parts: &[&[u8]], value_len: usize) -> Handle {
        let key_len = u32::try_from(key.len())
            .ok()
            .filter(|&len| len & GARBAGE_BIT == 0)
            .expect("KvState refuses keys past KEY_BYTES_MAX, far below 2 GiB");
        let value_len_u32 = u32::try_from(value_len)
            .expect("KvState refuses values past VALUE_BYTES_MAX, far below 4 GiB");
        let record_len = HEADER_BYTES + key.len() + value_len;
        let page = self.page_with_room(record_len);
        let bytes = &mut self.pages[page as usize].bytes;
        let offset = bytes.len();
        if bytes.capacity() - offset < record_len {
            // The tail grows by doubling up to a page, so a small store stays small.
            let need = offset + record_len;
            let want = (bytes.capacity() * 2).clamp(need, self.page_bytes.max(need));
            bytes.reserve_exact(want - offset);
        }
        bytes.extend_from_slice(&key_len.to_le_bytes());
        bytes.extend_from_slice(&value_len_u32.to_le_bytes());
        bytes.extend_from_slice(key);
        for part in parts {
            bytes.extend_from_slice(part);
        }
        assert_eq!(bytes.len(), offset + record_len);
        self.pages[page as usize].live_bytes += record_len;
        join(page, offset)
    }

    /// A page with `record_len` bytes of room: the tail, a fresh tail, or (for a large
    /// record) a page of its own.
    fn page_with_room(&mut self, record_len: usize) -> u32 {
        // A record this large would waste up to a quarter of the tail.
        if record_len >= self.page_bytes / 4 {
            return self.new_page(record_len);
        }
        if let Some(tail) = self.tail {
            if self.pages[tail as usize].bytes.len() + record_len <= self.page_bytes {
                return tail;
            }
            self.to_check.push(tail);
        }
        let tail = self.new_page(0);
        self.tail = Some(tail);
        tail
    }

    fn new_page(&mut self, capacity_bytes: usize) -> u32 {
        let page = Page {
            bytes: Vec::with_capacity(capacity_bytes),
            live_bytes: 0,
        };
        match self.free_pages.pop() {
            Some(number) => {
                let freed = &self.pages[number as usize];
                assert!(
                    freed.bytes.capacity() == 0 && freed.live_bytes == 0,
                    "a freed page"
                );
                self.pages[number as usize] = page;
                number
            }
            None => {
                let number = u32::try_from(self.pages.len()).expect("fewer than 2^32 pages");
                self.pages.push(page);
                number
            }
        }
    }

    /// The record at `handle` is no longer pointed at.
    fn make_garbage(&mut self, handle: Handle) {
        let len = self.record_len(handle);
        let (page, offset) = split(handle);
        let p = &mut self.pages[page as usize];
        assert!(p.live_bytes >= len, "a page's live bytes cover its records");
        p.live_bytes -= len;
        let key_len = word(&p.bytes, offset);
        assert_eq!(key_len & GARBAGE_BIT, 0, "a record becomes garbage once");
        p.bytes[offset..offset + 4].copy_from_slice(&(key_len | GARBAGE_BIT).to_le_bytes());
        if self.tail != Some(page) {
            self.to_check.push(page);
        }
    }

    /// Frees or empties every sealed page that fell below `LIVE_FRACTION_MIN`. Moving
    /// records may seal the tail, which is then checked too.
    fn collect(&mut self) {
        while let Some(page) = self.to_check.pop() {
            if self.tail == Some(page) {
                continue;
            }
            let p = &self.pages[page as usize];
            let (num, den) = LIVE_FRACTION_MIN;
            if p.bytes.is_empty() || p.live_bytes * den >= p.bytes.len() * num {
                continue;
            }
            self.evacuate(page);
        }
    }

    /// Moves the live records of `page` to the tail and frees it.
    fn evacuate(&mut self, page: u32) {
        let bytes = std::mem::take(&mut self.pages[page as usize].bytes);
        for (offset, key, value) in live_records(&bytes) {
            let old = join(page, offset);
            let new = self.write_record(key, &[value], value.len());
            let slot = self.table.find_mut(self.hash_key.hash(key), |&h| h == old);
            *slot.expect("a live record is in the table") = new;
            self.pages[page as usize].live_bytes -= HEADER_BYTES + key.len() + value.len();
        }
        let freed = &mut self.pages[page as usize];
        assert_eq!(freed.live_bytes, 0, "every live record moved");
        *freed = Page::default();
        self.free_pages.push(page);
    }

    fn record_len(&self, handle: Handle) -> usize {
        let (key, value) = record(&self.pages, handle);
        HEADER_BYTES + key.len() + value.len()
    }

    fn value(&self, handle: Handle) -> &str {
        as_str(record(&self.pages, handle).1)
    }

    fn value_start(&self, handle: Handle) -> usize {
        let (_, offset) = split(handle);
        offset + HEADER_BYTES + record(&self.pages, handle).0.len()
    }
}

fn join(page: u32, offset: usize) -> Handle {
    let offset = u32::try_from(offset).expect("pages are smaller than 4 GiB");
    (u64::from(page) << 32) | u64::from(offset)
}

fn split(handle: Handle) -> (u32, usize) {
    (
        (handle >> 32) as u32,
        (handle & u64::from(u32::MAX)) as usize,
    )
}

fn record(pages: &[Page], handle: Handle) -> (&[u8], &[u8]) {
    let (page, offset) = split(handle);
    parse_record(&pages[page as usize].bytes, offset)
}

fn record_key(pages: &[Page], handle: Handle) -> &[u8] {
    record(pages, handle).0
}

fn hash_of(hash_key: HashKey, pages: &[Page], handle: Handle) -> u64 {
    hash_key.hash(record_key(pages, handle))
}

/// Every live record of a page: (offset, key, value).
fn live_records(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8], &[u8])> + '_ {
    let mut offset = 0;
    std::iter::from_fn(move || {
        while offset < bytes.len() {
            let at = offset;
            let (key, value) = parse_record(bytes, at);
            offset += HEADER_BYTES + key.len() + value.len();
            if word(bytes, at) & GARBAGE_BIT == 0 {
                return Some((at, key, value));
            }
        }
        assert_eq!(offset, bytes.len(), "records fill a page exactly");
        None
    })
}

fn word(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

fn parse_record(bytes: &[u8], offset: usize) -> (&[u8], &[u8]) {
    let key_len = (word(bytes, offset) & !GARBAGE_BIT) as usize;
    let value_len = word(bytes, offset + 4) as usize;
    let key_start = offset + HEADER_BYTES;
    let value_start = key_start + key_len;
    (
        &bytes[key_start..value_start],
        &bytes[value_start..value_start + value_len],
    )
}

/// The first 16 bytes of `key`, zero-padded, as two big-endian numbers: ordered as the
/// keys are, up to ties (which compare the whole keys).
fn prefix(key: &[u8]) -> [u64; 2] {
    let mut first = [0u8; 16];
    let n = key.len().min(16);
    first[..n].copy_from_slice(&key[..n]);
    let (high, low) = first.split_at(8);
    let word = |b: &[u8]| u64::from_be_bytes(b.try_into().expect("eight bytes"));
    [word(high), word(low)]
}

/// Records are only ever written from `&str`.
fn as_str(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("records hold the UTF-8 they were given")
}

impl PartialEq for Store {
    fn eq(&self, other: &Store) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl Eq for Store {}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.sorted()).finish()
    }
}

/// As a map in key order: the bytes a `BTreeMap<String, String>` of the same pairs
/// encodes to.
impl Serialize for Store {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let sorted = self.sorted();
        let mut map = serializer.serialize_map(Some(sorted.len()))?;
        for (k, v) in sorted {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Decodes under the zero hash key; [`StoreSeed`] decodes under a server's own.
impl<'de> Deserialize<'de> for Store {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Store, D::Error> {
        StoreSeed(HashKey::default()).deserialize(deserializer)
    }
}

/// A store decoded with its table keyed by this key from the start, so a restore does
/// not hash every key twice.
pub struct StoreSeed(pub HashKey);

impl<'de> DeserializeSeed<'de> for StoreSeed {
    type Value = Store;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Store, D::Error> {
        deserializer.deserialize_map(StoreVisitor(self.0))
    }
}

struct StoreVisitor(HashKey);

impl<'de> Visitor<'de> for StoreVisitor {
    type Value = Store;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of string keys to string values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Store, A::Error> {
        let mut store = Store {
            hash_key: self.0,
            ..Store::default()
        };
        // Room for the entries announced, up to a bound: the hint comes from the bytes
        // being decoded, which may be hostile, and the bytes themselves bound what
        // arrives. Growing the table instead rehashes every key at each doubling.
        let announced = access.size_hint().unwrap_or(0);
        let (hash_key, pages) = (store.hash_key, &store.pages);
        let room = announced.min(RESERVE_ENTRIES_MAX);
        store.table.reserve(room, |&h| hash_of(hash_key, pages, h));
        // A later duplicate replaces an earlier one, as it would in a `BTreeMap`. The
        // bytes come from a disk or a leader: a key or value past the service's limits
        // (which no correct state holds, and which the records could not store) is a
        // decode error, not a panic.
        while let Some((k, v)) = access.next_entry::<Text, Text>()? {
            let (key_bytes, value_bytes) = (k.0.len(), v.0.len());
            if key_bytes > KEY_BYTES_MAX || value_bytes > VALUE_BYTES_MAX {
                return Err(serde::de::Error::custom(format_args!(
                    "a key of {key_bytes} bytes with a value of {value_bytes} (at most \
                     {KEY_BYTES_MAX} and {VALUE_BYTES_MAX})"
                )));
            }
            store.insert(&k.0, &v.0);
        }
        Ok(store)
    }
}

/// A decoded string, borrowed from the input when the decoder can (postcard can), so
/// restoring a snapshot does not allocate two strings per key only to copy them again.
struct Text<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text<'de>, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(std::borrow::Cow::Borrowed(v)))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'de>, E> {
        Ok(Text(std::borrow::Cow::Owned(v.to_string())))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text<'de>, E> {
        Ok(Text(std::borrow::Cow::Owned(v)))
    }
}

#[cfg(test)]
mod tests;
