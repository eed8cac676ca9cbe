//! The harnesses behind the fuzz targets, in a library so that the libFuzzer binaries
//! (`fuzz_targets/`, nightly or `RUSTC_BOOTSTRAP=1`) and the stable corpus replay
//! (`tests/corpus.rs`) run exactly the same code on the same bytes.
//!
//! A harness takes arbitrary bytes and panics only on a finding: a broken Raft invariant,
//! a MapReduce coordinator answer its rules forbid, or a decoder that panicked instead
//! of returning an error.

use arbitrary::{Arbitrary, Unstructured};

pub mod decoders;
pub mod kv_cluster;
pub mod mr_coordinator;
mod net;
pub mod raft_cluster;
pub mod raft_peer;
pub mod shard_cluster;

/// The bug `FUZZ_BUG` names (`VoteTwice`, `CommitOldTerm`, `LocalReads`,
/// `LeaseFollowsLeader`, `SkipJoint`), planted in every node: a target that finds it
/// is shown to be able to. Read at each cluster's start (one `getenv` per run), so a
/// test can plant one bug after another.
#[cfg(feature = "bug-injection")]
pub(crate) fn planted_bug() -> Option<raft_core::InjectedBug> {
    use raft_core::InjectedBug as Bug;
    let name = std::env::var("FUZZ_BUG").ok()?;
    Some(match name.as_str() {
        "VoteTwice" => Bug::VoteTwice,
        "CommitOldTerm" => Bug::CommitOldTerm,
        "LocalReads" => Bug::LocalReads,
        "LeaseFollowsLeader" => Bug::LeaseFollowsLeader,
        "SkipJoint" => Bug::SkipJoint,
        other => panic!("FUZZ_BUG={other}: no such injected bug"),
    })
}

/// The setup at the front of `data` and the actions after it, at most `actions_max`:
/// what every cluster target's input means. Every byte string decodes (`arbitrary` fills
/// a short input with zeros; no setup only from bytes it cannot read at all).
pub(crate) fn schedule<S, A>(data: &[u8], actions_max: usize) -> (Option<S>, Vec<A>)
where
    S: for<'a> Arbitrary<'a>,
    A: for<'a> Arbitrary<'a>,
{
    let mut u = Unstructured::new(data);
    let setup = S::arbitrary(&mut u).ok();
    let mut actions = Vec::new();
    while !u.is_empty() && actions.len() < actions_max {
        match A::arbitrary(&mut u) {
            Ok(a) => actions.push(a),
            Err(_) => break,
        }
    }
    (setup, actions)
}
