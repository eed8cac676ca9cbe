//! raft-core's own traces: three bare `Pipeline`s driven in process (messages in FIFO
//! order, every write made durable at once), each recorded through `RaftMachine`. The
//! recording replays identically and checks clean; one changed input is named.

use std::collections::VecDeque;
use std::path::Path;

use raft_core::{Config, Input, Message, Observer, RestoredState};
use trace::format::MAGIC;
use trace::machine::{Boot, Machine, RaftInput, RaftMachine};
use trace::replay::{read_dir, replay_node};
use trace::{Frame, Recorder, Sink};

struct Peer {
    machine: RaftMachine,
    recorder: Recorder<RaftMachine>,
}

/// Steps `peer` with `input` and records it; what the step asks the driver to do.
fn step(peer: &mut Peer, time_us: u64, input: RaftInput, net: &mut VecDeque<Message>) {
    let mut inputs = VecDeque::from([input]);
    while let Some(input) = inputs.pop_front() {
        let bytes = Recorder::<RaftMachine>::encode_input(&input);
        let out = peer.machine.step(input, &mut () as &mut dyn Observer);
        peer.recorder.record(time_us, bytes, None, &out);
        let Ok(work) = out else { continue };
        inputs.extend(work.writes.iter().map(|w| RaftInput::Persisted(w.id)));
        net.extend(work.messages);
    }
}

fn cluster(dir: &Path) {
    let ids = vec![1, 2, 3];
    let mut peers: Vec<Peer> = ids
        .iter()
        .map(|&id| {
            let boot = Boot {
                config: Config::new(id, ids.clone()),
                restored: RestoredState::default(),
            };
            let recorder = Recorder::start(Sink::memory(), id, 1, 0, &boot, "test".into());
            Peer {
                machine: RaftMachine::boot(boot).unwrap(),
                recorder,
            }
        })
        .collect();
    let mut net = VecDeque::new();
    let mut time_us = 0;
    step(
        &mut peers[0],
        time_us,
        RaftInput::Step(Input::Campaign),
        &mut net,
    );
    for round in 0..200u64 {
        time_us += 1000;
        if round % 4 == 0 {
            let data = format!("entry {round}").into_bytes();
            step(
                &mut peers[0],
                time_us,
                RaftInput::Step(Input::Propose { data }),
                &mut net,
            );
        }
        for peer in peers.iter_mut() {
            step(peer, time_us, RaftInput::Step(Input::Tick), &mut net);
        }
        while let Some(m) = net.pop_front() {
            let to = usize::try_from(m.to).unwrap() - 1;
            step(
                &mut peers[to],
                time_us,
                RaftInput::Step(Input::Message(m)),
                &mut net,
            );
        }
    }
    assert!(peers
        .iter()
        .all(|p| p.machine.0.node().log().committed() >= 50));
    for p in peers {
        let id = p.machine.0.node().id();
        let bytes = p.recorder.into_bytes().unwrap();
        std::fs::write(dir.join(trace::file::file_name(id, 0)), bytes).unwrap();
    }
}

#[test]
fn bare_raft_nodes_replay_identically_and_a_changed_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    cluster(dir.path());
    let traces = read_dir(dir.path()).unwrap();
    assert_eq!(traces.len(), 3);
    for t in &traces {
        let r = replay_node(t);
        assert!(r.identical() && r.steps > 400, "node {}: {r:?}", t.node);
    }
    let report = trace::check::check(&traces);
    assert!(report.violation.is_none(), "{:?}", report.violation);

    // Node 2's 300th step becomes a proposal (a follower refuses it: another output).
    let mut t = traces.into_iter().nth(1).unwrap();
    let Frame::Step(s) = &mut t.frames[300] else {
        panic!("a step")
    };
    let propose = RaftInput::Step(Input::Propose {
        data: b"forged".to_vec(),
    });
    s.input = postcard::to_allocvec(&propose).unwrap();
    let mut bytes = MAGIC.to_vec();
    t.frames.iter().for_each(|f| f.encode_into(&mut bytes));
    let flipped = dir.path().join("flipped");
    std::fs::create_dir_all(&flipped).unwrap();
    std::fs::write(flipped.join(trace::file::file_name(2, 0)), bytes).unwrap();
    let d = replay_node(&read_dir(&flipped).unwrap()[0])
        .divergence
        .expect("the changed input diverges");
    assert_eq!(d.step, 300, "{d}");
}
