//! A clerk living inside a node: how a Redis connection's commands reach the leader.
//! Requests for this node go straight into the actor's inbox; requests for another node
//! go over the link to it, and the reply comes back on that link. Retries across a
//! leader change keep their sequence number, so a forwarded write applies at most once.

use std::time::Duration;

use super::replica::Replica;
use kv_core::service::Clerk;
use tokio::sync::{mpsc, oneshot};

use super::actor::{Event, ReplyTx};
use super::NodeHandle;
use crate::clerk_loop::{self, CallError};
use crate::wire::NodeStatus;

pub struct NodeClerk<R: Replica> {
    handle: NodeHandle<R>,
    clerk: Clerk<R::Op, R::Output>,
    tx: ReplyTx<R::Output>,
    rx: mpsc::UnboundedReceiver<(raft_core::NodeId, kv_core::service::Reply<R::Output>)>,
}

impl<R: Replica> NodeClerk<R> {
    pub async fn new(handle: NodeHandle<R>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let clerk = clerk_loop::new_clerk(handle.servers.clone());
        let me = NodeClerk {
            handle,
            clerk,
            tx,
            rx,
        };
        me.register().await;
        me
    }

    async fn register(&self) {
        let client = self.clerk.client();
        let replies = self.tx.clone();
        let _ = self
            .handle
            .inbox
            .send(Event::RegisterClerk { client, replies })
            .await;
    }

    pub async fn call(&mut self, op: R::Op, deadline: Duration) -> Result<R::Output, CallError> {
        let NodeClerk {
            handle,
            clerk,
            tx,
            rx,
        } = self;
        let send = |to, request| {
            if to == handle.id {
                let reply_to = tx.clone();
                // A full inbox drops the request like a lost packet: the clerk resends.
                let _ = handle.inbox.try_send(Event::Request { request, reply_to });
            } else {
                handle.links.send_request::<R>(to, request);
            }
        };
        let result = clerk_loop::call(clerk, op, rx, send, deadline).await;
        if matches!(result, Err(CallError::Deadline(_))) {
            let old = self.clerk.client();
            let _ = self.handle.inbox.send(Event::UnregisterClerk(old)).await;
            self.clerk = clerk_loop::new_clerk(self.handle.servers.clone());
            self.register().await;
        }
        result
    }

    /// This node's own view (role, term, leader ...).
    pub async fn status(&self) -> Option<NodeStatus> {
        let (tx, rx) = oneshot::channel();
        self.handle.inbox.send(Event::Status(tx)).await.ok()?;
        rx.await.ok()
    }
}

impl<R: Replica> Drop for NodeClerk<R> {
    fn drop(&mut self) {
        let _ = self
            .handle
            .inbox
            .try_send(Event::UnregisterClerk(self.clerk.client()));
    }
}
