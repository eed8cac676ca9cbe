//! Simulated runs recorded as traces: a faulty 5-server run (unreliable network,
//! partitions, whole-cluster crashes, snapshots) replays identically and passes the
//! check; one input changed in the file is named as the first divergence; and a
//! failing seed leaves its trace behind on its own.

use std::path::Path;

#[path = "../../trace/tests/chromium/mod.rs"]
mod chromium;

use kv_core::service::ServerInput;
use kv_sim::lab3::{generic, Generic};
use sim_kit::seeds::{run_test_seeds, with_trace_dir, TestId};
use trace::format::MAGIC;
use trace::replay::{read_dir, replay_node, NodeTrace};
use trace::Frame;

const FAULTY: Generic = Generic {
    unreliable: true,
    crash: true,
    partitions: true,
    max_raft_state_bytes: Some(2000),
    ..Generic::new(5, 5)
};

fn write(dir: &Path, t: &NodeTrace) {
    let mut bytes = MAGIC.to_vec();
    for f in &t.frames {
        f.encode_into(&mut bytes);
    }
    std::fs::write(dir.join(trace::file::file_name(t.node, 0)), bytes).unwrap();
}

#[test]
fn a_faulty_simulated_run_replays_identically_and_a_changed_input_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let seed = 7;
    with_trace_dir(tmp.path(), || generic(seed, FAULTY));
    let dir = tmp.path().join(format!("seed{seed}"));
    let traces = read_dir(&dir).expect("the run wrote its trace");
    assert_eq!(traces.len(), 5, "one trace per server");
    for t in &traces {
        let r = replay_node(t);
        assert!(r.identical(), "node {}: {:?}", t.node, r.divergence);
        assert!(
            r.incarnations >= 2,
            "node {} crashed and restarted: {}",
            t.node,
            r.incarnations
        );
    }
    let report = trace::check::check(&traces);
    assert!(report.violation.is_none(), "{:?}", report.violation);
    assert_eq!(report.divergent_steps, 0);
    // Steps other than ticks: how many ticks a sleeping server gets per step varies.
    let busy = traces.iter().map(non_tick_steps).sum::<usize>();
    assert!(busy > 3_000, "a short run: {busy} steps other than ticks");
    view_renders(&traces);

    // Change one input: a tick of node 3 becomes a client's read (which any server
    // answers, if only to name the leader).
    let mut t = traces.into_iter().nth(2).unwrap();
    let (frame, step) = nth_tick(&t, 500);
    let Frame::Step(s) = &mut t.frames[frame] else {
        unreachable!()
    };
    let read = kv_core::service::Request {
        client: 999,
        seq: 1,
        op: kv_core::Op::Get { key: "x".into() },
    };
    s.input = postcard::to_allocvec(&ServerInput::Request(read)).unwrap();
    let flipped = tmp.path().join("flipped");
    std::fs::create_dir_all(&flipped).unwrap();
    write(&flipped, &t);
    let again = read_dir(&flipped).unwrap();
    let d = replay_node(&again[0])
        .divergence
        .expect("the changed step diverges");
    assert_eq!(d.step, step, "{d}");
    assert!(
        d.expected_output.is_some(),
        "simulated traces keep outputs: {d}"
    );
}

fn input_of(s: &trace::Step) -> ServerInput<kv_core::Op> {
    postcard::from_bytes(&s.input).unwrap()
}

fn non_tick_steps(t: &NodeTrace) -> usize {
    let is_tick = |i: ServerInput<_>| matches!(i, ServerInput::Tick | ServerInput::Ticks(_));
    t.frames
        .iter()
        .filter(|f| matches!(f, Frame::Step(s) if !is_tick(input_of(s))))
        .count()
}

/// The frame index and step number (within its incarnation) of the `n`-th Tick.
fn nth_tick(t: &NodeTrace, n: usize) -> (usize, u64) {
    let mut ticks = 0;
    let mut step = 0;
    for (i, f) in t.frames.iter().enumerate() {
        match f {
            Frame::Header(h) if h.first_step == 0 => step = 0,
            Frame::Header(_) => {}
            Frame::Step(s) => {
                step += 1;
                if matches!(input_of(s), ServerInput::Tick | ServerInput::Ticks(_)) {
                    ticks += 1;
                    if ticks == n {
                        return (i, step);
                    }
                }
            }
        }
    }
    panic!("fewer than {n} ticks")
}

#[test]
fn a_failing_seed_leaves_its_trace() {
    let test = TestId::new("kv-sim", "trace", "a_failing_seed_leaves_its_trace_inner");
    let base = std::env::temp_dir()
        .join("raftkv-sim-traces")
        .join("kv-sim-a_failing_seed_leaves_its_trace_inner");
    let _ = std::fs::remove_dir_all(&base);
    let failed = std::panic::catch_unwind(|| {
        run_test_seeds(test, 1, |seed| {
            let mut w =
                kv_sim::world::KvWorld::new(kv_sim::world::KvSimConfig::new(3, 1, seed, false));
            sim_kit::Sim::sleep_ms(&mut w, 2_000);
            panic!("a planted failure at 2 s");
        })
    });
    assert!(failed.is_err(), "the seed fails");
    let traces = read_dir(&base.join("seed1")).expect("the failed seed's trace was written");
    assert_eq!(traces.len(), 3);
    assert!(traces.iter().all(|t| replay_node(t).identical()));
}

/// The run's picture, rendered by headless Chromium: no page errors, a lane per server,
/// message arrows drawn.
fn view_renders(traces: &[NodeTrace]) {
    let Some(browser) = chromium::browser_or_skip("the view of a simulated run") else {
        return;
    };
    let model = trace::view::build(traces, "faulty run", 0, u64::MAX);
    assert!(
        model
            .messages
            .iter()
            .filter(|m| m.recv_step.is_some())
            .count()
            > 100
    );
    let page = trace::view::html::render(&model);
    let rendered = browser.render(&page).expect("the page renders");
    assert!(rendered.errors.is_empty(), "{:?}", rendered.errors);
    assert_eq!(chromium::count_class(&rendered.dom, "lane"), 5);
    let arrows = chromium::number_of_id(&rendered.dom, "diagram", "data-arrows");
    assert!(arrows.is_some_and(|n| n > 0), "arrows drawn: {arrows:?}");
}

/// The sharded world (a controller and three groups, unreliable network, joins and
/// leaves under concurrent clients) records every server: each replays identically,
/// and the check, one watch per Raft group, passes.
#[test]
fn a_sharded_run_replays_identically_and_checks_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let seed = 3;
    with_trace_dir(tmp.path(), || kv_sim::lab4b::unreliable2(seed));
    let traces =
        read_dir(&tmp.path().join(format!("seed{seed}"))).expect("the run wrote its traces");
    assert_eq!(traces.len(), 12, "3 controller servers and 3 groups of 3");
    for t in &traces {
        let r = replay_node(t);
        assert!(r.identical(), "node {}: {:?}", t.node, r.divergence);
    }
    let report = trace::check::check(&traces);
    assert!(report.violation.is_none(), "{}", report.violation.unwrap());
    assert_eq!(report.divergent_steps, 0);
}

/// A durability report naming another write than the oldest in flight (a corrupt or
/// edited trace file) is not carried out: the replay names that step as the first
/// divergence, where a live driver's wrong report is asserted.
#[test]
fn a_trace_reporting_the_wrong_write_diverges_instead_of_crashing() {
    let tmp = tempfile::tempdir().unwrap();
    with_trace_dir(tmp.path(), || generic(3, FAULTY));
    let mut t = read_dir(&tmp.path().join("seed3"))
        .expect("the run wrote its trace")
        .remove(0);
    let (step, id) = t
        .frames
        .iter_mut()
        .find_map(|f| match f {
            Frame::Step(s) => match input_of(s) {
                ServerInput::Persisted(id) => Some((s, id)),
                _ => None,
            },
            Frame::Header(_) => None,
        })
        .expect("a durability report");
    step.input = postcard::to_allocvec(&ServerInput::<kv_core::Op>::Persisted(id + 1_000)).unwrap();
    let d = replay_node(&t)
        .divergence
        .expect("the edited step diverges");
    assert!(d.input.contains("Persisted"), "{d}");
}
