//! A shard group's node: `kv_core::shardkv::ShardGroup` as the actor's replica. Its
//! calls go out over two dialers, one speaking the controller's wire types and one the
//! shard groups'; their answers come back into the actor as [`GroupAnswer`]s.
//!
//! Controller servers are found by the addresses the node was started with; other
//! groups' servers by the addresses in their names in the configurations the group has
//! stepped through (`ID@HOST:PORT`, as `raftkv shard join` writes them). The group's
//! own peers need no lookup: Raft messages use the node's links.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use kv_core::service::{Reply, Request};
use kv_core::shardkv::{GroupInput, GroupReady, ShardGroup};
use kv_core::shardkv::{ShardOp, ShardOutput};
use kv_core::{CtrlOp, CtrlOutcome};
use raft_core::{Index, Node, NodeId};
use tokio::sync::mpsc;

use super::client::addr_among;
use crate::dialer::{Dialer, ReplyRx};
use crate::node::{AnswerSink, CallSink, Replica, ReplicaInput, ReplicaReady};

/// A request of the group's leader to another group or to the controller, with the
/// address of the server it is for.
pub enum GroupCall {
    Group {
        to: NodeId,
        addr: SocketAddr,
        request: Request<ShardOp>,
    },
    Ctrl {
        to: NodeId,
        addr: SocketAddr,
        request: Request<CtrlOp>,
    },
}

pub enum GroupAnswer {
    Group {
        from: NodeId,
        reply: Reply<ShardOutput>,
    },
    Ctrl {
        from: NodeId,
        reply: Reply<CtrlOutcome>,
    },
}

/// Servers warned about once each; bounded like every other set here.
const UNADDRESSED_WARNED_MAX: usize = 1024;

pub struct GroupReplica {
    group: ShardGroup,
    ctrl: BTreeMap<NodeId, SocketAddr>,
    /// Calls dropped because no address was known for their server.
    unaddressed: u64,
    unaddressed_warned: BTreeSet<NodeId>,
}

impl GroupReplica {
    /// `ctrl` must name the servers of the controller the group's config was made with.
    pub fn new(group: ShardGroup, ctrl: BTreeMap<NodeId, SocketAddr>) -> Self {
        assert!(!ctrl.is_empty(), "a shard group needs its controller");
        GroupReplica {
            group,
            ctrl,
            unaddressed: 0,
            unaddressed_warned: BTreeSet::new(),
        }
    }

    pub fn group(&self) -> &ShardGroup {
        &self.group
    }

    /// Where server `id` of another group listens, from the groups this group's state
    /// keeps the servers of (those it pulls from and notifies, even after they left).
    fn group_server_addr(&self, id: NodeId) -> Option<SocketAddr> {
        let homes = self.group.state().homes().values();
        addr_among(homes.flatten(), id)
    }

    /// Counts a call dropped for want of an address; says so once per server (the
    /// leader resends every poll period).
    fn unaddressed(&mut self, to: NodeId) {
        self.unaddressed += 1;
        if self.unaddressed_warned.len() < UNADDRESSED_WARNED_MAX
            && self.unaddressed_warned.insert(to)
        {
            tracing::warn!(
                to,
                "no address for server {to}: its configuration name has none (ID@HOST:PORT)"
            );
        }
    }

    fn calls(&mut self, ready: &mut GroupReady) -> Vec<GroupCall> {
        let mut calls = Vec::new();
        for (to, request) in ready.to_groups.drain(..) {
            match self.group_server_addr(to) {
                Some(addr) => calls.push(GroupCall::Group { to, addr, request }),
                None => self.unaddressed(to),
            }
        }
        for (to, request) in ready.to_ctrl.drain(..) {
            match self.ctrl.get(&to) {
                Some(&addr) => calls.push(GroupCall::Ctrl { to, addr, request }),
                None => self.unaddressed(to),
            }
        }
        calls
    }
}

impl Replica for GroupReplica {
    type Op = ShardOp;
    type Output = ShardOutput;
    type Call = GroupCall;
    type Answer = GroupAnswer;
    type Machine = ShardGroup;

    fn machine(&mut self) -> &mut ShardGroup {
        &mut self.group
    }

    fn native(input: ReplicaInput<ShardOp, GroupAnswer>) -> GroupInput {
        match input {
            ReplicaInput::Tick => GroupInput::Tick,
            ReplicaInput::Message(m) => GroupInput::Message(m),
            ReplicaInput::Persisted(id) => GroupInput::Persisted(id),
            ReplicaInput::Request(r) => GroupInput::Request(r),
            ReplicaInput::Requests(_) => {
                unreachable!("a shard group takes requests one at a time (BATCHES_REQUESTS)")
            }
            ReplicaInput::Answer(GroupAnswer::Group { from, reply }) => {
                GroupInput::GroupReply { from, reply }
            }
            ReplicaInput::Answer(GroupAnswer::Ctrl { from, reply }) => {
                GroupInput::CtrlReply { from, reply }
            }
        }
    }

    fn finish(&mut self, mut ready: GroupReady) -> ReplicaReady<ShardOutput, GroupCall> {
        let calls = self.calls(&mut ready);
        ReplicaReady {
            messages: ready.messages,
            writes: ready.writes,
            replies: ready.replies,
            calls,
        }
    }

    fn node(&self) -> &Node {
        self.group.server().node()
    }

    fn applied(&self) -> Index {
        self.group.server().applied()
    }

    fn failure(&self) -> Option<String> {
        if let Some(e) = self.group.server().failure() {
            return Some(e.to_string());
        }
        // The log holds another group's steps: this node was started with the wrong
        // --gid for its data. Carrying on, its leader's every step would be refused.
        let (held, ours) = (self.group.state().gid(), self.group.gid());
        (held != 0 && held != ours).then(|| {
            format!("started as group {ours}, but its log and snapshot are group {held}'s")
        })
    }

    fn start_calls(&self, answers: AnswerSink<GroupAnswer>) -> CallSink<GroupCall> {
        let (group_tx, group_rx) = mpsc::unbounded_channel();
        let (ctrl_tx, ctrl_rx) = mpsc::unbounded_channel();
        let mut groups = Dialer::<ShardOp, ShardOutput>::new(group_tx);
        let mut ctrl = Dialer::<CtrlOp, CtrlOutcome>::new(ctrl_tx);
        let to_group = |from, reply| GroupAnswer::Group { from, reply };
        let to_ctrl = |from, reply| GroupAnswer::Ctrl { from, reply };
        tokio::spawn(forward(group_rx, answers.clone(), to_group));
        tokio::spawn(forward(ctrl_rx, answers, to_ctrl));
        Box::new(move |call| match call {
            GroupCall::Group { to, addr, request } => groups.send(to, addr, request),
            GroupCall::Ctrl { to, addr, request } => ctrl.send(to, addr, request),
        })
    }
}

/// Moves a dialer's replies into the actor; ends when the dialer is gone.
async fn forward<T>(
    mut replies: ReplyRx<T>,
    answers: AnswerSink<GroupAnswer>,
    wrap: impl Fn(NodeId, Reply<T>) -> GroupAnswer,
) {
    while let Some((from, reply)) = replies.recv().await {
        // A full inbox loses the answer like a packet: the leader asks again next poll.
        let _ = answers(wrap(from, reply));
    }
}
