//! The peer port: connections from other nodes (Raft messages, forwarded requests) and
//! from clerks (`raftkv` commands). Each starts with a [`Hello`]; after it, every frame
//! goes to the actor, and replies and status answers come back on the same connection.
//!
//! Anything that does not decode — bytes that are not frames, a bad checksum, an oversize
//! length, a frame of the wrong kind, a message claiming another sender — closes that
//! one connection and is counted; the node and its other connections carry on.

use std::net::SocketAddr;
use std::time::Duration;

use super::replica::Replica;
use bytes::BytesMut;
use raft_core::NodeId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};

use super::actor::{Event, Inbox};
use super::{NodeError, NodeOptions};
use crate::frame::{decode_frame, encode_frame};
use crate::wire::{Hello, Wire, WireService, WIRE_VERSION};
use trace::LinkSeq;

/// A connection that has not said hello by then is dropped.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// A clerk's connection silent this long is closed, so idle or half-open ones give their
/// slot back. Peers' connections are not timed out: two followers exchange nothing
/// between elections, and a vote request must not find its link just closed.
const CLIENT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const PEER_IDLE_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Connections on the peer port at once; more are refused at accept.
const CONNECTIONS_MAX: usize = 1024;

pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener, NodeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| NodeError::Listen { addr, source })
}

pub(crate) async fn serve<R: Replica + Send + 'static>(
    listener: TcpListener,
    opts: NodeOptions,
    inbox: Inbox<R>,
    mut shutdown: watch::Receiver<bool>,
) where
    R::Op: Send,
    R::Output: Send,
{
    let open = std::sync::Arc::new(tokio::sync::Semaphore::new(CONNECTIONS_MAX));
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => return,
            a = listener.accept() => a,
        };
        let Ok((stream, remote)) = accepted else {
            tokio::time::sleep(Duration::from_millis(10)).await; // e.g. out of fds
            continue;
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(%remote, "peer port: too many connections, refusing one");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = Conn::<R> {
            me: opts.id,
            known: opts.peers.keys().copied().collect(),
            frame_bytes_max: opts.frame_bytes_max,
            inbox: inbox.clone(),
        };
        tokio::spawn(async move {
            if let Err(why) = conn.run(stream).await {
                tracing::info!(%remote, "peer port: dropped a connection: {why}");
            }
            drop(permit);
        });
    }
}

struct Conn<R: Replica> {
    me: NodeId,
    known: Vec<NodeId>,
    frame_bytes_max: usize,
    inbox: Inbox<R>,
}

type W<R> = Wire<<R as Replica>::Op, <R as Replica>::Output>;

impl<R: Replica> Conn<R> {
    async fn run(self, stream: TcpStream) -> Result<(), String> {
        let (mut rd, mut wr) = stream.into_split();
        let mut buf = BytesMut::with_capacity(64 << 10);
        // A first frame that does not decode is as bad as any later one: counted.
        let hello = match tokio::time::timeout(HELLO_TIMEOUT, self.next(&mut rd, &mut buf)).await {
            Err(_) => return Err("no hello within 5 s".to_string()),
            Ok(Err(e)) if e == CLOSED => return Ok(()),
            Ok(Err(e)) => return self.bad(e).await,
            Ok(Ok(hello)) => hello,
        };
        let (peer, service, incarnation) = self.check_hello(hello).await?;
        let idle = if peer.is_some() {
            PEER_IDLE_TIMEOUT
        } else {
            CLIENT_IDLE_TIMEOUT
        };
        let (reply_tx, mut reply_rx) = mpsc::unbounded_channel();
        let mut out = Vec::new();
        loop {
            tokio::select! {
                r = reply_rx.recv() => {
                    let (_, reply) = r.expect("we hold a sender");
                    self.encode_reply(reply, &mut out);
                }
                w = tokio::time::timeout(idle, self.next(&mut rd, &mut buf)) => match w {
                    Err(_) => return Err(format!("idle for {idle:?}")),
                    Ok(w) => match w {
                    Ok(Wire::Raft { seq, message }) if Some(message.from) == peer && message.to == self.me => {
                        let link = (seq != 0).then_some(LinkSeq {
                            from: message.from,
                            to: self.me,
                            incarnation,
                            seq,
                        });
                        self.to_actor(Event::Raft { message, link }).await?
                    }
                    Ok(Wire::Request(request)) if service => {
                        let reply_to = reply_tx.clone();
                        self.to_actor(Event::Request { request, reply_to }).await?
                    }
                    Ok(Wire::StatusRequest) => {
                        let (tx, rx) = oneshot::channel();
                        self.to_actor(Event::Status(tx)).await?;
                        let status = rx.await.map_err(|_| "actor gone")?;
                        encode_frame(&W::<R>::Status(status).encode(), &mut out);
                    }
                    Ok(other) => return self.bad(format!("unexpected frame {}", kind(&other))).await,
                    Err(e) if e == CLOSED => return Ok(()),
                    Err(e) => return self.bad(e).await,
                }},
            }
            if !out.is_empty() {
                wr.write_all(&out)
                    .await
                    .map_err(|e| format!("write: {e}"))?;
                out.clear();
            }
        }
    }

    /// Checks the first frame; returns the dialing node (`None` for a clerk), whether
    /// it named this node's service (else it may only ask for status), and its
    /// incarnation.
    async fn check_hello(&self, w: W<R>) -> Result<(Option<NodeId>, bool, u64), String> {
        let refused = (None, false, 0);
        let Wire::Hello(Hello {
            version,
            from,
            client_addr,
            service,
            incarnation,
        }) = w
        else {
            let why = format!("expected hello, got {}", kind(&w));
            return self.bad(why).await.map(|_| refused);
        };
        if version != WIRE_VERSION {
            return Err(format!(
                "wire version {version}; this node speaks {WIRE_VERSION}"
            ));
        }
        let ours = R::Op::NAME;
        match service.as_deref() {
            Some(s) if s != ours => {
                let why = format!("hello for service {s:?}; this node serves {ours:?}");
                return self.bad(why).await.map(|_| refused);
            }
            None if from.is_some() => {
                let why = "a node's hello must name its service".to_string();
                return self.bad(why).await.map(|_| refused);
            }
            _ => {}
        }
        if let Some(id) = from {
            if !self.known.contains(&id) || id == self.me {
                let why = format!("hello from unknown node {id}");
                return self.bad(why).await.map(|_| refused);
            }
            self.to_actor(Event::PeerHello { id, client_addr }).await?;
        }
        Ok((from, service.is_some(), incarnation))
    }

    async fn next(&self, rd: &mut OwnedReadHalf, buf: &mut BytesMut) -> Result<W<R>, String> {
        loop {
            if let Some(p) = decode_frame(buf, self.frame_bytes_max).map_err(|e| e.to_string())? {
                return W::<R>::decode(&p).map_err(|e| e.to_string());
            }
            match rd.read_buf(buf).await {
                Ok(0) if buf.is_empty() => return Err(CLOSED.into()),
                Ok(0) => return Err(format!("connection closed mid-frame ({} bytes)", buf.len())),
                Ok(_) => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }

    /// A reply too large for one frame would make the receiver drop the connection
    /// (and every message queued on it), again at each retry: the client is told why
    /// instead. The store's own limits keep replies well below, so this is a last guard.
    fn encode_reply(&self, reply: kv_core::service::Reply<R::Output>, out: &mut Vec<u8>) {
        let payload = W::<R>::Reply(reply.clone()).encode();
        if payload.len() <= self.frame_bytes_max {
            return encode_frame(&payload, out);
        }
        let reason = format!(
            "the reply of {} bytes exceeds the {}-byte frame limit",
            payload.len(),
            self.frame_bytes_max
        );
        let refused = kv_core::service::Reply::err(
            reply.client,
            reply.seq,
            kv_core::ServiceError::Rejected { reason },
        );
        encode_frame(&W::<R>::Reply(refused).encode(), out);
    }

    async fn to_actor(&self, e: Event<R>) -> Result<(), String> {
        self.inbox
            .send(e)
            .await
            .map_err(|_| "actor gone".to_string())
    }

    async fn bad(&self, why: String) -> Result<(), String> {
        let _ = self.inbox.send(Event::BadFrame).await;
        Err(why)
    }
}

const CLOSED: &str = "closed";

fn kind<O, T>(w: &Wire<O, T>) -> &'static str {
    match w {
        Wire::Hello(_) => "hello",
        Wire::Raft { .. } => "raft message",
        Wire::Request(_) => "request",
        Wire::Reply(_) => "reply",
        Wire::StatusRequest => "status request",
        Wire::Status(_) => "status",
    }
}
