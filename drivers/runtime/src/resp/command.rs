//! Commands: a request's arguments turned into something the server can act on, or the
//! error reply redis would give.

use thiserror::Error;

use super::build::Args;
use super::encode::Reply;
use super::table;

/// A command the server supports. Keys and values are UTF-8 strings, as the store keeps
/// them; `PING` and `ECHO` messages are only echoed, so they stay bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Get {
        key: String,
    },
    /// Plain `SET key value` only; options (`EX`, `PX`, `NX`, `XX`, `GET`, `KEEPTTL`...)
    /// are refused with `ERR syntax error` rather than silently ignored.
    Set {
        key: String,
        value: String,
    },
    Append {
        key: String,
        value: String,
    },
    Del {
        keys: Vec<String>,
    },
    Exists {
        keys: Vec<String>,
    },
    Incr {
        key: String,
    },
    MGet {
        keys: Vec<String>,
    },
    MSet {
        pairs: Vec<(String, String)>,
    },
    Ping {
        message: Option<Vec<u8>>,
    },
    Echo {
        message: Vec<u8>,
    },
    /// At most one section, lower-cased (sections are case-insensitive).
    Info {
        section: Option<String>,
    },
    DbSize,
    /// Always database 0: any other index is refused when parsing.
    Select {
        db: i64,
    },
    /// `COMMAND` (`None`), `COMMAND DOCS [name...]` (`"docs"`; the names are ignored) or
    /// `COMMAND COUNT` (`"count"`); answer with [`super::command_docs_reply`].
    Command {
        sub: Option<String>,
    },
    /// `CONFIG GET param`, one parameter (redis 7 accepts several; refused here as wrong
    /// arity); answer with [`super::config_get_reply`]. Other `CONFIG` subcommands are
    /// unknown.
    ConfigGet {
        param: String,
    },
    /// Answer `+OK`, then close the connection.
    Quit,
}

impl Command {
    /// Whether the command changes the store, and so goes through the log. Everything
    /// else is a read of the store or is answered by the connection itself.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Command::Set { .. }
                | Command::Append { .. }
                | Command::Del { .. }
                | Command::Incr { .. }
                | Command::MSet { .. }
        )
    }

    /// The command's name as redis spells it (lower case), e.g. for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Get { .. } => "get",
            Command::Set { .. } => "set",
            Command::Append { .. } => "append",
            Command::Del { .. } => "del",
            Command::Exists { .. } => "exists",
            Command::Incr { .. } => "incr",
            Command::MGet { .. } => "mget",
            Command::MSet { .. } => "mset",
            Command::Ping { .. } => "ping",
            Command::Echo { .. } => "echo",
            Command::Info { .. } => "info",
            Command::DbSize => "dbsize",
            Command::Select { .. } => "select",
            Command::Command { .. } => "command",
            Command::ConfigGet { .. } => "config",
            Command::Quit => "quit",
        }
    }
}

/// A request that is valid RESP but not a command this server runs. The connection stays
/// usable: answer with [`CommandError::to_reply`] and read the next request. Messages are
/// redis's own wording, `ERR` prefix included.
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// `name` and `args_beginning` are already shortened and made printable the way
    /// redis does (128 bytes each at most, line endings as spaces).
    #[error("ERR unknown command '{name}', with args beginning with: {args_beginning}")]
    Unknown {
        name: String,
        args_beginning: String,
    },
    /// `container` is the upper-case command (`COMMAND`, `CONFIG`).
    #[error("ERR unknown subcommand '{sub}'. Try {container} HELP.")]
    UnknownSubcommand { container: String, sub: String },
    /// `name` is lower case, `container|sub` for a subcommand (`config|get`).
    #[error("ERR wrong number of arguments for '{name}' command")]
    WrongArity { name: String },
    #[error("ERR keys and values must be UTF-8")]
    NotUtf8,
    #[error("ERR value is not an integer or out of range")]
    NotAnInteger,
    #[error("ERR DB index is out of range")]
    DbIndexOutOfRange,
    /// Options this server does not implement, such as `SET k v EX 10`.
    #[error("ERR syntax error")]
    Syntax,
}

/// How much of a client's text redis quotes back in an error (its `%.128s`).
const QUOTED_BYTES_MAX: usize = 128;

impl CommandError {
    /// The error reply to send; the connection stays open.
    pub fn to_reply(&self) -> Reply {
        Reply::Error(self.to_string())
    }

    fn unknown(args: &[Vec<u8>]) -> CommandError {
        let name = args
            .first()
            .map_or(String::new(), |name| quoted(name, QUOTED_BYTES_MAX));
        let mut args_beginning = String::new();
        for arg in args.iter().skip(1) {
            // Like redis: stop once 128 bytes are shown, cutting the last argument short.
            let Some(room) = QUOTED_BYTES_MAX.checked_sub(args_beginning.len()) else {
                break;
            };
            if room == 0 {
                break;
            }
            args_beginning.push_str(&format!("'{}' ", quoted(arg, room)));
        }
        CommandError::Unknown {
            name,
            args_beginning,
        }
    }

    pub(super) fn unknown_subcommand(container: &str, sub: &[u8]) -> CommandError {
        CommandError::UnknownSubcommand {
            container: container.to_ascii_uppercase(),
            sub: quoted(sub, QUOTED_BYTES_MAX),
        }
    }

    pub(super) fn wrong_arity(name: &str) -> CommandError {
        CommandError::WrongArity {
            name: name.to_string(),
        }
    }
}

/// Client bytes made fit for an error line: at most `bytes_max` of them, invalid UTF-8
/// replaced, line endings turned into spaces (redis maps them too).
fn quoted(bytes: &[u8], bytes_max: usize) -> String {
    let shown = &bytes[..bytes.len().min(bytes_max)];
    String::from_utf8_lossy(shown).replace(['\r', '\n'], " ")
}

/// Turns a request's arguments (from [`super::parse_command`], not empty) into a
/// [`Command`]. Names are case-insensitive. Checks run in redis's order: the name, then
/// the number of arguments, then their content (options, UTF-8, numbers).
///
/// Empty `args` are not a command (the caller skips them); given them anyway, this
/// answers as redis does for an empty name: unknown command `''`.
pub fn to_command(args: Vec<Vec<u8>>) -> Result<Command, CommandError> {
    let name = args.first().map(|name| name.to_ascii_lowercase());
    let Some(spec) = name.as_deref().and_then(table::spec) else {
        return Err(CommandError::unknown(&args));
    };
    if !spec.accepts(args.len()) {
        return Err(CommandError::wrong_arity(spec.name));
    }
    (spec.build)(Args::after_name(args))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn unknown_quotes_at_most_128_bytes_of_args() {
        let long = "x".repeat(300);
        let err = CommandError::unknown(&args(&["foo", "ab", &long, "never"]));
        let CommandError::Unknown {
            name,
            args_beginning,
        } = &err
        else {
            panic!()
        };
        assert_eq!(name, "foo");
        // "'ab' " is 5 bytes, leaving 123 for the long argument; then the budget is gone.
        assert_eq!(args_beginning, &format!("'ab' '{}' ", "x".repeat(123)));
    }

    #[test]
    fn unknown_name_is_cut_and_kept_on_one_line() {
        let err = CommandError::unknown(&args(&[&format!("a\r\nb{}", "y".repeat(200))]));
        let CommandError::Unknown {
            name,
            args_beginning,
        } = &err
        else {
            panic!()
        };
        assert_eq!(name.len(), 128);
        assert!(name.starts_with("a  b"));
        assert!(args_beginning.is_empty());
    }

    #[test]
    fn is_write_agrees_with_the_table() {
        for spec in table::SPECS {
            let argc = usize::try_from(spec.arity.abs()).unwrap();
            let mut request = vec![spec.name.as_bytes().to_vec()];
            request.resize(argc.max(1), b"0".to_vec());
            if spec.name == "config" {
                request = args(&["config", "get", "save"]);
            }
            let command = to_command(request).unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            assert_eq!(command.name(), spec.name);
            assert_eq!(
                command.is_write(),
                spec.flags.contains(&"write"),
                "{}",
                spec.name
            );
        }
    }
}
