//! What watches every step of every simulated Raft node, in raft-sim and in any simulated
//! service built on Raft (kv-sim): the invariant [`Checker`], the lease watch, and a
//! digest of every `Ready` (equal digests mean equal runs). It hooks into the node's
//! [`Pipeline`] as its [`Observer`], so it sees the `Input::Persisted` steps the pipeline
//! makes on its own too.
//!
//! It lives in the kit, not in raft-sim, because every simulated world of Raft nodes
//! runs it (raft-sim's cluster and kv-sim's servers alike): the [`World`](crate::World)
//! owns one and tells it of every (re)start, so a simulator cannot forget to.

use std::hash::Hash;

use raft_core::{Entry, Input, Node, NodeId, Observer, Pipeline, Ready, SnapshotWrite};
use raft_core::{StepError, Work, WriteId};

use crate::digest::Fnv;

mod checker;
mod lease;

pub use checker::{digest_entry, Checker, Violation};
use lease::{LeaseWatch, Seen};

#[derive(Debug, Default)]
pub struct RaftWatch {
    pub checker: Checker,
    lease: LeaseWatch,
    digest: Fnv,
    /// Steps of any node, `Input::Persisted` included.
    pub steps: u64,
    /// Check what each `Ready` hands the application (committed entries, received
    /// snapshots) as applied: for a service that applies inside its own step and so
    /// cannot report entries back (kv-sim). raft-sim reports applies itself, after the
    /// pipeline, which checks the pipeline as well.
    pub applies_from_readys: bool,
}

impl RaftWatch {
    /// For a service that applies inside its own step (see `applies_from_readys`).
    pub fn for_service() -> Self {
        RaftWatch {
            applies_from_readys: true,
            ..RaftWatch::default()
        }
    }

    /// A digest of every non-empty `Ready` so far, with the slot that produced it.
    pub fn output_digest(&self) -> u64 {
        self.digest.finish()
    }

    /// A node (re)started at `slot` from its disk. A service restores its state machine
    /// from the node's snapshot as it starts, so with `applies_from_readys` applying
    /// resumes after the snapshot; otherwise the application reports its install.
    pub fn on_start(&mut self, slot: usize, node: &Node) {
        self.checker.on_restart(node);
        self.lease.on_start(slot);
        if self.applies_from_readys {
            self.checker.on_install_at(node.id(), node.log().applied());
        }
    }

    /// An observer for one call into the pipeline of the node at `slot`: pass it to the
    /// pipeline (or a service's `step_observed`), then ask it for the verdict.
    pub fn observer(&mut self, slot: usize) -> StepView<'_> {
        StepView::new(self, slot)
    }

    /// Steps `pipeline` (the node at `slot`) under watch. `Err(Ok(why))` is a broken
    /// invariant; `Err(Err(e))` an input the node refused.
    pub fn step(
        &mut self,
        slot: usize,
        pipeline: &mut Pipeline,
        input: Input,
    ) -> Result<Work, Result<String, StepError>> {
        let mut view = StepView::new(self, slot);
        let work = pipeline.step_observed(input, &mut view).map_err(Err)?;
        view.verdict().map_err(Ok)?;
        Ok(work)
    }

    /// Reports write `id` durable under watch; `Err` is a broken invariant.
    pub fn persisted(
        &mut self,
        slot: usize,
        pipeline: &mut Pipeline,
        id: WriteId,
    ) -> Result<Work, String> {
        let mut view = StepView::new(self, slot);
        let work = pipeline.persisted_observed(id, &mut view);
        view.verdict()?;
        Ok(work)
    }

    /// The application at node `id` applied `entries` (checked against what committed).
    pub fn on_apply(&mut self, id: NodeId, entries: &[Entry]) -> Result<(), String> {
        self.checker.on_apply(id, entries).map_err(invariant)
    }

    /// The application at node `id` now holds exactly `entries` (a snapshot's contents).
    pub fn on_install(&mut self, id: NodeId, entries: &[Entry]) -> Result<(), String> {
        self.checker.on_install(id, entries).map_err(invariant)
    }
}

fn invariant(v: impl std::fmt::Display) -> String {
    format!("invariant violated: {v}")
}

/// The watch during one call into one node's pipeline; remembers the first violation.
pub struct StepView<'a> {
    watch: &'a mut RaftWatch,
    slot: usize,
    seen: Option<Seen>,
    failure: Option<String>,
}

impl<'a> StepView<'a> {
    fn new(watch: &'a mut RaftWatch, slot: usize) -> Self {
        StepView {
            watch,
            slot,
            seen: None,
            failure: None,
        }
    }

    /// The first invariant this call broke, if any.
    pub fn verdict(self) -> Result<(), String> {
        self.failure.map_or(Ok(()), Err)
    }
}

impl Observer for StepView<'_> {
    fn before_step(&mut self, node: &Node, input: &Input) {
        self.seen = Some(Seen::of(node, input));
    }

    fn after_step(&mut self, node: &Node, ready: &Ready) {
        let w = &mut *self.watch;
        w.steps += 1;
        if !ready.is_empty() {
            // Through `Hash`, field by field: encoding each `Ready` first cost a tenth
            // of a busy simulation.
            w.digest.write_word(self.slot as u64);
            ready.hash(&mut w.digest);
        }
        let seen = self.seen.take().expect("before_step precedes after_step");
        let checked = w.checker.after_step(node, ready).map_err(invariant);
        let watched = w.lease.after_step(self.slot, node, seen, ready);
        let applied = if w.applies_from_readys {
            handed_out(&mut w.checker, node, ready)
        } else {
            Ok(())
        };
        if let Err(why) = checked.and(watched).and(applied) {
            self.failure.get_or_insert(why);
        }
    }
}

/// What `ready` hands the application, checked as applied.
fn handed_out(checker: &mut Checker, node: &Node, ready: &Ready) -> Result<(), String> {
    if let Some(SnapshotWrite::Received(s)) = &ready.snapshot {
        checker.on_install_at(node.id(), s.meta.index);
    }
    checker
        .on_apply(node.id(), &ready.committed)
        .map_err(invariant)
}
