//! Driving the shard world: clients running scripts or the course's workload (each
//! operation recorded in the history), the administrator's Join / Leave, the course's
//! ShutdownGroup / StartGroup, and the checks (linearizability, storage).

use std::time::Duration;

use kv_core::service::ServiceError;
use kv_core::shardkv::{ShardClerkInput, ShardOp, ShardOutput};
use kv_core::{CtrlOp, CtrlOutcome, Gid, Op, Outcome, ShardCtrlClerkInput};
use lincheck::{KvModel, Verdict};
use sim_kit::{id_of, slot_of, Sim, MS};

use super::world::{group_slots, ShardEvent, ShardWorld, CLIENT_BASE};
use crate::client::Workload;
use crate::history::{to_operations, Checked, HistoryOp};

/// A shard operation as the key/value model sees it (clients' operations only).
pub fn to_kv(op: &ShardOp) -> Op {
    match op.clone() {
        ShardOp::Get { key } => Op::Get { key },
        ShardOp::Put { key, value } => Op::Put { key, value },
        ShardOp::Append { key, value } => Op::Append { key, value },
        other => panic!("clients submit no {other:?}"),
    }
}

fn from_kv(op: Op) -> ShardOp {
    match op {
        Op::Get { key } => ShardOp::Get { key },
        Op::Put { key, value } => ShardOp::Put { key, value },
        Op::Append { key, value } => ShardOp::Append { key, value },
        other => panic!("the workload issues no {other:?}"),
    }
}

/// A client operation's answer as the key/value model sees it.
pub fn to_outcome(result: &Result<ShardOutput, ServiceError>) -> Result<Outcome, ServiceError> {
    match result {
        Ok(ShardOutput::Value(v)) => Ok(Outcome::Value(v.clone())),
        Ok(ShardOutput::Done) => Ok(Outcome::Done),
        Ok(other) => panic!("a client operation answered {other:?}"),
        Err(e) => Err(e.clone()),
    }
}

impl ShardWorld {
    pub(crate) fn step_client(&mut self, client: usize, input: ShardClerkInput) {
        let ready = match self.clients[client].clerk.step(input) {
            Ok(r) => r,
            Err(busy) => self.fail(&format!("client {client}: {busy}")),
        };
        let from = CLIENT_BASE + client as u64;
        for (to, request) in ready.send {
            let slot = slot_of(to);
            self.link(
                from,
                to,
                true,
                |request| ShardEvent::ToGroup {
                    from,
                    slot,
                    request,
                },
                request,
            );
        }
        for (to, request) in ready.to_ctrl {
            let slot = slot_of(to);
            self.link(
                from,
                to,
                true,
                |request| ShardEvent::ToCtrl {
                    from,
                    slot,
                    request,
                },
                request,
            );
        }
        if let Some(done) = ready.completed {
            let now = self.history_time();
            let c = &mut self.clients[client];
            let at = c
                .current
                .take()
                .expect("a completion answers the operation in flight");
            let h = &mut self.history[at];
            assert_eq!(
                h.op,
                to_kv(&done.op),
                "the clerk completed what it was given"
            );
            h.ret = Some((now, to_outcome(&done.result)));
            match done.result {
                Ok(out) => c.completed.push((done.op, out)),
                Err(e) => self.fail(&format!("client {client}: {:?} failed: {e}", done.op)),
            }
        }
        if self.clients[client].current.is_none() {
            self.start_next(client);
        }
    }

    fn start_next(&mut self, client: usize) {
        let c = &mut self.clients[client];
        let op = match c.script.pop_front() {
            Some(op) => op,
            None => match (c.workload.as_mut(), c.appender.as_mut()) {
                (Some(w), _) => from_kv(w.next(client, &mut self.world.rng)),
                (None, Some(a)) if a.running => {
                    let value = crate::client::append_value(client, a.count);
                    a.count += 1;
                    a.appended.push_str(&value);
                    ShardOp::Append {
                        key: a.key.clone(),
                        value,
                    }
                }
                _ => return,
            },
        };
        let call = self.history_time();
        let at = self.history.len();
        self.history.push(HistoryOp {
            client,
            op: to_kv(&op),
            call,
            ret: None,
        });
        self.clients[client].current = Some(at);
        self.step_client(client, ShardClerkInput::Submit(op));
    }

    pub(crate) fn tick_clients(&mut self) {
        for client in 0..self.clients.len() {
            self.step_client(client, ShardClerkInput::Tick);
        }
        self.step_admin(ShardCtrlClerkInput::Tick);
    }

    pub(crate) fn step_admin(&mut self, input: ShardCtrlClerkInput) {
        let ready = match self.admin.clerk.step(input) {
            Ok(r) => r,
            Err(busy) => self.fail(&format!("administrator: {busy}")),
        };
        let from = super::world::ADMIN;
        for (to, request) in ready.send {
            let slot = slot_of(to);
            self.link(
                from,
                to,
                true,
                |request| ShardEvent::ToCtrl {
                    from,
                    slot,
                    request,
                },
                request,
            );
        }
        if let Some(done) = ready.completed {
            self.admin.done = Some(done.result);
        }
    }

    /// A strictly increasing history time (see `ServiceWorld::history_time`).
    fn history_time(&mut self) -> u64 {
        let floor = self.now_us() * 1000;
        let t = floor.max(self.last_history_time + 1);
        assert!(
            t < floor + 1000,
            "over 1000 history events in one virtual µs"
        );
        self.last_history_time = t;
        t
    }

    /// Runs one controller operation to completion.
    pub fn admin_op(&mut self, op: CtrlOp, limit_ms: u64) -> CtrlOutcome {
        self.admin.done = None;
        self.step_admin(ShardCtrlClerkInput::Submit(op.clone()));
        let deadline = self.now_us() + limit_ms * MS;
        while self.admin.done.is_none() {
            if self.now_us() >= deadline {
                self.fail(&format!("administrator: {op:?} took over {limit_ms} ms"));
            }
            self.advance_us(MS);
        }
        match self.admin.done.take().expect("done") {
            Ok(outcome) => outcome,
            Err(e) => self.fail(&format!("administrator: {op:?} failed: {e}")),
        }
    }

    /// The course's join: group `gid` with its servers.
    pub fn join(&mut self, gids: &[Gid]) {
        let groups = gids.iter().map(|&g| (g, Self::server_names(g))).collect();
        match self.admin_op(CtrlOp::Join { groups }, 60_000) {
            CtrlOutcome::Configured { .. } => {}
            other => self.fail(&format!("join {gids:?}: {other:?}")),
        }
    }

    pub fn leave(&mut self, gids: &[Gid]) {
        match self.admin_op(
            CtrlOp::Leave {
                gids: gids.to_vec(),
            },
            60_000,
        ) {
            CtrlOutcome::Configured { .. } => {}
            other => self.fail(&format!("leave {gids:?}: {other:?}")),
        }
    }

    /// Queues `op` for `client`.
    pub fn submit(&mut self, client: usize, op: ShardOp) {
        self.clients[client].script.push_back(op);
        if self.clients[client].current.is_none() {
            self.start_next(client);
        }
    }

    /// Runs one operation to completion; fails the run after `limit_ms`.
    pub fn run_op(&mut self, client: usize, op: ShardOp, limit_ms: u64) -> ShardOutput {
        let before = self.clients[client].completed.len();
        self.submit(client, op.clone());
        let deadline = self.now_us() + limit_ms * MS;
        while self.clients[client].completed.len() == before {
            if self.now_us() >= deadline {
                self.fail(&format!(
                    "client {client}: {op:?} did not complete in {limit_ms} ms"
                ));
            }
            self.advance_us(MS);
        }
        self.clients[client]
            .completed
            .last()
            .expect("completed")
            .1
            .clone()
    }

    pub fn get(&mut self, client: usize, key: &str, limit_ms: u64) -> String {
        let op = ShardOp::Get {
            key: key.to_string(),
        };
        match self.run_op(client, op, limit_ms) {
            ShardOutput::Value(v) => v.unwrap_or_default(),
            other => self.fail(&format!("a Get answered {other:?}")),
        }
    }

    pub fn put(&mut self, client: usize, key: &str, value: &str, limit_ms: u64) {
        let op = ShardOp::Put {
            key: key.to_string(),
            value: value.to_string(),
        };
        self.run_op(client, op, limit_ms);
    }

    pub fn append(&mut self, client: usize, key: &str, value: &str, limit_ms: u64) {
        let op = ShardOp::Append {
            key: key.to_string(),
            value: value.to_string(),
        };
        self.run_op(client, op, limit_ms);
    }

    /// Checks `key` reads `want` through `client` (the course's check).
    pub fn check(&mut self, client: usize, key: &str, want: &str, limit_ms: u64) {
        let got = self.get(client, key, limit_ms);
        if got != want {
            self.fail(&format!("Get({key}): expected {want:?}, got {got:?}"));
        }
    }

    /// Starts the course's workload (random keys in `0..keys`) on `clients`.
    pub fn start_workload(&mut self, clients: std::ops::Range<usize>, keys: u64) {
        for c in clients {
            self.clients[c].workload = Some(Workload::random_keys(keys));
            if self.clients[c].current.is_none() {
                self.start_next(c);
            }
        }
    }

    pub fn stop_workload(&mut self) {
        for c in &mut self.clients {
            c.workload = None;
        }
    }

    /// Starts the course's appender goroutine on `client`, appending to `key`.
    pub fn start_appender(&mut self, client: usize, key: &str) {
        let a = super::world::Appender {
            key: key.to_string(),
            running: true,
            ..Default::default()
        };
        self.clients[client].appender = Some(a);
        if self.clients[client].current.is_none() {
            self.start_next(client);
        }
    }

    /// Stops every appender (operations in flight continue) and returns, per client,
    /// what it appended (each append in flight counted: wait for the clients first).
    pub fn stop_appenders(&mut self) {
        for c in &mut self.clients {
            if let Some(a) = &mut c.appender {
                a.running = false;
            }
        }
    }

    pub fn appended(&self, client: usize) -> String {
        self.clients[client]
            .appender
            .as_ref()
            .map(|a| a.appended.clone())
            .unwrap_or_default()
    }

    pub fn client_idle(&self, client: usize) -> bool {
        let c = &self.clients[client];
        c.current.is_none() && c.script.is_empty()
    }

    /// Runs until every client finished what it was given.
    pub fn wait_clients(&mut self, limit_ms: u64) {
        let deadline = self.now_us() + limit_ms * MS;
        while !(0..self.clients.len()).all(|c| self.client_idle(c)) {
            if self.now_us() >= deadline {
                self.fail(&format!("clients still busy after {limit_ms} ms"));
            }
            self.advance_us(MS);
        }
    }

    /// The course's ShutdownGroup: every server of `gid` crashes.
    pub fn shutdown_group(&mut self, gid: Gid) {
        for slot in group_slots(gid) {
            self.crash(slot);
        }
    }

    /// The course's StartGroup: every server of `gid` restarts from its disk.
    pub fn start_group(&mut self, gid: Gid) {
        for slot in group_slots(gid) {
            if !self.is_alive(slot) {
                self.start(slot);
            }
            self.connect(slot);
        }
    }

    /// Waits until a server of `gid` has applied configuration `num` (or later) and
    /// holds every shard it gained: what a test needs before it kills the old owner.
    pub fn wait_pulled(&mut self, gid: Gid, num: u64, limit_ms: u64) {
        let deadline = self.now_us() + limit_ms * MS;
        let pulled = |w: &Self| {
            group_slots(gid)
                .into_iter()
                .filter_map(|s| w.group(s))
                .any(|g| {
                    let st = g.state();
                    st.current().num >= num && st.pending_moves().0.is_empty()
                })
        };
        while !pulled(self) {
            if self.now_us() >= deadline {
                self.fail(&format!(
                    "group {gid} did not pull its shards of config {num} in {limit_ms} ms"
                ));
            }
            self.advance_us(MS);
        }
    }

    /// Σ over the group servers of Raft state plus snapshot bytes on disk.
    pub fn storage_bytes(&self) -> usize {
        super::world::GIDS
            .iter()
            .flat_map(|&g| group_slots(g))
            .map(|slot| {
                let disk = self.world.disk(slot);
                let snapshot = disk.durable.snapshot.as_ref().map_or(0, |s| s.data.len());
                disk.raft_state_bytes() + snapshot
            })
            .sum()
    }

    pub fn history(&self) -> &[HistoryOp] {
        &self.history
    }

    /// Checks the whole client history with `lincheck`, failing the run if it is not
    /// linearizable; "unknown" (budget) is printed with the seed.
    pub fn check_linearizable(&self) -> Checked {
        let ops = to_operations(&self.history);
        let verdict = lincheck::check(&KvModel::new(), &ops, Duration::from_secs(10));
        match verdict {
            Verdict::Linearizable => Checked::Linearizable,
            Verdict::Unknown => {
                eprintln!("seed {}: linearizability unknown (budget)", self.seed());
                Checked::Unknown
            }
            Verdict::NotLinearizable(why) => self.fail(&format!(
                "history of {} operations is not linearizable:\n{why}",
                ops.len()
            )),
        }
    }

    pub fn disk_raft_state_bytes(&self, slot: usize) -> usize {
        self.world.disk(slot).raft_state_bytes()
    }

    /// The latest configuration, as the administrator reads it.
    pub fn query(&mut self) -> kv_core::Config {
        match self.admin_op(CtrlOp::Query { num: None }, 60_000) {
            CtrlOutcome::Config(c) => c,
            other => self.fail(&format!("query: {other:?}")),
        }
    }

    /// The server id of `slot`, for messages in tests.
    pub fn id_of(slot: usize) -> raft_core::NodeId {
        id_of(slot)
    }
}
