//! Why a history is not linearizable, in terms a person can check by hand.

use std::fmt;

use crate::{Model, Operation};

/// One operation as shown in an explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExplainedOp {
    /// Index into the checked history.
    pub index: usize,
    pub client: u64,
    pub call: u64,
    pub ret: Option<u64>,
    /// The model's rendering of input and output, e.g. `get("k") -> "v"`.
    pub operation: String,
}

/// An operation that could have come right after the prefix (real-time order allows it)
/// but does not lead to a linearization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StuckOp {
    pub op: ExplainedOp,
    /// False: the model rejects it in the state after the prefix (e.g. a read returning a
    /// value the register does not hold). True: it is legal there, but every continuation
    /// from it fails further on.
    pub legal_next: bool,
}

/// Evidence that one partition of a history has no linearization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// Which partition failed (0-based) and how many the model made.
    pub partition: usize,
    pub partitions: usize,
    /// Operations in the failing partition (after dropping invisible ones).
    pub operations: usize,
    /// The longest linearizable prefix the search found, in linearization order.
    pub prefix: Vec<ExplainedOp>,
    /// The model state after `prefix`.
    pub state_after_prefix: String,
    /// The operations that real-time order allows next, none of which works.
    pub stuck: Vec<StuckOp>,
}

fn explained<M: Model>(
    model: &M,
    index: usize,
    op: &Operation<M::Input, M::Output>,
) -> ExplainedOp {
    ExplainedOp {
        index,
        client: op.client,
        call: op.call,
        ret: op.ret,
        operation: model.describe_operation(&op.input, op.output.as_ref()),
    }
}

/// Builds the explanation for a failed partition. `indices` maps the partition's
/// operations to history indices; `prefix` lists partition positions in order.
pub(crate) fn explain<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    indices: &[usize],
    prefix: &[usize],
    (partition, partitions): (usize, usize),
) -> Explanation {
    let mut state = model.init();
    let mut placed = vec![false; indices.len()];
    for &p in prefix {
        let op = &history[indices[p]];
        state = model
            .step(&state, &op.input, op.output.as_ref())
            .expect("the search only records legal prefixes");
        placed[p] = true;
    }
    let rest: Vec<usize> = (0..indices.len()).filter(|&p| !placed[p]).collect();
    // Real time allows p next unless some other unplaced operation returned before p's call.
    let earliest_ret = rest.iter().filter_map(|&p| history[indices[p]].ret).min();
    let stuck = rest
        .iter()
        .filter(|&&p| earliest_ret.is_none_or(|r| history[indices[p]].call <= r))
        .map(|&p| {
            let op = &history[indices[p]];
            StuckOp {
                op: explained(model, indices[p], op),
                legal_next: model.step(&state, &op.input, op.output.as_ref()).is_some(),
            }
        })
        .collect();
    Explanation {
        partition,
        partitions,
        operations: indices.len(),
        prefix: prefix
            .iter()
            .map(|&p| explained(model, indices[p], &history[indices[p]]))
            .collect(),
        state_after_prefix: model.describe_state(&state),
        stuck,
    }
}

impl fmt::Display for ExplainedOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ret = self
            .ret
            .map_or("never returned".to_string(), |r| r.to_string());
        write!(
            f,
            "client {} [{} .. {}]  {}",
            self.client, self.call, ret, self.operation
        )
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "partition {} of {} ({} operations) has no linearization.",
            self.partition + 1,
            self.partitions,
            self.operations
        )?;
        writeln!(
            f,
            "Longest linearizable prefix found ({} operations):",
            self.prefix.len()
        )?;
        for (n, op) in self.prefix.iter().enumerate() {
            writeln!(f, "  {:>4}. {op}", n + 1)?;
        }
        writeln!(f, "State after it: {}", self.state_after_prefix)?;
        writeln!(f, "None of these can come next:")?;
        for s in &self.stuck {
            let why = if s.legal_next {
                "legal here, but no linearization continues from it"
            } else {
                "illegal in this state"
            };
            writeln!(f, "        {}  -- {why}", s.op)?;
        }
        Ok(())
    }
}
