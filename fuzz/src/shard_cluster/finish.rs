//! The clients of a `shard_cluster` run, and its end: heal, let every group reach the
//! controller's latest configuration and every client its answer, read every key, and
//! check the whole history for linearizability.

use kv_core::shardkv::{ShardClerkInput, ShardClerkReady, ShardOp};
use kv_sim::history::HistoryOp;
use kv_sim::shard::{to_kv, to_outcome};

use super::world::{Packet, World};
use super::{Ask, Summary};

/// The keys clerks use: one per shard (7, 8, 9 and 0), so every group holds some.
const KEYS: [&str; 4] = ["a", "b", "c", "d"];

/// Ticks the end may take to settle. A group steps one configuration in a few poll
/// periods (4 ticks each) once it has a leader; a run makes at most a few hundred.
const SETTLE_TICKS_MAX: u64 = 3_000;

impl World {
    pub(super) fn tick_clerks(&mut self) {
        for c in 0..self.clients.len() {
            self.step_clerk(c, ShardClerkInput::Tick);
        }
    }

    pub(super) fn submit(&mut self, c: usize, ask: Ask) {
        self.writes += 1;
        let key = |k: u8| KEYS[usize::from(k) % KEYS.len()].to_string();
        let value = format!("v{}", self.writes);
        let op = match ask {
            Ask::Get { key: k } => ShardOp::Get { key: key(k) },
            Ask::Put { key: k } => ShardOp::Put { key: key(k), value },
            Ask::Append { key: k } => ShardOp::Append { key: key(k), value },
        };
        self.submit_op(c, op);
    }

    fn submit_op(&mut self, c: usize, op: ShardOp) {
        if !self.clients[c].clerk.is_idle() {
            return;
        }
        self.clock += 1;
        self.history.push(HistoryOp {
            client: c,
            op: to_kv(&op),
            call: self.clock,
            ret: None,
        });
        self.clients[c].current = Some(self.history.len() - 1);
        self.summary.ops_called += 1;
        self.step_clerk(c, ShardClerkInput::Submit(op));
    }

    pub(super) fn step_clerk(&mut self, c: usize, input: ShardClerkInput) {
        let client = &mut self.clients[c];
        let ShardClerkReady {
            send,
            to_ctrl,
            completed,
        } = match client.clerk.step(input) {
            Ok(ready) => ready,
            Err(busy) => panic!("clerk {c} refused an input while busy with {}", busy.seq),
        };
        if let Some(done) = completed {
            let at = client
                .current
                .take()
                .expect("a completion answers an operation in flight");
            self.clock += 1;
            let op = &mut self.history[at];
            assert_eq!(
                op.op,
                to_kv(&done.op),
                "clerk {c} completed another operation"
            );
            self.summary.ops_ok += u64::from(done.result.is_ok());
            op.ret = Some((self.clock, to_outcome(&done.result)));
        }
        for (to, request) in send {
            self.net.send(Packet::ToGroup {
                from: None,
                to,
                request,
            });
        }
        for (_, request) in to_ctrl {
            self.net.send(Packet::ToCtrl(request));
        }
    }

    /// Ends the run: everything settles, every key reads, the history is linearizable.
    pub fn finish(mut self) -> Summary {
        self.summary.configs_stepped = self.configs_reached();
        self.finishing = true;
        self.net.partition(0);
        self.join_all_if_none();
        self.settle_until_quiet("every group reaches the latest configuration");
        for key in KEYS {
            self.submit_op(
                0,
                ShardOp::Get {
                    key: key.to_string(),
                },
            );
            self.settle_until_quiet("a final read is answered");
        }
        for slot in 0..self.servers.len() {
            self.count_stats(slot);
        }
        self.summary.check_unknown =
            crate::kv_cluster::unknown_or_panic(kv_sim::history::check(&self.history));
        Summary {
            partitioned: self.net.partitioned,
            ..self.summary
        }
    }

    /// The most configurations any server's group has stepped through.
    fn configs_reached(&self) -> u64 {
        let num = |r: &super::world::Replica| r.group.state().current().num;
        self.servers.iter().map(num).max().unwrap_or(0)
    }

    /// Ticks and settles, on a whole network, until every server is at the
    /// controller's latest configuration with every shard settled and every clerk
    /// idle; not getting there within `SETTLE_TICKS_MAX` is a finding.
    fn settle_until_quiet(&mut self, goal: &str) {
        while !self.quiet() {
            if self.summary.settle_ticks >= SETTLE_TICKS_MAX {
                panic!("stuck: not every {goal} within {SETTLE_TICKS_MAX} ticks of a whole network:\n{}", self.describe());
            }
            self.summary.settle_ticks += 1;
            self.tick_all();
            self.settle();
        }
    }

    fn quiet(&self) -> bool {
        let latest = self.ctrl.latest().num;
        let done = |r: &super::world::Replica| {
            let state = r.group.state();
            state.current().num == latest && state.settled()
        };
        self.servers.iter().all(done) && self.clients.iter().all(|c| c.clerk.is_idle())
    }

    fn describe(&self) -> String {
        let mut lines = vec![format!(
            "controller at configuration {}: {:?}",
            self.ctrl.latest().num,
            self.ctrl.latest()
        )];
        for (slot, r) in self.servers.iter().enumerate() {
            let state = r.group.state();
            lines.push(format!(
                "server {} of group {}: {:?} term {}, configuration {}, shards {:?}",
                slot + 1,
                self.gid_of(slot),
                r.group.server().node().role(),
                r.group.server().node().term(),
                state.current().num,
                state
                    .slots()
                    .iter()
                    .map(|(s, (st, _))| (*s, *st))
                    .collect::<Vec<_>>(),
            ));
        }
        for (c, client) in self.clients.iter().enumerate() {
            let busy = client.current.map(|at| &self.history[at].op);
            lines.push(format!("clerk {c}: {busy:?}"));
        }
        lines.join("\n")
    }
}
