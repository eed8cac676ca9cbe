//! A reader for the one-line EDN maps of the 6.824 key/value histories, such as
//! `{:process 3, :type :ok, :f :get, :key "4", :value "x 3 1 y"}`.
//!
//! Only what those files use: keyword keys; values that are nil, integers, keywords or
//! strings (with `\"`, `\\`, `\n` and `\t` escapes). Commas are whitespace, as in EDN.

use crate::error::shorten;
use crate::LineError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    Nil,
    Int(i64),
    Keyword(String),
    Str(String),
}

/// Parses `{:k v, ...}` into its fields in order.
pub(crate) fn parse_map(line: &str) -> Result<Vec<(String, Value)>, LineError> {
    let inner = line
        .trim()
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or_else(|| LineError::Syntax("expected {...}".into()))?;
    let mut chars = Reader { rest: inner };
    let mut fields = Vec::new();
    while !chars.skip_space() {
        let Value::Keyword(key) = chars.value()? else {
            return Err(LineError::Syntax("a field name must be a :keyword".into()));
        };
        if chars.skip_space() {
            return Err(LineError::Syntax(format!(
                "field :{} has no value",
                shorten(&key)
            )));
        }
        fields.push((key, chars.value()?));
    }
    Ok(fields)
}

struct Reader<'a> {
    rest: &'a str,
}

impl Reader<'_> {
    /// Skips whitespace and commas; true at the end of input.
    fn skip_space(&mut self) -> bool {
        self.rest = self
            .rest
            .trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        self.rest.is_empty()
    }

    fn value(&mut self) -> Result<Value, LineError> {
        if let Some(s) = self.rest.strip_prefix('"') {
            self.rest = s;
            return self.string().map(Value::Str);
        }
        let end = self
            .rest
            .find(|c: char| c.is_whitespace() || c == ',')
            .unwrap_or(self.rest.len());
        let (token, rest) = self.rest.split_at(end);
        self.rest = rest;
        if token == "nil" {
            Ok(Value::Nil)
        } else if let Some(name) = token.strip_prefix(':').filter(|n| !n.is_empty()) {
            Ok(Value::Keyword(name.to_string()))
        } else {
            token
                .parse()
                .map(Value::Int)
                .map_err(|_| LineError::Syntax(format!("unexpected token {:?}", shorten(token))))
        }
    }

    /// Reads the rest of a string whose opening quote is consumed.
    fn string(&mut self) -> Result<String, LineError> {
        let mut out = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &self.rest[i + 1..];
                    return Ok(out);
                }
                '\\' => out.push(match chars.next().map(|(_, e)| e) {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some(e @ ('"' | '\\')) => e,
                    other => return Err(LineError::Syntax(format!("bad escape \\{other:?}"))),
                }),
                c => out.push(c),
            }
        }
        Err(LineError::Syntax("unterminated string".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_map, Value};

    #[test]
    fn reads_a_kv_line() {
        let fields =
            parse_map(r#"{:process 3, :type :ok, :f :get, :key "4", :value "a, \"b\""}"#).unwrap();
        assert_eq!(
            fields,
            vec![
                ("process".into(), Value::Int(3)),
                ("type".into(), Value::Keyword("ok".into())),
                ("f".into(), Value::Keyword("get".into())),
                ("key".into(), Value::Str("4".into())),
                ("value".into(), Value::Str("a, \"b\"".into())),
            ]
        );
        assert_eq!(
            parse_map("{:value nil}").unwrap(),
            vec![("value".into(), Value::Nil)]
        );
    }

    #[test]
    fn rejects_malformed_lines() {
        for bad in [
            "",
            "{:a 1",
            "{a 1}",
            "{:a}",
            r#"{:a "x}"#,
            "{:a 1x}",
            r#"{:a "\q"}"#,
        ] {
            assert!(parse_map(bad).is_err(), "{bad:?} accepted");
        }
    }
}
