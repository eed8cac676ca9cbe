//! Accepting a client request: answer from the session table, start a ReadIndex read, or
//! propose a log entry and remember (term, index) to answer when it applies.

use raft_core::{Input, Observer};

use super::{refusal, Server, ServerReady};
use crate::op::{KvError, Reply, Request};
use crate::pending::{PendingRead, PendingWrite};
use crate::state_machine::Command;

impl Server {
    pub(super) fn request(&mut self, r: Request, obs: &mut dyn Observer, out: &mut ServerReady) {
        if let Some(reason) = self.refuse_reason(&r) {
            out.replies.push(reply_err(&r, reason));
            return;
        }
        if r.op.is_read() {
            self.read(r, obs, out);
        } else {
            self.write(r, obs, out);
        }
    }

    /// Requests answered at once without touching Raft, and why.
    fn refuse_reason(&mut self, r: &Request) -> Option<KvError> {
        if let Some(e) = &self.failure {
            return Some(KvError::Busy {
                reason: format!("replica state lost ({e}); restart it"),
            });
        }
        let max = self.cfg.raft.entry_bytes_max / 2;
        if r.op.payload_bytes() > max {
            return Some(KvError::Rejected {
                reason: format!(
                    "{} bytes of keys and values; the limit is {max}",
                    r.op.payload_bytes()
                ),
            });
        }
        if self.pending.is_full() {
            return Some(KvError::Busy {
                reason: format!("{} requests are already waiting", self.cfg.pending_max),
            });
        }
        None
    }

    fn read(&mut self, r: Request, obs: &mut dyn Observer, out: &mut ServerReady) {
        let (client, seq) = (r.client, r.seq);
        let id = self.pending.add_read(PendingRead {
            client,
            seq,
            op: r.op,
            deadline_tick: self.ticks + self.cfg.request_timeout_ticks,
            index: None,
        });
        match self.raft.step_observed(Input::Read { id }, obs) {
            Ok(work) => self.absorb(work, out),
            Err(e) => {
                self.pending.cancel_read(id);
                out.replies.push(Reply {
                    client,
                    seq,
                    result: Err(refusal(e)),
                });
            }
        }
    }

    fn write(&mut self, r: Request, obs: &mut dyn Observer, out: &mut ServerReady) {
        if let Some(outcome) = self.kv.cached(r.client, r.seq) {
            // Applied before: it is committed, so any replica may answer.
            self.stats.duplicates_answered += 1;
            let result = Ok(outcome.clone());
            out.replies.push(Reply {
                client: r.client,
                seq: r.seq,
                result,
            });
            return;
        }
        if self.kv.is_stale(r.client, r.seq) {
            return; // The client already moved past this operation; nobody waits for it.
        }
        let (client, seq) = (r.client, r.seq);
        let data = Command {
            client,
            seq,
            op: r.op,
        }
        .encode();
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
            Err(e) => out.replies.push(Reply {
                client,
                seq,
                result: Err(refusal(e)),
            }),
        }
    }
}

fn reply_err(r: &Request, e: KvError) -> Reply {
    Reply {
        client: r.client,
        seq: r.seq,
        result: Err(e),
    }
}
