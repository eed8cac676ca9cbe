//! Distributed grep: every input line that contains a fixed string.

use crate::app::{AppError, KeyValue, MapReduce};

/// Keys are `FILE:LINE` (line numbers zero-padded so keys sort in file order); values are the
/// matching lines. Matching is a plain substring test — no regular expressions in a pure core.
#[derive(Debug, Clone)]
pub struct Grep {
    pattern: String,
}

impl Grep {
    pub fn new(pattern: &str) -> Result<Grep, AppError> {
        if pattern.is_empty() || pattern.contains('\n') {
            return Err(AppError(
                "grep: the pattern must be a non-empty single line".into(),
            ));
        }
        Ok(Grep {
            pattern: pattern.to_string(),
        })
    }
}

impl MapReduce for Grep {
    fn map(&self, file_name: &str, contents: &str) -> Result<Vec<KeyValue>, AppError> {
        let pairs = contents
            .lines()
            .enumerate()
            .filter(|(_, line)| line.contains(self.pattern.as_str()))
            .map(|(number, line)| KeyValue::new(format!("{file_name}:{:010}", number + 1), line))
            .collect();
        Ok(pairs)
    }

    fn reduce(&self, key: &str, values: &[String]) -> Result<String, AppError> {
        // One line per key; several values only if one file was named twice in the inputs.
        let first = values
            .first()
            .ok_or_else(|| AppError(format!("grep: no value for {key}")))?;
        Ok(first.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines() {
        let grep = Grep::new("needle").unwrap();
        let pairs = grep.map("f", "hay\na needle\nhay").unwrap();
        assert_eq!(pairs, [KeyValue::new("f:0000000002", "a needle")]);
        assert!(Grep::new("").is_err());
    }
}
