//! The actor: the one task that owns the service's state machine. It takes events from
//! its inbox (peer messages, client requests, storage completions, status queries) and
//! ticks from a monotonic clock, steps the server, and hands the result out: messages
//! to the peer links, writes to the storage thread, replies to whoever asked.

use std::collections::HashMap;
use std::sync::mpsc as std_mpsc;

use kv_core::service::{ClientId, Reply, Request, Server, ServerInput, ServerReady};
use kv_core::service::{ServiceError, StateMachine};
use raft_core::{Message, NodeId, RestoredState, Write, WriteId};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{interval, MissedTickBehavior};

use super::{Links, NodeError, NodeOptions};
use crate::storage::{Storage, StorageError};
use crate::wire::{role_name, NodeStatus};

/// Where a reply goes: the connection or clerk that sent the request, told which node
/// answered (a clerk needs to know).
pub(crate) type ReplyTx<T> = mpsc::UnboundedSender<(NodeId, Reply<T>)>;
pub(crate) type Inbox<S> = mpsc::Sender<Event<S>>;

/// Events queued for the actor before senders wait: readers slow down, nothing is lost.
const INBOX_EVENTS_MAX: usize = 16 * 1024;
/// Clients with a request in flight here; beyond it requests are answered `Busy`.
const ROUTES_MAX: usize = 64 * 1024;

pub enum Event<S: StateMachine> {
    Raft(Message),
    Request {
        request: Request<S::Op>,
        reply_to: ReplyTx<S::Output>,
    },
    /// A reply for one of this node's clerks came back over a link to `from`.
    RemoteReply {
        from: NodeId,
        reply: Reply<S::Output>,
    },
    RegisterClerk {
        client: ClientId,
        replies: ReplyTx<S::Output>,
    },
    UnregisterClerk(ClientId),
    Persisted {
        ids: Vec<WriteId>,
        log_bytes: u64,
        snapshot_bytes: u64,
    },
    StorageFailed(StorageError),
    Status(oneshot::Sender<NodeStatus>),
    PeerHello {
        id: NodeId,
        client_addr: Option<String>,
    },
    /// A peer connection sent something undecodable and was dropped.
    BadFrame,
}

impl<S: StateMachine> Event<S> {
    fn kind(&self) -> &'static str {
        match self {
            Event::Raft(_) => "raft",
            Event::Request { .. } => "request",
            Event::RemoteReply { .. } => "remote reply",
            Event::RegisterClerk { .. } => "register clerk",
            Event::UnregisterClerk(_) => "unregister clerk",
            Event::Persisted { .. } => "persisted",
            Event::StorageFailed(_) => "storage failed",
            Event::Status(_) => "status",
            Event::PeerHello { .. } => "peer hello",
            Event::BadFrame => "bad frame",
        }
    }
}

pub(crate) struct Actor<S: StateMachine> {
    id: NodeId,
    server: Server<S>,
    inbox: Inbox<S>,
    tick: std::time::Duration,
    /// Who waits for the reply to each client's request in flight here.
    /// Keyed by client, with the sequence number of its latest request.
    routes: HashMap<ClientId, (u64, ReplyTx<S::Output>)>,
    /// This node's own clerks, for replies arriving from other nodes.
    clerks: HashMap<ClientId, ReplyTx<S::Output>>,
    client_addrs: HashMap<NodeId, String>,
    log_bytes: u64,
    snapshot_bytes: u64,
    peer_frames_bad: u64,
}

impl<S: StateMachine> Actor<S> {
    pub(crate) fn new(
        opts: &NodeOptions,
        restored: RestoredState,
        storage: &Storage,
    ) -> Result<(Self, mpsc::Receiver<Event<S>>), NodeError> {
        let server = Server::new(opts.server.clone(), restored)?;
        let (inbox, rx) = mpsc::channel(INBOX_EVENTS_MAX);
        let mut client_addrs = HashMap::new();
        if let Some(a) = opts.client_addr {
            client_addrs.insert(opts.id, a.to_string());
        }
        let actor = Actor {
            id: opts.id,
            server,
            inbox,
            tick: opts.tick,
            routes: HashMap::new(),
            clerks: HashMap::new(),
            client_addrs,
            log_bytes: storage.log_bytes(),
            snapshot_bytes: storage.snapshot_bytes(),
            peer_frames_bad: 0,
        };
        Ok((actor, rx))
    }

    pub(crate) fn inbox(&self) -> Inbox<S> {
        self.inbox.clone()
    }

    pub(crate) async fn run(
        mut self,
        mut events: mpsc::Receiver<Event<S>>,
        links: Links,
        writes: std_mpsc::Sender<Vec<Write>>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), NodeError> {
        let mut ticker = interval(self.tick);
        // A loop that fell behind must not fire a burst of ticks: that would expire
        // election timers for time in which nothing could be heard.
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            // Ticks before events: a stream of events must not starve the heartbeats.
            let ready = tokio::select! {
                biased;
                _ = shutdown.changed() => return Ok(()),
                _ = ticker.tick() => self.server.step(ServerInput::Tick),
                event = events.recv() => match event {
                    Some(e) => self.handle(e)?,
                    None => return Ok(()),
                },
            };
            self.dispatch(ready, &links, &writes);
            if let Some(e) = self.server.failure() {
                return Err(NodeError::Halted(e.to_string()));
            }
        }
    }

    fn handle(&mut self, event: Event<S>) -> Result<ServerReady<S::Output>, NodeError> {
        let mut ready = ServerReady::default();
        tracing::trace!(event = event.kind(), "event");
        match event {
            Event::Raft(m) => ready = self.server.step(ServerInput::Message(m)),
            Event::Request { request, reply_to } => ready = self.request(request, reply_to),
            Event::RemoteReply { from, reply } => self.deliver_remote(from, reply),
            Event::RegisterClerk { client, replies } => {
                self.clerks.insert(client, replies);
            }
            Event::UnregisterClerk(client) => {
                self.clerks.remove(&client);
            }
            Event::Persisted {
                ids,
                log_bytes,
                snapshot_bytes,
            } => {
                (self.log_bytes, self.snapshot_bytes) = (log_bytes, snapshot_bytes);
                for id in ids {
                    let more = self.server.step(ServerInput::Persisted(id));
                    merge(&mut ready, more);
                }
            }
            Event::StorageFailed(e) => return Err(e.into()),
            Event::Status(tx) => {
                let _ = tx.send(self.status());
            }
            Event::PeerHello { id, client_addr } => {
                if let Some(a) = client_addr {
                    self.client_addrs.insert(id, a);
                }
            }
            Event::BadFrame => self.peer_frames_bad += 1,
        }
        Ok(ready)
    }

    fn request(
        &mut self,
        request: Request<S::Op>,
        reply_to: ReplyTx<S::Output>,
    ) -> ServerReady<S::Output> {
        if self.routes.len() >= ROUTES_MAX && !self.routes.contains_key(&request.client) {
            let busy = ServiceError::Busy {
                reason: format!("{ROUTES_MAX} clients already waiting on this node"),
            };
            let _ = reply_to.send((self.id, Reply::err(request.client, request.seq, busy)));
            return ServerReady::default();
        }
        // A newer request from the same client replaces the route: its clerk has given
        // up on the older one.
        self.routes.insert(request.client, (request.seq, reply_to));
        self.server.step(ServerInput::Request(request))
    }

    fn deliver_remote(&mut self, from: NodeId, reply: Reply<S::Output>) {
        if let Some(tx) = self.clerks.get(&reply.client) {
            if tx.send((from, reply)).is_err() {
                self.clerks.retain(|_, tx| !tx.is_closed());
            }
        }
    }

    /// Carries out a step's result: messages to links, writes to the storage thread,
    /// replies to their routes. Nothing here blocks.
    fn dispatch(
        &mut self,
        ready: ServerReady<S::Output>,
        links: &Links,
        writes: &std_mpsc::Sender<Vec<Write>>,
    ) {
        for m in ready.messages {
            tracing::trace!(to = m.to, "send {:?}", std::mem::discriminant(&m.body));
            assert_eq!(m.from, self.id, "a node sends only as itself");
            links.send_raft::<S>(m);
        }
        if !ready.writes.is_empty() {
            // The storage thread lives as long as the actor; if it died it reported why.
            let _ = writes.send(ready.writes);
        }
        for reply in ready.replies {
            tracing::trace!(client = reply.client, "reply");
            let Some((seq, tx)) = self.routes.get(&reply.client) else {
                continue; // its connection is gone, or it was answered already
            };
            // An older request's reply still goes out (the clerk ignores it), but the
            // route stays for the request the clerk waits on now.
            let (client, answered) = (reply.client, reply.seq >= *seq);
            let _ = tx.send((self.id, reply));
            if answered {
                self.routes.remove(&client);
            }
        }
    }

    fn status(&self) -> NodeStatus {
        let node = self.server.node();
        let leader = node.leader();
        NodeStatus {
            id: self.id,
            role: role_name(node.role()),
            term: node.term(),
            leader,
            leader_client_addr: leader.and_then(|l| self.client_addrs.get(&l).cloned()),
            commit: node.log().committed(),
            applied: self.server.applied(),
            last_index: node.log().last_index(),
            log_bytes: self.log_bytes,
            snapshot_bytes: self.snapshot_bytes,
            peer_frames_bad: self.peer_frames_bad,
        }
    }
}

fn merge<T>(into: &mut ServerReady<T>, more: ServerReady<T>) {
    into.messages.extend(more.messages);
    into.writes.extend(more.writes);
    into.replies.extend(more.replies);
}
