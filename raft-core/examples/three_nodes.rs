//! Three Raft nodes in one process with in-memory storage: the whole driver.
//! `cargo run -p raft-core --example three_nodes`
//!
//! A driver owns the world: here a message queue for the network and a `RestoredState`
//! per node for the disk. `Pipeline` carries out the `Ready` contract; the driver only
//! sends messages, makes writes durable in order (reporting each), and applies.

use std::collections::VecDeque;

use raft_core::{Config, EntryKind, Input, Message, Node, Pipeline, RestoredState, Work};

struct Peer {
    raft: Pipeline,
    disk: RestoredState,
    applied: Vec<String>,
}

/// The driver loop: write (a real driver fsyncs when `must_sync`), report, send, apply.
fn carry_out(peer: &mut Peer, mut work: Work, net: &mut VecDeque<Message>) {
    let mut done = 0;
    while let Some(write) = work.writes.get(done) {
        write.apply_to(&mut peer.disk);
        let id = write.id;
        done += 1;
        work.extend(peer.raft.persisted(id));
    }
    net.extend(work.messages);
    for entry in work.applies.into_iter().flat_map(|a| a.committed) {
        if entry.kind == EntryKind::Normal {
            peer.applied
                .push(String::from_utf8_lossy(&entry.data).into_owned());
        }
    }
}

fn main() {
    let ids = vec![1, 2, 3];
    let mut peers: Vec<Peer> = ids
        .iter()
        .map(|&id| {
            let node = Node::new(Config::new(id, ids.clone()), RestoredState::default());
            Peer {
                raft: Pipeline::new(node.expect("a valid configuration")),
                disk: RestoredState::default(),
                applied: Vec::new(),
            }
        })
        .collect();
    let mut net = VecDeque::new();
    let propose = |word: &str| Input::Propose { data: word.into() };
    for input in [Input::Campaign, propose("hello"), propose("world")] {
        let work = peers[0]
            .raft
            .step(input)
            .expect("node 1 campaigns, then leads");
        carry_out(&mut peers[0], work, &mut net);
        while let Some(m) = net.pop_front() {
            let peer = &mut peers[m.to as usize - 1];
            let work = peer.raft.receive(m);
            carry_out(peer, work, &mut net);
        }
    }
    for (id, peer) in ids.iter().zip(&peers) {
        println!("node {id} applied {:?}", peer.applied);
        assert_eq!(peer.applied, ["hello", "world"], "every node applies both");
    }
}
