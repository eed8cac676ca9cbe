//! The controller of a `shard_cluster` run: one `ShardCtrl` state machine, not
//! replicated. The administrator's operations take effect on it at once; queries from
//! groups and clerks are answered when the network delivers them, and the answers
//! travel back through the network like any packet.

use std::collections::BTreeMap;

use kv_core::service::{Access, Reply, Request, StateMachine};
use kv_core::shardkv::{GroupInput, ShardClerkInput, SHARDS};
use kv_core::{CtrlOp, CtrlOutcome, Gid, ShardCtrl};

use super::world::{Address, Packet, World, CTRL_ID};

impl World {
    /// The groups the setup names as joined before the first action (all at once).
    pub(super) fn join_initial(&mut self) {
        let gids: Vec<Gid> = (0..self.groups())
            .filter(|g| self.setup.joined & (1 << g) != 0)
            .map(|g| g as Gid + 1)
            .collect();
        if !gids.is_empty() {
            self.admin(self.join_op(&gids));
        }
    }

    /// Joins every group when the latest configuration has none, so the end can
    /// require every key to be served again.
    pub(super) fn join_all_if_none(&mut self) {
        if self.ctrl.latest().groups.is_empty() {
            let gids: Vec<Gid> = (1..=self.groups() as Gid).collect();
            self.admin(self.join_op(&gids));
        }
    }

    fn gid(&self, g: u8) -> Gid {
        Gid::from(g) % self.groups() as Gid + 1
    }

    fn join_op(&self, gids: &[Gid]) -> CtrlOp {
        let groups: BTreeMap<Gid, Vec<String>> = gids.iter().map(|&g| (g, self.names(g))).collect();
        CtrlOp::Join { groups }
    }

    pub(super) fn admin_join(&mut self, g: u8) {
        self.admin(self.join_op(&[self.gid(g)]));
    }

    pub(super) fn admin_leave(&mut self, g: u8) {
        self.admin(CtrlOp::Leave {
            gids: vec![self.gid(g)],
        });
    }

    pub(super) fn admin_move(&mut self, shard: u8, g: u8) {
        let shard = usize::from(shard) % SHARDS;
        self.admin(CtrlOp::Move {
            shard,
            gid: self.gid(g),
        });
    }

    /// Applies an administrator's write to the controller (a refused one changes
    /// nothing, as the controller promises).
    fn admin(&mut self, op: CtrlOp) {
        let before = self.ctrl.latest().num;
        let Access::Write(cmd) = <ShardCtrl>::route(op) else {
            panic!("the administrator's operations are writes");
        };
        let outcome = self.ctrl.apply(&cmd);
        let after = self.ctrl.latest().num;
        match outcome {
            CtrlOutcome::Configured { num } => assert_eq!((num, after), (before + 1, num)),
            _ => assert_eq!(after, before, "a refused operation made a configuration"),
        }
        self.summary.configs = after;
    }

    /// The controller answers a query when it arrives.
    pub(super) fn answer_ctrl(&mut self, request: Request<CtrlOp>) {
        let Request { client, seq, op } = request;
        let Access::Read(query) = <ShardCtrl>::route(op.clone()) else {
            panic!("client {client} asked the controller to write: {op:?}");
        };
        let outcome = self.ctrl.query(&query);
        self.net.send(Packet::FromCtrl(Reply {
            client,
            seq,
            result: Ok(outcome),
        }));
    }

    pub(super) fn deliver_ctrl_reply(&mut self, reply: Reply<CtrlOutcome>) {
        let from = CTRL_ID;
        match self.address(reply.client) {
            Some(Address::Clerk(c)) => {
                self.step_clerk(c, ShardClerkInput::CtrlReply { from, reply })
            }
            Some(Address::Server(slot)) => {
                self.step_server(slot, GroupInput::CtrlReply { from, reply })
            }
            None => panic!(
                "the controller answered client {}, which does not exist",
                reply.client
            ),
        }
    }
}
