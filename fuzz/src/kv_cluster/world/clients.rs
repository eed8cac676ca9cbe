//! The clients of a `kv_cluster` run: clerks, what they are asked, and the history of
//! every call and return, checked for linearizability when the run ends.

use kv_core::service::{ClerkInput, ClerkReady};
use kv_core::ClientId;
use kv_sim::history::HistoryOp;

use super::{Packet, Summary, World, CLIENT_ID_BASE};
use crate::kv_cluster::Service;

impl<S: Service> World<S> {
    /// Ends the run: the history must be linearizable.
    pub fn finish(mut self) -> Summary {
        for slot in 0..self.servers.len() {
            self.count_stats(slot);
        }
        self.summary.check_unknown = crate::kv_cluster::unknown_or_panic(S::check(&self.history));
        Summary {
            partitioned: self.net.partitioned,
            ..self.summary
        }
    }

    pub(super) fn tick_clerks(&mut self) {
        for c in 0..self.clients.len() {
            self.step_clerk(c, ClerkInput::Tick);
        }
    }

    pub(super) fn submit(&mut self, c: usize, ask: S::Ask) {
        if !self.clients[c].clerk.is_idle() {
            return;
        }
        let op = self.op(ask);
        self.clock += 1;
        self.history.push(HistoryOp::<S::Op, S::Output> {
            client: c,
            op: op.clone(),
            call: self.clock,
            ret: None,
        });
        self.clients[c].current = Some(self.history.len() - 1);
        self.summary.ops_called += 1;
        self.step_clerk(c, ClerkInput::Submit(op));
    }

    /// The operation `ask` means; every value written is distinct, so the checker can
    /// tell writes apart.
    fn op(&mut self, ask: S::Ask) -> S::Op {
        self.writes += 1;
        S::op(ask, self.writes)
    }

    pub(super) fn step_clerk(&mut self, c: usize, input: ClerkInput<S::Op, S::Output>) {
        let client = &mut self.clients[c];
        let ClerkReady { send, completed } = match client.clerk.step(input) {
            Ok(ready) => ready,
            Err(busy) => panic!("clerk {c} refused an input while busy with {}", busy.seq),
        };
        for (to, request) in send {
            self.net.send(Packet::Request { to, request });
        }
        if let Some(done) = completed {
            let at = client
                .current
                .take()
                .expect("a completion answers an operation in flight");
            let op = &mut self.history[at];
            assert_eq!(op.op, done.op, "clerk {c} completed another operation");
            self.clock += 1;
            self.summary.ops_ok += u64::from(done.result.is_ok());
            op.ret = Some((self.clock, done.result));
        }
    }
}

pub(super) fn clerk_of(client: ClientId, clerks: usize) -> Option<usize> {
    let c = usize::try_from(client.checked_sub(CLIENT_ID_BASE)?).ok()?;
    (c < clerks).then_some(c)
}
