//! The key/value model: one register per key, partitioned by key.

use std::collections::HashMap;

use crate::{Model, Operation};

/// A key/value request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvInput {
    Get {
        key: String,
    },
    Put {
        key: String,
        value: String,
    },
    /// Concatenates `value` to the current value (an absent key counts as "").
    Append {
        key: String,
        value: String,
    },
    Delete {
        key: String,
    },
    /// Sets `new` if the current value is `expected` (`None`: only if the key is absent).
    Cas {
        key: String,
        expected: Option<String>,
        new: String,
    },
}

impl KvInput {
    /// The key an operation touches.
    pub fn key(&self) -> &str {
        match self {
            KvInput::Get { key }
            | KvInput::Put { key, .. }
            | KvInput::Append { key, .. }
            | KvInput::Delete { key }
            | KvInput::Cas { key, .. } => key,
        }
    }
}

/// A key/value response.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOutput {
    /// The value read (`None`: absent).
    Get(Option<String>),
    /// Put, Append and Delete.
    Done,
    /// Whether a compare-and-set took effect.
    Cas(bool),
}

/// The key/value specification. The state (of one key: the model partitions by key) is
/// `Option<String>`, `None` meaning absent.
///
/// With [`KvModel::empty_is_absent`], the empty string and "absent" are one and the same
/// value, as in the 6.824 labs where every key starts as "" and nothing can be deleted.
/// The model then maps every value through `"" -> absent` before storing or comparing it.
/// This is exact: the map is a bijection between 6.824 strings and {absent} ∪ {non-empty
/// strings}, and every operation commutes with it (put "" stores absent, appending "" to
/// absent leaves absent, a get of "" is a get of absent), so a 6.824 history is
/// linearizable exactly when its image is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KvModel {
    empty_is_absent: bool,
}

impl KvModel {
    /// Strict model: "" and absent are different values.
    pub fn new() -> Self {
        KvModel::default()
    }

    /// The 6.824 model: "" and absent are the same value (see the type's docs).
    pub fn empty_is_absent() -> Self {
        KvModel {
            empty_is_absent: true,
        }
    }

    fn normal(&self, value: Option<String>) -> Option<String> {
        match value {
            Some(v) if v.is_empty() && self.empty_is_absent => None,
            v => v,
        }
    }

    fn normal_ref<'v>(&self, value: Option<&'v str>) -> Option<&'v str> {
        value.filter(|v| !(v.is_empty() && self.empty_is_absent))
    }
}

type Value = Option<String>;

impl Model for KvModel {
    type State = Value;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> Value {
        None
    }

    fn step(&self, state: &Value, input: &KvInput, output: Option<&KvOutput>) -> Option<Value> {
        debug_assert!(
            !(self.empty_is_absent && state.as_deref() == Some("")),
            "states are stored normalised"
        );
        match input {
            KvInput::Get { .. } => match output {
                None => Some(state.clone()),
                Some(KvOutput::Get(read)) => {
                    (self.normal_ref(read.as_deref()) == state.as_deref()).then(|| state.clone())
                }
                Some(_) => None,
            },
            KvInput::Cas { expected, new, .. } => {
                let ok = self.normal_ref(expected.as_deref()) == state.as_deref();
                if output.is_some_and(|o| *o != KvOutput::Cas(ok)) {
                    return None;
                }
                Some(if ok {
                    self.normal(Some(new.clone()))
                } else {
                    state.clone()
                })
            }
            _ if output.is_some_and(|o| *o != KvOutput::Done) => None,
            KvInput::Put { value, .. } => Some(self.normal(Some(value.clone()))),
            KvInput::Append { value, .. } => {
                let current = state.as_deref().unwrap_or("");
                Some(self.normal(Some(format!("{current}{value}"))))
            }
            KvInput::Delete { .. } => Some(None),
        }
    }

    fn state_heap_bytes(&self, state: &Value) -> usize {
        state.as_ref().map_or(0, String::capacity)
    }

    fn is_read_only(&self, input: &KvInput) -> bool {
        matches!(input, KvInput::Get { .. })
    }

    /// One partition per key, in order of first appearance.
    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Vec<usize>> {
        let mut by_key: HashMap<&str, usize> = HashMap::new();
        let mut parts: Vec<Vec<usize>> = Vec::new();
        for (i, op) in history.iter().enumerate() {
            let n = *by_key.entry(op.input.key()).or_insert_with(|| {
                parts.push(Vec::new());
                parts.len() - 1
            });
            parts[n].push(i);
        }
        parts
    }

    fn describe_operation(&self, input: &KvInput, output: Option<&KvOutput>) -> String {
        let call = match input {
            KvInput::Get { key } => format!("get({key:?})"),
            KvInput::Put { key, value } => format!("put({key:?}, {value:?})"),
            KvInput::Append { key, value } => format!("append({key:?}, {value:?})"),
            KvInput::Delete { key } => format!("delete({key:?})"),
            KvInput::Cas { key, expected, new } => {
                format!("cas({key:?}, {}, {new:?})", show(expected.as_deref()))
            }
        };
        let result = match output {
            None => "?".to_string(),
            Some(KvOutput::Get(v)) => show(v.as_deref()),
            Some(KvOutput::Done) => "ok".to_string(),
            Some(KvOutput::Cas(ok)) => ok.to_string(),
        };
        format!("{call} -> {result}")
    }

    fn describe_state(&self, state: &Value) -> String {
        show(state.as_deref())
    }
}

fn show(value: Option<&str>) -> String {
    value.map_or("absent".to_string(), |v| format!("{v:?}"))
}
