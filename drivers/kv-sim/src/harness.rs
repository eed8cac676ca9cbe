//! Driving clients and faults: the course's config.go helpers for the KV tests
//! (partition and heal, client connectivity; crash and restart come with `sim_kit::Sim`),
//! plus clients that run a script or the random workload and record each operation in
//! the history.

use kv_core::service::ClerkInput;
use kv_core::{KvError, Op, Outcome};

use crate::client::{SimClient, Workload};
use crate::history::HistoryOp;
use crate::service::SimService;
use crate::world::{KvWorld, ServiceWorld};
use sim_kit::{Sim, MS};

impl<S: SimService> ServiceWorld<S> {
    pub(crate) fn step_client(&mut self, client: usize, input: ClerkInput<S::Op, S::Output>) {
        let ready = match self.clients[client].clerk.step(input) {
            Ok(r) => r,
            Err(busy) => self.fail(&format!("client {client}: {busy}")),
        };
        for (to, request) in ready.send {
            self.send_request(client, to, request);
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
                h.op, done.op,
                "the clerk completed the operation it was given"
            );
            h.ret = Some((now, done.result.clone()));
            c.completed.push(done);
        }
        if self.clients[client].current.is_none() {
            self.start_next(client);
        }
    }

    /// Submits the client's next operation, if it has one.
    fn start_next(&mut self, client: usize) {
        let c = &mut self.clients[client];
        let op = match c.script.pop_front() {
            Some(op) => op,
            None => match c.workload.as_mut() {
                Some(w) => S::next_op(w, client, &mut self.world.rng),
                None => return,
            },
        };
        let call = self.history_time();
        let at = self.history.len();
        self.history.push(HistoryOp {
            client,
            op: op.clone(),
            call,
            ret: None,
        });
        self.clients[client].current = Some(at);
        self.step_client(client, ClerkInput::Submit(op));
    }

    /// Queues `op` for `client` (it starts once the client is idle).
    pub fn submit(&mut self, client: usize, op: S::Op) {
        self.clients[client].script.push_back(op);
        if self.clients[client].current.is_none() {
            self.start_next(client);
        }
    }

    /// Runs one operation to completion; fails the run if it takes over `limit_ms`.
    pub fn run_op(&mut self, client: usize, op: S::Op, limit_ms: u64) -> S::Output {
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
        match self.clients[client]
            .completed
            .last()
            .expect("completed")
            .result
            .clone()
        {
            Ok(outcome) => outcome,
            Err(e) => self.fail(&format!("client {client}: {op:?} failed: {e}")),
        }
    }

    /// Whether `client` finished everything it was given.
    pub fn client_done(&self, client: usize) -> bool {
        self.clients[client].is_done()
    }

    /// Runs until every client is done; fails the run after `limit_ms`.
    pub fn wait_clients(&mut self, limit_ms: u64) {
        let deadline = self.now_us() + limit_ms * MS;
        while !self.clients.iter().all(SimClient::is_done) {
            if self.now_us() >= deadline {
                self.fail(&format!("clients still busy after {limit_ms} ms"));
            }
            self.advance_us(MS);
        }
    }

    /// Splits the servers into groups (servers in no group are cut off from everyone).
    /// Client links are unaffected.
    pub fn partition(&mut self, groups: &[Vec<usize>]) {
        self.world.partition(groups);
    }

    /// Heals every server link and reconnects every client to every server.
    pub fn heal(&mut self) {
        self.world.net.heal();
        let servers = self.n();
        for c in &mut self.clients {
            c.reach = (0..servers).collect();
        }
    }

    /// Which servers a client can talk to (the course's ConnectClient).
    pub fn connect_client(&mut self, client: usize, servers: &[usize]) {
        self.clients[client].reach = servers.iter().copied().collect();
    }

    /// Errors the clerks gave up with (only `Rejected` ends an operation with an error).
    pub fn rejected(&self) -> Vec<KvError> {
        self.history
            .iter()
            .filter_map(|h| h.ret.as_ref()?.1.clone().err())
            .collect()
    }
}

/// What only key/value clients do: the course's workload and its Get.
impl KvWorld {
    /// Starts the course's random workload on `clients`, with fresh append counters. With
    /// own keys, each client first resets its key to "" (as the course's clients do each
    /// round), so its appends can be checked exactly.
    pub fn start_workload(&mut self, clients: std::ops::Range<usize>, random_keys: Option<u64>) {
        for c in clients {
            let w = match random_keys {
                Some(n) => Workload::random_keys(n),
                None => {
                    let reset = Op::Put {
                        key: c.to_string(),
                        value: String::new(),
                    };
                    self.clients[c].script.push_back(reset);
                    Workload::own_key()
                }
            };
            self.clients[c].workload = Some(w);
            if self.clients[c].current.is_none() {
                self.start_next(c);
            }
        }
    }

    /// Stops generating new operations; operations in flight continue.
    pub fn stop_workload(&mut self) -> Vec<u64> {
        let appends = self
            .clients
            .iter()
            .map(|c| c.workload.as_ref().map_or(0, |w| w.appends))
            .collect();
        for c in &mut self.clients {
            c.workload = None;
        }
        appends
    }

    /// Reads a key's value through `client` (as the course's check does).
    pub fn get(&mut self, client: usize, key: &str, limit_ms: u64) -> Option<String> {
        match self.run_op(
            client,
            Op::Get {
                key: key.to_string(),
            },
            limit_ms,
        ) {
            Outcome::Value(v) => v,
            other => self.fail(&format!("a Get answered {other:?}")),
        }
    }
}
