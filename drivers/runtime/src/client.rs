//! A client of a running cluster over TCP: the pure clerk (exactly once across retries
//! and failover) talking to the nodes' peer ports, plus a status query. This is what the
//! `raftkv get|put|...|status` commands and the demo's workload use.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use kv_core::service::{Clerk, StateMachine};
use raft_core::NodeId;
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::clerk_loop::{self, CallError};
use crate::dialer::{client_hello, frame_of, Dialer, ReplyRx};
use crate::frame::{decode_frame, FRAME_BYTES_MAX_DEFAULT};
use crate::wire::{NodeStatus, Wire};

pub struct Client<S: StateMachine> {
    servers: BTreeMap<NodeId, SocketAddr>,
    clerk: Clerk<S::Op, S::Output>,
    dialer: Dialer<S::Op, S::Output>,
    replies: ReplyRx<S::Output>,
}

impl<S: StateMachine> Client<S>
where
    S::Op: crate::wire::WireService + Send + 'static,
    S::Output: Send + 'static,
{
    pub fn new(servers: BTreeMap<NodeId, SocketAddr>) -> Self {
        assert!(!servers.is_empty(), "a client needs servers");
        let (replies_tx, replies) = mpsc::unbounded_channel();
        Client {
            clerk: clerk_loop::new_clerk(servers.keys().copied().collect()),
            servers,
            dialer: Dialer::new(replies_tx),
            replies,
        }
    }

    /// Runs one operation. After a deadline the clerk is replaced by one with a fresh
    /// client id: the abandoned operation may still apply, once at most.
    pub async fn call(&mut self, op: S::Op, deadline: Duration) -> Result<S::Output, CallError> {
        let Client {
            servers,
            clerk,
            dialer,
            replies,
        } = self;
        let send = |to: NodeId, request| dialer.send(to, servers[&to], request);
        let result = clerk_loop::call(clerk, op, replies, send, deadline).await;
        if matches!(result, Err(CallError::Deadline(_))) {
            *clerk = clerk_loop::new_clerk(servers.keys().copied().collect());
        }
        result
    }
}

#[derive(Debug, Error)]
pub enum StatusError {
    #[error("cannot reach {addr}: {reason}")]
    Unreachable { addr: SocketAddr, reason: String },
    #[error("{addr} answered with something other than a status")]
    Protocol { addr: SocketAddr },
}

/// Asks the node at `addr` (its peer port) for its status.
pub async fn status<S: StateMachine>(
    addr: SocketAddr,
    timeout: Duration,
) -> Result<NodeStatus, StatusError> {
    let unreachable = |reason: String| StatusError::Unreachable { addr, reason };
    let ask = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let mut out = frame_of(&Wire::<S::Op, S::Output>::Hello(client_hello(None)));
        out.extend(frame_of(&Wire::<S::Op, S::Output>::StatusRequest));
        stream
            .write_all(&out)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let mut buf = BytesMut::new();
        loop {
            let decoded = decode_frame(&mut buf, FRAME_BYTES_MAX_DEFAULT)
                .map_err(|_| StatusError::Protocol { addr })?;
            if let Some(p) = decoded {
                return match Wire::<S::Op, S::Output>::decode(&p) {
                    Ok(Wire::Status(s)) => Ok(s),
                    _ => Err(StatusError::Protocol { addr }),
                };
            }
            let n = stream
                .read_buf(&mut buf)
                .await
                .map_err(|e| unreachable(e.to_string()))?;
            if n == 0 {
                return Err(unreachable("connection closed".into()));
            }
        }
    };
    tokio::time::timeout(timeout, ask)
        .await
        .map_err(|_| unreachable(format!("no answer within {timeout:?}")))?
}
