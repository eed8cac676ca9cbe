//! Inverted index: for each word, how many documents contain it and which.

use hashbrown::HashSet;

use crate::app::{AppError, KeyValue, MapReduce};
use crate::apps::for_each_word;

/// Output value: `N doc1,doc2,...` with the documents sorted, as in the course. Map emits
/// each distinct word of a document once, sorted.
#[derive(Debug, Default, Clone, Copy)]
pub struct Indexer;

impl MapReduce for Indexer {
    fn map(&self, file_name: &str, contents: &str) -> Result<Vec<KeyValue>, AppError> {
        let mut seen: HashSet<&str> = HashSet::new();
        for_each_word(contents, |word| {
            seen.insert(word);
        });
        // Sorted rather than in hash set order, which changes from map to map (see `wc`).
        let mut words: Vec<&str> = seen.into_iter().collect();
        words.sort_unstable();
        Ok(words
            .into_iter()
            .map(|word| KeyValue::new(word, file_name))
            .collect())
    }

    fn reduce(&self, _key: &str, values: &[String]) -> Result<String, AppError> {
        let mut documents: Vec<&str> = values.iter().map(String::as_str).collect();
        documents.sort_unstable();
        documents.dedup();
        assert!(
            !documents.is_empty(),
            "reduce is only called for keys that were emitted"
        );
        Ok(format!("{} {}", documents.len(), documents.join(",")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_sorted_documents() {
        assert_eq!(Indexer.map("d1", "x x y").unwrap().len(), 2);
        let value = Indexer.reduce("x", &["d2".into(), "d1".into()]).unwrap();
        assert_eq!(value, "2 d1,d2");
    }
}
