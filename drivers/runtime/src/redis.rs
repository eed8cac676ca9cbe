//! The Redis (RESP2) front end of a key/value node. Every connection gets a clerk: on
//! a replicated store's node a [`NodeClerk`], whose commands go to the leader (straight
//! into this node's actor, or over the link to the leader); on a shard group's node a
//! [`ShardClient`], whose commands go to the group that owns the key's shard. So
//! `redis-cli` and `redis-benchmark` can use any node, and a write retried across a
//! leader change or a shard move applies at most once.
//!
//! Commands on one connection run in order, so pipelined commands are answered in
//! order; pipelined SETs (or GETs) in a row run together as one operation on a
//! replicated store (see `pipeline`: one log entry or one ReadIndex round for many). A protocol error gets an error reply and closes the connection
//! (the stream can no longer be trusted); a command error gets an error reply and the
//! connection carries on.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use kv_core::service::Server;
use kv_core::shardkv::{ShardOp, ShardOutput};
use kv_core::{KvState, Op, Outcome};
use raft_core::NodeId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::clerk_loop::CallError;
use crate::node::{NodeClerk, NodeError, NodeHandle};
use crate::resp::{self, Command, Limits, Reply};
use crate::shard::{GroupReplica, ShardClient};
use crate::wire::NodeStatus;

mod pipeline;

use pipeline::Run;

/// How long a command waits for the cluster before the client hears `TRYAGAIN`.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(5);
/// Commands parsed from the buffer before answering them: a client that pipelines more
/// has the rest read on the next turn.
const PARSED_MAX: usize = 1024;
/// Bytes a client may have sent without completing a command; beyond it the connection
/// is closed (each bulk is bounded by `Limits`, but their number times their size is
/// not).
pub const COMMAND_BYTES_MAX: usize = 64 << 20;
/// Redis connections at once; more are refused at accept.
const CONNECTIONS_MAX: usize = 4096;

pub async fn bind(addr: SocketAddr) -> Result<TcpListener, NodeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| NodeError::Listen { addr, source })
}

/// Serves Redis clients of a replicated store on `listener` until the node shuts down.
pub async fn serve(
    listener: TcpListener,
    handle: NodeHandle<Server<KvState>>,
) -> Result<(), NodeError> {
    let shutdown = handle.shutdown.clone();
    let backend = move || {
        let handle = handle.clone();
        async move {
            KvBackend {
                clerk: NodeClerk::new(handle).await,
            }
        }
    };
    serve_with(listener, shutdown, backend).await
}

/// Serves Redis clients of a sharded store on `listener` until the node shuts down:
/// commands go to the owning group, wherever it is, found through the controller at
/// `ctrl`.
pub async fn serve_sharded(
    listener: TcpListener,
    handle: NodeHandle<GroupReplica>,
    ctrl: BTreeMap<NodeId, SocketAddr>,
) -> Result<(), NodeError> {
    let shutdown = handle.shutdown.clone();
    let backend = move || {
        let (handle, ctrl) = (handle.clone(), ctrl.clone());
        async move {
            ShardBackend {
                client: ShardClient::new(ctrl),
                handle,
            }
        }
    };
    serve_with(listener, shutdown, backend).await
}

/// What a connection's commands run against.
trait Backend: Send + 'static {
    /// Carries out a command that needs the cluster.
    fn execute(&mut self, command: Command) -> impl Future<Output = Reply> + Send;
    /// Carries out a run of pipelined commands, a reply for each in order; by default
    /// one at a time.
    fn execute_run(&mut self, run: Run) -> impl Future<Output = Vec<Reply>> + Send {
        async move {
            let mut replies = Vec::with_capacity(run.len());
            for command in run.into_commands() {
                replies.push(self.execute(command).await);
            }
            replies
        }
    }
    /// This node's own view, for INFO.
    fn status(&self) -> impl Future<Output = Option<NodeStatus>> + Send;
}

async fn serve_with<B, F, Fut>(
    listener: TcpListener,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    backend: F,
) -> Result<(), NodeError>
where
    B: Backend,
    F: Fn() -> Fut,
    Fut: Future<Output = B> + Send + 'static,
{
    let open = std::sync::Arc::new(tokio::sync::Semaphore::new(CONNECTIONS_MAX));
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            a = listener.accept() => a,
        };
        let Ok((stream, remote)) = accepted else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(%remote, "redis port: too many connections, refusing one");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let backend = backend();
        tokio::spawn(async move {
            let mut conn = Connection {
                backend: backend.await,
                limits: Limits::default(),
            };
            if let Err(why) = conn.run(stream).await {
                tracing::debug!(%remote, "redis connection closed: {why}");
            }
            drop(permit);
        });
    }
}

struct Connection<B> {
    backend: B,
    limits: Limits,
}

impl<B: Backend> Connection<B> {
    async fn run(&mut self, mut stream: TcpStream) -> Result<(), String> {
        let mut buf = BytesMut::with_capacity(16 << 10);
        let mut out = Vec::new();
        loop {
            let close = self.answer_parsed(&mut buf, &mut out).await;
            if !out.is_empty() {
                stream.write_all(&out).await.map_err(|e| e.to_string())?;
                out.clear();
            }
            if let Some(why) = close {
                return Err(why);
            }
            if buf.len() > COMMAND_BYTES_MAX {
                let e = Reply::Error(format!("ERR command larger than {COMMAND_BYTES_MAX} bytes"));
                resp::encode(&e, &mut out);
                let _ = stream.write_all(&out).await;
                return Err("oversize command".into());
            }
            match stream.read_buf(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// Answers every complete command in `buf`, in order; `Some(why)` closes the
    /// connection after what is in `out` is sent.
    async fn answer_parsed(&mut self, buf: &mut BytesMut, out: &mut Vec<u8>) -> Option<String> {
        loop {
            let (items, close) = self.parse_pending(buf);
            if items.is_empty() {
                return close;
            }
            if let Some(why) = self.answer(items, out).await {
                return Some(why);
            }
            if close.is_some() {
                return close;
            }
        }
    }

    /// The complete commands at the front of `buf` (at most `PARSED_MAX`, and none past
    /// a QUIT), each a command or the error reply it gets; `Some(why)` when the stream
    /// cannot be read any further (its error reply is the last item).
    fn parse_pending(&self, buf: &mut BytesMut) -> (Vec<Result<Command, Reply>>, Option<String>) {
        let mut items = Vec::new();
        while items.len() < PARSED_MAX {
            let (args, consumed) = match resp::parse_command(buf, &self.limits) {
                Ok(Some(parsed)) => parsed,
                Ok(None) => break,
                Err(e) => {
                    items.push(Err(e.to_reply()));
                    return (items, Some(e.to_string()));
                }
            };
            buf.advance(consumed);
            if args.is_empty() {
                continue;
            }
            let item = resp::to_command(args).map_err(|e| e.to_reply());
            let quit = matches!(item, Ok(Command::Quit));
            items.push(item);
            if quit {
                break;
            }
        }
        (items, None)
    }

    /// Answers `items` in order, pipelined SETs and GETs in runs (see `pipeline`).
    async fn answer(
        &mut self,
        items: Vec<Result<Command, Reply>>,
        out: &mut Vec<u8>,
    ) -> Option<String> {
        let mut pipelined = VecDeque::new();
        for item in items {
            match item {
                Ok(c @ (Command::Set { .. } | Command::Get { .. })) => pipelined.push_back(c),
                Err(reply) => {
                    self.answer_runs(&mut pipelined, out).await;
                    resp::encode(&reply, out);
                }
                Ok(command) => {
                    self.answer_runs(&mut pipelined, out).await;
                    let quit = matches!(command, Command::Quit);
                    let reply = self.execute(command).await;
                    resp::encode(&reply, out);
                    if quit {
                        return Some("QUIT".into());
                    }
                }
            }
        }
        self.answer_runs(&mut pipelined, out).await;
        None
    }

    async fn answer_runs(&mut self, commands: &mut VecDeque<Command>, out: &mut Vec<u8>) {
        while let Some(run) = pipeline::next_run(commands) {
            let n = run.len();
            let replies = match run {
                Run::One(command) => vec![self.execute(command).await],
                run => self.backend.execute_run(run).await,
            };
            assert_eq!(replies.len(), n, "one reply per command of a run");
            replies.iter().for_each(|r| resp::encode(r, out));
        }
    }

    async fn execute(&mut self, command: Command) -> Reply {
        match command {
            Command::Ping { message: None } => Reply::Simple("PONG".into()),
            Command::Ping { message: Some(m) } | Command::Echo { message: m } => {
                Reply::Bulk(Some(m))
            }
            Command::Select { .. } | Command::Quit => Reply::Simple("OK".into()),
            Command::Command { sub } => resp::command_docs_reply(sub.as_deref()),
            Command::ConfigGet { param } => resp::config_get_reply(&param),
            Command::Info { .. } => match self.backend.status().await {
                Some(s) => Reply::Bulk(Some(info(&s).into_bytes())),
                None => Reply::Error("ERR node is shutting down".into()),
            },
            cluster => self.backend.execute(cluster).await,
        }
    }
}

struct KvBackend {
    clerk: NodeClerk<Server<KvState>>,
}

impl Backend for KvBackend {
    async fn execute(&mut self, command: Command) -> Reply {
        let op = match command {
            Command::Get { key } => Op::Get { key },
            Command::Set { key, value } => Op::Put { key, value },
            Command::Append { key, value } => Op::AppendLen { key, value },
            Command::Del { keys } => Op::DeleteMany { keys },
            Command::Exists { keys } => Op::Exists { keys },
            Command::Incr { key } => Op::Incr { key },
            Command::MGet { keys } => Op::GetMany { keys },
            Command::MSet { pairs } => Op::PutMany { pairs },
            Command::DbSize => Op::Len,
            local => unreachable!("{local:?} is answered by the connection"),
        };
        match self.clerk.call(op, COMMAND_DEADLINE).await {
            Ok(outcome) => reply_of(outcome),
            Err(e) => error_reply(e),
        }
    }

    async fn execute_run(&mut self, run: Run) -> Vec<Reply> {
        let n = run.len();
        let answer = |result: Result<Outcome, CallError>| match result {
            Ok(outcome) => vec![reply_of(outcome); n],
            Err(e) => vec![error_reply(e); n],
        };
        match run {
            Run::Sets(pairs) => answer(
                self.clerk
                    .call(Op::PutMany { pairs }, COMMAND_DEADLINE)
                    .await,
            ),
            Run::Gets(keys) => {
                let op = Op::GetMany { keys: keys.clone() };
                match self.clerk.call(op, COMMAND_DEADLINE).await {
                    Ok(Outcome::Values(values)) if values.len() == n => values
                        .into_iter()
                        .map(|v| Reply::Bulk(v.map(String::into_bytes)))
                        .collect(),
                    // Together they answer too much for one reply; each alone may not.
                    Ok(Outcome::TooLarge { .. }) => {
                        let mut replies = Vec::with_capacity(n);
                        for key in keys {
                            replies.push(self.execute(Command::Get { key }).await);
                        }
                        replies
                    }
                    other => answer(other),
                }
            }
            Run::One(command) => vec![self.execute(command).await],
        }
    }

    async fn status(&self) -> Option<NodeStatus> {
        self.clerk.status().await
    }
}

/// A sharded store keeps strings and knows Get, Put and Append, one key at a time:
/// GET and SET. Everything else is refused with a reason, never half done.
struct ShardBackend {
    client: ShardClient,
    handle: NodeHandle<GroupReplica>,
}

impl Backend for ShardBackend {
    async fn execute(&mut self, command: Command) -> Reply {
        let op = match command {
            Command::Get { key } => ShardOp::Get { key },
            Command::Set { key, value } => ShardOp::Put { key, value },
            other => {
                let name = format!("{other:?}");
                let name = name.split([' ', '{']).next().unwrap_or("this command");
                return Reply::Error(format!(
                    "ERR {} is not supported by a sharded store (GET and SET are)",
                    name.to_uppercase()
                ));
            }
        };
        match self.client.call(op, COMMAND_DEADLINE).await {
            Ok(ShardOutput::Value(v)) => Reply::Bulk(v.map(String::into_bytes)),
            Ok(ShardOutput::Done) => Reply::Simple("OK".into()),
            Ok(other) => Reply::Error(format!("ERR unexpected answer {other:?}")),
            Err(e) => error_reply(e),
        }
    }

    async fn status(&self) -> Option<NodeStatus> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let event = crate::node::Event::Status(tx);
        self.handle.inbox.send(event).await.ok()?;
        rx.await.ok()
    }
}

fn error_reply(e: CallError) -> Reply {
    match e {
        // Not TRYAGAIN: Redis Cluster clients resend on it, as it means "not
        // executed", and an abandoned INCR or APPEND may still apply.
        CallError::Deadline(d) => Reply::Error(format!(
            "TIMEOUT no answer from a leader within {d:?}; the command may or may not have taken effect"
        )),
        CallError::Service(e) => Reply::Error(format!("ERR {e}")),
    }
}

fn reply_of(outcome: Outcome) -> Reply {
    let bulk = |v: Option<String>| Reply::Bulk(v.map(String::into_bytes));
    match outcome {
        Outcome::Value(v) => bulk(v),
        Outcome::Done => Reply::Simple("OK".into()),
        Outcome::Swapped(b) => Reply::Integer(b.into()),
        Outcome::Values(vs) => Reply::Array(vs.into_iter().map(bulk).collect()),
        Outcome::Count(n) => Reply::Integer(i64::try_from(n).unwrap_or(i64::MAX)),
        Outcome::Integer(n) => Reply::Integer(n),
        Outcome::NotAnInteger => Reply::Error("ERR value is not an integer or out of range".into()),
        Outcome::TooLarge {
            size_bytes,
            max_bytes,
        } => Reply::Error(format!(
            "ERR string exceeds maximum allowed size ({size_bytes} bytes; at most {max_bytes})"
        )),
    }
}

/// INFO's text: the replication section a Redis user looks for, in Redis's format.
pub fn info(s: &NodeStatus) -> String {
    let leader = s.leader.map_or("none".into(), |l| l.to_string());
    let leader_addr = s.leader_client_addr.as_deref().unwrap_or("unknown");
    format!(
        "# Server\r\nraftkv_version:{}\r\nnode_id:{}\r\n\r\n# Replication\r\nrole:{}\r\nterm:{}\r\nleader_id:{}\r\nleader_addr:{}\r\ncommit_index:{}\r\napplied_index:{}\r\nlast_index:{}\r\n\r\n# Persistence\r\nlog_bytes:{}\r\nsnapshot_bytes:{}\r\n\r\n# Stats\r\npeer_frames_bad:{}\r\n",
        env!("CARGO_PKG_VERSION"), s.id, s.role, s.term, leader, leader_addr, s.commit,
        s.applied, s.last_index, s.log_bytes, s.snapshot_bytes, s.peer_frames_bad
    )
}
