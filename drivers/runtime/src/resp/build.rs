//! One builder per command: from arguments whose count already satisfies the table's
//! arity to a [`Command`], checking what the arity cannot (content, upper bounds).

use super::command::{Command, CommandError};

/// A request's arguments after the command name.
pub(super) struct Args {
    rest: std::vec::IntoIter<Vec<u8>>,
}

impl Args {
    pub fn after_name(args: Vec<Vec<u8>>) -> Args {
        let mut rest = args.into_iter();
        rest.next();
        Args { rest }
    }

    fn len(&self) -> usize {
        self.rest.len()
    }

    /// The next argument; the table's arity guarantees the builders ask only for
    /// arguments that are there.
    fn bytes(&mut self) -> Vec<u8> {
        self.rest
            .next()
            .expect("arity checked against the command table")
    }

    fn string(&mut self) -> Result<String, CommandError> {
        String::from_utf8(self.bytes()).map_err(|_| CommandError::NotUtf8)
    }

    fn strings(self) -> Result<Vec<String>, CommandError> {
        self.rest
            .map(|arg| String::from_utf8(arg).map_err(|_| CommandError::NotUtf8))
            .collect()
    }
}

pub(super) fn get(mut args: Args) -> Result<Command, CommandError> {
    Ok(Command::Get {
        key: args.string()?,
    })
}

pub(super) fn set(mut args: Args) -> Result<Command, CommandError> {
    if args.len() > 2 {
        return Err(CommandError::Syntax);
    }
    let key = args.string()?;
    Ok(Command::Set {
        key,
        value: args.string()?,
    })
}

pub(super) fn append(mut args: Args) -> Result<Command, CommandError> {
    let key = args.string()?;
    Ok(Command::Append {
        key,
        value: args.string()?,
    })
}

pub(super) fn del(args: Args) -> Result<Command, CommandError> {
    Ok(Command::Del {
        keys: args.strings()?,
    })
}

pub(super) fn exists(args: Args) -> Result<Command, CommandError> {
    Ok(Command::Exists {
        keys: args.strings()?,
    })
}

pub(super) fn incr(mut args: Args) -> Result<Command, CommandError> {
    Ok(Command::Incr {
        key: args.string()?,
    })
}

pub(super) fn mget(args: Args) -> Result<Command, CommandError> {
    Ok(Command::MGet {
        keys: args.strings()?,
    })
}

pub(super) fn mset(args: Args) -> Result<Command, CommandError> {
    // Redis words a dangling key as an arity error, not a syntax error.
    if !args.len().is_multiple_of(2) {
        return Err(CommandError::wrong_arity("mset"));
    }
    let mut strings = args.strings()?.into_iter();
    let mut pairs = Vec::with_capacity(strings.len() / 2);
    while let (Some(key), Some(value)) = (strings.next(), strings.next()) {
        pairs.push((key, value));
    }
    assert!(!pairs.is_empty(), "the arity guarantees one pair");
    Ok(Command::MSet { pairs })
}

pub(super) fn ping(mut args: Args) -> Result<Command, CommandError> {
    match args.len() {
        0 => Ok(Command::Ping { message: None }),
        1 => Ok(Command::Ping {
            message: Some(args.bytes()),
        }),
        _ => Err(CommandError::wrong_arity("ping")),
    }
}

pub(super) fn echo(mut args: Args) -> Result<Command, CommandError> {
    Ok(Command::Echo {
        message: args.bytes(),
    })
}

/// Redis 7 accepts several sections; this server answers one at most.
pub(super) fn info(mut args: Args) -> Result<Command, CommandError> {
    match args.len() {
        0 => Ok(Command::Info { section: None }),
        1 => Ok(Command::Info {
            section: Some(args.string()?.to_ascii_lowercase()),
        }),
        _ => Err(CommandError::wrong_arity("info")),
    }
}

pub(super) fn dbsize(_args: Args) -> Result<Command, CommandError> {
    Ok(Command::DbSize)
}

/// There is one database; redis's index is a C `int`, so anything beyond is "not an
/// integer" rather than "out of range".
pub(super) fn select(mut args: Args) -> Result<Command, CommandError> {
    let db = parse_i64(&args.bytes())
        .filter(|db| i32::try_from(*db).is_ok())
        .ok_or(CommandError::NotAnInteger)?;
    if db != 0 {
        return Err(CommandError::DbIndexOutOfRange);
    }
    Ok(Command::Select { db })
}

pub(super) fn command(mut args: Args) -> Result<Command, CommandError> {
    if args.len() == 0 {
        return Ok(Command::Command { sub: None });
    }
    let sub = args.bytes();
    match sub.to_ascii_lowercase().as_slice() {
        b"docs" => Ok(Command::Command {
            sub: Some("docs".to_string()),
        }),
        b"count" if args.len() == 0 => Ok(Command::Command {
            sub: Some("count".to_string()),
        }),
        b"count" => Err(CommandError::wrong_arity("command|count")),
        _ => Err(CommandError::unknown_subcommand("command", &sub)),
    }
}

pub(super) fn config(mut args: Args) -> Result<Command, CommandError> {
    let sub = args.bytes();
    if !sub.eq_ignore_ascii_case(b"get") {
        return Err(CommandError::unknown_subcommand("config", &sub));
    }
    if args.len() != 1 {
        return Err(CommandError::wrong_arity("config|get"));
    }
    Ok(Command::ConfigGet {
        param: args.string()?,
    })
}

/// Redis's `QUIT` takes (and ignores) any arguments.
pub(super) fn quit(_args: Args) -> Result<Command, CommandError> {
    Ok(Command::Quit)
}

/// A decimal integer with exactly one spelling, as redis's `string2ll` reads it: an
/// optional `-`, no `+`, no blanks, no leading zeros, no `-0`.
fn parse_i64(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes.strip_prefix(b"-") {
        Some(digits) => (true, digits),
        None => (false, bytes),
    };
    let canonical = match digits {
        [b'0'] => !negative,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !canonical {
        return None;
    }
    // All ASCII digits, so this is valid UTF-8; parsing with the sign handles i64::MIN.
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_have_one_spelling() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1x",
            b"9223372036854775808",
        ] {
            assert_eq!(parse_i64(bad), None, "{bad:?}");
        }
    }
}
