//! MapReduce (MIT 6.824 lab 1) as a pure core.
//!
//! - [`Coordinator`]: a deterministic state machine over "a worker asks", "a worker reports an
//!   attempt done / failed" and ticks. Map tasks first, reduce tasks once every map is
//!   committed; a task not reported within `task_timeout_ticks` is handed out again; the first
//!   completion of a task is committed and every other one discarded.
//! - Task logic as pure functions: [`partition`] (the course's `ihash`), the intermediate
//!   format ([`encode_bucket`]), sorting and grouping for reduce ([`reduce_pairs`]), the
//!   `KEY VALUE` output format, the streaming line format, file naming.
//! - The [`MapReduce`] trait and the built-in apps ([`apps`]).
//!
//! What this crate is NOT: it reads no files, opens no sockets, starts no processes or
//! threads, reads no clock and draws no random numbers. Workers, the TCP protocol, temporary
//! files and renames, and running streaming commands all live in the `mr-driver` crate.

pub mod app;
pub mod apps;
pub mod coordinator;
pub mod hash;
pub mod reduce;
pub mod shuffle;
pub mod streaming;
pub mod task;

pub use app::{AppError, KeyValue, MapReduce};
pub use coordinator::{Config, ConfigError, Coordinator, Input, Output, Phase, Stats, StepError};
pub use hash::{ihash, partition};
pub use reduce::{reduce_pairs, run_sequential};
pub use shuffle::{decode_bucket, encode_bucket, partition_pairs, DecodeError};
pub use task::{
    attempt_files, intermediate_name, output_name, Assignment, AssignmentError, Attempt, AttemptId,
    TaskId,
};
