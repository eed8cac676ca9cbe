//! The MapReduce runtime around `mr-core`: coordinator and worker processes talking over TCP,
//! files on a shared directory, streaming mode, and the pieces of the `mr` command.
//!
//! - [`server`]: the coordinator process (the pure `mr_core::Coordinator` behind a mutex, one
//!   thread per worker connection, a ticker). It commits each task's files by renaming them,
//!   and closes connections that leave a request unsent too long or sit idle when the
//!   connection limit is reached.
//! - [`worker`]: ask, run, report, until told to exit or the coordinator is gone.
//! - [`frame`] / [`protocol`]: length-prefixed postcard frames and the messages in them.
//! - [`job`]: built-in apps by name, or an external mapper and reducer ([`streaming`]).
//! - [`run`] and [`seq`]: `mr run` (coordinator plus N local workers) and `mr seq`.
//!
//! What this crate is NOT: it does not decide anything about tasks (retries, phases, which
//! completion counts) — that is `mr-core`; it is not a cluster manager (workers are started
//! by the user or by `mr run`, on one machine sharing one directory); and it does not make
//! outputs durable against a machine crash (no fsync), only against process crashes.

mod connections;
pub mod exec;
pub mod files;
pub mod frame;
pub mod job;
pub mod protocol;
pub mod run;
pub mod seq;
pub mod server;
pub mod streaming;
#[cfg(feature = "test-apps")]
pub mod test_apps;
pub mod worker;
