//! Traces recorded by real processes (`raftkv server --trace-dir`): three nodes under a
//! workload, the leader SIGKILLed and restarted. The recording must replay identically
//! and pass the invariant check; a copy doctored to hold two leaders in one term must
//! fail the check with that violation; one input changed must be named as the first
//! divergence; a file cut mid-frame must replay up to its last whole frame and say so.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Harness, Spawned};
use kv_core::service::ServerInput;
use kv_core::Op;
use raft_core::{Message, MessageBody, NodeId};
use runtime::workload::{self, WorkloadOptions};
use tokio::sync::watch;
use trace::format::MAGIC;
use trace::replay::{read_dir, replay_node, NodeTrace};
use trace::{Frame, Step};

type KvInput = ServerInput<Op>;

/// Records a run into `<test dir>/trace`; returns the harness (stopped) and the dir.
async fn record_run() -> (Harness, PathBuf) {
    let mut h = Harness::start_with("trace", 3, |dir| {
        vec![format!("--trace-dir={}", dir.join("trace").display())]
    })
    .await;
    let traces = h.dir().join("trace");
    let (stop_tx, stop_rx) = watch::channel(false);
    let load = tokio::spawn(workload::run(
        h.cluster.peers.clone(),
        WorkloadOptions::default(),
        Instant::now(),
        stop_rx,
    ));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let victim = h.leader(Duration::from_secs(5)).await;
    h.cluster.kill(victim);
    h.say(format!("SIGKILL node {victim} (the leader) under load"));
    tokio::time::sleep(Duration::from_millis(700)).await;
    h.cluster.start(victim).expect("restart");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop_tx.send(true).expect("the workload listens");
    let history = tokio::time::timeout(Duration::from_secs(15), load)
        .await
        .expect("clients stop")
        .expect("workload");
    assert!(
        history.iter().filter(|o| o.ret.is_some()).count() >= 20,
        "too little load"
    );
    for id in h.ids() {
        let exited = h.cluster.terminate(id, Duration::from_secs(10));
        assert!(
            exited.is_some_and(|s| s.success()),
            "node {id} stops on SIGTERM"
        );
    }
    h.say("recorded; every node stopped");
    (h, traces)
}

/// Runs `raftkv trace ARGS`; (success, output).
fn cli(dir: &Path, args: &[&str], out: PathBuf) -> (bool, String) {
    let mut full = vec!["trace"];
    full.extend_from_slice(args);
    let d = dir.display().to_string();
    full.push(&d);
    let mut p = Spawned::new(&full, out);
    let status = p
        .wait(Duration::from_secs(120))
        .expect("raftkv trace finishes");
    (status.success(), p.output())
}

fn write_traces(dir: &Path, traces: &[NodeTrace]) {
    std::fs::create_dir_all(dir).unwrap();
    for t in traces {
        let mut bytes = MAGIC.to_vec();
        for f in &t.frames {
            f.encode_into(&mut bytes);
        }
        let name = trace::file::file_name(t.node, 0);
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn input(s: &Step) -> KvInput {
    postcard::from_bytes(&s.input).expect("a kv input")
}

fn step_with(time_us: u64, input: &KvInput) -> Frame {
    Frame::Step(Step {
        time_us,
        input: postcard::to_allocvec(input).unwrap(),
        digest: 0,
        received: None,
        sent: Vec::new(),
        output: None,
    })
}

/// Inserts into a follower's trace, just before it first hears of the first leader's
/// term, an election it wins in that same term: ticks until it campaigns, then forged
/// pre-vote and vote grants from the third node. Returns (leader, term).
fn doctor_two_leaders(traces: &mut [NodeTrace]) -> (NodeId, u64) {
    let view = trace::view::build(traces, "doctor", 0, u64::MAX);
    let first = view
        .steps
        .iter()
        .find(|s| s.role == "leader")
        .expect("someone led");
    let (leader, term) = (first.node, first.term);
    let nodes: Vec<NodeId> = traces.iter().map(|t| t.node).collect();
    let y = *nodes.iter().find(|&&n| n != leader).unwrap();
    let z = *nodes.iter().find(|&&n| n != leader && n != y).unwrap();
    let at = view
        .steps
        .iter()
        .find(|s| {
            s.node == y && s.incarnation == view_first_incarnation(traces, y) && s.term == term
        })
        .expect("the follower learns the term")
        .step;
    let t = traces.iter_mut().find(|t| t.node == y).unwrap();
    // Frame 0 is the header; step n is frame n.
    let frame = usize::try_from(at).unwrap();
    let Frame::Step(s) = &t.frames[frame] else {
        panic!("a step")
    };
    let time = s.time_us;
    let grant = |body| {
        KvInput::Message(Message {
            from: z,
            to: y,
            term,
            body,
        })
    };
    let mut forged: Vec<Frame> = (0..200).map(|_| step_with(time, &KvInput::Tick)).collect();
    forged.push(step_with(
        time,
        &grant(MessageBody::PreVoteResponse { reject: false }),
    ));
    forged.push(step_with(
        time,
        &grant(MessageBody::VoteResponse { reject: false }),
    ));
    t.frames.splice(frame..frame, forged);
    (leader, term)
}

fn view_first_incarnation(traces: &[NodeTrace], node: NodeId) -> u64 {
    let t = traces.iter().find(|t| t.node == node).unwrap();
    match &t.frames[0] {
        Frame::Header(h) => h.incarnation,
        Frame::Step(_) => panic!("a trace starts with a header"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_real_trace_replays_checks_and_catches_doctoring() {
    let (h, dir) = record_run().await;
    let traces = read_dir(&dir).expect("the trace reads");
    assert_eq!(traces.len(), 3);
    for t in &traces {
        let r = replay_node(t);
        assert!(
            r.identical(),
            "node {}: {:?} {:?}",
            t.node,
            r.divergence,
            r.skipped
        );
        assert!(
            r.steps > 100,
            "node {} recorded only {} steps",
            t.node,
            r.steps
        );
    }
    assert!(
        traces.iter().any(|t| replay_node(t).incarnations == 2),
        "the killed leader's trace holds both its runs"
    );
    let (ok, text) = cli(&dir, &["replay"], h.dir().join("replay.txt"));
    assert!(ok && text.matches("identical").count() == 3, "{text}");
    let (ok, text) = cli(&dir, &["check"], h.dir().join("check.txt"));
    assert!(ok && text.contains("no invariant violated"), "{text}");
    h.say("recorded trace: identical on replay, check passes");

    // Two leaders in one term.
    let mut doctored = read_dir(&dir).unwrap();
    let (leader, term) = doctor_two_leaders(&mut doctored);
    let bad = h.dir().join("doctored");
    write_traces(&bad, &doctored);
    let report = trace::check::check(&doctored);
    let v = report
        .violation
        .expect("two leaders in one term are caught");
    assert!(
        v.what.to_lowercase().contains("election safety")
            && v.what.contains(&format!("term {term}")),
        "{v}"
    );
    let (ok, text) = cli(&bad, &["check"], h.dir().join("check-doctored.txt"));
    assert!(!ok && text.contains("VIOLATION"), "{text}");
    h.say(format!(
        "doctored: a second leader in node {leader}'s term {term}: {}",
        v.what
    ));

    // One input changed: the first put a leader received carries another value.
    let mut flipped = read_dir(&dir).unwrap();
    let (node, frame, n) = first_put(&flipped);
    let t = flipped.iter_mut().find(|t| t.node == node).unwrap();
    let Frame::Step(s) = &mut t.frames[frame] else {
        unreachable!()
    };
    let mut changed = input(s);
    if let Some(r) = requests_mut(&mut changed)
        .iter_mut()
        .find(|r| is_write(&r.op))
    {
        if let Op::Put { value, .. } | Op::Append { value, .. } = &mut r.op {
            value.push_str("-flipped");
        }
    }
    s.input = postcard::to_allocvec(&changed).unwrap();
    let r = replay_node(t);
    let d = r.divergence.expect("the changed input diverges");
    assert_eq!(d.step, n, "the first divergence is the changed step: {d}");
    assert!(d.input.contains("-flipped"), "{d}");
    h.say(format!(
        "one input changed: replay names step {n} of node {}",
        t.node
    ));

    // A file cut mid-frame.
    let cut = h.dir().join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    let first = &traces[0];
    let src = trace::file::list_dir(&dir).unwrap()[&first.node][0].clone();
    let bytes = std::fs::read(&src).unwrap();
    let keep = bytes.len() - 7;
    std::fs::write(cut.join(src.file_name().unwrap()), &bytes[..keep]).unwrap();
    let cut_traces = read_dir(&cut).unwrap();
    let r = replay_node(&cut_traces[0]);
    assert!(r.torn_tail.is_some() && r.divergence.is_none(), "{r:?}");
    let (ok, text) = cli(&cut, &["replay"], h.dir().join("replay-cut.txt"));
    assert!(ok && text.contains("cut short"), "{text}");
    h.say(format!(
        "cut mid-frame: replayed {} steps up to the last whole frame",
        r.steps
    ));
}

/// The node, frame index and step number of the first Put or Append a node received
/// while leading, in its first incarnation (its value is in the entry the output
/// proposes). Frame n is step n: the header is frame 0 and the files never rotated.
/// The client requests a step's input carries: one, or those the node took together.
fn requests_mut(input: &mut KvInput) -> &mut [kv_core::service::Request<Op>] {
    match input {
        KvInput::Request(r) => std::slice::from_mut(r),
        KvInput::Requests(rs) => rs,
        _ => &mut [],
    }
}

fn is_write(op: &Op) -> bool {
    matches!(op, Op::Put { .. } | Op::Append { .. })
}

/// The step (node, frame, number) at which a leading node first received a write: the
/// first such write of the whole run, by time. Nothing was applied before it, so it
/// is new to the session table and its value reaches the log. A later leader's first
/// write may be a client's retry of one already applied, answered from the session
/// table whatever its value (which leader comes first varies with the random seeds).
fn first_put(traces: &[NodeTrace]) -> (NodeId, usize, u64) {
    let view = trace::view::build(traces, "", 0, u64::MAX);
    let mut first_writes = Vec::new();
    for t in traces {
        let first = view_first_incarnation(traces, t.node);
        let mut leading = false;
        for s in view
            .steps
            .iter()
            .filter(|s| s.node == t.node && s.incarnation == first)
        {
            let frame = usize::try_from(s.step).unwrap();
            let Frame::Step(step) = &t.frames[frame] else {
                panic!("frame {frame} is a step")
            };
            let mut input = input(step);
            if leading && requests_mut(&mut input).iter().any(|r| is_write(&r.op)) {
                first_writes.push((s.time_us, t.node, frame, s.step));
                break;
            }
            leading = s.role == "leader";
        }
    }
    let (_, node, frame, step) = first_writes
        .into_iter()
        .min()
        .expect("some node was asked to write while leading");
    (node, frame, step)
}
