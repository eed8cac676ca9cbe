//! Replies: the values the server sends back, and their RESP2 bytes.

/// One reply value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`: a short status line.
    Simple(String),
    /// `-ERR ...`: the whole line after the `-`, including the error code (`ERR`,
    /// `WRONGTYPE`, ...), which clients show to users.
    Error(String),
    /// `:42`.
    Integer(i64),
    /// `$3\r\nabc` or, for `None`, the null bulk string `$-1` (`GET` of a missing key).
    Bulk(Option<Vec<u8>>),
    /// `*2\r\n...`: a sequence of replies.
    Array(Vec<Reply>),
    /// `*-1`: the null array.
    NullArray,
}

impl Reply {
    /// `+OK`, the answer to most successful writes.
    pub fn ok() -> Reply {
        Reply::Simple("OK".to_string())
    }

    /// A bulk string of the given bytes.
    pub fn bulk(bytes: impl Into<Vec<u8>>) -> Reply {
        Reply::Bulk(Some(bytes.into()))
    }
}

/// Appends the RESP2 encoding of `reply` to `out`.
///
/// A `Simple` or `Error` reply is one line by definition, so any `\r` or `\n` in it is
/// sent as a space: an embedded line ending would end the reply early and put the
/// client out of step with every reply after it.
pub fn encode(reply: &Reply, out: &mut Vec<u8>) {
    match reply {
        Reply::Simple(text) => line(b'+', text, out),
        Reply::Error(text) => line(b'-', text, out),
        Reply::Integer(value) => header(b':', *value, out),
        Reply::Bulk(None) => out.extend_from_slice(b"$-1\r\n"),
        Reply::Bulk(Some(bytes)) => {
            header(b'$', len_i64(bytes.len()), out);
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\r\n");
        }
        Reply::Array(items) => {
            header(b'*', len_i64(items.len()), out);
            for item in items {
                encode(item, out);
            }
        }
        Reply::NullArray => out.extend_from_slice(b"*-1\r\n"),
    }
}

fn line(prefix: u8, text: &str, out: &mut Vec<u8>) {
    out.push(prefix);
    let one_line = text.bytes().map(|byte| match byte {
        b'\r' | b'\n' => b' ',
        other => other,
    });
    out.extend(one_line);
    out.extend_from_slice(b"\r\n");
}

/// `<prefix><decimal>\r\n`, written without a temporary `String`.
fn header(prefix: u8, value: i64, out: &mut Vec<u8>) {
    out.push(prefix);
    if value < 0 {
        out.push(b'-');
    }
    let mut magnitude = value.unsigned_abs();
    // u64::MAX has 20 digits.
    let mut digits = [0u8; 20];
    let mut first = digits.len();
    loop {
        first -= 1;
        digits[first] = b'0' + u8::try_from(magnitude % 10).expect("a digit fits in a byte");
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[first..]);
    out.extend_from_slice(b"\r\n");
}

fn len_i64(len: usize) -> i64 {
    i64::try_from(len).expect("a length in memory fits in i64")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_writes_extremes() {
        for value in [0, 7, -7, 10, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            header(b':', value, &mut out);
            assert_eq!(out, format!(":{value}\r\n").into_bytes());
        }
    }
}
