//! Word count: how often each word occurs across all inputs.

use hashbrown::HashMap;

use crate::app::{AppError, KeyValue, MapReduce};
use crate::apps::for_each_word;

/// `map` emits `(word, count within this file)` — counting inside the mapper (a combiner)
/// instead of one `(word, "1")` per occurrence keeps intermediate data small; `reduce` sums.
/// Map output is sorted by word.
#[derive(Debug, Default, Clone, Copy)]
pub struct WordCount;

impl MapReduce for WordCount {
    fn map(&self, _file_name: &str, contents: &str) -> Result<Vec<KeyValue>, AppError> {
        let mut counts: HashMap<&str, u64> = HashMap::with_capacity(1 << 12);
        for_each_word(contents, |word| *counts.entry(word).or_insert(0) += 1);
        // In key order, not the hash map's: its hasher is seeded afresh for every map, and a
        // task must write the same intermediate bytes whichever worker runs it, however often.
        // Keys are distinct, so an unstable sort gives one order.
        let mut counts: Vec<(&str, u64)> = counts.into_iter().collect();
        counts.sort_unstable_by_key(|&(word, _)| word);
        let pairs: Vec<KeyValue> = counts
            .into_iter()
            .map(|(word, n)| KeyValue::new(word, n.to_string()))
            .collect();
        debug_assert!(pairs.iter().all(|kv| !kv.key.is_empty()));
        Ok(pairs)
    }

    fn reduce(&self, key: &str, values: &[String]) -> Result<String, AppError> {
        let mut total: u64 = 0;
        for value in values {
            let n: u64 = value.parse().map_err(|_| {
                AppError(format!("wc: count {value:?} for {key:?} is not a number"))
            })?;
            total = total
                .checked_add(n)
                .ok_or_else(|| AppError(format!("wc: count overflow for {key:?}")))?;
        }
        Ok(total.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_sums() {
        let pairs = WordCount.map("f", "a b a, A").unwrap();
        assert_eq!(
            pairs,
            [
                KeyValue::new("A", "1"),
                KeyValue::new("a", "2"),
                KeyValue::new("b", "1")
            ]
        );
        assert_eq!(
            WordCount.reduce("a", &["2".into(), "5".into()]).unwrap(),
            "7"
        );
        assert!(WordCount.reduce("a", &["x".into()]).is_err());
    }
}
