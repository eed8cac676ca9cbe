//! Requests: one command at a time from the front of a read buffer, in either of the two
//! forms redis accepts (multibulk arrays of bulk strings, and inline lines).

use thiserror::Error;

use super::inline::parse_inline;

/// What a client may ask the server to hold in memory for one command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest single argument of a multibulk request.
    pub bulk_bytes_max: usize,
    /// Most arguments (command name included) in one request.
    pub args_max: usize,
    /// Longest inline line, not counting its line ending.
    pub inline_bytes_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            bulk_bytes_max: 8 * 1024 * 1024,
            args_max: 4096,
            inline_bytes_max: 64 * 1024,
        }
    }
}

/// A request the server cannot read. The stream is out of step after one of these, so the
/// caller answers with [`ProtocolError::to_reply`] and closes the connection. The
/// messages are redis's, so clients and their users recognise them.
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// `*N` where N is not a number, has a leading zero, is below -1 or above `args_max`.
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// `$N` where N is not a number, has a leading zero, is negative (even -1, which only
    /// a reply may use) or is above `bulk_bytes_max`.
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// Inside a multibulk request, an argument did not start with `$`.
    #[error("Protocol error: expected '$', got '{}'", printable(*.got))]
    ExpectedBulk { got: u8 },
    /// A bulk argument's data was not followed by `\r\n` (redis skips the two bytes
    /// unseen; checking them catches a client whose lengths are wrong).
    #[error("Protocol error: bulk data not followed by CRLF")]
    BulkNotTerminated,
    /// An inline line longer than `inline_bytes_max`, ended or not.
    #[error("Protocol error: too big inline request")]
    TooBigInline,
    /// An inline line with more than `args_max` arguments.
    #[error("Protocol error: too many arguments in inline request")]
    TooManyInlineArgs,
    /// An inline line with a quote that is not closed, or closed and followed directly
    /// by more text.
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
}

impl ProtocolError {
    /// The error reply to send before closing the connection (redis prefixes `ERR`).
    pub fn to_reply(&self) -> super::Reply {
        super::Reply::Error(format!("ERR {self}"))
    }
}

/// A byte as redis's `%c` would show it, but kept printable: a control byte in an error
/// message would be invisible, or break the reply's line.
fn printable(byte: u8) -> String {
    if byte.is_ascii_graphic() || byte == b' ' {
        char::from(byte).to_string()
    } else {
        format!("\\x{byte:02x}")
    }
}

/// A parsed request's arguments and how many bytes of the buffer it used.
pub type Parsed = (Vec<Vec<u8>>, usize);

/// Parses one command from the front of `buf`, a connection's read buffer.
///
/// - `Ok(None)`: the command is not complete yet; read more and call again with the
///   longer buffer (nothing is remembered between calls).
/// - `Ok(Some((args, consumed)))`: the first `consumed` bytes (always at least one) were
///   one request. `args` is empty for a request that is not a command — a blank inline
///   line, `*0` or `*-1`, which redis skips silently — and the caller ignores it.
/// - `Err(_)`: the bytes are not RESP; answer and close (see [`ProtocolError`]).
///
/// A buffer starting with `*` is a multibulk request, anything else an inline line
/// (space-separated words ending in `\n` or `\r\n`, with redis's `"..."` and `'...'`
/// quoting). Limits are checked as soon as the bytes that break them are in
/// the buffer, before the rest arrives and before anything is allocated for them: a
/// `*99999999` fails on its fifth digit, a line without an end fails once it is longer
/// than any line could be.
pub fn parse_command(buf: &[u8], limits: &Limits) -> Result<Option<Parsed>, ProtocolError> {
    let parsed = match buf.first() {
        None => None,
        Some(b'*') => parse_multibulk(buf, limits)?,
        Some(_) => parse_inline(buf, limits)?,
    };
    if let Some((args, consumed)) = &parsed {
        assert!(
            *consumed > 0 && *consumed <= buf.len(),
            "consumed out of bounds"
        );
        assert!(args.len() <= limits.args_max, "args beyond args_max");
    }
    Ok(parsed)
}

/// `*N\r\n` followed by N times `$len\r\n<len bytes>\r\n`.
fn parse_multibulk(buf: &[u8], limits: &Limits) -> Result<Option<Parsed>, ProtocolError> {
    debug_assert_eq!(buf.first(), Some(&b'*'));
    let count = read_length(buf, 1, -1, limits.args_max)
        .map_err(|Malformed| ProtocolError::InvalidMultibulkLength)?;
    let Some((count, mut pos)) = count else {
        return Ok(None);
    };
    // Redis treats `*0` and `*-1` as nothing at all rather than as an error.
    let Ok(count @ 1..) = usize::try_from(count) else {
        return Ok(Some((Vec::new(), pos)));
    };
    // Spans grow with the headers actually received, never with the announced count.
    let mut spans = Vec::new();
    while spans.len() < count {
        let Some((start, end)) = read_bulk(buf, pos, limits)? else {
            return Ok(None);
        };
        spans.push((start, end));
        pos = end + 2;
    }
    let args = spans
        .iter()
        .map(|&(start, end)| buf[start..end].to_vec())
        .collect();
    Ok(Some((args, pos)))
}

/// One `$len\r\n<data>\r\n` at `pos`: the data's span, or `None` if not all there yet.
fn read_bulk(
    buf: &[u8],
    pos: usize,
    limits: &Limits,
) -> Result<Option<(usize, usize)>, ProtocolError> {
    let Some(&prefix) = buf.get(pos) else {
        return Ok(None);
    };
    if prefix != b'$' {
        return Err(ProtocolError::ExpectedBulk { got: prefix });
    }
    let header = read_length(buf, pos + 1, 0, limits.bulk_bytes_max)
        .map_err(|Malformed| ProtocolError::InvalidBulkLength)?;
    let Some((len, start)) = header else {
        return Ok(None);
    };
    let len = usize::try_from(len).expect("read_length kept the length non-negative");
    let end = start
        .checked_add(len)
        .ok_or(ProtocolError::InvalidBulkLength)?;
    // Check the terminator byte by byte, so a wrong length fails as early as it can.
    for (offset, &expected) in b"\r\n".iter().enumerate() {
        match buf.get(end + offset) {
            None => return Ok(None),
            Some(&byte) if byte != expected => return Err(ProtocolError::BulkNotTerminated),
            Some(_) => {}
        }
    }
    Ok(Some((start, end)))
}

/// A length line that can never become valid, whatever follows.
struct Malformed;

/// Reads the decimal number that starts at `start` and ends with `\r\n`, which must lie
/// in `lowest..=highest`. Returns the number and the position after the `\r\n`, or
/// `None` if the line is not complete yet.
///
/// Every byte is judged as it arrives, so a number out of range, a stray byte or a
/// leading zero fails before the line ends. Like redis's `string2ll`, a number has one
/// spelling (no `+`, no leading zeros, no `-0`), which also bounds a header's length.
fn read_length(
    buf: &[u8],
    start: usize,
    lowest: i64,
    highest: usize,
) -> Result<Option<(i64, usize)>, Malformed> {
    debug_assert!(lowest <= 0);
    let highest = i64::try_from(highest).unwrap_or(i64::MAX);
    let negative = buf.get(start) == Some(&b'-');
    if negative && lowest == 0 {
        return Err(Malformed);
    }
    let digits_start = start + usize::from(negative);
    let mut pos = digits_start;
    let mut magnitude: i64 = 0;
    while let Some(&byte) = buf.get(pos) {
        if byte == b'\r' {
            break;
        }
        let leading_zero = pos > digits_start && magnitude == 0;
        if !byte.is_ascii_digit() || leading_zero {
            return Err(Malformed);
        }
        magnitude = magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(byte - b'0')))
            .ok_or(Malformed)?;
        let value = if negative { -magnitude } else { magnitude };
        if value < lowest || value > highest {
            return Err(Malformed);
        }
        pos += 1;
    }
    finish_length(buf, pos, digits_start, negative, magnitude)
}

/// The end of a length line: `pos` is at its `\r` (or past the buffer's end).
fn finish_length(
    buf: &[u8],
    pos: usize,
    digits_start: usize,
    negative: bool,
    magnitude: i64,
) -> Result<Option<(i64, usize)>, Malformed> {
    match (buf.get(pos), buf.get(pos + 1)) {
        (None, _) | (Some(_), None) => Ok(None),
        (Some(_), Some(&b'\n')) if pos > digits_start && !(negative && magnitude == 0) => Ok(Some(
            (if negative { -magnitude } else { magnitude }, pos + 2),
        )),
        _ => Err(Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn length(text: &[u8], lowest: i64, highest: usize) -> Option<Option<(i64, usize)>> {
        read_length(text, 0, lowest, highest).ok()
    }

    #[test]
    fn lengths_have_one_spelling() {
        assert_eq!(length(b"12\r\n", 0, 100), Some(Some((12, 4))));
        assert_eq!(length(b"0\r\n", 0, 100), Some(Some((0, 3))));
        assert_eq!(length(b"-1\r\n", -1, 100), Some(Some((-1, 4))));
        for bad in [
            &b"012\r\n"[..],
            b"-0\r\n",
            b"+1\r\n",
            b"\r\n",
            b"-\r\n",
            b"1 \r\n",
        ] {
            assert_eq!(length(bad, -1, 100), None, "{bad:?}");
        }
        assert_eq!(length(b"1\rx", 0, 100), None);
    }

    #[test]
    fn lengths_fail_on_the_first_byte_out_of_range() {
        assert_eq!(length(b"10", 0, 9), None);
        assert_eq!(length(b"-2", -1, 9), None);
        assert_eq!(length(b"-", 0, 9), None);
        assert_eq!(length(b"9", 0, 9), Some(None));
        assert_eq!(length(b"99999999999999999999999", 0, usize::MAX), None);
    }

    #[test]
    fn printable_escapes_control_bytes() {
        assert_eq!(printable(b'x'), "x");
        assert_eq!(printable(b'\r'), "\\x0d");
        assert_eq!(printable(0xff), "\\xff");
    }
}
