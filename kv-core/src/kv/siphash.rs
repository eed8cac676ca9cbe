//! SipHash-1-3: Aumasson and Bernstein's keyed hash, with the round counts Rust's std
//! uses for its maps. Written here because a core takes no hashing crate.
//!
//! Why keyed: the store's table is found by hashing client-chosen keys. With a fixed
//! hash anyone who reads this code can choose keys that all land in one bucket, and each
//! lookup then walks them all (hash flooding). Keyed per server by a seed the server is
//! configured with, the buckets cannot be predicted. Redis keys its dictionaries with
//! SipHash for the same reason.

/// The 128-bit key of the hash.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashKey {
    k0: u64,
    k1: u64,
}

impl HashKey {
    /// A key spread from a 64-bit seed (SplitMix64 twice): distinct seeds, unrelated keys.
    pub fn from_seed(seed: u64) -> HashKey {
        let k0 = split_mix(seed);
        HashKey {
            k0,
            k1: split_mix(k0 ^ seed),
        }
    }

    pub fn hash(&self, bytes: &[u8]) -> u64 {
        sip::<1, 3>(self.k0, self.k1, bytes)
    }
}

fn split_mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SipHash-`C`-`D` of `bytes` under the key (`k0`, `k1`).
fn sip<const C: usize, const D: usize>(k0: u64, k1: u64, bytes: &[u8]) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let m = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        compress::<C>(&mut v, m);
    }
    let mut last = [0u8; 8];
    let rest = words.remainder();
    last[..rest.len()].copy_from_slice(rest);
    // The final word carries the length's low byte on top.
    let m = u64::from_le_bytes(last) | ((bytes.len() as u64) << 56);
    compress::<C>(&mut v, m);
    v[2] ^= 0xff;
    for _ in 0..D {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

fn compress<const C: usize>(v: &mut [u64; 4], m: u64) {
    v[3] ^= m;
    for _ in 0..C {
        round(v);
    }
    v[0] ^= m;
}

fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hasher;

    fn input(len: usize) -> Vec<u8> {
        (0..len as u8).collect()
    }

    /// std's `DefaultHasher` is SipHash-1-3 under the zero key; fed raw bytes, it hashes
    /// exactly them.
    #[test]
    fn agrees_with_std_siphash_1_3_under_the_zero_key() {
        for len in 0..=64 {
            let mut std = std::collections::hash_map::DefaultHasher::new();
            std.write(&input(len));
            assert_eq!(sip::<1, 3>(0, 0, &input(len)), std.finish(), "length {len}");
        }
    }

    /// std's deprecated `SipHasher` is SipHash-2-4 and takes a key: the same code with
    /// those round counts must agree with it under any key.
    #[test]
    #[allow(deprecated)]
    fn agrees_with_std_siphash_2_4_under_a_key() {
        let (k0, k1) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        for len in 0..=64 {
            let mut std = std::hash::SipHasher::new_with_keys(k0, k1);
            std.write(&input(len));
            assert_eq!(
                sip::<2, 4>(k0, k1, &input(len)),
                std.finish(),
                "length {len}"
            );
        }
        // The paper's test vector (appendix A): 15 bytes 00..0e, key 00..0f.
        assert_eq!(sip::<2, 4>(k0, k1, &input(15)), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn the_key_decides_the_hash() {
        let (a, b) = (HashKey::from_seed(1), HashKey::from_seed(2));
        assert_ne!(a, b);
        assert_ne!(a.hash(b"key"), b.hash(b"key"));
        assert_eq!(a.hash(b"key"), HashKey::from_seed(1).hash(b"key"));
    }
}
