//! The partitioning hash: which reduce task a key belongs to.

/// FNV-1a, 32 bits, masked to a non-negative `i32` range — the course's `ihash`, so a key lands
/// in the same reduce bucket here as in a Go implementation.
pub fn ihash(key: &[u8]) -> u32 {
    const OFFSET_BASIS: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    let mut hash = OFFSET_BASIS;
    for &byte in key {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    hash & 0x7fff_ffff
}

/// The reduce task (`0..n_reduce`) that owns `key`.
pub fn partition(key: &[u8], n_reduce: u32) -> u32 {
    assert!(n_reduce > 0, "n_reduce must be positive");
    let bucket = ihash(key) % n_reduce;
    debug_assert!(bucket < n_reduce);
    bucket
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_fnv1a_reference_vectors() {
        // Published FNV-1a 32-bit test vectors, masked like the course does.
        assert_eq!(ihash(b""), 0x811c_9dc5 & 0x7fff_ffff);
        assert_eq!(ihash(b"a"), 0xe40c_292c & 0x7fff_ffff);
        assert_eq!(ihash(b"foobar"), 0xbf9c_f968 & 0x7fff_ffff);
    }

    #[test]
    fn partition_is_in_range() {
        fn prop(key: Vec<u8>, n: u16) -> bool {
            let n_reduce = u32::from(n) + 1;
            partition(&key, n_reduce) < n_reduce
        }
        quickcheck::quickcheck(prop as fn(Vec<u8>, u16) -> bool);
    }
}
