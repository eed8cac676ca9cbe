//! Lowe's memoisation: a search configuration is (which operations are linearized, the
//! model state after them). Reaching a configuration a second time cannot lead anywhere
//! new, whatever order produced it, so the search never expands one twice.
//!
//! States are interned: each distinct state is stored and hashed once and configurations
//! refer to it by a small id. This matters for models whose states are large (a key/value
//! register holding a long appended string).
//!
//! Both tables grow only within a number of bytes the caller allows (`room`), and ask the
//! allocator fallibly, so a search that outgrows its memory bound ends with [`MemoryFull`]
//! (and the check with `unknown`) instead of an aborted process.

use std::hash::{BuildHasher, Hash};

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::linearized::key_words;

/// Identifies an interned state.
pub(crate) type StateId = u32;

/// A memo table could not grow within its room, or the allocator refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct MemoryFull;

/// Every distinct state seen, each stored once.
pub(crate) struct StateTable<S> {
    states: Vec<S>,
    index: HashTable<StateId>,
    hasher: DefaultHashBuilder,
    /// Bytes the states own outside the table (strings ...), as the model reports them.
    heap_bytes: usize,
}

impl<S: Eq + Hash> StateTable<S> {
    pub(crate) fn new() -> Self {
        StateTable {
            states: Vec::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            heap_bytes: 0,
        }
    }

    /// The id of `state`, adding it if it is new. `heap_bytes` is what the state owns
    /// outside the table; a new state and any growth are charged to `room`.
    pub(crate) fn intern(
        &mut self,
        state: S,
        heap_bytes: usize,
        room: &mut usize,
    ) -> Result<StateId, MemoryFull> {
        let hash = self.hasher.hash_one(&state);
        let states = &self.states;
        if let Some(&id) = self.index.find(hash, |&id| states[id as usize] == state) {
            return Ok(id);
        }
        let id = StateId::try_from(self.states.len()).map_err(|_| MemoryFull)?;
        *room = room.checked_sub(heap_bytes).ok_or(MemoryFull)?;
        reserve_vec(&mut self.states, 1, room)?;
        let (states, hasher) = (&self.states, &self.hasher);
        reserve_table(
            &mut self.index,
            |&id| hasher.hash_one(&states[id as usize]),
            room,
        )?;
        self.states.push(state);
        self.heap_bytes += heap_bytes;
        let (states, hasher) = (&self.states, &self.hasher);
        self.index
            .insert_unique(hash, id, |&id| hasher.hash_one(&states[id as usize]));
        Ok(id)
    }

    pub(crate) fn get(&self, id: StateId) -> &S {
        &self.states[id as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.states.capacity() * size_of::<S>() + self.index.allocation_size() + self.heap_bytes
    }
}

/// The configurations already expanded. Keys (see [`crate::linearized`]) live back to
/// back in one arena, so recording one costs no allocation of its own; the table keeps each
/// entry's hash, so growing it never rehashes a key.
pub(crate) struct Visited {
    arena: Vec<u64>,
    /// (hash, position of the key in the arena in words, state).
    table: HashTable<(u64, u32, StateId)>,
    hasher: DefaultHashBuilder,
}

impl Visited {
    pub(crate) fn new() -> Self {
        Visited {
            arena: Vec::new(),
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// Records the configuration (a key from [`crate::linearized::Linearized::encode`] and
    /// a state); true if it had not been seen before. Growth is charged to `room`.
    pub(crate) fn insert(
        &mut self,
        key: &[u64],
        state: StateId,
        mut room: usize,
    ) -> Result<bool, MemoryFull> {
        debug_assert_eq!(key.first().map(|&h| key_words(h)), Some(key.len()));
        let hash = self.hasher.hash_one((key, state));
        let arena = &self.arena;
        // Word 0 holds the key's length, so equal slices from `at` mean equal keys.
        let same = |&(h, at, s): &(u64, u32, StateId)| {
            h == hash && s == state && arena.get(at as usize..at as usize + key.len()) == Some(key)
        };
        if self.table.find(hash, same).is_some() {
            return Ok(false);
        }
        let at = u32::try_from(self.arena.len()).map_err(|_| MemoryFull)?;
        reserve_vec(&mut self.arena, key.len(), &mut room)?;
        reserve_table(&mut self.table, |&(h, _, _)| h, &mut room)?;
        self.arena.extend_from_slice(key);
        self.table
            .insert_unique(hash, (hash, at, state), |&(h, _, _)| h);
        Ok(true)
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.arena.capacity() * size_of::<u64>() + self.table.allocation_size()
    }
}

/// Makes space for `items` more in `vec`, doubling as `Vec` itself would, if the growth
/// fits in `room`; charges it there.
fn reserve_vec<T>(vec: &mut Vec<T>, items: usize, room: &mut usize) -> Result<(), MemoryFull> {
    let before = vec.capacity();
    if before - vec.len() >= items {
        return Ok(());
    }
    let wanted = (vec.len() + items).max(before * 2).max(4);
    if (wanted - before).saturating_mul(size_of::<T>()) > *room {
        return Err(MemoryFull);
    }
    vec.try_reserve_exact(wanted - vec.len())
        .map_err(|_| MemoryFull)?;
    *room = room.saturating_sub((vec.capacity() - before) * size_of::<T>());
    Ok(())
}

/// Makes space for one more entry in `table` if its growth fits in `room`; charges it
/// there. A full table doubles its buckets: the new allocation is about twice the old one,
/// which is freed once the entries have moved.
fn reserve_table<T>(
    table: &mut HashTable<T>,
    hasher: impl Fn(&T) -> u64,
    room: &mut usize,
) -> Result<(), MemoryFull> {
    if table.capacity() > table.len() {
        return Ok(());
    }
    const SMALLEST_GROWTH_BYTES: usize = 1024;
    let before = table.allocation_size();
    if before.max(SMALLEST_GROWTH_BYTES) > *room {
        return Err(MemoryFull);
    }
    table.try_reserve(1, hasher).map_err(|_| MemoryFull)?;
    *room = room.saturating_sub(table.allocation_size().saturating_sub(before));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{MemoryFull, StateTable, Visited};
    use crate::linearized::Linearized;

    #[test]
    fn interning_is_by_value() {
        let mut t = StateTable::new();
        let mut unbounded = usize::MAX;
        let room = &mut unbounded;
        let a = t.intern("a".to_string(), 1, room).unwrap();
        let b = t.intern("b".to_string(), 1, room).unwrap();
        assert_ne!(a, b);
        assert_eq!(t.intern("a".to_string(), 1, room), Ok(a));
        assert_eq!((t.get(b).as_str(), t.len()), ("b", 2));
    }

    #[test]
    fn interning_stays_within_its_room() {
        let mut t = StateTable::new();
        let mut room = 299;
        assert_eq!(t.intern("big".repeat(100), 300, &mut room), Err(MemoryFull));
        assert_eq!(t.len(), 0);
        let room = &mut 100_000;
        t.intern("big".repeat(100), 300, room).unwrap();
        assert_eq!(t.bytes(), 100_000 - *room);
        assert!(t.bytes() >= 300);
    }

    fn key_of(ranks: &[u32]) -> Vec<u64> {
        let mut set = Linearized::new();
        for &r in ranks {
            set.insert(r);
        }
        let mut key = Vec::new();
        set.encode(&mut key);
        key
    }

    #[test]
    fn visited_distinguishes_sets_and_states() {
        let mut v = Visited::new();
        let (empty, one, far) = (key_of(&[]), key_of(&[0]), key_of(&[70]));
        assert_eq!(v.insert(&empty, 0, usize::MAX), Ok(true));
        assert_eq!(v.insert(&empty, 0, usize::MAX), Ok(false));
        assert_eq!(v.insert(&empty, 1, usize::MAX), Ok(true));
        assert_eq!(v.insert(&one, 0, usize::MAX), Ok(true));
        assert_eq!(v.insert(&far, 0, usize::MAX), Ok(true));
        assert_eq!(v.insert(&far, 0, usize::MAX), Ok(false));
        assert_eq!(v.len(), 4);
    }

    #[test]
    fn visited_refuses_to_grow_past_its_room() {
        let mut v = Visited::new();
        let mut inserted = 0;
        let result = loop {
            let room = 100_000usize.saturating_sub(v.bytes());
            match v.insert(&key_of(&[]), inserted, room) {
                Ok(new) => assert!(new),
                Err(full) => break full,
            }
            inserted += 1;
        };
        assert_eq!(result, MemoryFull);
        assert!(inserted > 1000, "only {inserted} fitted");
        assert!(v.bytes() <= 100_000, "{} bytes", v.bytes());
        assert_eq!(v.len(), inserted as usize);
    }
}
