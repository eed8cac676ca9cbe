//! Streaming mode (as in Hadoop Streaming): the mapper and reducer are external commands that
//! read lines on stdin and write `key<TAB>value` lines on stdout. Running the commands is the
//! driver's job; this is the pure line format around them.

use crate::app::KeyValue;
use crate::reduce::format_line;

/// Parses a mapper's stdout. A line without a tab is a key with an empty value; blank lines
/// are skipped; a trailing `\r` is dropped.
pub fn parse_records(stdout: &str) -> Vec<KeyValue> {
    let records: Vec<KeyValue> = stdout
        .lines()
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|line| !line.is_empty())
        .map(|line| match line.split_once('\t') {
            Some((key, value)) => KeyValue::new(key, value),
            None => KeyValue::new(line, ""),
        })
        .collect();
    debug_assert!(records.iter().all(|kv| !kv.key.contains('\n')));
    records
}

/// The reducer's stdin: every pair of one partition, sorted, as `key<TAB>value` lines, so
/// lines with equal keys are adjacent.
pub fn reducer_input(mut pairs: Vec<KeyValue>) -> Vec<u8> {
    pairs.sort_unstable();
    let mut out = Vec::with_capacity(pairs.len() * 16);
    for kv in &pairs {
        out.extend_from_slice(kv.key.as_bytes());
        out.push(b'\t');
        out.extend_from_slice(kv.value.as_bytes());
        out.push(b'\n');
    }
    out
}

/// Turns a reducer's `key<TAB>value` lines into the job's `KEY VALUE` output lines.
pub fn reducer_output(stdout: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(stdout.len());
    for kv in parse_records(stdout) {
        format_line(&mut out, &kv.key, &kv.value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_formats() {
        let records = parse_records("a\t1\r\n\nb\nc\td\te\n");
        assert_eq!(
            records,
            [
                KeyValue::new("a", "1"),
                KeyValue::new("b", ""),
                KeyValue::new("c", "d\te")
            ]
        );
        assert_eq!(
            reducer_input(vec![KeyValue::new("b", "1"), KeyValue::new("a", "2")]),
            b"a\t2\nb\t1\n"
        );
        assert_eq!(reducer_output("x\t3\n"), b"x 3\n");
    }
}
