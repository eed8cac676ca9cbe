//! A single integer register with compare-and-set, initially nil (the Jepsen etcd test).

use crate::Model;

/// A register request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegisterInput {
    Read,
    Write(i64),
    /// Sets `to` if the register holds `from`.
    Cas {
        from: i64,
        to: i64,
    },
}

/// A register response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOutput {
    /// The value read (`None`: nil, never written).
    Read(Option<i64>),
    /// A write completed.
    Done,
    /// Whether a compare-and-set took effect.
    Cas(bool),
}

/// The register specification; the state is `Option<i64>`, `None` being nil.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegisterModel;

impl Model for RegisterModel {
    type State = Option<i64>;
    type Input = RegisterInput;
    type Output = RegisterOutput;

    fn init(&self) -> Option<i64> {
        None
    }

    fn step(
        &self,
        state: &Option<i64>,
        input: &RegisterInput,
        output: Option<&RegisterOutput>,
    ) -> Option<Option<i64>> {
        let (next, out) = match *input {
            RegisterInput::Read => (*state, RegisterOutput::Read(*state)),
            RegisterInput::Write(v) => (Some(v), RegisterOutput::Done),
            RegisterInput::Cas { from, to } if *state == Some(from) => {
                (Some(to), RegisterOutput::Cas(true))
            }
            RegisterInput::Cas { .. } => (*state, RegisterOutput::Cas(false)),
        };
        output.is_none_or(|o| *o == out).then_some(next)
    }

    fn is_read_only(&self, input: &RegisterInput) -> bool {
        *input == RegisterInput::Read
    }

    fn describe_operation(&self, input: &RegisterInput, output: Option<&RegisterOutput>) -> String {
        let call = match input {
            RegisterInput::Read => "read".to_string(),
            RegisterInput::Write(v) => format!("write({v})"),
            RegisterInput::Cas { from, to } => format!("cas({from} -> {to})"),
        };
        let result = match output {
            None => "?".to_string(),
            Some(RegisterOutput::Read(v)) => self.describe_state(v),
            Some(RegisterOutput::Done) => "ok".to_string(),
            Some(RegisterOutput::Cas(ok)) => ok.to_string(),
        };
        format!("{call} -> {result}")
    }

    fn describe_state(&self, state: &Option<i64>) -> String {
        state.map_or("nil".to_string(), |v| v.to_string())
    }
}
