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
    /// A limit (time or memory, see [`CheckResult::limit_reached`]) was reached before an
    /// answer was found.
    Unknown,
}

/// Bounds on one check. Reaching either answers [`Verdict::Unknown`], never a guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time.
    pub time: Duration,
    /// Bytes the memo tables (configurations and model states, summed over the partitions
    /// being searched) may hold. The rest of a check's memory is proportional to the
    /// history and does not grow during the search.
    pub memo_bytes: usize,
}

impl Limits {
    /// The memo bound of [`check`] and [`check_with_stats`].
    pub const DEFAULT_MEMO_BYTES: usize = 2 << 30;

    /// A time budget with the default memo bound.
    pub fn time(budget: Duration) -> Self {
        Limits {
            time: budget,
            memo_bytes: Self::DEFAULT_MEMO_BYTES,
        }
    }
}

/// Which limit ended a check without an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Time,
    /// The memo bound: a partition's memo would have outgrown it (or the allocator refused).
    Memory,
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
    /// The most bytes the memo tables held at once.
    pub memo_bytes_peak: usize,
    pub elapsed: Duration,
}

/// A verdict with the work behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    pub verdict: Verdict,
    /// Why the verdict is [`Verdict::Unknown`]; `None` for any other verdict.
    pub limit_reached: Option<Limit>,
    pub stats: Stats,
}

/// Decides whether `history` is linearizable with respect to `model`, within `budget` of
/// wall-clock time and the default memo bound. See [`check_with_limits`].
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: Duration,
) -> Verdict {
    check_with_stats(model, history, budget).verdict
}

/// Like [`check`], and also reports the work done.
pub fn check_with_stats<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: Duration,
) -> CheckResult {
    check_with_limits(model, history, Limits::time(budget))
}

/// Decides whether `history` is linearizable with respect to `model` within `limits`, and
/// reports the work done.
///
/// Partitions are searched in turns of a few thousand steps each, round-robin, and the
/// first one to fail is reported: one hard partition does not hide a violation that an
/// easy one shows quickly, and the outcome does not depend on thread scheduling. The
/// history is linearizable only if every partition is. Panics if an operation's `ret` is
/// before its `call` (a bug in whoever recorded the history).
///
/// A partition that would take the memo past `limits.memo_bytes` is given up (its memory
/// freed) while the others go on: a violation elsewhere is still reported, but the history
/// can no longer be found linearizable.
pub fn check_with_limits<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    limits: Limits,
) -> CheckResult {
    let started = Instant::now();
    let budget = Budget::new(limits.time);
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
    let mut turns = Turns {
        budget,
        memo_bytes_max: limits.memo_bytes,
        memo_bytes: open.iter().map(|p| p.search.memo_bytes()).sum(),
        memory_reached: false,
    };
    let (verdict, limit_reached) = turns.run(model, history, &mut open, &mut stats);
    stats.elapsed = started.elapsed();
    CheckResult {
        verdict,
        limit_reached,
        stats,
    }
}

/// Steps one partition's search may take before the next partition's turn.
const STEPS_PER_TURN: u64 = 4096;

struct Partition<'a, M: Model> {
    number: usize,
    /// History indices of the partition's operations (invisible ones dropped).
    kept: Vec<usize>,
    search: Search<'a, M>,
}

/// The state shared by the turns of one check.
struct Turns {
    budget: Budget,
    memo_bytes_max: usize,
    /// Bytes the memo tables of the open partitions hold together.
    memo_bytes: usize,
    /// A partition was given up at the memory bound.
    memory_reached: bool,
}

impl Turns {
    fn run<M: Model>(
        &mut self,
        model: &M,
        history: &[Operation<M::Input, M::Output>],
        open: &mut Vec<Partition<'_, M>>,
        stats: &mut Stats,
    ) -> (Verdict, Option<Limit>) {
        stats.memo_bytes_peak = self.memo_bytes;
        let result = loop {
            if open.is_empty() {
                break match self.memory_reached {
                    true => (Verdict::Unknown, Some(Limit::Memory)),
                    false => (Verdict::Linearizable, None),
                };
            }
            if self.budget.expired() {
                break (Verdict::Unknown, Some(Limit::Time));
            }
            if let Some(failed) = self.one_turn_each(model, history, open, stats) {
                break (failed, None);
            }
        };
        for p in open.iter() {
            add_work(stats, p);
        }
        result
    }

    /// Gives every open partition one turn, removing those that are decided or given up.
    /// Returns the verdict as soon as one partition is found not linearizable.
    fn one_turn_each<M: Model>(
        &mut self,
        model: &M,
        history: &[Operation<M::Input, M::Output>],
        open: &mut Vec<Partition<'_, M>>,
        stats: &mut Stats,
    ) -> Option<Verdict> {
        let mut i = 0;
        while i < open.len() {
            let search = &mut open[i].search;
            let before = search.memo_bytes();
            debug_assert!(before <= self.memo_bytes);
            let others = self.memo_bytes - before;
            let outcome = search.run(STEPS_PER_TURN, self.memo_bytes_max.saturating_sub(others));
            self.memo_bytes = others + search.memo_bytes();
            stats.memo_bytes_peak = stats.memo_bytes_peak.max(self.memo_bytes);
            let Some(outcome) = outcome else {
                i += 1;
                continue;
            };
            let p = open.remove(i);
            add_work(stats, &p);
            self.memo_bytes -= p.search.memo_bytes();
            match outcome {
                Outcome::Linearizable => stats.partitions_decided += 1,
                Outcome::MemoryBoundReached => self.memory_reached = true,
                Outcome::NotLinearizable(prefix) => {
                    stats.partitions_decided += 1;
                    let at = (p.number, stats.partitions);
                    let why = explain(model, history, &p.kept, &prefix, at);
                    return Some(Verdict::NotLinearizable(why));
                }
            }
        }
        None
    }
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
