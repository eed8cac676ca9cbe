//! The actor: the one task that owns the service's replica. It takes events from its
//! inbox (peer messages, client requests, answers to its own calls, storage completions,
//! status queries) and ticks from a monotonic clock, steps the replica, and hands the
//! result out: messages to the peer links, writes to the storage thread, replies to
//! whoever asked, calls to the replica's own transports.

use std::collections::HashMap;
use std::sync::mpsc as std_mpsc;

use kv_core::service::{ClientId, Reply, Request, ServiceError};
use raft_core::{Message, NodeId, Write, WriteId};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{interval, MissedTickBehavior};

use trace::{LinkSeq, Machine, Recorder, Sink};

use super::options::TraceOptions;
use super::replica::{CallSink, Replica, ReplicaInput, ReplicaReady};
use super::BootOf;
use super::{Links, NodeError, NodeOptions};
use crate::storage::{Storage, StorageError};
use crate::wire::{role_name, NodeStatus};

/// Where a reply goes: the connection or clerk that sent the request, told which node
/// answered (a clerk needs to know).
pub(crate) type ReplyTx<T> = mpsc::UnboundedSender<(NodeId, Reply<T>)>;
pub(crate) type Inbox<R> = mpsc::Sender<Event<R>>;

/// Events queued for the actor before senders wait: readers slow down, nothing is lost.
const INBOX_EVENTS_MAX: usize = 16 * 1024;
/// Clients with a request in flight here; beyond it requests are answered `Busy`.
const ROUTES_MAX: usize = 64 * 1024;
/// Requests taken in one turn of the loop (one step, one batch of proposals) at most.
const TURN_REQUESTS_MAX: usize = 256;

pub enum Event<R: Replica> {
    /// A peer's message, with its link number if the peer numbers them.
    Raft {
        message: Message,
        link: Option<LinkSeq>,
    },
    Request {
        request: Request<R::Op>,
        reply_to: ReplyTx<R::Output>,
    },
    /// Another service's answer to one of the replica's own calls.
    Answer(R::Answer),
    /// A reply for one of this node's clerks came back over a link to `from`.
    RemoteReply {
        from: NodeId,
        reply: Reply<R::Output>,
    },
    RegisterClerk {
        client: ClientId,
        replies: ReplyTx<R::Output>,
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

impl<R: Replica> Event<R> {
    fn kind(&self) -> &'static str {
        match self {
            Event::Raft { .. } => "raft",
            Event::Request { .. } => "request",
            Event::Answer(_) => "answer",
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

pub(crate) struct Actor<R: Replica> {
    id: NodeId,
    replica: R,
    inbox: Inbox<R>,
    calls: CallSink<R::Call>,
    tick: std::time::Duration,
    /// Who waits for the reply to each client's request in flight here.
    /// Keyed by client, with the sequence number of its latest request.
    routes: HashMap<ClientId, (u64, ReplyTx<R::Output>)>,
    /// This node's own clerks, for replies arriving from other nodes.
    clerks: HashMap<ClientId, ReplyTx<R::Output>>,
    client_addrs: HashMap<NodeId, String>,
    log_bytes: u64,
    snapshot_bytes: u64,
    peer_frames_bad: u64,
    recorder: Option<Recorder<R::Machine>>,
    clock: TraceClock,
}

/// Trace time: Unix microseconds at start plus monotonic time since, so a node's
/// steps never go back in time and nodes on one machine line up.
struct TraceClock {
    unix_at_start_us: u64,
    start: std::time::Instant,
}

impl TraceClock {
    fn new() -> Self {
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        TraceClock {
            unix_at_start_us: u64::try_from(unix).unwrap_or(u64::MAX),
            start: std::time::Instant::now(),
        }
    }

    fn now_us(&self) -> u64 {
        let since = u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.unix_at_start_us.saturating_add(since)
    }
}

/// A step's result and the link number of each message it sends (empty when the node
/// records no trace: then nothing is numbered).
struct Stepped<R: Replica> {
    ready: Ready<R>,
    seqs: Vec<u64>,
}

impl<R: Replica> Default for Stepped<R> {
    fn default() -> Self {
        Stepped {
            ready: Ready::<R>::default(),
            seqs: Vec::new(),
        }
    }
}

impl<R: Replica> Stepped<R> {
    fn merge(&mut self, more: Stepped<R>) {
        self.ready.merge(more.ready);
        self.seqs.extend(more.seqs);
    }
}

impl<R: Replica> Actor<R> {
    /// Must run inside the node's event loop: the replica starts its calls' transports.
    pub(crate) fn new(
        opts: &NodeOptions,
        replica: R,
        boot: &BootOf<R>,
        storage: &Storage,
    ) -> Result<(Self, mpsc::Receiver<Event<R>>), NodeError> {
        let clock = TraceClock::new();
        let recorder = match &opts.trace {
            Some(t) => Some(start_recorder::<R>(opts, t, boot, clock.now_us())?),
            None => None,
        };
        let (inbox, rx) = mpsc::channel(INBOX_EVENTS_MAX);
        let answers = inbox.clone();
        let calls = replica.start_calls(std::sync::Arc::new(move |a| {
            answers.try_send(Event::Answer(a)).is_ok()
        }));
        let mut client_addrs = HashMap::new();
        if let Some(a) = opts.client_addr {
            client_addrs.insert(opts.id, a.to_string());
        }
        let actor = Actor {
            id: opts.id,
            replica,
            inbox,
            calls,
            tick: opts.tick,
            routes: HashMap::new(),
            clerks: HashMap::new(),
            client_addrs,
            log_bytes: storage.log_bytes(),
            snapshot_bytes: storage.snapshot_bytes(),
            peer_frames_bad: 0,
            recorder,
            clock,
        };
        Ok((actor, rx))
    }

    /// Steps the replica; records the step if the node records a trace.
    fn step(
        &mut self,
        input: ReplicaInput<R::Op, R::Answer>,
        received: Option<LinkSeq>,
    ) -> Stepped<R> {
        let native = R::native(input);
        let Some(recorder) = self.recorder.as_mut() else {
            let output = self.replica.machine().step(native, &mut ());
            let ready = self.replica.finish(output);
            return Stepped {
                ready,
                seqs: Vec::new(),
            };
        };
        let bytes = Recorder::<R::Machine>::encode_input(&native);
        let output = self.replica.machine().step(native, &mut ());
        let sent = recorder.record(self.clock.now_us(), bytes, received, &output);
        let ready = self.replica.finish(output);
        assert_eq!(
            sent.len(),
            ready.messages.len(),
            "finish passes messages through"
        );
        Stepped {
            ready,
            seqs: sent.iter().map(|l| l.seq).collect(),
        }
    }

    pub(crate) fn inbox(&self) -> Inbox<R> {
        self.inbox.clone()
    }

    pub(crate) async fn run(
        mut self,
        mut events: mpsc::Receiver<Event<R>>,
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
            let stepped = tokio::select! {
                biased;
                _ = shutdown.changed() => return Ok(()),
                _ = ticker.tick() => {
                                        if let Some(r) = self.recorder.as_mut() {
                        r.flush();
                        // Said once: the recorder stays stopped, the node serves on.
                        if let Some(e) = r.take_failure() {
                            tracing::warn!("trace recording stopped: {e}");
                        }
                    }
                    self.step(ReplicaInput::Tick, None)
                }
                event = events.recv() => match event {
                    Some(e) => self.handle_turn(e, &mut events)?,
                    None => return Ok(()),
                },
            };
            self.dispatch(stepped, &links, &writes);
            if let Some(e) = self.replica.failure() {
                return Err(NodeError::Halted(e));
            }
        }
    }

    /// Handles `first` and, for a replica that takes requests together, every request
    /// already waiting behind it (up to `TURN_REQUESTS_MAX`) in one step, so their
    /// writes share one log append, one message to each follower and one disk write.
    /// The first other event found is handled right after them, in order.
    fn handle_turn(
        &mut self,
        first: Event<R>,
        events: &mut mpsc::Receiver<Event<R>>,
    ) -> Result<Stepped<R>, NodeError> {
        if !R::BATCHES_REQUESTS || !matches!(first, Event::Request { .. }) {
            return self.handle(first);
        }
        let (mut requests, mut after) = (Vec::new(), None);
        let mut event = first;
        loop {
            match event {
                Event::Request { request, reply_to } => {
                    requests.extend(self.route(request, reply_to))
                }
                other => {
                    after = Some(other);
                    break;
                }
            }
            if requests.len() >= TURN_REQUESTS_MAX {
                break;
            }
            match events.try_recv() {
                Ok(next) => event = next,
                Err(_) => break,
            }
        }
        assert!(requests.len() <= TURN_REQUESTS_MAX);
        let mut stepped = match requests.len() {
            0 => Stepped::default(),
            _ => self.step(ReplicaInput::Requests(requests), None),
        };
        if let Some(e) = after {
            stepped.merge(self.handle(e)?);
        }
        Ok(stepped)
    }

    fn handle(&mut self, event: Event<R>) -> Result<Stepped<R>, NodeError> {
        let mut ready = Stepped::<R>::default();
        tracing::trace!(event = event.kind(), "event");
        match event {
            Event::Raft { message, link } => {
                ready = self.step(ReplicaInput::Message(message), link)
            }
            Event::Request { request, reply_to } => ready = self.request(request, reply_to),
            Event::Answer(a) => ready = self.step(ReplicaInput::Answer(a), None),
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
                    ready.merge(self.step(ReplicaInput::Persisted(id), None));
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

    fn request(&mut self, request: Request<R::Op>, reply_to: ReplyTx<R::Output>) -> Stepped<R> {
        match self.route(request, reply_to) {
            Some(request) => self.step(ReplicaInput::Request(request), None),
            None => Stepped::default(),
        }
    }

    /// Remembers where the reply to `request` goes, or answers `Busy` at once (`None`)
    /// when too many clients wait here already.
    fn route(
        &mut self,
        request: Request<R::Op>,
        reply_to: ReplyTx<R::Output>,
    ) -> Option<Request<R::Op>> {
        if self.routes.len() >= ROUTES_MAX && !self.routes.contains_key(&request.client) {
            let busy = ServiceError::Busy {
                reason: format!("{ROUTES_MAX} clients already waiting on this node"),
            };
            let _ = reply_to.send((self.id, Reply::err(request.client, request.seq, busy)));
            return None;
        }
        // A newer request from the same client replaces the route: its clerk has given
        // up on the older one.
        self.routes.insert(request.client, (request.seq, reply_to));
        Some(request)
    }

    fn deliver_remote(&mut self, from: NodeId, reply: Reply<R::Output>) {
        if let Some(tx) = self.clerks.get(&reply.client) {
            if tx.send((from, reply)).is_err() {
                self.clerks.retain(|_, tx| !tx.is_closed());
            }
        }
    }

    /// Carries out a step's result: messages to links, writes to the storage thread,
    /// replies to their routes, calls to the replica's transports. Nothing here blocks.
    fn dispatch(
        &mut self,
        Stepped { ready, seqs }: Stepped<R>,
        links: &Links,
        writes: &std_mpsc::Sender<Vec<Write>>,
    ) {
        assert!(seqs.is_empty() || seqs.len() == ready.messages.len());
        for (i, m) in ready.messages.into_iter().enumerate() {
            tracing::trace!(to = m.to, "send {:?}", std::mem::discriminant(&m.body));
            assert_eq!(m.from, self.id, "a node sends only as itself");
            links.send_raft::<R>(m, seqs.get(i).copied().unwrap_or(0));
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
        for call in ready.calls {
            (self.calls)(call);
        }
    }

    fn status(&self) -> NodeStatus {
        let node = self.replica.node();
        let leader = node.leader();
        NodeStatus {
            id: self.id,
            role: role_name(node.role()),
            term: node.term(),
            leader,
            leader_client_addr: leader.and_then(|l| self.client_addrs.get(&l).cloned()),
            commit: node.log().committed(),
            applied: self.replica.applied(),
            last_index: node.log().last_index(),
            log_bytes: self.log_bytes,
            snapshot_bytes: self.snapshot_bytes,
            peer_frames_bad: self.peer_frames_bad,
        }
    }
}

type Ready<R> = ReplicaReady<<R as Replica>::Output, <R as Replica>::Call>;

fn start_recorder<R: Replica>(
    opts: &NodeOptions,
    t: &TraceOptions,
    boot: &BootOf<R>,
    now_us: u64,
) -> Result<Recorder<R::Machine>, NodeError> {
    let files = trace::file::RotatingFiles::create(&t.dir, opts.id, t.file_bytes_max, t.files_max)?;
    let note = format!(
        "raftkv {} node {} at {}",
        env!("CARGO_PKG_VERSION"),
        opts.id,
        opts.peer_addr()
    );
    let sink = Sink::Files(Box::new(files));
    let mut recorder = Recorder::start(sink, opts.id, opts.incarnation, now_us, boot, note);
    recorder.with_outputs = t.with_outputs;
    match recorder.take_failure() {
        Some(e) => Err(NodeError::Trace(e)),
        None => Ok(recorder),
    }
}
