//! tikv's raft 0.7: three `RawNode<MemStorage>`s driven the way its examples drive them
//! (ready → send, apply, append to storage, hard state → persisted messages → advance →
//! light ready), with the same FIFO network and synchronous storage as raft-core's side.

use std::collections::VecDeque;

use raft::eraftpb::{ConfState, Entry, Message, MessageType};
use raft::storage::MemStorage;
use raft::{Config, RawNode, StateRole};

use crate::{Shape, Side};

struct Peer {
    node: RawNode<MemStorage>,
    applied: u64,
    applied_bytes: u64,
}

pub struct Cluster {
    peers: Vec<Peer>,
    net: VecDeque<Message>,
}

fn count(entries: Vec<Entry>, applied: &mut u64, applied_bytes: &mut u64) {
    for e in entries {
        // Skip the leader's empty opening entry, as raft-core's side skips its no-op.
        if !e.data.is_empty() {
            *applied += 1;
            *applied_bytes += e.data.len() as u64;
        }
    }
}

impl Cluster {
    fn on_ready(&mut self, at: usize) {
        let Peer {
            node,
            applied,
            applied_bytes,
        } = &mut self.peers[at];
        if !node.has_ready() {
            return;
        }
        let mut ready = node.ready();
        self.net.extend(ready.take_messages());
        count(ready.take_committed_entries(), applied, applied_bytes);
        if !ready.entries().is_empty() {
            node.mut_store()
                .wl()
                .append(ready.entries())
                .expect("append");
        }
        if let Some(hs) = ready.hs() {
            node.mut_store().wl().set_hardstate(hs.clone());
        }
        self.net.extend(ready.take_persisted_messages());
        let mut light = node.advance(ready);
        if let Some(commit) = light.commit_index() {
            node.mut_store().wl().mut_hard_state().set_commit(commit);
        }
        self.net.extend(light.take_messages());
        count(light.take_committed_entries(), applied, applied_bytes);
        node.advance_apply();
    }

    fn drain(&mut self) {
        while let Some(m) = self.net.pop_front() {
            let at = m.to as usize - 1;
            self.peers[at].node.step(m).expect("step");
            self.on_ready(at);
        }
    }
}

impl Side for Cluster {
    fn start() -> Self {
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        let peers = (1..=3)
            .map(|id| {
                // raft-core's defaults where the two have the same knob.
                let cfg = Config {
                    id,
                    election_tick: 10,
                    heartbeat_tick: 1,
                    max_size_per_msg: 1 << 20,
                    max_inflight_msgs: 64,
                    pre_vote: true,
                    check_quorum: true,
                    ..Config::default()
                };
                let store =
                    MemStorage::new_with_conf_state(ConfState::from((vec![1, 2, 3], vec![])));
                Peer {
                    node: RawNode::new(&cfg, store, &logger).expect("a valid configuration"),
                    applied: 0,
                    applied_bytes: 0,
                }
            })
            .collect();
        let mut cluster = Cluster {
            peers,
            net: VecDeque::new(),
        };
        cluster.peers[0].node.campaign().expect("campaign");
        cluster.on_ready(0);
        cluster.drain();
        assert_eq!(cluster.peers[0].node.raft.state, StateRole::Leader);
        cluster
    }

    fn round(&mut self, shape: Shape, payload: &mut dyn FnMut() -> Vec<u8>) {
        if shape.one_at_a_time {
            for _ in 0..shape.batch {
                let leader = &mut self.peers[0].node;
                leader
                    .propose(vec![], payload())
                    .expect("the leader accepts");
                self.on_ready(0);
            }
        } else {
            // One MsgPropose carrying the whole batch: what RawNode::propose sends for
            // one entry, with many.
            let mut m = Message::default();
            m.set_msg_type(MessageType::MsgPropose);
            m.from = 1;
            let entries: Vec<Entry> = (0..shape.batch)
                .map(|_| Entry {
                    data: payload().into(),
                    ..Entry::default()
                })
                .collect();
            m.set_entries(entries.into());
            self.peers[0].node.step(m).expect("the leader accepts");
            self.on_ready(0);
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
