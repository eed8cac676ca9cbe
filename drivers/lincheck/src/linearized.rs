//! The set of operations linearized so far, in space proportional to the concurrency of
//! the history rather than to its length.
//!
//! Operations are numbered by *call rank*: the order of their call entries in the list the
//! search walks. The set is stored as `high`, one past the highest rank linearized, and the
//! *holes*: the ranks below `high` that are not linearized. Everything at or above `high`
//! is unlinearized. The holes are few: when the search linearizes rank `r`, every
//! unlinearized rank below `r` has its call entry before `r`'s and its return entry after
//! it (the search never walks past a return entry to reach a call), so the holes are
//! operations in flight at `r`'s call, plus ones that never returned. A sequential history
//! therefore has no holes at all, and the memo key of a configuration is one word.
//!
//! A memo key must be canonical (one encoding per set) for memoisation to stay exact; both
//! forms below are functions of the set alone, and word 0 tells them apart.

/// Word 0 of a key: `high` in bits 0..32, the number of words after it in bits 32..63,
/// and the form in bit 63.
const FORM_BITMAP: u64 = 1 << 63;

pub(crate) struct Linearized {
    /// One past the highest call rank linearized; 0 when none is.
    high: u32,
    /// The ranks below `high` that are not linearized, ascending.
    holes: Vec<u32>,
}

impl Linearized {
    pub(crate) fn new() -> Self {
        Linearized {
            high: 0,
            holes: Vec::new(),
        }
    }

    pub(crate) fn contains(&self, rank: u32) -> bool {
        rank < self.high && self.holes.binary_search(&rank).is_err()
    }

    /// Adds `rank`, which must not be in the set. Returns what [`Linearized::remove`] needs
    /// to undo it.
    pub(crate) fn insert(&mut self, rank: u32) -> u32 {
        let high_before = self.high;
        if rank < self.high {
            let at = self.holes.binary_search(&rank);
            debug_assert!(at.is_ok(), "rank {rank} is linearized twice");
            if let Ok(at) = at {
                self.holes.remove(at);
            }
        } else {
            self.holes.extend(self.high..rank);
            self.high = rank + 1;
        }
        high_before
    }

    /// Undoes the most recent `insert` still in force, which must have been of `rank` and
    /// returned `high_before`.
    pub(crate) fn remove(&mut self, rank: u32, high_before: u32) {
        debug_assert!(self.contains(rank));
        if rank < high_before {
            let at = self.holes.partition_point(|&h| h < rank);
            self.holes.insert(at, rank);
        } else {
            debug_assert_eq!(rank + 1, self.high);
            let kept = self.holes.partition_point(|&h| h < high_before);
            self.holes.truncate(kept);
            self.high = high_before;
        }
    }

    /// Replaces `key` with the set's canonical encoding: word 0, then either the holes,
    /// two to a word, or — when shorter — the lowest hole and a bitmap of which ranks from
    /// there up to `high` are linearized.
    pub(crate) fn encode(&self, key: &mut Vec<u64>) {
        key.clear();
        let low = self.holes.first().copied().unwrap_or(self.high);
        let span = (self.high - low) as usize;
        let hole_words = self.holes.len().div_ceil(2);
        let bitmap_words = 1 + span.div_ceil(64);
        if hole_words <= bitmap_words {
            key.push(self.header(hole_words, 0));
            // A lone last hole is padded with a rank no set holds.
            key.extend(self.holes.chunks(2).map(|pair| {
                u64::from(pair[0]) | u64::from(*pair.get(1).unwrap_or(&u32::MAX)) << 32
            }));
        } else {
            key.push(self.header(bitmap_words, FORM_BITMAP));
            key.push(u64::from(low));
            let bits_at = key.len();
            key.resize(bits_at + span.div_ceil(64), u64::MAX);
            // The last word covers only the ranks below `high`.
            let last_bits = span & 63;
            if last_bits > 0 {
                key[bits_at + span / 64] = (1 << last_bits) - 1;
            }
            for &hole in &self.holes {
                let bit = (hole - low) as usize;
                key[bits_at + bit / 64] &= !(1 << (bit % 64));
            }
        }
    }

    fn header(&self, words_after: usize, form: u64) -> u64 {
        debug_assert!(words_after < 1 << 31);
        u64::from(self.high) | (words_after as u64) << 32 | form
    }
}

/// The number of words of the key starting with `header`, header included.
pub(crate) fn key_words(header: u64) -> usize {
    1 + ((header & !FORM_BITMAP) >> 32) as usize
}

#[cfg(test)]
mod tests {
    use super::{key_words, Linearized};
    use std::collections::{BTreeSet, HashMap};

    fn key(set: &Linearized) -> Vec<u64> {
        let mut key = Vec::new();
        set.encode(&mut key);
        assert_eq!(key_words(key[0]), key.len());
        key
    }

    #[test]
    fn a_sequence_has_a_one_word_key() {
        let mut set = Linearized::new();
        for rank in 0..1000 {
            set.insert(rank);
        }
        assert_eq!(key(&set).len(), 1);
        assert!(set.contains(999) && !set.contains(1000));
    }

    #[test]
    fn one_operation_left_behind_costs_one_more_word() {
        let mut set = Linearized::new();
        for rank in 1..1000 {
            set.insert(rank);
        }
        assert_eq!(key(&set).len(), 2);
        assert!(!set.contains(0) && set.contains(1));
    }

    /// Every subset of 0..10, reached by inserting in random orders and undoing in reverse,
    /// has its own key, and the same key whatever the order.
    #[test]
    fn keys_are_canonical_and_distinct() {
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut by_key: HashMap<Vec<u64>, BTreeSet<u32>> = HashMap::new();
        by_key.insert(key(&Linearized::new()), BTreeSet::new());
        for run in 0..4096_u32 {
            // Each subset four times, each time inserted in a random order.
            let mut order: Vec<u32> = (0..10).filter(|r| run & (1 << r) != 0).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, (next() % (i as u64 + 1)) as usize);
            }
            let mut set = Linearized::new();
            let mut done = BTreeSet::new();
            let mut undo = Vec::new();
            for rank in order {
                done.insert(rank);
                undo.push((rank, set.insert(rank)));
                let members: BTreeSet<u32> = (0..12).filter(|&r| set.contains(r)).collect();
                assert_eq!(members, done);
                let seen = by_key.entry(key(&set)).or_insert_with(|| done.clone());
                assert_eq!(*seen, done, "two sets share a key");
            }
            while let Some((rank, high_before)) = undo.pop() {
                set.remove(rank, high_before);
                done.remove(&rank);
                assert_eq!(by_key[&key(&set)], done, "undo did not restore the set");
            }
        }
        assert_eq!(by_key.len(), 1 << 10, "not every subset was reached");
    }

    #[test]
    fn dense_holes_use_the_bitmap() {
        let mut set = Linearized::new();
        for rank in (0..200).filter(|r| r % 3 != 0) {
            set.insert(rank);
        }
        // 67 holes would take 34 words; a bitmap of ranks 0..200 takes 2 + 4.
        assert_eq!(key(&set).len(), 6);
    }
}
