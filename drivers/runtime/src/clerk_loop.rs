//! Drives the pure `kv_core` clerk in real time: one operation at a time, ticks from a
//! monotonic clock, replies from a channel, requests out through whatever transport the
//! caller has. Both the node's Redis front end and the `raftkv` client use it, so
//! exactly-once across retries and failover comes from the one clerk.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use kv_core::service::ServiceError;
use kv_core::service::{Clerk, ClerkConfig, ClerkInput, ClientId, Reply, Request};
use raft_core::NodeId;
use thiserror::Error;
use tokio::sync::mpsc;
use tokio::time::{interval, Instant, MissedTickBehavior};

/// The clerk's tick: its retry and backoff timeouts are counted in these.
pub const CLERK_TICK: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallError {
    /// No server answered in time. The operation may still take effect later.
    #[error("no answer within {0:?} (is a majority of the cluster up?); the operation may or may not have taken effect")]
    Deadline(Duration),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// A fresh client id: random, never 0, so a restarted client never reuses a session.
pub fn fresh_client_id() -> ClientId {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish().max(1)
}

/// Runs `op` to completion on `clerk`. `send` carries a request to a server (and may
/// drop it: the clerk resends); replies arrive on `replies`.
pub async fn call<O: Clone, T>(
    clerk: &mut Clerk<O, T>,
    op: O,
    replies: &mut mpsc::UnboundedReceiver<(NodeId, Reply<T>)>,
    mut send: impl FnMut(NodeId, Request<O>),
    deadline: Duration,
) -> Result<T, CallError> {
    assert!(clerk.is_idle(), "one operation at a time");
    let mut ready = clerk
        .step(ClerkInput::Submit(op))
        .expect("the clerk is idle");
    let mut ticker = interval(CLERK_TICK);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let give_up = Instant::now() + deadline;
    loop {
        for (to, request) in ready.send.drain(..) {
            send(to, request);
        }
        if let Some(done) = ready.completed.take() {
            return done.result.map_err(CallError::from);
        }
        let input = tokio::select! {
            r = replies.recv() => match r {
                Some((from, reply)) => ClerkInput::Reply { from, reply },
                None => return Err(CallError::Deadline(deadline)),
            },
            _ = ticker.tick() => ClerkInput::Tick,
            _ = tokio::time::sleep_until(give_up) => return Err(CallError::Deadline(deadline)),
        };
        ready = clerk.step(input).expect("only Submit is refused");
    }
}

/// A clerk for `servers` with a fresh client id and timeouts in [`CLERK_TICK`]s.
pub fn new_clerk<O: Clone, T>(servers: Vec<NodeId>) -> Clerk<O, T> {
    let mut cfg = ClerkConfig::new(fresh_client_id(), servers);
    cfg.retry_ticks = 50; // 500 ms: longer than an fsync on a slow disk
    cfg.backoff_ticks = 10;
    Clerk::new(cfg)
}
