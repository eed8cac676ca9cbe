//! The harnesses behind the fuzz targets, in a library so that the libFuzzer binaries
//! (`fuzz_targets/`, nightly or `RUSTC_BOOTSTRAP=1`) and the stable corpus replay
//! (`tests/corpus.rs`) run exactly the same code on the same bytes.
//!
//! A harness takes arbitrary bytes and panics only on a finding: a broken Raft invariant,
//! a MapReduce coordinator answer its rules forbid, or a decoder that panicked instead
//! of returning an error.

pub mod decoders;
pub mod mr_coordinator;
pub mod raft_cluster;
