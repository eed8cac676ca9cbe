//! A service's own state machine as the checker's sequential specification: an
//! operation is legal in a state when applying it there (a write through `apply`, a
//! read through `query`) returns what the client was told. For a service with no
//! hand-written model (the shard controller), the history is then linearizable exactly
//! when some order of its operations, run one at a time on one replica, answers every
//! client as the cluster did.

use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;

use kv_core::service::{Access, StateMachine};
use kv_sim::history::HistoryOp;
use lincheck::{Model, Operation};

pub struct ReplicaModel<S>(PhantomData<S>);

impl<S> Default for ReplicaModel<S> {
    fn default() -> Self {
        ReplicaModel(PhantomData)
    }
}

impl<S> Model for ReplicaModel<S>
where
    S: StateMachine + Clone + Eq + Hash + Debug,
{
    type State = S;
    type Input = S::Op;
    type Output = S::Output;

    fn init(&self) -> S {
        S::default()
    }

    fn step(&self, state: &S, input: &S::Op, output: Option<&S::Output>) -> Option<S> {
        let mut next = state.clone();
        let got = match S::route(input.clone()) {
            Access::Write(cmd) => next.apply(&cmd),
            Access::Read(query) => next.query(&query),
        };
        output.is_none_or(|want| *want == got).then_some(next)
    }

    fn is_read_only(&self, input: &S::Op) -> bool {
        matches!(S::route(input.clone()), Access::Read(_))
    }

    fn describe_operation(&self, input: &S::Op, output: Option<&S::Output>) -> String {
        match output {
            Some(out) => format!("{input:?} -> {out:?}"),
            None => format!("{input:?} -> (no answer)"),
        }
    }

    fn describe_state(&self, state: &S) -> String {
        format!("{state:?}")
    }
}

/// The history in the checker's terms, as kv-sim's `to_operations` makes it: an
/// operation refused with an error never took effect and is left out; one never
/// answered may take effect at any later time.
pub fn operations<O: Clone, T: Clone>(history: &[HistoryOp<O, T>]) -> Vec<Operation<O, T>> {
    history
        .iter()
        .filter(|h| !matches!(h.ret, Some((_, Err(_)))))
        .map(|h| Operation {
            client: h.client as u64,
            input: h.op.clone(),
            output: h
                .ret
                .as_ref()
                .map(|(_, r)| r.clone().expect("refusals left out")),
            call: h.call,
            ret: h.ret.as_ref().map(|(t, _)| *t),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use kv_core::{Config, CtrlOp, CtrlOutcome, ShardCtrl};
    use lincheck::Verdict;

    use super::*;

    fn op(
        input: CtrlOp,
        output: CtrlOutcome,
        call: u64,
        ret: u64,
    ) -> Operation<CtrlOp, CtrlOutcome> {
        Operation {
            client: call,
            input,
            output: Some(output),
            call,
            ret: Some(ret),
        }
    }

    /// The configuration `ctrl` answers a query for the latest with.
    fn latest(ctrl: &ShardCtrl) -> Config {
        match ctrl.query(&None) {
            CtrlOutcome::Config(c) => c,
            other => panic!("a query answered {other:?}"),
        }
    }

    /// A join that finished before a query began must be in what the query sees.
    #[test]
    fn a_query_after_a_join_sees_it() {
        let groups = [(1, vec!["11".to_string()])].into_iter().collect();
        let input = CtrlOp::Join { groups };
        let mut ctrl = ShardCtrl::default();
        let stale = latest(&ctrl);
        let Access::Write(cmd) = <ShardCtrl>::route(input.clone()) else {
            panic!("a join is a write");
        };
        let answer = ctrl.apply(&cmd);
        let join = op(input, answer, 1, 2);
        let query = |c: Config| op(CtrlOp::Query { num: None }, CtrlOutcome::Config(c), 3, 4);
        let model = ReplicaModel::<ShardCtrl>::default();
        let budget = Duration::from_secs(1);
        let good = [join.clone(), query(latest(&ctrl))];
        assert!(matches!(
            lincheck::check(&model, &good, budget),
            Verdict::Linearizable
        ));
        let bad = [join, query(stale)];
        assert!(matches!(
            lincheck::check(&model, &bad, budget),
            Verdict::NotLinearizable(_)
        ));
    }
}
