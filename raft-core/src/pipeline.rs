//! The [`Ready`] contract as code, once. A [`Pipeline`] owns a [`Node`], splits each
//! `Ready` into what may be sent now, the write to make durable, and what must wait for
//! that write; keeps the FIFO of writes in flight; and, when the driver reports a write
//! durable, releases what waited for it and feeds the node its `Input::Persisted`.
//!
//! A driver supplies only effects: it sends [`Work::messages`], makes each of
//! [`Work::writes`] durable (in order; fsync if [`Write::must_sync`]) and reports it with
//! [`Pipeline::persisted`], and carries out [`Work::applies`] in order. Nothing in the
//! pipeline does I/O, so the simulators, the test harnesses, the runtime, trace replay
//! and the fuzz targets all run the same sequence of contract steps.
//!
//! What it is **not**: storage. [`Write::apply_to`] is the reference meaning of a write
//! (the in-memory drivers use it as their disk), but where and how bytes land is the
//! driver's business.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::error::StepError;
use crate::membership::Membership;
use crate::message::Message;
use crate::node::{Node, RestoredState};
use crate::read_only::ReadState;
use crate::ready::{Input, Ready, SnapshotWrite};
use crate::types::{Entry, HardState, LogPosition, Snapshot};

/// Names a write handed to the driver; writes are reported durable in the order given.
pub type WriteId = u64;

/// Writes in flight beyond this mean the driver stopped completing them: a driver bug
/// (or a disk that died), not load. A driver applies backpressure well before, by
/// reading [`Pipeline::writes_in_flight`].
pub const WRITES_IN_FLIGHT_MAX: usize = 1 << 20;

/// Step 2 of the contract: one atomic write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Write {
    pub id: WriteId,
    pub snapshot: Option<SnapshotWrite>,
    pub hard_state: Option<HardState>,
    pub entries: Vec<Entry>,
    /// Must reach stable storage before it is reported (see [`Ready::must_sync`]).
    pub must_sync: bool,
}

impl Write {
    /// What `Input::Persisted` reports once this write is durable: its last entry, or its
    /// snapshot if it wrote no entries; `None` for a hard-state-only write.
    pub fn last_position(&self) -> Option<LogPosition> {
        let snapshot = self.snapshot.as_ref().map(|s| s.snapshot().meta.position());
        self.entries.last().map(Entry::position).or(snapshot)
    }

    /// The meaning of the write: what a disk holding `state` holds after it. Every
    /// in-memory store uses this, and a real store must end up equivalent.
    pub fn apply_to(&self, state: &mut RestoredState) {
        if self.make_room(state) {
            state.entries.extend_from_slice(&self.entries);
        }
    }

    /// [`Write::apply_to`] for a driver done with the write: its entries move into
    /// `state` instead of being cloned.
    pub fn apply_into(self, state: &mut RestoredState) {
        if self.make_room(state) {
            state.entries.extend(self.entries);
        }
    }

    /// Everything but appending the entries; returns whether there are any to append.
    fn make_room(&self, state: &mut RestoredState) -> bool {
        if let Some(sw) = &self.snapshot {
            let s = sw.snapshot();
            let covered = match sw {
                SnapshotWrite::Received(_) => state.entries.len(),
                SnapshotWrite::Taken(_) => {
                    state.entries.partition_point(|e| e.index <= s.meta.index)
                }
            };
            state.entries.drain(..covered);
            state.snapshot = Some(s.clone());
        }
        if let Some(hs) = self.hard_state {
            state.hard_state = hs;
        }
        if let Some(first) = self.entries.first() {
            let snapshot_index = state.snapshot.as_ref().map_or(0, |s| s.meta.index);
            let keep = first
                .index
                .checked_sub(1 + snapshot_index)
                .expect("a write never reaches into the snapshot") as usize;
            assert!(
                keep <= state.entries.len(),
                "a write leaves a gap in the log"
            );
            state.entries.truncate(keep);
            return true;
        }
        false
    }
}

/// Step 4 of the contract for one `Ready`: installs, committed entries and membership are
/// released once every earlier write is durable; reads at once (see `reads`).
///
/// The rare large parts are boxed: an `Apply` is moved on every commit, and unboxed they
/// tripled its size.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Apply {
    /// Replace the application's state with this (received from the leader) first.
    pub install: Option<Box<Snapshot>>,
    /// Then apply these, in order.
    pub committed: Vec<Entry>,
    /// Serve each once the application has applied its index — which may arrive in a
    /// later `Apply`: reads are released without waiting for writes in flight.
    pub reads: Vec<ReadState>,
    /// Answer each with "not leader".
    pub reads_aborted: Vec<u64>,
    /// The configuration in force changed to this.
    pub membership: Option<Box<Membership>>,
}

impl Apply {
    pub fn is_empty(&self) -> bool {
        self.install.is_none()
            && self.committed.is_empty()
            && self.reads.is_empty()
            && self.reads_aborted.is_empty()
            && self.membership.is_none()
    }
}

/// What a driver must do after one call into the pipeline.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[must_use = "Work carries messages, writes and applies the driver must act on"]
pub struct Work {
    /// Send these (in any order relative to the writes).
    pub messages: Vec<Message>,
    /// Make these durable in this order, reporting each with [`Pipeline::persisted`].
    pub writes: Vec<Write>,
    /// Carry these out in this order.
    pub applies: Vec<Apply>,
    /// Where an accepted proposal landed (see [`Ready::proposed`]).
    pub proposed: Option<LogPosition>,
}

impl Work {
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
            && self.writes.is_empty()
            && self.applies.is_empty()
            && self.proposed.is_none()
    }

    /// Appends later work: messages, writes and applies keep their order.
    pub fn extend(&mut self, later: Work) {
        append(&mut self.messages, later.messages);
        append(&mut self.writes, later.writes);
        append(&mut self.applies, later.applies);
        self.proposed = self.proposed.or(later.proposed);
    }
}

/// Sees every input and `Ready` that passes through a pipeline, including the
/// `Input::Persisted` it feeds back itself: the simulators' checkers and digests hook here.
pub trait Observer {
    fn before_step(&mut self, _node: &Node, _input: &Input) {}
    fn after_step(&mut self, _node: &Node, _ready: &Ready) {}
}

/// Observes nothing.
impl Observer for () {}

/// A write in flight and what waits for it.
#[derive(Debug)]
struct Stage {
    id: WriteId,
    persisted: Option<LogPosition>,
    after_persist: Vec<Message>,
    applies: Vec<Apply>,
}

/// A node and its writes in flight. See the module docs.
pub struct Pipeline {
    node: Node,
    /// The `Ready` each step fills and `absorb` empties again (see `Node::step_to`).
    ready: Ready,
    in_flight: VecDeque<Stage>,
    next_write_id: WriteId,
}

impl Pipeline {
    pub fn new(node: Node) -> Self {
        Pipeline {
            node,
            ready: Ready::default(),
            in_flight: VecDeque::new(),
            next_write_id: 1,
        }
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Writes handed out and not yet reported durable.
    pub fn writes_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Feeds one input. `Input::Persisted` is the pipeline's own business (refused as
    /// [`StepError::PersistedAsInput`]): report writes with [`Pipeline::persisted`].
    pub fn step(&mut self, input: Input) -> Result<Work, StepError> {
        self.step_observed(input, &mut ())
    }

    pub fn step_observed(
        &mut self,
        input: Input,
        observer: &mut (impl Observer + ?Sized),
    ) -> Result<Work, StepError> {
        if matches!(input, Input::Persisted(_)) {
            return Err(StepError::PersistedAsInput);
        }
        let mut work = Work::default();
        self.step_into(input, observer, &mut work)?;
        Ok(work)
    }

    /// One tick; never refused.
    pub fn tick(&mut self) -> Work {
        self.step(Input::Tick).expect("a tick is never refused")
    }

    /// A message from a peer; never refused (bad ones are dropped and counted).
    pub fn receive(&mut self, message: Message) -> Work {
        self.step(Input::Message(message))
            .expect("peer messages are never refused")
    }

    /// The election timer fires now; never refused.
    pub fn campaign(&mut self) -> Work {
        self.step(Input::Campaign)
            .expect("a campaign is never refused")
    }

    /// The driver made write `id` durable. It must be the oldest write in flight: writes
    /// complete in the order they were handed out. Releases what waited for it and feeds
    /// the node `Input::Persisted`, whose own work is included.
    pub fn persisted(&mut self, id: WriteId) -> Work {
        self.persisted_observed(id, &mut ())
    }

    pub fn persisted_observed(
        &mut self,
        id: WriteId,
        observer: &mut (impl Observer + ?Sized),
    ) -> Work {
        match self.try_persisted_observed(id, observer) {
            Ok(work) => work,
            Err(e) => panic!("the driver broke the write contract: {e}"),
        }
    }

    /// [`Pipeline::persisted_observed`] for a report that may be wrong (a trace read from
    /// a file being replayed): one that is not of the oldest write in flight is refused
    /// with nothing changed, where the driver's own reports are asserted.
    pub fn try_persisted_observed(
        &mut self,
        id: WriteId,
        observer: &mut (impl Observer + ?Sized),
    ) -> Result<Work, StepError> {
        let oldest = self.in_flight.front().map(|stage| stage.id);
        if oldest != Some(id) {
            return Err(StepError::PersistedOutOfOrder { id, oldest });
        }
        let stage = self.in_flight.pop_front().expect("checked above");
        let mut work = Work {
            messages: stage.after_persist,
            applies: stage.applies,
            ..Work::default()
        };
        if let Some(pos) = stage.persisted {
            self.step_into(Input::Persisted(pos), observer, &mut work)
                .expect("Persisted is never refused");
        }
        Ok(work)
    }

    /// The write the next durability report must name, if any is in flight.
    pub fn oldest_write_in_flight(&self) -> Option<WriteId> {
        self.in_flight.front().map(|stage| stage.id)
    }

    pub fn into_node(self) -> Node {
        self.node
    }

    fn step_into(
        &mut self,
        input: Input,
        observer: &mut (impl Observer + ?Sized),
        work: &mut Work,
    ) -> Result<(), StepError> {
        observer.before_step(&self.node, &input);
        self.node.step_to(input, &mut self.ready)?;
        observer.after_step(&self.node, &self.ready);
        self.absorb(work);
        Ok(())
    }

    /// Splits the step's `Ready` into `work` (now) and the stage it waits in (later),
    /// leaving it empty for the next step.
    fn absorb(&mut self, work: &mut Work) {
        let r = &mut self.ready;
        // Names every field: one added to `Ready` does not compile until it is taken below.
        let Ready {
            hard_state: _,
            must_sync: _,
            entries: _,
            messages: _,
            messages_after_persist: _,
            committed: _,
            snapshot: _,
            reads: _,
            reads_aborted: _,
            proposed: _,
            membership: _,
        } = r;
        let hard_state = r.hard_state.take();
        let must_sync = std::mem::take(&mut r.must_sync);
        let entries = std::mem::take(&mut r.entries);
        let messages = std::mem::take(&mut r.messages);
        let messages_after_persist = std::mem::take(&mut r.messages_after_persist);
        let committed = std::mem::take(&mut r.committed);
        // Checked first: taking an `Option` copies all of it, present or not.
        let snapshot = if r.snapshot.is_some() {
            r.snapshot.take()
        } else {
            None
        };
        let reads = std::mem::take(&mut r.reads);
        let reads_aborted = std::mem::take(&mut r.reads_aborted);
        let proposed = r.proposed.take();
        let membership = if r.membership.is_some() {
            r.membership.take().map(Box::new)
        } else {
            None
        };
        debug_assert!(r.is_empty(), "absorb takes every field of the Ready");
        append(&mut work.messages, messages);
        work.proposed = work.proposed.or(proposed);
        let install = snapshot
            .as_ref()
            .filter(|s| s.is_received())
            .map(|s| Box::new(s.snapshot().clone()));
        // Confirmed reads promise nothing about local durability (their index is
        // committed, so durable on a quorum), and the application serves each only once
        // it has applied that index: they leave at once rather than behind the writes.
        if !reads.is_empty() || !reads_aborted.is_empty() {
            work.applies.push(Apply {
                reads,
                reads_aborted,
                ..Apply::default()
            });
        }
        // Built only when there is something to apply: an `Apply` is large, and most
        // steps (acknowledgements, appends not yet committed) have nothing.
        let apply =
            (install.is_some() || !committed.is_empty() || membership.is_some()).then(|| Apply {
                install,
                committed,
                membership,
                ..Apply::default()
            });
        if hard_state.is_some() || snapshot.is_some() || !entries.is_empty() {
            let write = Write {
                id: self.next_write_id,
                snapshot,
                hard_state,
                entries,
                must_sync,
            };
            self.hand_out(write, messages_after_persist, apply, work);
        } else {
            debug_assert!(!must_sync, "nothing to write needs no sync");
            self.wait_behind_writes(messages_after_persist, apply, work);
        }
    }

    fn hand_out(
        &mut self,
        write: Write,
        after: Vec<Message>,
        apply: Option<Apply>,
        work: &mut Work,
    ) {
        assert!(
            self.in_flight.len() < WRITES_IN_FLIGHT_MAX,
            "{WRITES_IN_FLIGHT_MAX} writes in flight: the driver stopped completing them"
        );
        self.next_write_id += 1;
        self.in_flight.push_back(Stage {
            id: write.id,
            persisted: write.last_position(),
            after_persist: after,
            applies: Vec::from_iter(apply),
        });
        work.writes.push(write);
    }

    /// A `Ready` with nothing to write still waits for the writes before it: its
    /// messages may promise their durability, its entries may be in them.
    fn wait_behind_writes(&mut self, after: Vec<Message>, apply: Option<Apply>, work: &mut Work) {
        match self.in_flight.back_mut() {
            Some(stage) => {
                append(&mut stage.after_persist, after);
                stage.applies.extend(apply);
            }
            None => {
                append(&mut work.messages, after);
                work.applies.extend(apply);
            }
        }
    }
}

/// `to.extend(from)`, keeping `from`'s buffer when `to` is empty (the common case: one
/// `Ready` per call), so messages are not copied from one vector into another.
fn append<T>(to: &mut Vec<T>, from: Vec<T>) {
    if to.is_empty() {
        *to = from;
    } else {
        to.extend(from);
    }
}
