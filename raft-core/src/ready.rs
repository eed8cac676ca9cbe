//! What goes into a node ([`Input`]) and what the driver must do afterwards ([`Ready`]).

use serde::{Deserialize, Serialize};

use crate::membership::{ConfChange, Membership};
use crate::message::Message;
use crate::read_only::ReadState;
use crate::types::{Entry, HardState, Index, LogPosition, NodeId, Snapshot};

/// Everything that can happen to a node. A trace is a sequence of these; replay is a fold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// One unit of logical time passed.
    Tick,
    /// The election timer fires now: a follower or candidate (pre-)campaigns as it would
    /// after an election timeout. Ignored by a leader, a learner and a removed node. For
    /// tests, scripts and operators; a driver's timers never need it.
    Campaign,
    /// A message from a peer arrived.
    Message(Message),
    /// The application proposes a command. Refused unless this node leads.
    Propose {
        #[serde(with = "crate::types::bytes")]
        data: Vec<u8>,
    },
    /// Several commands at once: appended as consecutive entries and sent to followers
    /// together (one append each, within `append_bytes_max`). All or none are accepted.
    ProposeBatch { batch: Vec<Vec<u8>> },
    /// The driver made every write it was handed, up to and including the entry at this
    /// position, durable. Only after this does a leader count its own copy toward commit.
    Persisted(LogPosition),
    /// The application serialized its state after applying every entry up to `index`
    /// (which it has applied). The node compacts its log up to `index`, and
    /// `Ready::snapshot` asks the driver to store it; the node keeps the bytes only while
    /// a follower is being sent them. At the latest snapshot's own index it answers
    /// [`crate::Node::snapshot_wanted`]: nothing is compacted or stored again.
    Snapshot {
        index: Index,
        #[serde(with = "crate::types::bytes")]
        data: Vec<u8>,
    },
    /// The application wants to serve a linearizable read tagged `id`. Refused unless this
    /// node leads; confirmed later in `Ready::reads` (or failed in `Ready::reads_aborted`).
    Read { id: u64 },
    /// Hand leadership to voter `to` once its log is caught up (proposals are refused
    /// meanwhile); abandoned after an election timeout.
    TransferLeadership { to: NodeId },
    /// Change the membership (leader only, one change at a time). When at most one voter
    /// changes the new configuration is entered directly; otherwise through a joint one,
    /// left automatically once it commits. Each takes effect when its entry commits.
    ChangeMembership { changes: Vec<ConfChange> },
    /// Several reads at once, all confirmed by one heartbeat round (a driver's reads that
    /// arrived together). All or none are accepted.
    ReadBatch { ids: Vec<u64> },
    /// `count` units of logical time passed: exactly `count` `Tick`s in a row, in one
    /// step. A driver with nothing else for the node may sleep until its
    /// [`crate::Node::ticks_until_due`]-th tick and hand them in at once. Refused past
    /// [`crate::TICKS_PER_INPUT_MAX`]. (New variants go last, so the encoding of those
    /// before them, in traces already recorded, does not change.)
    Ticks { count: u32 },
}

/// The work a step produced. The driver must carry it out **in this order**:
///
/// 1. Send [`Ready::messages`] at any time, even before step 2 finishes: they promise
///    nothing about local durable state (a leader's appends may travel while its own
///    write is in progress; pre-votes change no state).
/// 2. Persist, as if in this order: [`Ready::snapshot`] (if any) in place of the stored
///    one, then drop the stored entries it covers — every entry if it was
///    [`SnapshotWrite::Received`], else those with index <= its index; then [`Ready::hard_state`] (if any); then
///    [`Ready::entries`]: drop every stored entry with index >= `entries[0].index`, then
///    append. Make it durable (fsync) if [`Ready::must_sync`]; a write that needs no
///    sync (only the commit index moved) may wait for the next one that does. Writes must become durable in the order the
///    `Ready`s were produced.
///
///    **Each `Ready`'s write is atomic**: after a crash the disk holds all of it or none
///    of it. A prefix is not a valid state: a hard state whose commit is past the stored
///    entries, or a snapshot newer than the stored term, is refused by [`crate::Node::new`]
///    (those are also what disk corruption looks like), and a leader's snapshot stored
///    without dropping the log it replaces would leave entries that belong to no log. A
///    driver makes the write atomic by appending one checksummed record per `Ready`
///    (snapshot reference, hard state, entries) to a log and, on recovery, cutting off a
///    torn last record (the simulator's disk does exactly this); a snapshot's bytes go to
///    a file written, fsynced and renamed before the record naming it. A database write
///    batch works as well.
/// 3. Only then send [`Ready::messages_after_persist`] (votes, acknowledgements: they
///    promise that the state in step 2 survives a crash).
/// 4. If the snapshot was [`SnapshotWrite::Received`], replace the state machine's state
///    with it.
///    Then apply [`Ready::committed`] to the state machine, in order. Serve each of
///    [`Ready::reads`] once the state machine has applied its index; answer each of
///    [`Ready::reads_aborted`] with "not leader".
/// 5. Report durability with [`Input::Persisted`] carrying the last written entry's
///    position (or the snapshot's, if no entries were written), so a leader can count
///    itself toward commit.
///
/// 6. If [`crate::Node::snapshot_wanted`] after a step, the application hands in
///    [`Input::Snapshot`] of its state as applied, at its applied index (even if that is
///    the latest snapshot's index), as soon as it has applied at least that snapshot. A
///    node does not keep a snapshot's bytes after storing them: a leader asks for them
///    again when a follower needs entries it compacted away. (Bytes handed in at an
///    index whose bytes are held already are ignored, so a transfer under way never
///    switches to another encoding of the same state.)
///
/// Steps 2–5 of successive `Ready`s may be pipelined as long as each stays in order.
/// [`crate::pipeline::Pipeline`] carries out exactly this contract; a driver that uses it
/// supplies only the effects (sending, writing, applying).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[must_use = "a Ready carries writes and messages the driver must act on"]
pub struct Ready {
    pub hard_state: Option<HardState>,
    /// Step 2 must reach stable storage before step 3: a snapshot, entries, or a new term
    /// or vote is written. False when only the commit index moved (or nothing is written).
    pub must_sync: bool,
    pub entries: Vec<Entry>,
    pub messages: Vec<Message>,
    pub messages_after_persist: Vec<Message>,
    pub committed: Vec<Entry>,
    /// A snapshot to store, and whether it replaces the application's state.
    pub snapshot: Option<SnapshotWrite>,
    /// Reads confirmed linearizable at an index (see [`crate::ReadState`]).
    pub reads: Vec<ReadState>,
    /// Reads that can no longer be confirmed: this node stopped leading.
    pub reads_aborted: Vec<u64>,
    /// Where an accepted [`Input::Propose`] landed in the log; for a batch of n, the
    /// last of the n consecutive entries (same term) it occupies.
    pub proposed: Option<LogPosition>,
    /// The configuration in force changed (a configuration entry committed, or a
    /// snapshot was installed): the driver may connect to new members or retire this
    /// node if it was removed.
    pub membership: Option<Membership>,
}

/// A snapshot a `Ready` asks the driver to store; where it came from decides what else
/// happens to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SnapshotWrite {
    /// The application handed it in (`Input::Snapshot`): it already holds this state.
    /// Stored entries up to its index are dropped; later ones stay.
    Taken(Snapshot),
    /// Received from the leader: it replaces the whole stored log, and the application
    /// installs it before applying `committed`.
    Received(Snapshot),
}

impl SnapshotWrite {
    pub fn snapshot(&self) -> &Snapshot {
        match self {
            SnapshotWrite::Taken(s) | SnapshotWrite::Received(s) => s,
        }
    }

    pub fn into_snapshot(self) -> Snapshot {
        match self {
            SnapshotWrite::Taken(s) | SnapshotWrite::Received(s) => s,
        }
    }

    /// Whether the application must install it (it came from the leader).
    pub fn is_received(&self) -> bool {
        matches!(self, SnapshotWrite::Received(_))
    }
}

impl Ready {
    pub fn is_empty(&self) -> bool {
        // Field by field: comparing with `Ready::default()` built one per call, and
        // observers ask on every step.
        let Ready {
            hard_state,
            must_sync,
            entries,
            messages,
            messages_after_persist,
            committed,
            snapshot,
            reads,
            reads_aborted,
            proposed,
            membership,
        } = self;
        hard_state.is_none()
            && !must_sync
            && entries.is_empty()
            && messages.is_empty()
            && messages_after_persist.is_empty()
            && committed.is_empty()
            && snapshot.is_none()
            && reads.is_empty()
            && reads_aborted.is_empty()
            && proposed.is_none()
            && membership.is_none()
    }

    /// Whether step 2 has anything to write.
    pub fn must_persist(&self) -> bool {
        self.hard_state.is_some() || !self.entries.is_empty() || self.snapshot.is_some()
    }
}
