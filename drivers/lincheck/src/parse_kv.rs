//! Reading 6.824 key/value histories (one EDN map per line; see the testdata README).
//!
//! Mapping onto [`KvInput`]/[`KvOutput`]:
//! - `:invoke` opens the client's operation; `:ok` completes it (a get's `:value` is what it
//!   read); `:info` leaves it open for ever (it may take effect at any later time, or never);
//!   `:fail` means it did not take effect, so it is dropped.
//! - A get that read `""` becomes `Get(None)`. In these histories every key starts as `""`
//!   and nothing is deleted, so `""` and "absent" are one value: check them with
//!   [`KvModel::empty_is_absent`](crate::KvModel::empty_is_absent), which makes that exact.
//! - Times are line numbers (1-based), so only the order of events matters.
//!
//! Blank lines are skipped; any other line that is not a well-formed event is an error.

use std::path::Path;

use crate::builder::HistoryBuilder;
use crate::edn::{parse_map, Value};
use crate::file::read_capped;
use crate::{KvInput, KvOutput, LineError, Operation, ParseError};

/// One parsed line.
struct Event {
    client: u64,
    kind: String,
    input: KvInput,
    /// The `:value` field as read, for completions of gets.
    value: Value,
}

/// Parses a 6.824 key/value history file (refusing files over [`crate::MAX_FILE_BYTES`]).
pub fn parse_kv_file(path: &Path) -> Result<Vec<Operation<KvInput, KvOutput>>, ParseError> {
    parse_kv(&read_capped(path)?)
}

/// Parses the text of a 6.824 key/value history.
pub fn parse_kv(text: &str) -> Result<Vec<Operation<KvInput, KvOutput>>, ParseError> {
    let mut history = HistoryBuilder::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let event = parse_event(line).map_err(|e| e.at(line_no))?;
        apply(&mut history, line_no, event)?;
    }
    Ok(history.finish())
}

fn apply(
    history: &mut HistoryBuilder<KvInput, KvOutput>,
    line: usize,
    event: Event,
) -> Result<(), ParseError> {
    let client = event.client;
    match event.kind.as_str() {
        "invoke" => history.invoke(line, client, event.input),
        "info" => history.abandon(line, client),
        "fail" => history.discard(line, client),
        "ok" => {
            let invoked = history.open_input(line, client)?;
            if std::mem::discriminant(invoked) != std::mem::discriminant(&event.input)
                || invoked.key() != event.input.key()
            {
                let (invoked, found) = (format!("{invoked:?}"), format!("{:?}", event.input));
                return Err(LineError::Mismatch { invoked, found }.at(line));
            }
            let output = match event.input {
                KvInput::Get { .. } => {
                    let read = read_value(event.value).map_err(|e| e.at(line))?;
                    KvOutput::Get(read.filter(|v| !v.is_empty()))
                }
                _ => KvOutput::Done,
            };
            history.complete(line, client, Some(output))
        }
        other => Err(LineError::BadField {
            field: "type",
            found: format!(":{other}"),
        }
        .at(line)),
    }
}

/// A get's result: a string, or nil for absent.
fn read_value(value: Value) -> Result<Option<String>, LineError> {
    match value {
        Value::Str(s) => Ok(Some(s)),
        Value::Nil => Ok(None),
        other => Err(LineError::BadField {
            field: "value",
            found: format!("{other:?}"),
        }),
    }
}

fn parse_event(line: &str) -> Result<Event, LineError> {
    let fields = parse_map(line)?;
    let get = |name: &'static str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .ok_or(LineError::MissingField(name))
    };
    let bad = |field: &'static str, v: &Value| LineError::BadField {
        field,
        found: format!("{v:?}"),
    };
    let client = match get("process")? {
        Value::Int(p) if p >= 0 => p as u64,
        v => return Err(bad("process", &v)),
    };
    let kind = match get("type")? {
        Value::Keyword(k) => k,
        v => return Err(bad("type", &v)),
    };
    let key = match get("key")? {
        Value::Str(k) => k,
        v => return Err(bad("key", &v)),
    };
    let value = get("value")?;
    let string_value = || match &value {
        Value::Str(s) => Ok(s.clone()),
        v => Err(bad("value", v)),
    };
    let input = match get("f")? {
        Value::Keyword(f) if f == "get" => KvInput::Get { key },
        Value::Keyword(f) if f == "put" => KvInput::Put {
            key,
            value: string_value()?,
        },
        Value::Keyword(f) if f == "append" => KvInput::Append {
            key,
            value: string_value()?,
        },
        v => return Err(bad("f", &v)),
    };
    Ok(Event {
        client,
        kind,
        input,
        value,
    })
}
