//! The client side: a pure state machine that turns one operation at a time into
//! requests, finds the leader, and retries until some server answers.
//!
//! Each operation gets the next sequence number and keeps it across every retry, so the
//! servers' session table applies a write at most once however often it is resent. A
//! reply for an older sequence number is ignored; a late reply to an earlier attempt of
//! the current operation is as good as any other (it describes the same operation).
//!
//! A client id must never be reused with restarted sequence numbers: a driver gives each
//! clerk a fresh id (e.g. random 64 bits) when it is created.

use std::marker::PhantomData;

use raft_core::NodeId;
use serde::{Deserialize, Serialize};

use super::message::{ClientId, Reply, Request, ServiceError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClerkConfig {
    pub client: ClientId,
    /// Every server of the cluster, in a fixed order.
    pub servers: Vec<NodeId>,
    /// Resend to the next server when no reply came within this many ticks (the request
    /// or its reply may be lost, or the server may be cut off).
    pub retry_ticks: u64,
    /// After asking every server once in vain, wait this long before the next round.
    pub backoff_ticks: u64,
}

impl ClerkConfig {
    /// Defaults for a 10 ms tick: resend after 250 ms, pause 50 ms after each full round.
    pub fn new(client: ClientId, servers: Vec<NodeId>) -> Self {
        ClerkConfig {
            client,
            servers,
            retry_ticks: 25,
            backoff_ticks: 5,
        }
    }
}

/// Everything that can happen to a clerk: `O` is the operation it carries, `T` what the
/// operation returns (the state machine's `Op` and `Output`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClerkInput<O, T> {
    /// Start an operation; refused while one is outstanding.
    Submit(O),
    /// A server's reply arrived.
    Reply {
        from: NodeId,
        reply: Reply<T>,
    },
    Tick,
}

/// A finished operation: its outcome, or why it can never succeed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion<O, T> {
    pub seq: u64,
    pub op: O,
    pub result: Result<T, ServiceError>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[must_use = "a ClerkReady carries requests to send"]
pub struct ClerkReady<O, T> {
    pub send: Vec<(NodeId, Request<O>)>,
    pub completed: Option<Completion<O, T>>,
}

impl<O, T> Default for ClerkReady<O, T> {
    fn default() -> Self {
        ClerkReady {
            send: Vec::new(),
            completed: None,
        }
    }
}

#[derive(Clone, Debug)]
struct InFlight<O> {
    seq: u64,
    op: O,
    /// Index into `servers` of the server asked last.
    target: usize,
    /// When the last request left; `None` while backing off.
    sent_tick: Option<u64>,
    resend_tick: u64,
    attempts: u64,
}

/// The clerk is generic only in what it carries: it never looks inside an operation or
/// its outcome, only at the reply's envelope and error.
pub struct Clerk<O, T> {
    cfg: ClerkConfig,
    /// The server believed to lead (index into `servers`).
    leader: usize,
    seq: u64,
    ticks: u64,
    inflight: Option<InFlight<O>>,
    /// Replies ignored because they answered an earlier operation.
    pub replies_stale: u64,
    pub requests_sent: u64,
    _output: PhantomData<fn() -> T>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("operation {seq} is still outstanding; a clerk runs one at a time")]
pub struct ClerkBusy {
    pub seq: u64,
}

impl<O: Clone, T> Clerk<O, T> {
    pub fn new(cfg: ClerkConfig) -> Self {
        assert!(!cfg.servers.is_empty(), "a clerk needs servers");
        assert!(cfg.retry_ticks > 0, "retry_ticks must be positive");
        Clerk {
            cfg,
            leader: 0,
            seq: 0,
            ticks: 0,
            inflight: None,
            replies_stale: 0,
            requests_sent: 0,
            _output: PhantomData,
        }
    }

    pub fn client(&self) -> ClientId {
        self.cfg.client
    }

    pub fn is_idle(&self) -> bool {
        self.inflight.is_none()
    }

    pub fn step(&mut self, input: ClerkInput<O, T>) -> Result<ClerkReady<O, T>, ClerkBusy> {
        let mut out = ClerkReady::default();
        match input {
            ClerkInput::Submit(op) => self.submit(op, &mut out)?,
            ClerkInput::Reply { from, reply } => self.on_reply(from, reply, &mut out),
            ClerkInput::Tick => self.tick(&mut out),
        }
        Ok(out)
    }

    fn submit(&mut self, op: O, out: &mut ClerkReady<O, T>) -> Result<(), ClerkBusy> {
        if let Some(f) = &self.inflight {
            return Err(ClerkBusy { seq: f.seq });
        }
        self.seq += 1;
        self.inflight = Some(InFlight {
            seq: self.seq,
            op,
            target: self.leader,
            sent_tick: None,
            resend_tick: self.ticks,
            attempts: 0,
        });
        self.send(out);
        Ok(())
    }

    fn on_reply(&mut self, from: NodeId, reply: Reply<T>, out: &mut ClerkReady<O, T>) {
        let Some(f) = &self.inflight else {
            self.replies_stale += 1;
            return;
        };
        if reply.client != self.cfg.client || reply.seq != f.seq {
            self.replies_stale += 1;
            return;
        }
        let from_index = self.cfg.servers.iter().position(|&s| s == from);
        let from_target = from_index == Some(f.target);
        match reply.result {
            Ok(outcome) => self.complete(Ok(outcome), from_index, out),
            Err(e @ ServiceError::Rejected { .. }) => self.complete(Err(e), None, out),
            // Only the server asked last may redirect us: a late error from an earlier
            // attempt must not pull us away from a newer target.
            Err(_) if !from_target => {}
            Err(ServiceError::WrongLeader { leader: Some(hint) }) if hint != from => {
                self.retry_at(self.cfg.servers.iter().position(|&s| s == hint), out)
            }
            Err(_) => self.retry_at(None, out),
        }
    }

    fn complete(
        &mut self,
        result: Result<T, ServiceError>,
        from: Option<usize>,
        out: &mut ClerkReady<O, T>,
    ) {
        let f = self
            .inflight
            .take()
            .expect("completing an operation in flight");
        if let Some(i) = from {
            self.leader = i;
        }
        out.completed = Some(Completion {
            seq: f.seq,
            op: f.op,
            result,
        });
    }

    /// Moves to `hint` (a known leader) or the next server, and sends — at once, unless a
    /// full round of servers just failed, in which case after the backoff.
    fn retry_at(&mut self, hint: Option<usize>, out: &mut ClerkReady<O, T>) {
        let n = self.cfg.servers.len();
        let f = self
            .inflight
            .as_mut()
            .expect("retrying an operation in flight");
        f.target = hint.unwrap_or((f.target + 1) % n);
        self.leader = f.target;
        f.sent_tick = None;
        f.resend_tick = if f.attempts.is_multiple_of(n as u64) {
            self.ticks + self.cfg.backoff_ticks
        } else {
            self.ticks
        };
        self.send(out);
    }

    fn tick(&mut self, out: &mut ClerkReady<O, T>) {
        self.ticks += 1;
        let Some(f) = &self.inflight else { return };
        match f.sent_tick {
            Some(sent) if self.ticks - sent >= self.cfg.retry_ticks => self.retry_at(None, out),
            Some(_) => {}
            None => self.send(out),
        }
    }

    /// Sends the operation to its target if the backoff allows.
    fn send(&mut self, out: &mut ClerkReady<O, T>) {
        let f = self
            .inflight
            .as_mut()
            .expect("sending an operation in flight");
        if f.sent_tick.is_some() || self.ticks < f.resend_tick {
            return;
        }
        f.sent_tick = Some(self.ticks);
        f.attempts += 1;
        self.requests_sent += 1;
        let request = Request {
            client: self.cfg.client,
            seq: f.seq,
            op: f.op.clone(),
        };
        out.send.push((self.cfg.servers[f.target], request));
    }
}

#[cfg(test)]
mod tests;
