//! The record of every client operation, and its check by `lincheck`.

use std::time::Duration;

use kv_core::{KvError, Op, Outcome};
use lincheck::{KvInput, KvModel, KvOutput, Operation, Verdict};

use crate::service::SimService;
use crate::world::{KvWorld, ServiceWorld};
use sim_kit::Sim;

/// One operation as a client saw it: submitted at `call`, answered at `ret` (if ever).
/// Times are history times (see [`ServiceWorld::history_time`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryOp<O = Op, T = Outcome> {
    pub client: usize,
    pub op: O,
    pub call: u64,
    pub ret: Option<(u64, Result<T, KvError>)>,
}

/// What the checker said about a run that did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checked {
    Linearizable,
    /// The checker's budget ran out: reported by the caller, never counted as a pass.
    Unknown,
}

/// Wall-clock budget for one history (the course allows 1 s and tolerates a timeout).
pub const CHECK_BUDGET: Duration = Duration::from_secs(10);

fn input(op: &Op) -> KvInput {
    match op.clone() {
        Op::Get { key } => KvInput::Get { key },
        Op::Put { key, value } => KvInput::Put { key, value },
        Op::Append { key, value } => KvInput::Append { key, value },
        Op::Delete { key } => KvInput::Delete { key },
        Op::Cas { key, expected, new } => KvInput::Cas { key, expected, new },
        other => panic!("the lab 3 workloads issue no {other:?}; the model has no such input"),
    }
}

fn output(outcome: &Outcome) -> KvOutput {
    match outcome {
        Outcome::Value(v) => KvOutput::Get(v.clone()),
        Outcome::Done => KvOutput::Done,
        Outcome::Swapped(b) => KvOutput::Cas(*b),
        other => panic!("a lab 3 operation returned {other:?}"),
    }
}

/// The history in the checker's terms. A rejected operation never took effect and is
/// left out; one still in flight may take effect at any later time.
pub fn to_operations(history: &[HistoryOp]) -> Vec<Operation<KvInput, KvOutput>> {
    let rejected = |h: &&HistoryOp| matches!(h.ret, Some((_, Err(_))));
    history
        .iter()
        .filter(|h| !rejected(h))
        .map(|h| Operation {
            client: h.client as u64,
            input: input(&h.op),
            output: h
                .ret
                .as_ref()
                .map(|(_, r)| output(r.as_ref().expect("filtered"))),
            call: h.call,
            ret: h.ret.as_ref().map(|(t, _)| *t),
        })
        .collect()
}

impl<S: SimService> ServiceWorld<S> {
    /// A strictly increasing timestamp for a call or return: virtual µs × 1000 plus the
    /// order within that µs. Events at the same virtual instant still happen one after
    /// another in the simulation (a client sees a return before it issues its next call),
    /// and the checker treats equal times as concurrent, so stamps must never tie.
    pub(crate) fn history_time(&mut self) -> u64 {
        let floor = self.now_us() * 1000;
        let t = floor.max(self.last_history_time + 1);
        assert!(
            t < floor + 1000,
            "over 1000 history events in one virtual µs"
        );
        self.last_history_time = t;
        t
    }

    pub fn history(&self) -> &[HistoryOp<S::Op, S::Output>] {
        &self.history
    }
}

/// Checks a key/value history with the key/value model (within [`CHECK_BUDGET`]): `Err`
/// carries the checker's explanation.
pub fn check(history: &[HistoryOp]) -> Result<Checked, String> {
    let ops = to_operations(history);
    match lincheck::check(&KvModel::new(), &ops, CHECK_BUDGET) {
        Verdict::Linearizable => Ok(Checked::Linearizable),
        Verdict::Unknown => Ok(Checked::Unknown),
        Verdict::NotLinearizable(why) => Err(format!(
            "history of {} operations is not linearizable:\n{why}",
            ops.len()
        )),
    }
}

/// Only key/value histories have a model for the checker.
impl KvWorld {
    /// Checks the whole client history: `Err` carries the checker's explanation.
    pub fn check_history(&self) -> Result<Checked, String> {
        check(&self.history)
    }

    /// `check_history`, failing the run (with seed and state) if not linearizable.
    pub fn check_linearizable(&self) -> Checked {
        self.check_history().unwrap_or_else(|why| self.fail(&why))
    }
}
