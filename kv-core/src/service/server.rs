//! The generic server: a `raft_core::Node` plus the [`Replicated`] state (a
//! [`StateMachine`] and its sessions), driven as one state machine. Client requests
//! become log entries (writes) or ReadIndex reads.
//! The node runs inside a [`Pipeline`], which carries out the `Ready` contract: the
//! server applies what the pipeline releases (committed entries, installed snapshots,
//! confirmed reads) inside [`Server::step`], so a reply leaves as soon as its command
//! applies; the driver only sends messages and makes writes durable.

use raft_core::RestoredState;
use raft_core::{Apply, Index, Input, Message, Node, Observer, Pipeline, RestoreError};
use raft_core::{Role, Term, Work, Write, WriteId, TICKS_PER_INPUT_MAX};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::config::ServerConfig;
use super::message::{ClientId, Reply, Request, ServiceError};
use super::pending::{Expired, Pending};
use super::replicated::Replicated;
use super::session::{Applied, Command};
use super::state_machine::{DecodeError, StateMachine};

/// Everything that can happen to a server; `O` is the state machine's client operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerInput<O> {
    Tick,
    /// A Raft message from a peer server.
    Message(Message),
    /// The driver made this write durable (the oldest one it was handed and has not
    /// reported yet: writes are reported in order).
    Persisted(WriteId),
    /// A client's request.
    Request(Request<O>),
    /// Requests that arrived together (a driver's turn of its event loop), taken in
    /// order: reads start as they would one by one, and the writes go into the log as
    /// one batch (one append to each follower, one write to the disk).
    Requests(Vec<Request<O>>),
    /// This many ticks at once: what a driver that slept until
    /// [`Server::ticks_until_due`] hands in. Up to that many it is exactly that many
    /// `Tick`s; past it, the same ticks with their effects gathered in one step. More
    /// than `raft_core::TICKS_PER_INPUT_MAX` (11 minutes of 10 ms ticks, past every
    /// timer) count as that many, so one input cannot keep a server busy for long.
    /// (New variants go last: recorded traces keep decoding.)
    Ticks(u32),
}

/// What the driver must do after a step: send the messages, make the writes durable in
/// order (each reported back as `ServerInput::Persisted`), and send each reply to its
/// client. Applying is done: the server applies what its pipeline releases.
/// `T` is the state machine's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[must_use = "a ServerReady carries writes, messages and replies"]
pub struct ServerReady<T> {
    pub messages: Vec<Message>,
    pub writes: Vec<Write>,
    pub replies: Vec<Reply<T>>,
}

impl<T> Default for ServerReady<T> {
    fn default() -> Self {
        ServerReady {
            messages: Vec::new(),
            writes: Vec::new(),
            replies: Vec::new(),
        }
    }
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Snapshots the node refused as larger than `snapshot_bytes_max`: the log keeps
    /// growing until the limit is raised (or the state shrinks).
    pub snapshots_refused_too_large: u64,
}

pub struct Server<S: StateMachine> {
    raft: Pipeline,
    state: Replicated<S>,
    pending: Pending<S::Query>,
    cfg: ServerConfig,
    ticks: u64,
    /// The last index applied to `state`: at most the node's applied index, which counts
    /// entries handed to the pipeline, some still waiting behind a write.
    applied: Index,
    /// The term this server led in when pending writes were last checked.
    leading: Option<Term>,
    /// A snapshot from the leader did not decode: this replica's state is unknown. It
    /// halts (crash-stop, as etcd does): it applies, snapshots, votes and sends nothing
    /// more, and answers clients `Busy`; a restart reads the same snapshot from disk and
    /// fails with `ServerError::Snapshot`, so an operator sees why.
    failure: Option<DecodeError>,
    /// After a snapshot was refused as too large, the applied index at which to try
    /// again: serializing the whole state on every step would be the real outage.
    snapshot_retry_applied: Index,
    stats: ServerStats,
}

impl<S: StateMachine> Server<S> {
    /// Starts from what the disk holds (`RestoredState::default()` on first boot).
    pub fn new(cfg: ServerConfig, restored: RestoredState) -> Result<Self, ServerError> {
        // The state's tables are keyed from the node's own seed: a client cannot
        // predict where its keys land (see `StateMachine::with_hash_seed`).
        let state = match &restored.snapshot {
            Some(s) => Replicated::restore_with_hash_seed(&s.data, cfg.raft.seed)?,
            None => Replicated::with_hash_seed(cfg.raft.seed),
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
            state,
            pending: Pending::new(cfg.pending_max),
            cfg,
            ticks: 0,
            applied,
            leading: None,
            failure: None,
            snapshot_retry_applied: 0,
            stats: ServerStats::default(),
        })
    }

    /// The write the next `ServerInput::Persisted` must name, if any is in flight.
    pub fn oldest_write_in_flight(&self) -> Option<WriteId> {
        self.raft.oldest_write_in_flight()
    }

    pub fn node(&self) -> &Node {
        self.raft.node()
    }

    /// The application's state machine.
    pub fn state(&self) -> &S {
        self.state.machine()
    }

    /// The state machine with its session table, as a snapshot carries them.
    pub fn replicated(&self) -> &Replicated<S> {
        &self.state
    }

    pub fn stats(&self) -> &ServerStats {
        &self.stats
    }

    pub fn applied(&self) -> Index {
        self.applied
    }

    /// Why this replica halted, if it did (see the field's docs). A driver should stop
    /// the process with this error: nothing it feeds in will do anything but refuse.
    pub fn failure(&self) -> Option<&DecodeError> {
        self.failure.as_ref()
    }

    /// What a client of a halted replica is told.
    fn halted_reason(&self) -> Option<String> {
        let e = self.failure.as_ref()?;
        Some(format!(
            "replica halted: a snapshot from the leader did not decode ({e}); fix and restart it"
        ))
    }

    pub fn step(&mut self, input: ServerInput<S::Op>) -> ServerReady<S::Output> {
        self.step_observed(input, &mut ())
    }

    /// [`Server::step`], with every Raft input and `Ready` shown to `observer` (the
    /// simulator's invariant checker hooks in here).
    pub fn step_observed(
        &mut self,
        input: ServerInput<S::Op>,
        obs: &mut dyn Observer,
    ) -> ServerReady<S::Output> {
        let mut out = ServerReady::default();
        if self.failure.is_some() {
            match input {
                ServerInput::Request(r) => self.request(r, obs, &mut out), // refused: see `refuse_reason`
                ServerInput::Requests(rs) => self.requests(rs, obs, &mut out),
                _ => {}
            }
            return out;
        }
        match input {
            ServerInput::Tick => self.tick(1, obs, &mut out),
            ServerInput::Ticks(count) => self.tick(count, obs, &mut out),
            ServerInput::Message(m) => self.step_raft(Input::Message(m), obs, &mut out),
            ServerInput::Persisted(id) => {
                let work = self.raft.persisted_observed(id, obs);
                self.absorb(work, &mut out);
            }
            ServerInput::Request(r) => self.request(r, obs, &mut out),
            ServerInput::Requests(rs) => self.requests(rs, obs, &mut out),
        }
        self.maybe_snapshot(obs, &mut out);
        self.assert_invariants();
        out
    }

    /// `count` ticks: Raft's timers, then the requests whose deadline passed.
    fn tick(&mut self, count: u32, obs: &mut dyn Observer, out: &mut ServerReady<S::Output>) {
        let count = count.min(TICKS_PER_INPUT_MAX);
        self.ticks += u64::from(count);
        let input = match count {
            1 => Input::Tick,
            count => Input::Ticks { count },
        };
        self.step_raft(input, obs, out);
        self.expire(out);
    }

    /// How many ticks from now until one may act: Raft's
    /// [`raft_core::Node::ticks_until_due`], or sooner if a request's deadline falls
    /// first. A driver may sleep until then and hand the ticks in as
    /// [`ServerInput::Ticks`]. A halted server is never due (it ignores ticks).
    pub fn ticks_until_due(&self) -> u32 {
        if self.failure.is_some() {
            return TICKS_PER_INPUT_MAX;
        }
        let raft = self.raft.node().ticks_until_due();
        let expiry = self
            .pending
            .deadline_tick_min()
            .map_or(u32::MAX, |deadline| {
                let ticks = deadline.saturating_sub(self.ticks).max(1);
                u32::try_from(ticks).unwrap_or(u32::MAX)
            });
        let due = raft.min(expiry);
        assert!(due >= 1, "the next tick is the soonest one can act");
        due
    }

    /// Steps the node with an input that cannot be refused.
    fn step_raft(
        &mut self,
        input: Input,
        obs: &mut dyn Observer,
        out: &mut ServerReady<S::Output>,
    ) {
        let work = self
            .raft
            .step_observed(input, obs)
            .expect("ticks and messages are never refused");
        self.absorb(work, out);
    }

    /// Hands messages and writes to the driver; carries out what the pipeline released.
    fn absorb(&mut self, work: Work, out: &mut ServerReady<S::Output>) {
        out.messages.extend(work.messages);
        out.writes.extend(work.writes);
        for apply in work.applies {
            if self.failure.is_some() {
                return; // halted: nothing more is applied onto an unknown state
            }
            self.apply_released(apply, out);
        }
        self.serve_reads(out);
        self.check_leadership(out);
    }

    fn apply_released(&mut self, apply: Apply, out: &mut ServerReady<S::Output>) {
        if let Some(snapshot) = &apply.install {
            self.install(&snapshot.data, snapshot.meta.index, out);
            if let Some(reason) = self.halted_reason() {
                return self.halt(reason, out);
            }
        }
        for entry in &apply.committed {
            self.apply(entry, out);
        }
        for r in apply.reads {
            self.pending.confirm_read(r.id, r.index);
        }
        for id in apply.reads_aborted {
            if let Some(r) = self.pending.take_read(id) {
                out.replies.push(self.wrong_leader(r.client, r.seq));
            }
        }
    }

    fn leader(&self) -> Option<raft_core::NodeId> {
        self.raft.node().leader()
    }

    fn wrong_leader(&self, client: ClientId, seq: u64) -> Reply<S::Output> {
        Reply::wrong_leader(client, seq, self.leader())
    }

    fn install(&mut self, data: &[u8], index: Index, out: &mut ServerReady<S::Output>) {
        assert!(index > self.applied, "raft installs only newer snapshots");
        match Replicated::restore_with_hash_seed(data, self.cfg.raft.seed) {
            Ok(state) => self.state = state,
            Err(e) => self.failure = Some(e),
        }
        self.applied = index;
        self.stats.snapshots_installed += 1;
        for w in self.pending.take_writes_through(index) {
            // Its entry may or may not be in the snapshot: the client's retry finds out.
            out.replies.push(self.wrong_leader(w.client, w.seq));
        }
    }

    fn apply(&mut self, entry: &raft_core::Entry, out: &mut ServerReady<S::Output>) {
        assert_eq!(entry.index, self.applied + 1, "entries apply in order");
        self.applied = entry.index;
        let waiting = self.pending.take_write(entry.index);
        let cmd = match entry.kind {
            raft_core::EntryKind::Normal => Command::<S::Command>::decode(&entry.data),
            _ => {
                if let Some(w) = waiting {
                    out.replies.push(self.wrong_leader(w.client, w.seq));
                }
                return;
            }
        };
        let Ok(cmd) = cmd else {
            // Every replica decodes the same bytes the same way, so all skip it alike.
            self.stats.entries_undecodable += 1;
            if let Some(w) = waiting {
                out.replies.push(self.wrong_leader(w.client, w.seq));
            }
            return;
        };
        let applied = self.state.apply(&cmd);
        match &applied {
            Applied::Fresh(_) => self.stats.writes_applied += 1,
            Applied::Duplicate(_) | Applied::Stale => self.stats.duplicates_applied += 1,
        }
        let Some(w) = waiting else { return };
        // Another command in our slot (another term, or another client's at the same
        // index) means ours was lost: say so, never hand over someone else's outcome.
        let ours = w.term == entry.term && (w.client, w.seq) == (cmd.client, cmd.seq);
        let reply = match applied {
            Applied::Fresh(o) | Applied::Duplicate(o) if ours => Reply {
                client: w.client,
                seq: w.seq,
                result: Ok(o),
            },
            _ => self.wrong_leader(w.client, w.seq),
        };
        out.replies.push(reply);
    }

    fn serve_reads(&mut self, out: &mut ServerReady<S::Output>) {
        for r in self.pending.take_reads_servable(self.applied) {
            let output = self.state.query(&r.query);
            self.stats.reads_served += 1;
            out.replies.push(Reply {
                client: r.client,
                seq: r.seq,
                result: Ok(output),
            });
        }
    }

    /// Writes proposed in a term this server no longer leads cannot be vouched for.
    fn check_leadership(&mut self, out: &mut ServerReady<S::Output>) {
        let node = self.raft.node();
        let now = (node.role() == Role::Leader).then(|| node.term());
        if now == self.leading {
            return;
        }
        self.leading = now;
        let keep = now.unwrap_or(Term::MAX);
        for w in self.pending.take_writes_not_of(keep) {
            out.replies.push(self.wrong_leader(w.client, w.seq));
        }
    }

    /// Crash-stop after a failed install: every waiting client hears why, now, rather
    /// than at its deadline (a halted server ignores ticks).
    fn halt(&mut self, reason: String, out: &mut ServerReady<S::Output>) {
        assert!(self.failure.is_some(), "halting follows a failed install");
        for Expired { client, seq } in self.pending.take_expired(u64::MAX) {
            let error = ServiceError::Busy {
                reason: reason.clone(),
            };
            out.replies.push(Reply::err(client, seq, error));
        }
        assert_eq!(
            self.pending.len(),
            0,
            "nobody is left waiting on a halted replica"
        );
    }

    fn expire(&mut self, out: &mut ServerReady<S::Output>) {
        for Expired { client, seq } in self.pending.take_expired(self.ticks) {
            self.stats.timeouts += 1;
            out.replies
                .push(Reply::err(client, seq, ServiceError::Timeout));
        }
    }
}

mod request;
mod snapshot;
