//! The reduce side: sort, group by key, fold, format `KEY VALUE` lines.

use crate::app::{AppError, KeyValue, MapReduce};

/// Runs `app.reduce` over every key in `pairs` and returns the output file's bytes: one
/// `KEY VALUE` line per key in key order (the course's `"%v %v\n"`).
///
/// Pairs are sorted by key *and* value, so an app sees the same value order whichever map
/// task emitted what first.
pub fn reduce_pairs(app: &dyn MapReduce, mut pairs: Vec<KeyValue>) -> Result<Vec<u8>, AppError> {
    pairs.sort_unstable();
    let mut out = Vec::with_capacity(pairs.len() * 16);
    let mut values: Vec<String> = Vec::new();
    let mut iter = pairs.into_iter().peekable();
    let mut keys: usize = 0;
    while let Some(first) = iter.next() {
        values.clear();
        values.push(first.value);
        while let Some(next) = iter.next_if(|kv| kv.key == first.key) {
            values.push(next.value);
        }
        let value = app.reduce(&first.key, &values)?;
        format_line(&mut out, &first.key, &value);
        keys += 1;
    }
    assert_eq!(
        keys == 0,
        out.is_empty(),
        "every key yields exactly one line"
    );
    Ok(out)
}

/// Appends one output line.
pub fn format_line(out: &mut Vec<u8>, key: &str, value: &str) {
    out.extend_from_slice(key.as_bytes());
    out.push(b' ');
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

/// The sequential reference (`mrsequential`): map every input, reduce everything into one
/// output. `inputs` are `(file name, contents)`.
pub fn run_sequential(
    app: &dyn MapReduce,
    inputs: &[(String, String)],
) -> Result<Vec<u8>, AppError> {
    let mut pairs = Vec::new();
    for (name, contents) in inputs {
        pairs.extend(app.map(name, contents)?);
    }
    reduce_pairs(app, pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::WordCount;
    use crate::shuffle::partition_pairs;

    #[test]
    fn groups_and_formats() {
        let pairs = vec![
            KeyValue::new("b", "1"),
            KeyValue::new("a", "2"),
            KeyValue::new("b", "3"),
        ];
        let out = reduce_pairs(&WordCount, pairs).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a 2\nb 4\n");
    }

    /// Partitioned reduce, concatenated and sorted, equals the sequential run.
    #[test]
    fn partitioned_equals_sequential() {
        fn prop(texts: Vec<String>, n: u8) -> bool {
            let n_reduce = u32::from(n % 12) + 1;
            let inputs: Vec<(String, String)> = texts
                .into_iter()
                .enumerate()
                .map(|(i, t)| (format!("f{i}"), t))
                .collect();
            let sequential = run_sequential(&WordCount, &inputs).unwrap();
            let mut pairs = Vec::new();
            for (name, contents) in &inputs {
                pairs.extend(WordCount.map(name, contents).unwrap());
            }
            let mut lines: Vec<String> = Vec::new();
            for bucket in partition_pairs(pairs, n_reduce) {
                let out = String::from_utf8(reduce_pairs(&WordCount, bucket).unwrap()).unwrap();
                lines.extend(out.lines().map(str::to_string));
            }
            lines.sort();
            let expected: Vec<String> = String::from_utf8(sequential)
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect();
            lines == expected
        }
        quickcheck::quickcheck(prop as fn(Vec<String>, u8) -> bool);
    }
}
