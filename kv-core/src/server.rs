//! The key/value server: a `raft_core::Node` plus the replicated [`KvState`], driven as
//! one state machine. Client requests become log entries (writes) or ReadIndex reads;
//! committed entries are applied inside [`Server::step`], so a reply leaves as soon as
//! its command applies.
//!
//! Applying before the driver has persisted the same `Ready` is safe: an entry is
//! committed only once a quorum holds it durably, and this server's in-memory state is
//! rebuilt from its snapshot and log after a crash anyway.

use raft_core::{Index, Input, LogPosition, Message, Node, RestoreError, RestoredState, Role};
use raft_core::{Ready, StepError, Term};
use thiserror::Error;

use crate::config::ServerConfig;
use crate::op::{KvError, Outcome, Reply, Request};
use crate::pending::{Expired, Pending};
use crate::state_machine::{Applied, Command, DecodeError, KvState};

/// Everything that can happen to a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerInput {
    Tick,
    /// A Raft message from a peer server.
    Message(Message),
    /// The driver made the writes of earlier `Ready`s durable up to here.
    Persisted(LogPosition),
    /// A client's request.
    Request(Request),
}

/// What the driver must do after a step: carry out each Raft `Ready` in order, as
/// documented on `raft_core::Ready`, except applying — the server already applied
/// `committed` and installed any snapshot — and send each reply to its client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use = "a ServerReady carries writes, messages and replies"]
pub struct ServerReady {
    pub raft: Vec<Ready>,
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
    node: Node,
    kv: KvState,
    pending: Pending,
    cfg: ServerConfig,
    ticks: u64,
    /// The last index applied to `kv` (equals the node's applied index between steps).
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
            node,
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
        &self.node
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
        let mut out = ServerReady::default();
        match input {
            ServerInput::Tick => {
                self.ticks += 1;
                self.step_raft(Input::Tick, &mut out);
                self.expire(&mut out);
            }
            ServerInput::Message(m) => self.step_raft(Input::Message(m), &mut out),
            ServerInput::Persisted(p) => self.step_raft(Input::Persisted(p), &mut out),
            ServerInput::Request(r) => self.request(r, &mut out),
        }
        self.maybe_snapshot(&mut out);
        self.assert_invariants();
        out
    }

    /// Steps the node with an input that cannot be refused.
    fn step_raft(&mut self, input: Input, out: &mut ServerReady) {
        let ready = self
            .node
            .step(input)
            .expect("ticks, messages and persistence reports are never refused");
        self.absorb(ready, out);
    }

    /// Takes what concerns the service out of a Raft `Ready`, hands the rest on.
    fn absorb(&mut self, mut ready: Ready, out: &mut ServerReady) {
        if ready.install_snapshot {
            let snapshot = ready.snapshot.as_ref().expect("install implies a snapshot");
            self.install(&snapshot.data, snapshot.meta.index, out);
        }
        for entry in std::mem::take(&mut ready.committed) {
            self.apply(&entry, out);
        }
        for r in std::mem::take(&mut ready.reads) {
            self.pending.confirm_read(r.id, r.index);
        }
        for id in std::mem::take(&mut ready.reads_aborted) {
            if let Some(r) = self.pending.take_read(id) {
                out.replies
                    .push(wrong_leader(r.client, r.seq, self.node.leader()));
            }
        }
        self.serve_reads(out);
        self.check_leadership(out);
        if !ready.is_empty() {
            out.raft.push(ready);
        }
    }

    fn install(&mut self, data: &[u8], index: Index, out: &mut ServerReady) {
        assert!(index > self.applied, "raft installs only newer snapshots");
        match KvState::restore(data) {
            Ok(kv) => self.kv = kv,
            Err(e) => self.failure = Some(e),
        }
        self.applied = index;
        self.stats.snapshots_installed += 1;
        let leader = self.node.leader();
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
                    .push(wrong_leader(w.client, w.seq, self.node.leader()));
            }
            return;
        }
        let cmd = match Command::decode(&entry.data) {
            Ok(cmd) => cmd,
            Err(_) => {
                self.stats.entries_undecodable += 1;
                if let Some(w) = waiting {
                    out.replies
                        .push(wrong_leader(w.client, w.seq, self.node.leader()));
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
            _ => wrong_leader(w.client, w.seq, self.node.leader()),
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
        let now = (self.node.role() == Role::Leader).then(|| self.node.term());
        if now == self.leading {
            return;
        }
        self.leading = now;
        let keep = now.unwrap_or(Term::MAX);
        for w in self.pending.take_writes_not_of(keep) {
            out.replies
                .push(wrong_leader(w.client, w.seq, self.node.leader()));
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
