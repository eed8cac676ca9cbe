//! The command table: one row per supported command, the single source for name lookup,
//! arity checks, `COMMAND`, `COMMAND COUNT`, and which builder makes the [`Command`].
//!
//! Also the canned answers for the introspection commands that clients send on their own
//! at startup (`COMMAND DOCS` from redis-cli 7, `CONFIG GET` from redis-benchmark).

use super::build::{self, Args};
use super::command::{Command, CommandError};
use super::encode::Reply;

/// What the server knows about one command.
pub(super) struct Spec {
    /// Lower case, as redis names commands in replies and error messages.
    pub name: &'static str,
    /// Redis's convention, counting the command name: `n` means exactly `n` arguments,
    /// `-n` at least `n`. Limits redis cannot express this way (`PING` takes at most
    /// one message) are checked by the builder.
    pub arity: i64,
    /// As `COMMAND` reports them; `write` must agree with [`Command::is_write`].
    pub flags: &'static [&'static str],
    /// Position of the first key, of the last (-1: the last argument), and the step
    /// between keys; all 0 for commands without keys. Cluster-aware clients read these.
    pub keys: (i64, i64, i64),
    pub build: fn(Args) -> Result<Command, CommandError>,
}

impl Spec {
    /// Whether `argc` arguments (command name included) satisfy the arity.
    pub fn accepts(&self, argc: usize) -> bool {
        let argc = i64::try_from(argc).unwrap_or(i64::MAX);
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }
}

const READ: &[&str] = &["readonly", "fast"];
const WRITE: &[&str] = &["write", "denyoom"];
const CONNECTION: &[&str] = &["loading", "stale", "fast"];
const ADMIN: &[&str] = &["admin", "noscript", "loading", "stale"];

#[rustfmt::skip]
pub(super) const SPECS: &[Spec] = &[
    Spec { name: "get", arity: 2, flags: READ, keys: (1, 1, 1), build: build::get },
    Spec { name: "set", arity: -3, flags: WRITE, keys: (1, 1, 1), build: build::set },
    Spec { name: "append", arity: 3, flags: WRITE, keys: (1, 1, 1), build: build::append },
    Spec { name: "del", arity: -2, flags: &["write"], keys: (1, -1, 1), build: build::del },
    Spec { name: "exists", arity: -2, flags: READ, keys: (1, -1, 1), build: build::exists },
    Spec { name: "incr", arity: 2, flags: WRITE, keys: (1, 1, 1), build: build::incr },
    Spec { name: "mget", arity: -2, flags: READ, keys: (1, -1, 1), build: build::mget },
    Spec { name: "mset", arity: -3, flags: WRITE, keys: (1, -1, 2), build: build::mset },
    Spec { name: "ping", arity: -1, flags: CONNECTION, keys: (0, 0, 0), build: build::ping },
    Spec { name: "echo", arity: 2, flags: &["fast"], keys: (0, 0, 0), build: build::echo },
    Spec { name: "info", arity: -1, flags: &["loading", "stale"], keys: (0, 0, 0), build: build::info },
    Spec { name: "dbsize", arity: 1, flags: READ, keys: (0, 0, 0), build: build::dbsize },
    Spec { name: "select", arity: 2, flags: CONNECTION, keys: (0, 0, 0), build: build::select },
    Spec { name: "command", arity: -1, flags: &["loading", "stale"], keys: (0, 0, 0), build: build::command },
    Spec { name: "config", arity: -2, flags: ADMIN, keys: (0, 0, 0), build: build::config },
    Spec { name: "quit", arity: -1, flags: CONNECTION, keys: (0, 0, 0), build: build::quit },
];

/// The row for a command name already in lower case.
pub(super) fn spec(name: &[u8]) -> Option<&'static Spec> {
    SPECS.iter().find(|spec| spec.name.as_bytes() == name)
}

/// The answer to `COMMAND` (`sub` = `None`), `COMMAND DOCS` and `COMMAND COUNT`; `sub`
/// is case-insensitive, and any other value gets redis's unknown-subcommand error.
///
/// - `COMMAND`: one entry per command in the pre-7 six-field form (name, arity, flags,
///   first key, last key, key step), which clients still accept.
/// - `COMMAND DOCS` (with or without names): an empty array. redis-cli 7 sends it at
///   startup and, given an empty array, simply has no server-provided help (an error
///   reply would also do: it then falls back to its built-in help).
/// - `COMMAND COUNT`: the number of commands in the table.
pub fn command_docs_reply(sub: Option<&str>) -> Reply {
    match sub {
        None => Reply::Array(SPECS.iter().map(command_entry).collect()),
        Some(sub) if sub.eq_ignore_ascii_case("docs") => Reply::Array(Vec::new()),
        Some(sub) if sub.eq_ignore_ascii_case("count") => {
            Reply::Integer(i64::try_from(SPECS.len()).expect("a small table"))
        }
        Some(sub) => CommandError::unknown_subcommand("command", sub.as_bytes()).to_reply(),
    }
}

fn command_entry(spec: &Spec) -> Reply {
    let flags = spec
        .flags
        .iter()
        .map(|flag| Reply::Simple(flag.to_string()));
    Reply::Array(vec![
        Reply::bulk(spec.name),
        Reply::Integer(spec.arity),
        Reply::Array(flags.collect()),
        Reply::Integer(spec.keys.0),
        Reply::Integer(spec.keys.1),
        Reply::Integer(spec.keys.2),
    ])
}

/// The answer to `CONFIG GET param`: `[name, value]` for the few parameters clients
/// ask for on their own, an empty array (what redis answers for a parameter it does not
/// have) for everything else. Names are case-insensitive; glob patterns are not
/// supported.
///
/// redis-benchmark asks for `save` and `appendonly` at startup and prints a warning
/// unless each answer has two elements. The values describe this server: no RDB
/// snapshots on a timer (`save` is empty), and every write is in a durable log before it
/// is acknowledged, which is what `appendonly yes` promises. `databases` is 1, since only
/// `SELECT 0` is accepted.
pub fn config_get_reply(param: &str) -> Reply {
    const KNOWN: &[(&str, &str)] = &[("save", ""), ("appendonly", "yes"), ("databases", "1")];
    let found = KNOWN
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(param));
    match found {
        Some((name, value)) => Reply::Array(vec![Reply::bulk(*name), Reply::bulk(*value)]),
        None => Reply::Array(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_and_unique() {
        for (i, spec) in SPECS.iter().enumerate() {
            assert_eq!(spec.name, spec.name.to_ascii_lowercase());
            assert!(SPECS[..i].iter().all(|other| other.name != spec.name));
        }
    }

    #[test]
    fn arity_follows_redis_convention() {
        let get = spec(b"get").unwrap();
        assert!(!get.accepts(1) && get.accepts(2) && !get.accepts(3));
        let del = spec(b"del").unwrap();
        assert!(!del.accepts(1) && del.accepts(2) && del.accepts(30));
    }
}
