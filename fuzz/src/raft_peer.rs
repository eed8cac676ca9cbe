//! `raft_peer`: one raft-core node fed whatever a broken or hostile peer could send, and
//! whatever a careless application could ask: messages and inputs decoded with postcard
//! from the bytes, so every field can take any value (terms going down, indexes past the
//! log or at `u64::MAX`, unknown senders, entries out of order, snapshots of any shape).
//! Raft is not Byzantine-tolerant, so nothing here checks the protocol's invariants; the
//! finding is a panic — the node's own assertions included — where the core owes a typed
//! refusal or a silent drop ("cores never panic on peer input").

use std::collections::VecDeque;

use raft_core::{Config, Input, Message, MessageBody, Node, Pipeline, RestoredState, Role};
use raft_core::{Work, WriteId};

/// Steps per input: enough for long hostile conversations, bounded per execution.
const STEPS_MAX: usize = 256;

/// The node under test is 1 of voters 1, 2, 3.
const VOTERS: [u64; 3] = [1, 2, 3];

/// The node and the writes it handed out, not yet reported durable.
struct Peer {
    pipeline: Pipeline,
    unsynced: VecDeque<WriteId>,
    summary: Summary,
}

/// What a run reached.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub started_as_leader: bool,
    /// Inputs the node took (a message is always taken, if only to drop it).
    pub accepted: u64,
    /// Inputs it refused with a typed error.
    pub refused: u64,
    pub writes: u64,
}

/// The fuzz target.
pub fn run(data: &[u8]) {
    play(data);
}

/// [`run`], returning what the run reached (`None` for an empty input).
pub fn play(data: &[u8]) -> Option<Summary> {
    let (&first, mut rest) = data.split_first()?;
    let mut peer = Peer::start(first & 1 == 1);
    for _ in 0..STEPS_MAX {
        let Some((&tag, tail)) = rest.split_first() else {
            break;
        };
        rest = tail;
        let input = match tag % 4 {
            0 => postcard::take_from_bytes::<Message>(rest).map(|(m, t)| (Input::Message(m), t)),
            1 => postcard::take_from_bytes::<Input>(rest),
            2 => Ok((Input::Tick, rest)),
            _ => {
                peer.persist_all();
                continue;
            }
        };
        let Ok((input, tail)) = input else {
            break;
        };
        rest = tail;
        // Durability is reported through `Pipeline::persisted` (tag 3); an
        // `Input::Persisted` step is refused (`StepError::PersistedAsInput`).
        peer.step(input);
    }
    Some(peer.summary)
}

impl Peer {
    /// A fresh follower, or (with `lead`) a leader of term 1 that peers 2 and 3 elected.
    fn start(lead: bool) -> Peer {
        let mut config = Config::new(1, VOTERS.to_vec());
        config.election_ticks = 10;
        config.heartbeat_ticks = 2;
        config.pre_vote = false;
        let node = Node::new(config, RestoredState::default()).expect("a valid bootstrap");
        let mut peer = Peer {
            pipeline: Pipeline::new(node),
            unsynced: VecDeque::new(),
            summary: Summary {
                started_as_leader: lead,
                ..Summary::default()
            },
        };
        if lead {
            peer.step(Input::Campaign);
            peer.persist_all();
            for from in [2, 3] {
                let body = MessageBody::VoteResponse { reject: false };
                peer.step(Input::Message(Message {
                    from,
                    to: 1,
                    term: 1,
                    body,
                }));
            }
            peer.persist_all();
            assert_eq!(peer.pipeline.node().role(), Role::Leader);
            peer.summary = Summary {
                started_as_leader: true,
                ..Summary::default()
            };
        }
        peer
    }

    /// Any refusal is fine; a panic is the finding.
    fn step(&mut self, input: Input) {
        match self.pipeline.step(input) {
            Ok(work) => {
                self.summary.accepted += 1;
                self.absorb(work);
            }
            Err(_) => self.summary.refused += 1,
        }
    }

    fn absorb(&mut self, work: Work) {
        self.summary.writes += work.writes.len() as u64;
        self.unsynced.extend(work.writes.iter().map(|w| w.id));
    }

    /// Every write handed out becomes durable, in order (and those that causes).
    fn persist_all(&mut self) {
        while let Some(id) = self.unsynced.pop_front() {
            let work = self.pipeline.persisted(id);
            self.absorb(work);
        }
        assert_eq!(self.pipeline.writes_in_flight(), 0);
    }
}
