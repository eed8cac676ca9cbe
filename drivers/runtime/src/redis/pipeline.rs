//! Pipelined commands as runs. A client that pipelines sends many commands before it
//! reads any reply, so all of them are in flight at once: a run of consecutive SETs may
//! take effect together, at one point inside all of their calls, as one `PutMany` (one
//! log entry, one round trip, one fsync), and a run of consecutive GETs may read at one
//! point, as one `GetMany` (one ReadIndex round). Either is a legal order of the
//! commands, so linearizability holds, and the replies still come in order. Everything
//! else runs alone, in its place.

use crate::resp::Command;

/// Commands in one run at most: past it, a run ends and the next begins.
pub const RUN_COMMANDS_MAX: usize = 64;
/// Key and value bytes in one run at most, so a run of large SETs stays well inside one
/// log entry's limit (a run that is refused as a whole would fail every SET in it).
pub const RUN_BYTES_MAX: usize = 256 << 10;

/// What a connection carries out next.
#[derive(Debug, PartialEq, Eq)]
pub enum Run {
    /// Two or more pipelined SETs, in order.
    Sets(Vec<(String, String)>),
    /// Two or more pipelined GETs, in order.
    Gets(Vec<String>),
    One(Command),
}

impl Run {
    /// How many commands (and so replies) the run stands for.
    pub fn len(&self) -> usize {
        match self {
            Run::Sets(pairs) => pairs.len(),
            Run::Gets(keys) => keys.len(),
            Run::One(_) => 1,
        }
    }

    /// The run's commands again, one by one.
    pub fn into_commands(self) -> Vec<Command> {
        match self {
            Run::Sets(pairs) => pairs
                .into_iter()
                .map(|(key, value)| Command::Set { key, value })
                .collect(),
            Run::Gets(keys) => keys.into_iter().map(|key| Command::Get { key }).collect(),
            Run::One(c) => vec![c],
        }
    }
}

/// Takes the next run off the front of `commands`: as many SETs (or GETs) in a row as
/// the limits allow, else the first command alone.
pub fn next_run(commands: &mut std::collections::VecDeque<Command>) -> Option<Run> {
    let first = commands.pop_front()?;
    let (mut bytes, is_set) = match &first {
        Command::Set { key, value } => (key.len() + value.len(), true),
        Command::Get { key } => (key.len(), false),
        _ => return Some(Run::One(first)),
    };
    let mut run = vec![first];
    while run.len() < RUN_COMMANDS_MAX {
        let size = match commands.front() {
            Some(Command::Set { key, value }) if is_set => key.len() + value.len(),
            Some(Command::Get { key }) if !is_set => key.len(),
            _ => break,
        };
        if bytes + size > RUN_BYTES_MAX {
            break;
        }
        bytes += size;
        run.extend(commands.pop_front());
    }
    assert!(!run.is_empty() && run.len() <= RUN_COMMANDS_MAX);
    if run.len() == 1 {
        return run.pop().map(Run::One);
    }
    let pair = |c: Command| match c {
        Command::Set { key, value } => (key, value),
        other => unreachable!("a run of SETs holds {other:?}"),
    };
    let key = |c: Command| match c {
        Command::Get { key } => key,
        other => unreachable!("a run of GETs holds {other:?}"),
    };
    Some(if is_set {
        Run::Sets(run.into_iter().map(pair).collect())
    } else {
        Run::Gets(run.into_iter().map(key).collect())
    })
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    fn set(k: &str, v: &str) -> Command {
        Command::Set {
            key: k.into(),
            value: v.into(),
        }
    }

    fn get(k: &str) -> Command {
        Command::Get { key: k.into() }
    }

    fn runs(commands: Vec<Command>) -> Vec<Run> {
        let mut q: VecDeque<Command> = commands.into();
        std::iter::from_fn(|| next_run(&mut q)).collect()
    }

    #[test]
    fn consecutive_sets_and_gets_run_together_in_order() {
        let got = runs(vec![
            set("a", "1"),
            set("a", "2"),
            get("a"),
            get("b"),
            Command::Incr { key: "n".into() },
            set("c", "3"),
            get("c"),
        ]);
        let want = vec![
            Run::Sets(vec![("a".into(), "1".into()), ("a".into(), "2".into())]),
            Run::Gets(vec!["a".into(), "b".into()]),
            Run::One(Command::Incr { key: "n".into() }),
            Run::One(set("c", "3")),
            Run::One(get("c")),
        ];
        assert_eq!(got, want);
        assert_eq!(got.iter().map(Run::len).sum::<usize>(), 7);
    }

    #[test]
    fn a_run_stops_at_its_count_and_byte_limits() {
        let many: Vec<Command> = (0..RUN_COMMANDS_MAX + 1)
            .map(|i| get(&i.to_string()))
            .collect();
        let lens: Vec<usize> = runs(many).iter().map(Run::len).collect();
        assert_eq!(lens, vec![RUN_COMMANDS_MAX, 1]);

        let big = "x".repeat(RUN_BYTES_MAX / 2);
        let got = runs(vec![set("a", &big), set("b", &big), set("c", "small")]);
        let lens: Vec<usize> = got.iter().map(Run::len).collect();
        assert_eq!(lens, vec![1, 2], "a + b pass the byte limit; b and c fit");
        // A SET larger than the limit still runs, alone.
        let huge = "x".repeat(RUN_BYTES_MAX + 1);
        let lens: Vec<usize> = runs(vec![set("a", &huge), set("b", "1")])
            .iter()
            .map(Run::len)
            .collect();
        assert_eq!(lens, vec![1, 1]);
    }

    #[test]
    fn into_commands_gives_the_run_back() {
        let commands = vec![set("a", "1"), set("b", "2")];
        let mut q: VecDeque<Command> = commands.clone().into();
        let run = next_run(&mut q).expect("a run");
        assert_eq!(run.into_commands(), commands);
    }
}
