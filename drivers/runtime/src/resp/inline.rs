//! Inline requests: what a person types into telnet or `nc` — words separated by spaces,
//! ending in `\n` or `\r\n`.
//!
//! Words may be quoted as in redis: `"..."` understands the escapes `\n \r \t \b \a \\
//! \"` and `\xHH`, `'...'` only `\'`. A closing quote must be followed by a space or the
//! end of the line. One difference from redis: a quote opens a quoted word only at the
//! word's start; inside an unquoted word it is an ordinary byte.

use super::parse::{Limits, Parsed, ProtocolError};

/// Parses the inline line at the front of `buf` (which is not empty and does not start
/// with `*`). An empty or all-blank line gives no arguments.
pub(super) fn parse_inline(buf: &[u8], limits: &Limits) -> Result<Option<Parsed>, ProtocolError> {
    let Some(newline) = buf.iter().position(|&byte| byte == b'\n') else {
        // A trailing `\r` may be the start of the line ending, so it does not count yet.
        let content = buf.strip_suffix(b"\r").unwrap_or(buf);
        if content.len() > limits.inline_bytes_max {
            return Err(ProtocolError::TooBigInline);
        }
        return Ok(None);
    };
    let line = &buf[..newline];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > limits.inline_bytes_max {
        return Err(ProtocolError::TooBigInline);
    }
    let args = split_words(line)?;
    if args.len() > limits.args_max {
        return Err(ProtocolError::TooManyInlineArgs);
    }
    Ok(Some((args, newline + 1)))
}

/// Splits a line (without its ending) into words.
fn split_words(line: &[u8]) -> Result<Vec<Vec<u8>>, ProtocolError> {
    let mut words = Vec::new();
    let mut pos = 0;
    loop {
        while line.get(pos).is_some_and(|&byte| is_blank(byte)) {
            pos += 1;
        }
        let Some(&first) = line.get(pos) else {
            return Ok(words);
        };
        let (word, next) = match first {
            b'"' => double_quoted(line, pos + 1)?,
            b'\'' => single_quoted(line, pos + 1)?,
            _ => unquoted(line, pos),
        };
        assert!(next > pos, "a word must use at least one byte");
        words.push(word);
        pos = next;
    }
}

/// The blanks of C's `isspace`, which redis splits on.
fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn unquoted(line: &[u8], start: usize) -> (Vec<u8>, usize) {
    let len = line[start..].iter().position(|&byte| is_blank(byte));
    let end = len.map_or(line.len(), |len| start + len);
    (line[start..end].to_vec(), end)
}

/// The word after an opening `"` at `start - 1`; returns it and the position after the
/// closing quote.
fn double_quoted(line: &[u8], start: usize) -> Result<(Vec<u8>, usize), ProtocolError> {
    let mut word = Vec::new();
    let mut pos = start;
    loop {
        match line.get(pos..) {
            Some([b'"', ..]) => return closed(line, word, pos + 1),
            Some([b'\\', b'x', high, low, ..]) if hex_pair(*high, *low).is_some() => {
                word.extend(hex_pair(*high, *low));
                pos += 4;
            }
            Some([b'\\', escaped, ..]) => {
                word.push(unescape(*escaped));
                pos += 2;
            }
            Some([byte, ..]) => {
                word.push(*byte);
                pos += 1;
            }
            _ => return Err(ProtocolError::UnbalancedQuotes),
        }
    }
}

fn single_quoted(line: &[u8], start: usize) -> Result<(Vec<u8>, usize), ProtocolError> {
    let mut word = Vec::new();
    let mut pos = start;
    loop {
        match line.get(pos..) {
            Some([b'\'', ..]) => return closed(line, word, pos + 1),
            Some([b'\\', b'\'', ..]) => {
                word.push(b'\'');
                pos += 2;
            }
            Some([byte, ..]) => {
                word.push(*byte);
                pos += 1;
            }
            _ => return Err(ProtocolError::UnbalancedQuotes),
        }
    }
}

/// A quoted word ends at its closing quote only if a blank or the line's end follows;
/// `"a"b` is refused rather than guessed at.
fn closed(line: &[u8], word: Vec<u8>, next: usize) -> Result<(Vec<u8>, usize), ProtocolError> {
    match line.get(next) {
        Some(&byte) if !is_blank(byte) => Err(ProtocolError::UnbalancedQuotes),
        _ => Ok((word, next)),
    }
}

fn unescape(byte: u8) -> u8 {
    match byte {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'a' => 0x07,
        other => other,
    }
}

fn hex_pair(high: u8, low: u8) -> Option<u8> {
    let digit = |byte: u8| char::from(byte).to_digit(16);
    let value = digit(high)? * 16 + digit(low)?;
    Some(u8::try_from(value).expect("two hex digits fit in a byte"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Result<Vec<String>, ProtocolError> {
        let words = split_words(line.as_bytes())?;
        Ok(words
            .into_iter()
            .map(|w| String::from_utf8(w).unwrap())
            .collect())
    }

    #[test]
    fn splits_on_runs_of_blanks() {
        assert_eq!(words("  set\tk   v ").unwrap(), ["set", "k", "v"]);
        assert!(words("   ").unwrap().is_empty());
    }

    #[test]
    fn quotes_group_and_escape() {
        assert_eq!(words(r#"set k "a b""#).unwrap(), ["set", "k", "a b"]);
        assert_eq!(words(r#""\x41\n\"\q" ''"#).unwrap(), ["A\n\"q", ""]);
        assert_eq!(words(r"'it\'s' x").unwrap(), ["it's", "x"]);
        assert_eq!(words(r#""\xZZ""#).unwrap(), ["xZZ"]);
        assert_eq!(words(r#"a"b"#).unwrap(), ["a\"b"]);
    }

    #[test]
    fn unbalanced_quotes_are_refused() {
        for bad in [r#"get "k"#, "get 'k", r#"get "k"x"#, r#"get "k\"#] {
            assert_eq!(words(bad), Err(ProtocolError::UnbalancedQuotes), "{bad}");
        }
    }
}
