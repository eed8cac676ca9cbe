//! The key/value server: a `raft_core::Node` plus the replicated [`KvState`], driven as
//! one state machine. Client requests become log entries (writes) or ReadIndex reads.
//! The node runs inside a [`Pipeline`], which carries out the `Ready` contract: the
//! server applies what the pipeline releases (committed entries, installed snapshots,
//! confirmed reads) inside [`Server::step`], so a reply leaves as soon as its command
//! applies; the driver only sends messages and makes writes durable.

use raft_core::RestoredState;
use raft_core::{Apply, Index, Input, Message, Node, Observer, Pipeline, RestoreError};
use raft_core::{Role, StepError, Term, Work, Write, WriteId};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::ServerConfig;
use crate::op::{KvError, Outcome, Reply, Request};
use crate::pending::{Expired, Pending};
use crate::state_machine::{Applied, Command, DecodeError, KvState};

/// Everything that can happen to a server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerInput {
    Tick,
    /// A Raft message from a peer server.
    Message(Message),
    /// The driver made this write durable (the oldest one it was handed and has not
    /// reported yet: writes are reported in order).
    Persisted(WriteId),
    /// A client's request.
    Request(Request),
}

/// What the driver must do after a step: send the messages, make the writes durable in
/// order (each reported back as `ServerInput::Persisted`), and send each reply to its
/// client. Applying is done: the server applies what its pipeline releases.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[must_use = "a ServerReady carries writes, messages and replies"]
pub struct ServerReady {
    pub messages: Vec<Message>,
    pub writes: Vec<Write>,
    pub replies: Vec<Reply>,
}

/// Why a server cannot start from what its disk holds.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ServerError {
    #[error(transparent)]
    Raft(#[from] RestoreError),
    #[error("stored snapshot: {0}")]
    Snapshot(#[from] DecodeError),
}

/// Counters of what the service did and dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    pub writes_applied: u64,
    /// Retried writes recognised by the session table when applied.
    pub duplicates_applied: u64,
    /// Retries answered from the session table without a new log entry.
    pub duplicates_answered: u64,
    pub reads_served: u64,
    pub snapshots_taken: u64,
    pub snapshots_installed: u64,
    /// Log entries that do not decode as commands: skipped by every replica alike.
    pub entries_undecodable: u64,
    pub timeouts: u64,
}

pub struct Server {
    raft: Pipeline,
    kv: KvState,
    pending: Pending,
    cfg: ServerConfig,
    ticks: u64,
    /// The last index applied to `kv`: at most the node's applied index, which counts
    /// entries handed to the pipeline, some still waiting behind a write.
    applied: Index,
    /// The term this server led in when pending writes were last checked.
    leading: Option<Term>,
    /// A snapshot from the leader did not decode: this replica's state is unknown, so it
    /// refuses clients until restarted.
    failure: Option<DecodeError>,
    stats: ServerStats,
}

impl Server {
    /// Starts from what the disk holds (`RestoredState::default()` on first boot).
    pub fn new(cfg: ServerConfig, restored: RestoredState) -> Result<Self, ServerError> {
        let kv = match &restored.snapshot {
            Some(s) => KvState::restore(&s.data)?,
            None => KvState::default(),
        };
        let applied = restored.snapshot.as_ref().map_or(0, |s| s.meta.index);
        let node = Node::new(cfg.raft.clone(), restored)?;
        assert_eq!(
            node.log().applied(),
            applied,
            "a node restarts at its snapshot"
        );
        Ok(Server {
            raft: Pipeline::new(node),
            kv,
            pending: Pending::new(cfg.pending_max),
            cfg,
            ticks: 0,
            applied,
            leading: None,
            failure: None,
            stats: ServerStats::default(),
        })
    }

    pub fn node(&self) -> &Node {
        self.raft.node()
    }

    pub fn state(&self) -> &KvState {
        &self.kv
    }

    pub fn stats(&self) -> &ServerStats {
        &self.stats
    }

    pub fn applied(&self) -> Index {
        self.applied
    }

    pub fn failure(&self) -> Option<&DecodeError> {
        self.failure.as_ref()
    }

    pub fn step(&mut self, input: ServerInput) -> ServerReady {
        self.step_observed(input, &mut ())
    }

    /// [`Server::step`], with every Raft input and `Ready` shown to `observer` (the
    /// simulator's invariant checker hooks in here).
    pub fn step_observed(&mut self, input: ServerInput, obs: &mut dyn Observer) -> ServerReady {
        let mut out = ServerReady::default();
        match input {
            ServerInput::Tick => {
                self.ticks += 1;
                self.step_raft(Input::Tick, obs, &mut out);
                self.expire(&mut out);
            }
            ServerInput::Message(m) => self.step_raft(Input::Message(m), obs, &mut out),
            ServerInput::Persisted(id) => {
                let work = self.raft.persisted_observed(id, obs);
                self.absorb(work, &mut out);
            }
            ServerInput::Request(r) => self.request(r, obs, &mut out),
        }
        self.maybe_snapshot(obs, &mut out);
        self.assert_invariants();
        out
    }

    /// Steps the node with an input that cannot be refused.
    fn step_raft(&mut self, input: Input, obs: &mut dyn Observer, out: &mut ServerReady) {
        let work = self
            .raft
            .step_observed(input, obs)
            .expect("ticks and messages are never refused");
        self.absorb(work, out);
    }

    /// Hands messages and writes to the driver; carries out what the pipeline released.
    fn absorb(&mut self, work: Work, out: &mut ServerReady) {
        out.messages.extend(work.messages);
        out.writes.extend(work.writes);
        for apply in work.applies {
            self.apply_released(apply, out);
        }
        self.serve_reads(out);
        self.check_leadership(out);
    }

    fn apply_released(&mut self, apply: Apply, out: &mut ServerReady) {
        if let Some(snapshot) = &apply.install {
            self.install(&snapshot.data, snapshot.meta.index, out);
        }
        for entry in &apply.committed {
            self.apply(entry, out);
        }
        for r in apply.reads {
            self.pending.confirm_read(r.id, r.index);
        }
        for id in apply.reads_aborted {
            if let Some(r) = self.pending.take_read(id) {
                out.replies
                    .push(wrong_leader(r.client, r.seq, self.leader()));
            }
        }
    }

    fn leader(&self) -> Option<raft_core::NodeId> {
        self.raft.node().leader()
    }

    fn install(&mut self, data: &[u8], index: Index, out: &mut ServerReady) {
        assert!(index > self.applied, "raft installs only newer snapshots");
        match KvState::restore(data) {
            Ok(kv) => self.kv = kv,
            Err(e) => self.failure = Some(e),
        }
        self.applied = index;
        self.stats.snapshots_installed += 1;
        let leader = self.leader();
        for w in self.pending.take_writes_through(index) {
            // Its entry may or may not be in the snapshot: the client's retry finds out.
            out.replies.push(wrong_leader(w.client, w.seq, leader));
        }
    }

    fn apply(&mut self, entry: &raft_core::Entry, out: &mut ServerReady) {
        assert_eq!(entry.index, self.applied + 1, "entries apply in order");
        self.applied = entry.index;
        let waiting = self.pending.take_write(entry.index);
        if entry.kind != raft_core::EntryKind::Normal {
            if let Some(w) = waiting {
                out.replies
                    .push(wrong_leader(w.client, w.seq, self.leader()));
            }
            return;
        }
        let cmd = match Command::decode(&entry.data) {
            Ok(cmd) => cmd,
            Err(_) => {
                self.stats.entries_undecodable += 1;
                if let Some(w) = waiting {
                    out.replies
                        .push(wrong_leader(w.client, w.seq, self.leader()));
                }
                return;
            }
        };
        let applied = self.kv.apply(&cmd);
        match &applied {
            Applied::Fresh(_) => self.stats.writes_applied += 1,
            Applied::Duplicate(_) | Applied::Stale => self.stats.duplicates_applied += 1,
        }
        let Some(w) = waiting else { return };
        let ours = w.term == entry.term && (w.client, w.seq) == (cmd.client, cmd.seq);
        let reply = match applied.outcome() {
            Some(o) if ours => Reply {
                client: w.client,
                seq: w.seq,
                result: Ok(o.clone()),
            },
            _ => wrong_leader(w.client, w.seq, self.leader()),
        };
        out.replies.push(reply);
    }

    fn serve_reads(&mut self, out: &mut ServerReady) {
        for r in self.pending.take_reads_servable(self.applied) {
            let key = r.op.key();
            let value = self.kv.get(key).cloned();
            self.stats.reads_served += 1;
            out.replies.push(Reply {
                client: r.client,
                seq: r.seq,
                result: Ok(Outcome::Value(value)),
            });
        }
    }

    /// Writes proposed in a term this server no longer leads cannot be vouched for.
    fn check_leadership(&mut self, out: &mut ServerReady) {
        let node = self.raft.node();
        let now = (node.role() == Role::Leader).then(|| node.term());
        if now == self.leading {
            return;
        }
        self.leading = now;
        let keep = now.unwrap_or(Term::MAX);
        for w in self.pending.take_writes_not_of(keep) {
            out.replies
                .push(wrong_leader(w.client, w.seq, self.leader()));
        }
    }

    fn expire(&mut self, out: &mut ServerReady) {
        for Expired { client, seq } in self.pending.take_expired(self.ticks) {
            self.stats.timeouts += 1;
            out.replies.push(Reply {
                client,
                seq,
                result: Err(KvError::Timeout),
            });
        }
    }
}

mod request;
mod snapshot;

pub(crate) fn wrong_leader(
    client: crate::op::ClientId,
    seq: u64,
    leader: Option<raft_core::NodeId>,
) -> Reply {
    Reply {
        client,
        seq,
        result: Err(KvError::WrongLeader { leader }),
    }
}

/// How a refused proposal or read looks to the client.
pub(crate) fn refusal(e: StepError) -> KvError {
    match e {
        StepError::NotLeader { leader } => KvError::WrongLeader { leader },
        StepError::TransferInProgress { to } => KvError::WrongLeader { leader: Some(to) },
        StepError::ProposalTooLarge { .. } => KvError::Rejected {
            reason: e.to_string(),
        },
        other => KvError::Busy {
            reason: other.to_string(),
        },
    }
}
