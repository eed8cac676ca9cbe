//! The key/value map as a [`StateMachine`]: Get / Put / Append / Delete / compare-and-set
//! over string keys. Sessions are not here: the generic service wraps this map in
//! [`crate::service::Replicated`], which applies each (client, seq) at most once and
//! snapshots the session table next to the map.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::op::{Op, Outcome};
use crate::service::state_machine::{decode, encode, Access, DecodeError, StateMachine};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvState {
    data: BTreeMap<String, String>,
}

impl StateMachine for KvState {
    type Op = Op;
    /// Every operation can go through the log; a Get that does (the server never sends
    /// one) is a read in log order, still correct.
    type Command = Op;
    /// The key a Get reads.
    type Query = String;
    type Output = Outcome;

    fn route(op: Op) -> Access<Op, String> {
        match op {
            Op::Get { key } => Access::Read(key),
            write => Access::Write(write),
        }
    }

    fn apply(&mut self, op: &Op) -> Outcome {
        match op {
            Op::Get { key } => self.query(key),
            Op::Put { key, value } => {
                self.data.insert(key.clone(), value.clone());
                Outcome::Done
            }
            Op::Append { key, value } => {
                self.data.entry(key.clone()).or_default().push_str(value);
                Outcome::Done
            }
            Op::Delete { key } => {
                self.data.remove(key);
                Outcome::Done
            }
            Op::Cas { key, expected, new } => {
                let swap = self.data.get(key) == expected.as_ref();
                if swap {
                    self.data.insert(key.clone(), new.clone());
                }
                Outcome::Swapped(swap)
            }
        }
    }

    fn query(&self, key: &String) -> Outcome {
        Outcome::Value(self.data.get(key).cloned())
    }

    fn snapshot(&self) -> Vec<u8> {
        encode(self)
    }

    fn restore(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode(bytes)
    }
}

impl KvState {
    pub fn get(&self, key: &str) -> Option<&String> {
        self.data.get(key)
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

#[cfg(test)]
mod tests;
