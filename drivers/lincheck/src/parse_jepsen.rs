//! Reading Jepsen etcd register histories (see the testdata README), lines like
//! `INFO  jepsen.util - 3<TAB>:ok<TAB>:read<TAB>nil`.
//!
//! Fields are separated by whitespace (tabs in most files, spaces in some). A line counts
//! as an event when it reads `INFO jepsen.util - <process> <type> <f> <value...>` with a
//! numeric process, a type among `:invoke :ok :fail :info` and an `f` among
//! `:read :write :cas`; every other line (nemesis lines, other loggers) is ignored. An
//! event line whose value cannot be understood is an error.
//!
//! Mapping onto [`RegisterInput`]/[`RegisterOutput`]; times are line numbers:
//! - `:ok` completes the open operation with its result (`:read v`, `:write`, `:cas` true).
//! - `:fail :cas` completes the cas with result false: the register did not hold `a`.
//! - `:fail :read` (a time-out) completes the read with an unknown result.
//! - `:fail :write` (not in the test data) means the write did not take effect: dropped.
//! - `:info` leaves the operation open for ever: it may take effect at any later time.

use std::path::Path;

use crate::builder::HistoryBuilder;
use crate::file::read_capped;
use crate::{LineError, Operation, ParseError, RegisterInput, RegisterOutput};

type Builder = HistoryBuilder<RegisterInput, RegisterOutput>;

/// Parses a Jepsen etcd history file (refusing files over [`crate::MAX_FILE_BYTES`]).
pub fn parse_jepsen_file(
    path: &Path,
) -> Result<Vec<Operation<RegisterInput, RegisterOutput>>, ParseError> {
    parse_jepsen(&read_capped(path)?)
}

/// Parses the text of a Jepsen etcd history.
pub fn parse_jepsen(
    text: &str,
) -> Result<Vec<Operation<RegisterInput, RegisterOutput>>, ParseError> {
    let mut history = Builder::new();
    for (n, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let ["INFO", "jepsen.util", "-", process, kind, f, value @ ..] = words.as_slice() else {
            continue;
        };
        let Ok(client) = process.parse::<u64>() else {
            continue;
        };
        let known_kind = [":invoke", ":ok", ":fail", ":info"].contains(kind);
        if !known_kind || ![":read", ":write", ":cas"].contains(f) {
            continue;
        }
        apply(&mut history, n + 1, client, (kind, f, &value.join(" ")))?;
    }
    Ok(history.finish())
}

fn apply(
    history: &mut Builder,
    line: usize,
    client: u64,
    event: (&str, &str, &str),
) -> Result<(), ParseError> {
    let (kind, f, value) = event;
    match (kind, f) {
        (":invoke", _) => {
            let input = parse_input(f, value).map_err(|e| e.at(line))?;
            history.invoke(line, client, input)
        }
        (":info", _) => history.abandon(line, client),
        (":fail", ":read") => completion(history, line, client, (f, value), None),
        (":fail", ":write") => history.discard(line, client),
        (":fail", _) => completion(
            history,
            line,
            client,
            (f, value),
            Some(RegisterOutput::Cas(false)),
        ),
        (_, ":read") => {
            let read = parse_read(value).map_err(|e| e.at(line))?;
            completion(
                history,
                line,
                client,
                (f, value),
                Some(RegisterOutput::Read(read)),
            )
        }
        (_, ":write") => completion(
            history,
            line,
            client,
            (f, value),
            Some(RegisterOutput::Done),
        ),
        _ => completion(
            history,
            line,
            client,
            (f, value),
            Some(RegisterOutput::Cas(true)),
        ),
    }
}

/// Completes the open operation with `output` (`None`: unknown) after checking the line repeats its input.
fn completion(
    history: &mut Builder,
    line: usize,
    client: u64,
    (f, value): (&str, &str),
    output: Option<RegisterOutput>,
) -> Result<(), ParseError> {
    let invoked = *history.open_input(line, client)?;
    // A completed read echoes its result, not its input, so only its kind is compared.
    let found = match f {
        ":read" => Ok(RegisterInput::Read),
        _ => parse_input(f, value),
    };
    if found.as_ref() != Ok(&invoked) {
        let found = format!("{f} {value}");
        return Err(LineError::Mismatch {
            invoked: format!("{invoked:?}"),
            found,
        }
        .at(line));
    }
    history.complete(line, client, output)
}

fn parse_input(f: &str, value: &str) -> Result<RegisterInput, LineError> {
    let bad = || LineError::BadField {
        field: "value",
        found: value.to_string(),
    };
    match f {
        ":read" => Ok(RegisterInput::Read),
        ":write" => value.parse().map(RegisterInput::Write).map_err(|_| bad()),
        _ => {
            let pair = value
                .strip_prefix('[')
                .and_then(|v| v.strip_suffix(']'))
                .ok_or_else(bad)?;
            let mut nums = pair.split_whitespace().map(str::parse::<i64>);
            match (nums.next(), nums.next(), nums.next()) {
                (Some(Ok(from)), Some(Ok(to)), None) => Ok(RegisterInput::Cas { from, to }),
                _ => Err(bad()),
            }
        }
    }
}

fn parse_read(value: &str) -> Result<Option<i64>, LineError> {
    if value == "nil" {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| LineError::BadField {
        field: "value",
        found: value.to_string(),
    })
}
