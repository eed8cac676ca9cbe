//! Between map and reduce: partitioning pairs into buckets and the intermediate file format.

use crate::app::KeyValue;
use crate::hash::partition;

/// An intermediate file could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("intermediate data is corrupt: {0}")]
pub struct DecodeError(String);

/// Splits map output into `n_reduce` buckets by `ihash(key) % n_reduce`.
pub fn partition_pairs(pairs: Vec<KeyValue>, n_reduce: u32) -> Vec<Vec<KeyValue>> {
    assert!(n_reduce > 0);
    let mut buckets: Vec<Vec<KeyValue>> = vec![Vec::new(); n_reduce as usize];
    for pair in pairs {
        buckets[partition(pair.key.as_bytes(), n_reduce) as usize].push(pair);
    }
    debug_assert_eq!(buckets.len(), n_reduce as usize);
    buckets
}

/// Encodes one bucket as the contents of an intermediate file `mr-X-Y`.
pub fn encode_bucket(pairs: &[KeyValue]) -> Vec<u8> {
    postcard::to_allocvec(pairs).expect("encoding to a Vec cannot fail")
}

/// Decodes an intermediate file, refusing trailing bytes (a sign of a torn or mixed file).
pub fn decode_bucket(bytes: &[u8]) -> Result<Vec<KeyValue>, DecodeError> {
    let (pairs, rest): (Vec<KeyValue>, &[u8]) =
        postcard::take_from_bytes(bytes).map_err(|e| DecodeError(e.to_string()))?;
    if !rest.is_empty() {
        return Err(DecodeError(format!(
            "{} bytes after the last pair",
            rest.len()
        )));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_partitions_by_ihash() {
        let pairs = vec![
            KeyValue::new("a", "1"),
            KeyValue::new("b", "2"),
            KeyValue::new("a", "3"),
        ];
        let buckets = partition_pairs(pairs.clone(), 4);
        for (y, bucket) in buckets.iter().enumerate() {
            for kv in bucket {
                assert_eq!(partition(kv.key.as_bytes(), 4) as usize, y);
            }
            assert_eq!(&decode_bucket(&encode_bucket(bucket)).unwrap(), bucket);
        }
        assert_eq!(buckets.iter().map(Vec::len).sum::<usize>(), pairs.len());
    }

    #[test]
    fn rejects_garbage() {
        assert!(decode_bucket(&[0xff, 0xff, 0xff]).is_err());
        let mut bytes = encode_bucket(&[KeyValue::new("k", "v")]);
        bytes.push(0);
        assert!(decode_bucket(&bytes).is_err());
    }
}
