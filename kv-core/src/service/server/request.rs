//! Accepting client requests: answer from the session table, start a ReadIndex read, or
//! propose log entries, and remember each one's (term, index) to answer when it applies.
//! Requests taken together share the work: their reads are confirmed by one heartbeat
//! round, their writes travel as one batch of entries.

use raft_core::{Input, Observer};

use super::{Server, ServerReady};
use crate::service::message::{ClientId, Reply, Request, ServiceError};
use crate::service::pending::{PendingRead, PendingWrite};
use crate::service::session::Command;
use crate::service::state_machine::{Access, StateMachine};

impl<S: StateMachine> Server<S> {
    pub(super) fn request(
        &mut self,
        r: Request<S::Op>,
        obs: &mut dyn Observer,
        out: &mut ServerReady<S::Output>,
    ) {
        self.requests(vec![r], obs, out);
    }

    /// Requests taken together: each refused or answered from the session table as it
    /// comes; then the reads start, as one batch, and the writes left are proposed as
    /// one batch.
    pub(super) fn requests(
        &mut self,
        requests: Vec<Request<S::Op>>,
        obs: &mut dyn Observer,
        out: &mut ServerReady<S::Output>,
    ) {
        let mut writes = Vec::new();
        let mut reads = Vec::new();
        for r in requests {
            if let Some(reason) = self.refuse_reason(&r, writes.len()) {
                out.replies.push(Reply::err(r.client, r.seq, reason));
                continue;
            }
            let (client, seq) = (r.client, r.seq);
            match S::route(r.op) {
                Access::Read(query) => reads.push(self.add_read(client, seq, query)),
                Access::Write(op) => {
                    if !self.answered_from_sessions(client, seq, out) {
                        writes.push(Command { client, seq, op });
                    }
                }
            }
        }
        self.start_reads(reads, obs, out);
        self.propose(writes, obs, out);
    }

    /// Requests answered at once without touching Raft, and why; `queued` writes of the
    /// same batch are not pending yet but will be.
    fn refuse_reason(&mut self, r: &Request<S::Op>, queued: usize) -> Option<ServiceError> {
        if let Some(reason) = self.halted_reason() {
            return Some(ServiceError::Busy { reason });
        }
        // Half an entry: the envelope and Raft's own framing must still fit around it.
        let max_bytes = self.cfg.raft.entry_bytes_max / 2;
        let op_bytes = postcard::experimental::serialized_size(&r.op).expect("an op encodes");
        if op_bytes > max_bytes {
            return Some(ServiceError::Rejected {
                reason: format!("an operation of {op_bytes} bytes; the limit is {max_bytes}"),
            });
        }
        if self.pending.len() + queued >= self.cfg.pending_max {
            return Some(ServiceError::Busy {
                reason: format!("{} requests are already waiting", self.cfg.pending_max),
            });
        }
        None
    }

    /// Remembers a read until Raft confirms it; returns its id and who asked.
    fn add_read(&mut self, client: ClientId, seq: u64, query: S::Query) -> (u64, ClientId, u64) {
        let id = self.pending.add_read(PendingRead {
            client,
            seq,
            query,
            deadline_tick: self.ticks + self.cfg.request_timeout_ticks,
            index: None,
        });
        (id, client, seq)
    }

    /// Asks Raft to confirm `reads` (one heartbeat round for all); if it refuses, each
    /// gets the refusal.
    fn start_reads(
        &mut self,
        reads: Vec<(u64, ClientId, u64)>,
        obs: &mut dyn Observer,
        out: &mut ServerReady<S::Output>,
    ) {
        let input = match reads[..] {
            [] => return,
            [(id, _, _)] => Input::Read { id },
            _ => Input::ReadBatch {
                ids: reads.iter().map(|&(id, _, _)| id).collect(),
            },
        };
        match self.raft.step_observed(input, obs) {
            Ok(work) => self.absorb(work, out),
            Err(e) => {
                for (id, client, seq) in reads {
                    self.pending.cancel_read(id);
                    let e = ServiceError::from_refusal(e.clone());
                    out.replies.push(Reply::err(client, seq, e));
                }
            }
        }
    }

    /// Whether the session table answered this write (applied before) or nobody waits
    /// for it any more (the client moved past it); either way it is not proposed.
    fn answered_from_sessions(
        &mut self,
        client: ClientId,
        seq: u64,
        out: &mut ServerReady<S::Output>,
    ) -> bool {
        if let Some(outcome) = self.state.cached(client, seq) {
            // Applied before: it is committed, so any replica may answer.
            self.stats.duplicates_answered += 1;
            let result = Ok(outcome.clone());
            out.replies.push(Reply {
                client,
                seq,
                result,
            });
            return true;
        }
        self.state.is_stale(client, seq)
    }

    /// Proposes `writes` as one batch of consecutive entries (one entry without the
    /// vector around it), each remembered at its index to be answered when it applies.
    fn propose(
        &mut self,
        mut writes: Vec<Command<S::Command>>,
        obs: &mut dyn Observer,
        out: &mut ServerReady<S::Output>,
    ) {
        let input = match writes.len() {
            0 => return,
            1 => Input::Propose {
                data: writes[0].encode(),
            },
            _ => Input::ProposeBatch {
                batch: writes.iter().map(Command::encode).collect(),
            },
        };
        match self.raft.step_observed(input, obs) {
            Ok(mut work) => {
                let last = work
                    .proposed
                    .take()
                    .expect("an accepted proposal has a position");
                let n = writes.len() as raft_core::Index;
                assert!(last.index >= n, "a batch of {n} ends at {}", last.index);
                let deadline_tick = self.ticks + self.cfg.request_timeout_ticks;
                for (index, cmd) in (last.index + 1 - n..).zip(writes.drain(..)) {
                    let write = PendingWrite {
                        term: last.term,
                        client: cmd.client,
                        seq: cmd.seq,
                        deadline_tick,
                    };
                    self.pending.add_write(index, write);
                }
                self.absorb(work, out);
            }
            Err(e) => {
                for cmd in writes {
                    let e = ServiceError::from_refusal(e.clone());
                    out.replies.push(Reply::err(cmd.client, cmd.seq, e));
                }
            }
        }
    }
}
