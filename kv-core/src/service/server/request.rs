//! Accepting a client request: answer from the session table, start a ReadIndex read, or
//! propose a log entry and remember (term, index) to answer when it applies.

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
        if let Some(reason) = self.refuse_reason(&r) {
            out.replies.push(Reply::err(r.client, r.seq, reason));
            return;
        }
        match S::route(r.op) {
            Access::Read(query) => self.read(r.client, r.seq, query, obs, out),
            Access::Write(op) => self.write(
                Command {
                    client: r.client,
                    seq: r.seq,
                    op,
                },
                obs,
                out,
            ),
        }
    }

    /// Requests answered at once without touching Raft, and why.
    fn refuse_reason(&mut self, r: &Request<S::Op>) -> Option<ServiceError> {
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
        if self.pending.is_full() {
            return Some(ServiceError::Busy {
                reason: format!("{} requests are already waiting", self.cfg.pending_max),
            });
        }
        None
    }

    fn read(
        &mut self,
        client: ClientId,
        seq: u64,
        query: S::Query,
        obs: &mut dyn Observer,
        out: &mut ServerReady<S::Output>,
    ) {
        let id = self.pending.add_read(PendingRead {
            client,
            seq,
            query,
            deadline_tick: self.ticks + self.cfg.request_timeout_ticks,
            index: None,
        });
        match self.raft.step_observed(Input::Read { id }, obs) {
            Ok(work) => self.absorb(work, out),
            Err(e) => {
                self.pending.cancel_read(id);
                let e = ServiceError::from_refusal(e);
                out.replies.push(Reply::err(client, seq, e));
            }
        }
    }

    fn write(
        &mut self,
        cmd: Command<S::Command>,
        obs: &mut dyn Observer,
        out: &mut ServerReady<S::Output>,
    ) {
        let (client, seq) = (cmd.client, cmd.seq);
        if let Some(outcome) = self.state.cached(client, seq) {
            // Applied before: it is committed, so any replica may answer.
            self.stats.duplicates_answered += 1;
            let result = Ok(outcome.clone());
            out.replies.push(Reply {
                client,
                seq,
                result,
            });
            return;
        }
        if self.state.is_stale(client, seq) {
            return; // The client already moved past this operation; nobody waits for it.
        }
        let data = cmd.encode();
        match self.raft.step_observed(Input::Propose { data }, obs) {
            Ok(mut work) => {
                let at = work
                    .proposed
                    .take()
                    .expect("an accepted proposal has a position");
                let deadline_tick = self.ticks + self.cfg.request_timeout_ticks;
                let write = PendingWrite {
                    term: at.term,
                    client,
                    seq,
                    deadline_tick,
                };
                self.pending.add_write(at.index, write);
                self.absorb(work, out);
            }
            Err(e) => {
                let e = ServiceError::from_refusal(e);
                out.replies.push(Reply::err(client, seq, e));
            }
        }
    }
}
