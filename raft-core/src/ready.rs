//! What goes into a node ([`Input`]) and what the driver must do afterwards ([`Ready`]).

use serde::{Deserialize, Serialize};

use crate::message::Message;
use crate::types::{Entry, HardState, LogPosition};

/// Everything that can happen to a node. A trace is a sequence of these; replay is a fold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// One unit of logical time passed.
    Tick,
    /// A message from a peer arrived.
    Message(Message),
    /// The application proposes a command. Refused unless this node leads.
    Propose { data: Vec<u8> },
    /// The driver made every write it was handed, up to and including the entry at this
    /// position, durable. Only after this does a leader count its own copy toward commit.
    Persisted(LogPosition),
}

/// The work a step produced. The driver must carry it out **in this order**:
///
/// 1. Send [`Ready::messages`] at any time, even before step 2 finishes: they promise
///    nothing about local durable state (a leader's appends may travel while its own
///    write is in progress; pre-votes change no state).
/// 2. Persist [`Ready::hard_state`] (if any) and [`Ready::entries`]: first drop every
///    stored entry with index >= `entries[0].index`, then append. Make it durable (fsync).
///    Writes must become durable in the order the `Ready`s were produced.
/// 3. Only then send [`Ready::messages_after_persist`] (votes, acknowledgements: they
///    promise that the state in step 2 survives a crash).
/// 4. Apply [`Ready::committed`] to the state machine, in order.
/// 5. Report durability with [`Input::Persisted`] carrying the last written entry's
///    position, so a leader can count itself toward commit.
///
/// Steps 2–5 of successive `Ready`s may be pipelined as long as each stays in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[must_use = "a Ready carries writes and messages the driver must act on"]
pub struct Ready {
    pub hard_state: Option<HardState>,
    pub entries: Vec<Entry>,
    pub messages: Vec<Message>,
    pub messages_after_persist: Vec<Message>,
    pub committed: Vec<Entry>,
    /// Where an accepted [`Input::Propose`] landed in the log.
    pub proposed: Option<LogPosition>,
}

impl Ready {
    pub fn is_empty(&self) -> bool {
        *self == Ready::default()
    }

    /// Whether step 2 has anything to write.
    pub fn must_persist(&self) -> bool {
        self.hard_state.is_some() || !self.entries.is_empty()
    }
}
