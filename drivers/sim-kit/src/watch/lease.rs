//! The promise lease reads rest on, watched on every step: a node that accepted traffic
//! from the leader of its term grants no vote for `election_ticks` of its own clock,
//! except to a leadership transfer the leader asked for (see raft-core's `read_only`).
//! A stale lease read needs this promise broken and a precise interleaving after it; the
//! watch reports the broken promise itself, whichever interleaving follows.

use raft_core::{Input, Message, MessageBody, Node, NodeId, Ready, Term};

/// What the watch needs of an input, taken before the node consumes it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Seen {
    /// Logical time: `Input::Tick`, or `Input::Ticks` of this many.
    Ticks(u32),
    LeaderTraffic {
        from: NodeId,
        term: Term,
    },
    /// A vote request (not a transfer) from a candidate this node had not voted for.
    VoteRequest {
        from: NodeId,
    },
    Other,
}

impl Seen {
    /// `node` is about to consume `input`.
    pub(crate) fn of(node: &Node, input: &Input) -> Seen {
        let m = match input {
            Input::Message(m) => m,
            Input::Tick => return Seen::Ticks(1),
            Input::Ticks { count } => return Seen::Ticks(*count),
            _ => return Seen::Other,
        };
        match m.body {
            MessageBody::Append { .. }
            | MessageBody::Heartbeat { .. }
            | MessageBody::InstallSnapshot { .. } => Seen::LeaderTraffic {
                from: m.from,
                term: m.term,
            },
            MessageBody::Vote {
                transfer: false, ..
            } if !(node.term() == m.term && node.hard_state().vote == Some(m.from)) => {
                // Granting again a vote already cast promises nothing new.
                Seen::VoteRequest { from: m.from }
            }
            _ => Seen::Other,
        }
    }
}

/// Per node: ticks in this incarnation, and the tick of the last accepted leader traffic.
#[derive(Clone, Copy, Debug, Default)]
struct Clock {
    ticks: u64,
    contact_tick: Option<u64>,
}

#[derive(Debug, Default)]
pub(crate) struct LeaseWatch {
    clocks: Vec<Clock>,
}

impl LeaseWatch {
    /// A (re)started node: what it heard before the crash is gone from the watch too
    /// (the node guards that window itself by refusing votes after booting).
    pub(crate) fn on_start(&mut self, slot: usize) {
        if self.clocks.len() <= slot {
            self.clocks.resize(slot + 1, Clock::default());
        }
        self.clocks[slot] = Clock::default();
    }

    /// Checks one step of `node` (at `slot`) that consumed an input seen as `seen`.
    pub(crate) fn after_step(
        &mut self,
        slot: usize,
        node: &Node,
        seen: Seen,
        ready: &Ready,
    ) -> Result<(), String> {
        let clock = &mut self.clocks[slot];
        match seen {
            Seen::Ticks(count) => clock.ticks += u64::from(count),
            Seen::LeaderTraffic { from, term } => {
                if node.term() == term && node.leader() == Some(from) {
                    clock.contact_tick = Some(clock.ticks);
                }
            }
            Seen::VoteRequest { from } if granted(ready, from) => {
                let cfg = node.config();
                let since = clock.contact_tick.map(|t| clock.ticks - t);
                if cfg.check_quorum && since.is_some_and(|s| s < u64::from(cfg.election_ticks)) {
                    return Err(format!(
                        "lease broken: node {} voted for {from} in term {}, {} ticks after accepting leader traffic (election timeout {})",
                        node.id(),
                        node.term(),
                        since.unwrap_or_default(),
                        cfg.election_ticks
                    ));
                }
            }
            Seen::VoteRequest { .. } | Seen::Other => {}
        }
        Ok(())
    }
}

fn granted(ready: &Ready, to: NodeId) -> bool {
    let grant = |m: &Message| m.to == to && m.body == MessageBody::VoteResponse { reject: false };
    ready
        .messages
        .iter()
        .chain(&ready.messages_after_persist)
        .any(grant)
}
