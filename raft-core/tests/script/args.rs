//! One script command line: a name, positional arguments and `key=value` options. Every
//! option must be consumed by the command, so a typo is an error rather than a default.

use std::collections::BTreeSet;
use std::str::FromStr;

use raft_core::NodeId;

pub struct Command {
    pub name: String,
    positional: Vec<String>,
    /// `(key, value)` in line order; consumed ones are removed.
    options: Vec<(String, String)>,
}

impl Command {
    pub fn parse(line: &str) -> Result<Command, String> {
        let mut words = line.split_whitespace();
        let name = words.next().ok_or("empty command")?.to_string();
        let (mut positional, mut options) = (Vec::new(), Vec::new());
        for word in words {
            match word.split_once('=') {
                Some((k, v)) if !k.is_empty() => options.push((k.to_string(), v.to_string())),
                _ => positional.push(word.to_string()),
            }
        }
        Ok(Command {
            name,
            positional,
            options,
        })
    }

    pub fn positional(&self) -> &[String] {
        &self.positional
    }

    /// Positional argument `i`, parsed.
    pub fn arg<T: FromStr>(&self, i: usize, what: &str) -> Result<T, String> {
        let word = self
            .positional
            .get(i)
            .ok_or_else(|| format!("missing {what}"))?;
        word.parse().map_err(|_| format!("bad {what} {word:?}"))
    }

    /// Positional argument `i` if present, else `default`.
    pub fn arg_or<T: FromStr>(&self, i: usize, what: &str, default: T) -> Result<T, String> {
        match self.positional.get(i) {
            Some(_) => self.arg(i, what),
            None => Ok(default),
        }
    }

    /// Removes and returns every value given for `key`, in line order.
    pub fn take_all(&mut self, key: &str) -> Vec<String> {
        let (taken, kept) = std::mem::take(&mut self.options)
            .into_iter()
            .partition(|(k, _)| k == key);
        self.options = kept;
        taken.into_iter().map(|(_, v)| v).collect()
    }

    /// The option's value, parsed, if given (once).
    pub fn take<T: FromStr>(&mut self, key: &str) -> Result<Option<T>, String> {
        let mut values = self.take_all(key);
        if values.len() > 1 {
            return Err(format!("{key}= given twice"));
        }
        values
            .pop()
            .map(|v| v.parse().map_err(|_| format!("bad value {key}={v}")))
            .transpose()
    }

    /// A set of node ids, if given: `1,2,3`.
    pub fn take_ids(&mut self, key: &str) -> Result<Option<BTreeSet<NodeId>>, String> {
        let value: Option<String> = self.take(key)?;
        value.map(|v| parse_ids(&v)).transpose()
    }

    /// Fails if an option was not consumed or too many positional arguments were given.
    pub fn finish(&self, positional_max: usize) -> Result<(), String> {
        if let Some((k, v)) = self.options.first() {
            return Err(format!("unknown option {k}={v}"));
        }
        if self.positional.len() > positional_max {
            let extra = &self.positional[positional_max];
            return Err(format!("unexpected argument {extra:?}"));
        }
        Ok(())
    }
}

/// `1,2,3` (at least one id).
pub fn parse_ids(text: &str) -> Result<BTreeSet<NodeId>, String> {
    let ids: Result<BTreeSet<NodeId>, _> = text.split(',').map(str::parse).collect();
    match ids {
        Ok(ids) if !ids.is_empty() => Ok(ids),
        _ => Err(format!("bad node list {text:?}")),
    }
}
