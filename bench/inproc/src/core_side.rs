//! raft-core's side: three `Pipeline`s, a `RestoredState` per node as its disk (written
//! with `Write::apply_to`, the reference meaning of a write), and one FIFO network.
//! The harness only supplies effects; the contract is carried out by the pipeline.

use std::collections::VecDeque;

use raft_core::{Config, EntryKind, Input, Message, Node, Pipeline, RestoredState, Role, Work};

use crate::{Shape, Side};

struct Peer {
    raft: Pipeline,
    disk: RestoredState,
    applied: u64,
    applied_bytes: u64,
}

pub struct Cluster {
    peers: Vec<Peer>,
    net: VecDeque<Message>,
}

impl Cluster {
    fn carry_out(&mut self, at: usize, mut work: Work) {
        let peer = &mut self.peers[at];
        // The disk is synchronous: each write is durable as soon as it is made, and
        // reporting it may release more work, writes included.
        let mut writes = std::mem::take(&mut work.writes);
        while !writes.is_empty() {
            for write in writes {
                let id = write.id;
                write.apply_into(&mut peer.disk);
                work.extend(peer.raft.persisted(id));
            }
            writes = std::mem::take(&mut work.writes);
        }
        self.net.extend(work.messages);
        for apply in work.applies {
            for entry in apply.committed {
                if entry.kind == EntryKind::Normal {
                    peer.applied += 1;
                    peer.applied_bytes += entry.data.len() as u64;
                }
            }
        }
    }

    fn drain(&mut self) {
        while let Some(m) = self.net.pop_front() {
            let at = m.to as usize - 1;
            let work = self.peers[at].raft.receive(m);
            self.carry_out(at, work);
        }
    }
}

impl Side for Cluster {
    fn start() -> Self {
        let ids = vec![1, 2, 3];
        let peers = ids
            .iter()
            .map(|&id| {
                let node = Node::new(Config::new(id, ids.clone()), RestoredState::default())
                    .expect("a valid configuration");
                Peer {
                    raft: Pipeline::new(node),
                    disk: RestoredState::default(),
                    applied: 0,
                    applied_bytes: 0,
                }
            })
            .collect();
        let mut cluster = Cluster {
            peers,
            net: VecDeque::new(),
        };
        let work = cluster.peers[0].raft.campaign();
        cluster.carry_out(0, work);
        cluster.drain();
        assert_eq!(cluster.peers[0].raft.node().role(), Role::Leader);
        cluster
    }

    fn round(&mut self, shape: Shape, payload: &mut dyn FnMut() -> Vec<u8>) {
        if shape.one_at_a_time {
            for _ in 0..shape.batch {
                let work = self.peers[0]
                    .raft
                    .step(Input::Propose { data: payload() })
                    .expect("the leader accepts");
                self.carry_out(0, work);
            }
        } else {
            let batch = (0..shape.batch).map(|_| payload()).collect();
            let work = self.peers[0]
                .raft
                .step(Input::ProposeBatch { batch })
                .expect("the leader accepts");
            self.carry_out(0, work);
        }
        self.drain();
    }

    fn applied(&self) -> Vec<(u64, u64)> {
        self.peers
            .iter()
            .map(|p| (p.applied, p.applied_bytes))
            .collect()
    }
}
