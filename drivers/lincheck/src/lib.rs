//! `lincheck`: a linearizability checker for recorded histories of concurrent operations.
//!
//! Given a sequential specification (a [`Model`]) and a history of operations, each with the
//! interval during which it was in flight ([`Operation`]), [`check`] decides whether the
//! operations can be put in one order that respects real time (an operation that returned
//! before another was invoked comes first) and is legal for the model. That is what a
//! linearizable service promises its clients.
//!
//! How: Wing & Gong's backtracking search over a doubly-linked list of call and return
//! entries, with Lowe's improvements (entries lifted out of the list as operations are
//! linearized, and memoisation of each configuration — the set of linearized operations,
//! stored in space proportional to the history's concurrency rather than its length, plus
//! the model state — so none is expanded twice). Models may split a history
//! into independent partitions (the key/value model splits by key), each searched alone:
//! the history is linearizable exactly when every partition is.
//!
//! Included: a key/value model ([`KvModel`]) and a single-register model
//! ([`RegisterModel`]), and parsers for the 6.824 key/value history format
//! ([`parse_kv_file`]) and Jepsen's etcd log format ([`parse_jepsen_file`]). A failed check
//! comes with an [`Explanation`]: the longest linearizable prefix found and the operations
//! that cannot come next; [`html::render`] draws a history and that explanation as a page.
//!
//! What it is not: it does not record histories (the simulator or a test harness does), it
//! does not check anything weaker or stronger than linearizability (no serializability, no
//! sequential consistency), and the problem is NP-complete in general, so a check runs
//! within a wall-clock budget and a memory bound ([`Limits`]) and answers
//! [`Verdict::Unknown`] when either runs out — never a guess. Times are opaque `u64`s;
//! only their order matters.

mod budget;
mod builder;
mod check;
mod edn;
mod entries;
mod error;
mod explain;
mod file;
pub mod html;
mod kv;
mod linearized;
mod memo;
mod model;
mod operation;
mod parse_jepsen;
mod parse_kv;
mod prefix;
mod register;
mod search;

pub use check::{
    check, check_with_limits, check_with_stats, CheckResult, Limit, Limits, Stats, Verdict,
};
pub use error::{LineError, ParseError};
pub use explain::{ExplainedOp, Explanation, StuckOp};
pub use file::{MAX_FILE_BYTES, MAX_OPERATIONS};
pub use kv::{KvInput, KvModel, KvOutput};
pub use model::Model;
pub use operation::Operation;
pub use parse_jepsen::{parse_jepsen, parse_jepsen_file};
pub use parse_kv::{parse_kv, parse_kv_file};
pub use register::{RegisterInput, RegisterModel, RegisterOutput};
