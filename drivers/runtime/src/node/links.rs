//! Outbound links: one task per other node that dials it, says hello, and writes
//! frames; it reconnects with backoff when the connection fails.
//!
//! Two lanes per link: snapshot chunks go in the bulk lane, everything else in the
//! urgent lane, and the writer always takes urgent frames first. A snapshot is sent in
//! bounded chunks, so a heartbeat waits behind at most one chunk, never a whole
//! snapshot. Both lanes are bounded; a full lane drops the frame, which Raft treats as
//! a lost message (and a clerk as a lost request: it retries).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::replica::Replica;
use bytes::BytesMut;
use kv_core::service::Request;
use raft_core::{Message, MessageBody, NodeId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use super::actor::{Event, Inbox};
use super::NodeOptions;
use crate::frame::{decode_frame, encode_frame};
use crate::wire::{Hello, Wire, WireService, WIRE_VERSION};

const BACKOFF_MIN: Duration = Duration::from_millis(20);
const BACKOFF_MAX: Duration = Duration::from_millis(1000);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Bytes gathered into one socket write.
const WRITE_BATCH_BYTES_MAX: usize = 256 << 10;

#[derive(Clone)]
struct Lanes {
    urgent: mpsc::Sender<Vec<u8>>,
    bulk: mpsc::Sender<Vec<u8>>,
}

/// The senders into every outbound link, shared by the actor and the clerks.
#[derive(Clone, Default)]
pub(crate) struct Links {
    lanes: Arc<BTreeMap<NodeId, Lanes>>,
    pub(crate) frames_dropped: Arc<AtomicU64>,
}

impl Links {
    /// Sends a Raft message, numbered `seq` on its link (0: not numbered).
    pub(crate) fn send_raft<R: Replica>(&self, message: Message, seq: u64) {
        let bulk = matches!(message.body, MessageBody::InstallSnapshot { .. });
        let to = message.to;
        self.send(to, bulk, &Wire::<R::Op, R::Output>::Raft { seq, message });
    }

    /// Sends a clerk's request to node `to`; false if it was dropped.
    pub(crate) fn send_request<R: Replica>(&self, to: NodeId, r: Request<R::Op>) -> bool {
        self.send(to, false, &Wire::<R::Op, R::Output>::Request(r))
    }

    fn send<O: serde::Serialize, T: serde::Serialize>(
        &self,
        to: NodeId,
        bulk: bool,
        w: &Wire<O, T>,
    ) -> bool {
        let Some(lanes) = self.lanes.get(&to) else {
            return false; // not a peer: raft-core only addresses its configuration
        };
        let mut frame = Vec::new();
        encode_frame(&w.encode(), &mut frame);
        let lane = if bulk { &lanes.bulk } else { &lanes.urgent };
        let sent = lane.try_send(frame).is_ok();
        if !sent {
            self.frames_dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }
}

pub(crate) fn spawn<R: Replica + Send + 'static>(
    opts: &NodeOptions,
    inbox: Inbox<R>,
    shutdown: watch::Receiver<bool>,
) -> Links
where
    R::Op: Send,
    R::Output: Send,
{
    let mut lanes = BTreeMap::new();
    for (&peer, &addr) in opts.peers.iter().filter(|(&p, _)| p != opts.id) {
        let (urgent, urgent_rx) = mpsc::channel(opts.link_frames_max);
        let (bulk, bulk_rx) = mpsc::channel(opts.link_frames_max.min(64));
        lanes.insert(peer, Lanes { urgent, bulk });
        let link = Link::<R> {
            peer,
            addr,
            hello: Hello {
                version: WIRE_VERSION,
                from: Some(opts.id),
                client_addr: opts.client_addr.map(|a| a.to_string()),
                service: Some(R::Op::NAME.to_string()),
                incarnation: opts.incarnation,
            },
            frame_bytes_max: opts.frame_bytes_max,
            inbox: inbox.clone(),
        };
        tokio::spawn(link.run(urgent_rx, bulk_rx, shutdown.clone()));
    }
    Links {
        lanes: Arc::new(lanes),
        frames_dropped: Arc::default(),
    }
}

struct Link<R: Replica> {
    peer: NodeId,
    addr: SocketAddr,
    hello: Hello,
    frame_bytes_max: usize,
    inbox: Inbox<R>,
}

impl<R: Replica> Link<R> {
    async fn run(
        self,
        mut urgent: mpsc::Receiver<Vec<u8>>,
        mut bulk: mpsc::Receiver<Vec<u8>>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut backoff = BACKOFF_MIN;
        loop {
            let connected = tokio::select! {
                _ = shutdown.changed() => return,
                c = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(self.addr)) => c,
            };
            match connected {
                Ok(Ok(stream)) => {
                    backoff = BACKOFF_MIN;
                    let _ = stream.set_nodelay(true);
                    let why = self.serve(stream, &mut urgent, &mut bulk).await;
                    tracing::debug!(peer = self.peer, "link down: {why}");
                }
                _ => backoff = (backoff * 2).min(BACKOFF_MAX),
            }
            // What queued while the link was down is stale by the time it is back up.
            while urgent.try_recv().is_ok() || bulk.try_recv().is_ok() {}
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
        }
    }

    /// Writes frames until the connection fails; reads replies meant for this node's
    /// clerks at the same time. Reading never waits for writing: a peer blocked on
    /// sending us replies would stop reading our frames, and both sides would stall.
    async fn serve(
        &self,
        stream: TcpStream,
        urgent: &mut mpsc::Receiver<Vec<u8>>,
        bulk: &mut mpsc::Receiver<Vec<u8>>,
    ) -> String {
        let (mut rd, mut wr) = stream.into_split();
        let reader = async {
            let mut buf = BytesMut::with_capacity(64 << 10);
            loop {
                match rd.read_buf(&mut buf).await {
                    Ok(0) => return "closed by peer".to_string(),
                    Ok(_) => {
                        if let Err(e) = self.replies(&mut buf).await {
                            return e;
                        }
                    }
                    Err(e) => return format!("read: {e}"),
                }
            }
        };
        let writer = async {
            let mut out = Vec::new();
            let hello = Wire::<R::Op, R::Output>::Hello(self.hello.clone());
            encode_frame(&hello.encode(), &mut out);
            loop {
                if let Err(e) = wr.write_all(&out).await {
                    return format!("write: {e}");
                }
                out.clear();
                tokio::select! {
                    biased;
                    f = urgent.recv() => match f {
                        Some(f) => gather(f, urgent, &mut out),
                        None => return "shut down".to_string(),
                    },
                    f = bulk.recv() => match f {
                        Some(f) => out = f,
                        None => return "shut down".to_string(),
                    },
                }
            }
        };
        tokio::select! {
            why = reader => why,
            why = writer => why,
        }
    }

    async fn replies(&self, buf: &mut BytesMut) -> Result<(), String> {
        while let Some(payload) =
            decode_frame(buf, self.frame_bytes_max).map_err(|e| e.to_string())?
        {
            match Wire::<R::Op, R::Output>::decode(&payload) {
                Ok(Wire::Reply(reply)) => {
                    let event = Event::RemoteReply {
                        from: self.peer,
                        reply,
                    };
                    self.inbox.send(event).await.map_err(|_| "actor gone")?;
                }
                other => {
                    let _ = self.inbox.send(Event::BadFrame).await;
                    return Err(format!("unexpected frame from a peer we dialed: {other:?}"));
                }
            }
        }
        Ok(())
    }
}

/// Adds `first` and whatever else is queued (up to a batch) to `out`.
fn gather(first: Vec<u8>, urgent: &mut mpsc::Receiver<Vec<u8>>, out: &mut Vec<u8>) {
    out.extend_from_slice(&first);
    while out.len() < WRITE_BATCH_BYTES_MAX {
        match urgent.try_recv() {
            Ok(f) => out.extend_from_slice(&f),
            Err(_) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kv_core::service::Server;
    use kv_core::KvState;
    use raft_core::SnapshotMeta;
    use tokio::net::TcpListener;

    fn message(body: MessageBody) -> Message {
        Message {
            from: 1,
            to: 2,
            term: 1,
            body,
        }
    }

    fn chunk(i: u64) -> Message {
        let data = vec![7u8; 256 << 10];
        let (meta, total_bytes) = (SnapshotMeta::default(), 64 * (256 << 10));
        let offset = i * (256 << 10);
        message(MessageBody::InstallSnapshot {
            meta: Box::new(meta),
            total_bytes,
            offset,
            data,
        })
    }

    /// Reads frames off `stream` until `n` Raft messages came; returns their bodies'
    /// kinds in arrival order ("chunk" or "heartbeat").
    async fn arrivals(stream: &mut TcpStream, n: usize) -> Vec<&'static str> {
        let mut buf = BytesMut::new();
        let mut kinds = Vec::new();
        while kinds.len() < n {
            while let Some(p) = decode_frame(&mut buf, 8 << 20).unwrap() {
                match Wire::<kv_core::Op, kv_core::Outcome>::decode(&p).unwrap() {
                    Wire::Raft { message: m, .. }
                        if matches!(m.body, MessageBody::Heartbeat { .. }) =>
                    {
                        kinds.push("heartbeat")
                    }
                    Wire::Raft { .. } => kinds.push("chunk"),
                    _ => {}
                }
            }
            if kinds.len() == n {
                break;
            }
            // Read slowly, as a peer busy installing would: the sender's queue fills.
            tokio::time::sleep(Duration::from_millis(2)).await;
            assert!(
                stream.read_buf(&mut buf).await.unwrap() > 0,
                "link closed after {kinds:?}"
            );
        }
        kinds
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_heartbeat_overtakes_a_queued_snapshot() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut peers = BTreeMap::new();
        peers.insert(1, "127.0.0.1:1".parse().unwrap());
        peers.insert(2, listener.local_addr().unwrap());
        let opts = NodeOptions::new(1, peers, "/nonexistent".into());
        let (inbox, _rx) = mpsc::channel(16);
        let (_stop, shutdown) = watch::channel(false);
        let links = spawn::<Server<KvState>>(&opts, inbox, shutdown);
        let (mut stream, _) = listener.accept().await.unwrap();
        for i in 0..64 {
            links.send_raft::<Server<KvState>>(chunk(i), 0); // 16 MiB queued in the bulk lane
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let heartbeat = message(MessageBody::Heartbeat {
            commit: 0,
            round: 1,
        });
        links.send_raft::<Server<KvState>>(heartbeat, 0);
        let got = tokio::time::timeout(Duration::from_secs(20), arrivals(&mut stream, 65));
        let kinds = got.await.expect("65 messages within 20 s");
        let at = kinds
            .iter()
            .position(|k| *k == "heartbeat")
            .expect("the heartbeat arrived");
        // In one FIFO it would come 65th; here only the chunks already handed to the
        // socket (its kernel buffer) are ahead of it.
        assert!(at < 32, "the heartbeat waited behind {at} snapshot chunks");
        assert_eq!(links.frames_dropped.load(Ordering::Relaxed), 0);
    }
}
