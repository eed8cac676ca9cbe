//! Lowe's memoisation: a search configuration is (which operations are linearized, the
//! model state after them). Reaching a configuration a second time cannot lead anywhere
//! new, whatever order produced it, so the search never expands one twice.
//!
//! States are interned: each distinct state is stored and hashed once and configurations
//! refer to it by a small id. This matters for models whose states are large (a key/value
//! register holding a long appended string).

use std::hash::{BuildHasher, Hash};

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::bitset::Bitset;

/// Identifies an interned state.
pub(crate) type StateId = u32;

/// Every distinct state seen, each stored once.
pub(crate) struct StateTable<S> {
    states: Vec<S>,
    index: HashTable<StateId>,
    hasher: DefaultHashBuilder,
}

impl<S: Eq + Hash> StateTable<S> {
    pub(crate) fn new() -> Self {
        StateTable {
            states: Vec::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// The id of `state`, adding it if it is new.
    pub(crate) fn intern(&mut self, state: S) -> StateId {
        let hash = self.hasher.hash_one(&state);
        let states = &self.states;
        if let Some(&id) = self.index.find(hash, |&id| states[id as usize] == state) {
            return id;
        }
        let id = StateId::try_from(self.states.len()).expect("more than 2^32 distinct states");
        self.states.push(state);
        let (states, hasher) = (&self.states, &self.hasher);
        self.index
            .insert_unique(hash, id, |&id| hasher.hash_one(&states[id as usize]));
        id
    }

    pub(crate) fn get(&self, id: StateId) -> &S {
        &self.states[id as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }
}

/// The configurations already expanded. Bitsets live back to back in one arena (they all
/// have the same length), so recording one costs no allocation of its own; the table keeps
/// each entry's hash, so growing it never rehashes a bitset.
pub(crate) struct Visited {
    words_per_set: usize,
    arena: Vec<u64>,
    /// (hash, position of the bitset in the arena in sets, state).
    table: HashTable<(u64, u32, StateId)>,
    hasher: DefaultHashBuilder,
}

impl Visited {
    pub(crate) fn new(words_per_set: usize) -> Self {
        Visited {
            words_per_set,
            arena: Vec::new(),
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// Records the configuration; true if it had not been seen before.
    pub(crate) fn insert(&mut self, linearized: &Bitset, state: StateId) -> bool {
        let words = linearized.words();
        debug_assert_eq!(words.len(), self.words_per_set);
        let hash = self.hasher.hash_one((words, state));
        let (arena, w) = (&self.arena, self.words_per_set);
        let same = |&(h, at, s): &(u64, u32, StateId)| {
            h == hash && s == state && arena[at as usize * w..][..w] == *words
        };
        if self.table.find(hash, same).is_some() {
            return false;
        }
        let at = u32::try_from(self.table.len()).expect("more than 2^32 configurations");
        self.arena.extend_from_slice(words);
        self.table
            .insert_unique(hash, (hash, at, state), |&(h, _, _)| h);
        true
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }
}

#[cfg(test)]
mod tests {
    use super::{StateTable, Visited};
    use crate::bitset::Bitset;

    #[test]
    fn interning_is_by_value() {
        let mut t = StateTable::new();
        let a = t.intern("a".to_string());
        let b = t.intern("b".to_string());
        assert_ne!(a, b);
        assert_eq!(t.intern("a".to_string()), a);
        assert_eq!((t.get(b).as_str(), t.len()), ("b", 2));
    }

    #[test]
    fn visited_distinguishes_bits_and_state() {
        let mut bits = Bitset::new(70);
        let mut v = Visited::new(bits.words().len());
        assert!(v.insert(&bits, 0));
        assert!(!v.insert(&bits, 0));
        assert!(v.insert(&bits, 1));
        bits.set(65);
        assert!(v.insert(&bits, 0));
        assert_eq!(v.len(), 3);
    }
}
