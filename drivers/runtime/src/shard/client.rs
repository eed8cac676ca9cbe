//! A client of a sharded deployment over TCP: the pure `kv_core::shardkv::ShardClerk`
//! (which asks the controller where each key's shard lives, and keeps one sequence
//! number across every retry and every group it tries) driven in real time. The
//! `raftkv` commands with `--ctrl`, the sharded Redis front end and the tests use it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use kv_core::shardkv::{server_addr, server_id, ShardClerk, ShardClerkInput, ShardClerkReady};
use kv_core::shardkv::{ShardOp, ShardOutput};
use kv_core::{ClerkConfig, Config, CtrlOp, CtrlOutcome};
use raft_core::NodeId;
use tokio::sync::mpsc;
use tokio::time::{interval, Instant, MissedTickBehavior};

use crate::clerk_loop::{fresh_client_id, CallError, CLERK_TICK};
use crate::dialer::{Dialer, ReplyRx};

/// How long the clerk waits for a group's server before trying the next (in ticks).
const GROUP_RETRY_TICKS: u64 = 50;

pub struct ShardClient {
    ctrl_addrs: BTreeMap<NodeId, SocketAddr>,
    clerk: ShardClerk,
    groups: Dialer<ShardOp, ShardOutput>,
    group_replies: ReplyRx<ShardOutput>,
    ctrl: Dialer<CtrlOp, CtrlOutcome>,
    ctrl_replies: ReplyRx<CtrlOutcome>,
}

impl ShardClient {
    /// `ctrl`: the controller's servers (their peer ports).
    pub fn new(ctrl: BTreeMap<NodeId, SocketAddr>) -> Self {
        assert!(!ctrl.is_empty(), "a shard client needs the controller");
        let (group_tx, group_replies) = mpsc::unbounded_channel();
        let (ctrl_tx, ctrl_replies) = mpsc::unbounded_channel();
        ShardClient {
            clerk: new_clerk(&ctrl),
            ctrl_addrs: ctrl,
            groups: Dialer::new(group_tx),
            group_replies,
            ctrl: Dialer::new(ctrl_tx),
            ctrl_replies,
        }
    }

    /// The latest configuration this client has seen.
    pub fn config(&self) -> &Config {
        self.clerk.config()
    }

    /// Runs one Get, Put or Append. After a deadline the clerk is replaced by one with
    /// a fresh client id: the abandoned operation may still apply, once at most.
    pub async fn call(
        &mut self,
        op: ShardOp,
        deadline: Duration,
    ) -> Result<ShardOutput, CallError> {
        assert!(op.key().is_some(), "clients send Get, Put or Append");
        let result = self.run(op, deadline).await;
        if matches!(result, Err(CallError::Deadline(_))) {
            self.clerk = new_clerk(&self.ctrl_addrs);
        }
        result
    }

    async fn run(&mut self, op: ShardOp, deadline: Duration) -> Result<ShardOutput, CallError> {
        let mut ready = self
            .clerk
            .step(ShardClerkInput::Submit(op))
            .expect("one operation at a time");
        let mut ticker = interval(CLERK_TICK);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let give_up = Instant::now() + deadline;
        loop {
            if let Some(done) = self.send(&mut ready) {
                return done;
            }
            let input = tokio::select! {
                r = self.group_replies.recv() => match r {
                    Some((from, reply)) => ShardClerkInput::Reply { from, reply },
                    None => return Err(CallError::Deadline(deadline)),
                },
                r = self.ctrl_replies.recv() => match r {
                    Some((from, reply)) => ShardClerkInput::CtrlReply { from, reply },
                    None => return Err(CallError::Deadline(deadline)),
                },
                _ = ticker.tick() => ShardClerkInput::Tick,
                _ = tokio::time::sleep_until(give_up) => return Err(CallError::Deadline(deadline)),
            };
            ready = self.clerk.step(input).expect("only Submit is refused");
        }
    }

    /// Sends what the clerk asked to send; the operation's result once it completed.
    fn send(&mut self, ready: &mut ShardClerkReady) -> Option<Result<ShardOutput, CallError>> {
        for (to, request) in ready.to_ctrl.drain(..) {
            if let Some(&addr) = self.ctrl_addrs.get(&to) {
                self.ctrl.send(to, addr, request);
            }
        }
        for (to, request) in ready.send.drain(..) {
            // A server whose name carries no address cannot be reached: the clerk
            // times out on it and tries the next, as if it were down.
            if let Some(addr) = addr_in(self.clerk.config(), to) {
                self.groups.send(to, addr, request);
            }
        }
        let done = ready.completed.take()?;
        Some(done.result.map_err(CallError::from))
    }
}

fn new_clerk(ctrl: &BTreeMap<NodeId, SocketAddr>) -> ShardClerk {
    let mut cfg = ClerkConfig::new(fresh_client_id(), ctrl.keys().copied().collect());
    cfg.retry_ticks = 50; // 500 ms: longer than an fsync on a slow disk
    cfg.backoff_ticks = 10;
    ShardClerk::new(cfg, GROUP_RETRY_TICKS)
}

/// The address of server `id` as named in `config`.
pub fn addr_in(config: &Config, id: NodeId) -> Option<SocketAddr> {
    addr_among(config.groups.values().flatten(), id)
}

/// The address of server `id` as one of `names` (`ID@HOST:PORT`) gives it.
pub fn addr_among<'a>(
    names: impl IntoIterator<Item = &'a String>,
    id: NodeId,
) -> Option<SocketAddr> {
    names
        .into_iter()
        .find(|name| server_id(name) == Some(id))
        .and_then(|name| server_addr(name)?.parse().ok())
}
