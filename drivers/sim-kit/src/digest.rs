//! A fixed, dependency-free 64-bit hash for output digests and record checksums. Not for
//! security.
//!
//! FNV-1a's offset and prime, applied to 8-byte little-endian words rather than single
//! bytes (the rest one byte at a time), with a final mix so the high bits of each word
//! reach the low bits of the result. Byte-at-a-time FNV stood high in the simulator's
//! profiles: it hashes every `Ready` and every written record.

#[derive(Clone, Copy, Debug)]
pub struct Fnv(u64);

const PRIME: u64 = 0x0100_0000_01b3;

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
            self.0 = (self.0 ^ w).wrapping_mul(PRIME);
        }
        for &b in words.remainder() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(PRIME);
        }
    }

    /// One word, mixed in as `write` mixes each 8 bytes.
    pub fn write_word(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(PRIME);
    }

    pub fn finish(&self) -> u64 {
        // A multiply carries bits only upward; SplitMix64's finalizer (a bijection)
        // brings them down again.
        let mut h = self.0;
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^ (h >> 31)
    }
}

/// So a value can be digested through its `Hash` (what the watch does with each
/// `Ready`) without being encoded first: each integer is one word.
impl std::hash::Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        Fnv::write(self, bytes);
    }

    fn write_u8(&mut self, i: u8) {
        self.write_word(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.write_word(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.write_word(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.write_word(i as u64);
    }

    fn finish(&self) -> u64 {
        Fnv::finish(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(bytes: &[u8]) -> u64 {
        let mut h = Fnv::default();
        h.write(bytes);
        h.finish()
    }

    #[test]
    fn every_single_byte_change_changes_the_digest() {
        let base: Vec<u8> = (0..37).collect();
        let h0 = hash(&base);
        for i in 0..base.len() {
            for bit in 0..8 {
                let mut b = base.clone();
                b[i] ^= 1 << bit;
                assert_ne!(hash(&b), h0, "byte {i} bit {bit}");
            }
        }
        assert_ne!(hash(&base[..36]), h0, "a torn tail changes it");
    }
}
