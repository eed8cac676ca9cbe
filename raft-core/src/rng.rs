//! A tiny deterministic PRNG (SplitMix64). The core may not touch global randomness, so
//! election-timeout jitter comes from here, seeded by [`crate::Config::seed`].

#[derive(Clone, Debug)]
pub(crate) struct Prng {
    state: u64,
}

impl Prng {
    pub(crate) fn new(seed: u64, id: u64) -> Self {
        // Mix the node id in so nodes sharing a seed still draw different timeouts.
        Prng {
            state: seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..bound`. The modulo bias is below 2^-32 for the bounds used here.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "Prng::below needs a positive bound");
        self.next_u64() % bound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_ids_differ() {
        let mut a = Prng::new(7, 1);
        let mut b = Prng::new(7, 1);
        let mut c = Prng::new(7, 2);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = Prng::new(1, 1);
        for bound in 1..50 {
            assert!(r.below(bound) < bound);
        }
    }
}
