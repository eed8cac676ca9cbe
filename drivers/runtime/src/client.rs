//! A client of a running cluster over TCP: the pure clerk (exactly once across retries
//! and failover) talking to the nodes' peer ports, plus a status query. This is what the
//! `raftkv get|put|...|status` commands and the demo's workload use.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use kv_core::service::{Clerk, Reply, StateMachine};
use raft_core::NodeId;
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::clerk_loop::{self, CallError};
use crate::frame::{decode_frame, encode_frame, FRAME_BYTES_MAX_DEFAULT};
use crate::wire::{Hello, NodeStatus, Wire, WIRE_VERSION};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

type ReplyRx<T> = mpsc::UnboundedReceiver<(NodeId, Reply<T>)>;
type ReplyTx<T> = mpsc::UnboundedSender<(NodeId, Reply<T>)>;

pub struct Client<S: StateMachine> {
    servers: BTreeMap<NodeId, SocketAddr>,
    clerk: Clerk<S::Op, S::Output>,
    conns: HashMap<NodeId, mpsc::UnboundedSender<Vec<u8>>>,
    replies_tx: ReplyTx<S::Output>,
    replies_rx: ReplyRx<S::Output>,
}

impl<S: StateMachine> Client<S>
where
    S::Op: Send + 'static,
    S::Output: Send + 'static,
{
    pub fn new(servers: BTreeMap<NodeId, SocketAddr>) -> Self {
        assert!(!servers.is_empty(), "a client needs servers");
        let (replies_tx, replies_rx) = mpsc::unbounded_channel();
        Client {
            clerk: clerk_loop::new_clerk(servers.keys().copied().collect()),
            servers,
            conns: HashMap::new(),
            replies_tx,
            replies_rx,
        }
    }

    /// Runs one operation. After a deadline the clerk is replaced by one with a fresh
    /// client id: the abandoned operation may still apply, once at most.
    pub async fn call(&mut self, op: S::Op, deadline: Duration) -> Result<S::Output, CallError> {
        let Client {
            servers,
            clerk,
            conns,
            replies_tx,
            replies_rx,
        } = self;
        let send = |to: NodeId, request| {
            let frame = frame_of::<S>(&Wire::Request(request));
            let tx = conns
                .entry(to)
                .or_insert_with(|| connect::<S>(to, servers[&to], replies_tx.clone()));
            if let Err(e) = tx.send(frame) {
                // The connection died: dial again for the clerk's next attempt.
                *tx = connect::<S>(to, servers[&to], replies_tx.clone());
                let _ = tx.send(e.0);
            }
        };
        let result = clerk_loop::call(clerk, op, replies_rx, send, deadline).await;
        if matches!(result, Err(CallError::Deadline(_))) {
            *clerk = clerk_loop::new_clerk(servers.keys().copied().collect());
        }
        result
    }
}

fn frame_of<S: StateMachine>(w: &Wire<S::Op, S::Output>) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&w.encode(), &mut out);
    out
}

/// A connection task to one node: writes the frames it is given, forwards the replies
/// it reads. It ends when the connection fails; the sender then reports closed.
fn connect<S: StateMachine>(
    id: NodeId,
    addr: SocketAddr,
    replies: ReplyTx<S::Output>,
) -> mpsc::UnboundedSender<Vec<u8>>
where
    S::Op: Send + 'static,
    S::Output: Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        let Ok(Ok(stream)) = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await
        else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let (mut rd, mut wr) = stream.into_split();
        let hello = Hello {
            version: WIRE_VERSION,
            from: None,
            client_addr: None,
        };
        if wr
            .write_all(&frame_of::<S>(&Wire::Hello(hello)))
            .await
            .is_err()
        {
            return;
        }
        let mut buf = BytesMut::new();
        loop {
            tokio::select! {
                f = rx.recv() => match f {
                    Some(f) => if wr.write_all(&f).await.is_err() { return },
                    None => return,
                },
                n = rd.read_buf(&mut buf) => {
                    if !matches!(n, Ok(k) if k > 0) { return }
                    // Bytes that are not our frames (not a raftkv peer port, or a
                    // damaged stream): drop the connection; the clerk's next attempt
                    // dials again instead of waiting on a stream that cannot recover.
                    loop {
                        match decode_frame(&mut buf, FRAME_BYTES_MAX_DEFAULT) {
                            Ok(Some(p)) => match Wire::<S::Op, S::Output>::decode(&p) {
                                Ok(Wire::Reply(r)) => { let _ = replies.send((id, r)); }
                                _ => return,
                            },
                            Ok(None) => break,
                            Err(_) => return,
                        }
                    }
                }
            }
        }
    });
    tx
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
        let hello = Hello {
            version: WIRE_VERSION,
            from: None,
            client_addr: None,
        };
        let mut out = frame_of::<S>(&Wire::Hello(hello));
        out.extend(frame_of::<S>(&Wire::StatusRequest));
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
