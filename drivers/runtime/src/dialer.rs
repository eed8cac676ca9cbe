//! A client's connections to servers, by node id: one task per server that dials it,
//! says hello, writes the request frames it is given and hands back the replies it
//! reads. Any clerk of any service uses it (the `raftkv` client, a shard group calling
//! the controller and other groups, a sharded Redis front end): `O` and `T` are the
//! service's operation and output, as on the wire.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use kv_core::service::{Reply, Request};
use raft_core::NodeId;
use serde::{de::DeserializeOwned, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::frame::{decode_frame, encode_frame, FRAME_BYTES_MAX_DEFAULT};
use crate::wire::{Hello, Wire, WireService, WIRE_VERSION};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Connections kept at once; past it the closed ones are forgotten first.
const CONNECTIONS_MAX: usize = 1024;

pub type ReplyTx<T> = mpsc::UnboundedSender<(NodeId, Reply<T>)>;
pub type ReplyRx<T> = mpsc::UnboundedReceiver<(NodeId, Reply<T>)>;

pub struct Dialer<O, T> {
    conns: HashMap<NodeId, (SocketAddr, mpsc::UnboundedSender<Vec<u8>>)>,
    replies: ReplyTx<T>,
    _op: PhantomData<fn(O)>,
}

impl<O, T> Dialer<O, T>
where
    O: WireService + Serialize + DeserializeOwned + Send + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// Replies from every server arrive on `replies`, tagged with the server's id.
    pub fn new(replies: ReplyTx<T>) -> Self {
        Dialer {
            conns: HashMap::new(),
            replies,
            _op: PhantomData,
        }
    }

    /// Sends `request` to server `to` at `addr`, dialing it if there is no live
    /// connection (or the server moved). A request that cannot be sent is lost, as a
    /// packet would be: the clerk resends.
    pub fn send(&mut self, to: NodeId, addr: SocketAddr, request: Request<O>) {
        let frame = frame_of(&Wire::<O, T>::Request(request));
        if self.conns.len() >= CONNECTIONS_MAX && !self.conns.contains_key(&to) {
            self.conns.retain(|_, (_, tx)| !tx.is_closed());
        }
        let replies = &self.replies;
        let (at, tx) = self
            .conns
            .entry(to)
            .or_insert_with(|| (addr, connect::<O, T>(to, addr, replies.clone())));
        if *at != addr || tx.is_closed() {
            (*at, *tx) = (addr, connect::<O, T>(to, addr, replies.clone()));
        }
        if let Err(e) = tx.send(frame) {
            // It died since the check: dial again for the clerk's next attempt.
            *tx = connect::<O, T>(to, addr, replies.clone());
            let _ = tx.send(e.0);
        }
    }
}

pub(crate) fn frame_of<O: Serialize, T: Serialize>(w: &Wire<O, T>) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&w.encode(), &mut out);
    out
}

/// The hello a client of `service` sends (`None`: it only asks for status): no node
/// id, so the server treats it as a clerk.
pub(crate) fn client_hello(service: Option<&str>) -> Hello {
    Hello {
        version: WIRE_VERSION,
        from: None,
        client_addr: None,
        service: service.map(str::to_string),
        incarnation: 0,
    }
}

/// A connection task to one server: writes the frames it is given, forwards the
/// replies it reads. It ends when the connection fails; the sender then reports closed.
fn connect<O, T>(
    id: NodeId,
    addr: SocketAddr,
    replies: ReplyTx<T>,
) -> mpsc::UnboundedSender<Vec<u8>>
where
    O: WireService + Serialize + DeserializeOwned + Send + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        let Ok(Ok(stream)) = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await
        else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let (mut rd, mut wr) = stream.into_split();
        let hello = frame_of(&Wire::<O, T>::Hello(client_hello(Some(O::NAME))));
        if wr.write_all(&hello).await.is_err() {
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
                    if !forward_replies::<O, T>(id, &mut buf, &replies) { return }
                }
            }
        }
    });
    tx
}

/// Hands every whole reply in `buf` to `replies`; false if the stream holds anything
/// else (not a raftkv peer port, a damaged stream, another service's port): the
/// connection is dropped and the clerk's next attempt dials again instead of waiting
/// on a stream that cannot recover.
fn forward_replies<O: DeserializeOwned, T: DeserializeOwned>(
    id: NodeId,
    buf: &mut BytesMut,
    replies: &ReplyTx<T>,
) -> bool {
    loop {
        match decode_frame(buf, FRAME_BYTES_MAX_DEFAULT) {
            Ok(Some(p)) => match Wire::<O, T>::decode(&p) {
                Ok(Wire::Reply(r)) => {
                    let _ = replies.send((id, r));
                }
                _ => return false,
            },
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}
