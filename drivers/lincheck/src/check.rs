//! The entry point: drop invisible operations, partition, search each partition.

use std::time::{Duration, Instant};

use crate::budget::Budget;
use crate::explain::{explain, Explanation};
use crate::search::{Outcome, Search};
use crate::{Model, Operation};

/// The answer for a whole history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    NotLinearizable(Explanation),
    /// The budget ran out before an answer was found.
    Unknown,
}

/// What a check did, for reports and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Operations in the history.
    pub operations: usize,
    /// Read-only operations with unknown output, dropped before the search.
    pub dropped: usize,
    /// Partitions the model made, and how many were searched to the end.
    pub partitions: usize,
    pub partitions_decided: usize,
    /// Search steps, distinct model states and distinct configurations, over all partitions.
    pub steps: u64,
    pub states: usize,
    pub configurations: usize,
    pub elapsed: Duration,
}

/// A verdict with the work behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    pub verdict: Verdict,
    pub stats: Stats,
}

/// Decides whether `history` is linearizable with respect to `model`, within `budget` of
/// wall-clock time. See [`check_with_stats`].
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: Duration,
) -> Verdict {
    check_with_stats(model, history, budget).verdict
}

/// Like [`check`], and also reports the work done.
///
/// Partitions are searched in turns of a few thousand steps each, round-robin, and the
/// first one to fail is reported: one hard partition does not hide a violation that an
/// easy one shows quickly, and the outcome does not depend on thread scheduling. The
/// history is linearizable only if every partition is. Panics if an operation's `ret` is
/// before its `call` (a bug in whoever recorded the history).
pub fn check_with_stats<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: Duration,
) -> CheckResult {
    let started = Instant::now();
    let budget = Budget::new(budget);
    for (i, op) in history.iter().enumerate() {
        assert!(
            op.ret.is_none_or(|r| r >= op.call),
            "operation {i} returns before its call"
        );
    }
    let partitions = model.partition(history);
    debug_assert!(
        covers_each_once(&partitions, history.len()),
        "Model::partition must place every operation in exactly one partition"
    );
    let mut stats = Stats {
        operations: history.len(),
        partitions: partitions.len(),
        ..Stats::default()
    };
    let mut open: Vec<Partition<M>> = Vec::with_capacity(partitions.len());
    for (number, part) in partitions.into_iter().enumerate() {
        let kept: Vec<usize> = part
            .iter()
            .copied()
            .filter(|&i| !invisible(model, &history[i]))
            .collect();
        stats.dropped += part.len() - kept.len();
        let search = Search::new(model, kept.iter().map(|&i| &history[i]).collect());
        open.push(Partition {
            number,
            kept,
            search,
        });
    }
    let verdict = run_in_turns(model, history, &mut open, &budget, &mut stats);
    stats.elapsed = started.elapsed();
    CheckResult { verdict, stats }
}

/// Steps one partition's search may take before the next partition's turn.
const STEPS_PER_TURN: u64 = 4096;

struct Partition<'a, M: Model> {
    number: usize,
    /// History indices of the partition's operations (invisible ones dropped).
    kept: Vec<usize>,
    search: Search<'a, M>,
}

fn run_in_turns<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    open: &mut Vec<Partition<'_, M>>,
    budget: &Budget,
    stats: &mut Stats,
) -> Verdict {
    let verdict = loop {
        if open.is_empty() {
            break Verdict::Linearizable;
        }
        if budget.expired() {
            break Verdict::Unknown;
        }
        if let Some(failed) = one_turn_each(model, history, open, stats) {
            break failed;
        }
    };
    for p in open.iter() {
        add_work(stats, p);
    }
    verdict
}

/// Gives every open partition one turn, removing those that are decided. Returns the
/// verdict as soon as one partition is found not linearizable.
fn one_turn_each<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    open: &mut Vec<Partition<'_, M>>,
    stats: &mut Stats,
) -> Option<Verdict> {
    let mut i = 0;
    while i < open.len() {
        let Some(outcome) = open[i].search.run(STEPS_PER_TURN) else {
            i += 1;
            continue;
        };
        let p = open.remove(i);
        add_work(stats, &p);
        stats.partitions_decided += 1;
        if let Outcome::NotLinearizable(prefix) = outcome {
            let at = (p.number, stats.partitions);
            return Some(Verdict::NotLinearizable(explain(
                model, history, &p.kept, &prefix, at,
            )));
        }
    }
    None
}

fn add_work<M: Model>(stats: &mut Stats, p: &Partition<'_, M>) {
    let work = p.search.work();
    stats.steps += work.steps;
    stats.states += work.states;
    stats.configurations += work.configurations;
}

/// A read with an unknown result is legal anywhere and changes nothing that anyone else
/// can observe; it cannot make a history (non-)linearizable, so the search skips it.
fn invisible<M: Model>(model: &M, op: &Operation<M::Input, M::Output>) -> bool {
    op.output.is_none() && model.is_read_only(&op.input)
}

fn covers_each_once(partitions: &[Vec<usize>], n: usize) -> bool {
    let mut seen = vec![false; n];
    partitions
        .iter()
        .flatten()
        .all(|&i| i < n && !std::mem::replace(&mut seen[i], true))
        && seen.iter().all(|&s| s)
}
