//! A Raft nemesis run (partitions, crashes, snapshots, reads, membership changes)
//! recorded as a trace of bare pipelines: it replays identically and passes the check,
//! and the picture of it pairs received messages with their sends.

use raft_sim::nemesis::{self, NemesisConfig};
use sim_kit::seeds::with_trace_dir;
use trace::replay::{read_dir, replay_node};

#[test]
fn a_nemesis_run_replays_identically_and_checks_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let seed = 5;
    with_trace_dir(tmp.path(), || {
        drop(nemesis::run(seed, &NemesisConfig::default(), None))
    });
    let traces =
        read_dir(&tmp.path().join(format!("seed{seed}"))).expect("the run wrote its trace");
    assert!(traces.len() >= 3);
    let mut steps = 0;
    for t in &traces {
        let r = replay_node(t);
        assert!(r.identical(), "node {}: {:?}", t.node, r.divergence);
        steps += r.steps;
    }
    assert!(steps > 10_000, "a short run: {steps} steps");
    let report = trace::check::check(&traces);
    assert!(report.violation.is_none(), "{}", report.violation.unwrap());
    let view = trace::view::build(&traces, "nemesis", 0, u64::MAX);
    let received = view
        .messages
        .iter()
        .filter(|m| m.recv_step.is_some())
        .count();
    assert!(
        received * 2 > view.messages.len(),
        "most sends are matched: {received} of {}",
        view.messages.len()
    );
}

/// The trace check watches reads too: nodes that serve reads from their local state
/// (an injected bug) leave a trace in which a confirmed read is older than a commit
/// made before it was issued, and the check says "read freshness".
#[test]
fn a_trace_with_a_stale_read_fails_the_check() {
    use raft_core::{Config, InjectedBug};
    use raft_sim::reads::stale_leader;
    let tmp = tempfile::tempdir().unwrap();
    let local =
        || -> Box<dyn Fn(&mut Config)> { Box::new(|c| c.bug = Some(InjectedBug::LocalReads)) };
    let caught = (1..=10).find_map(|seed| {
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            with_trace_dir(tmp.path(), || drop(stale_leader(seed, local())))
        }));
        ran.err()?;
        let traces = read_dir(&tmp.path().join(format!("seed{seed}"))).ok()?;
        trace::check::check(&traces).violation
    });
    let v = caught.expect("a stale read in 10 seeds, caught by the trace check");
    assert!(v.what.contains("read freshness"), "{v}");
}

/// A trace is read from a file, so a durability report may name the wrong write (a
/// corrupt or edited file): the replay refuses that step and names it as the first
/// divergence, where a live driver's wrong report is asserted.
#[test]
fn a_trace_reporting_the_wrong_write_diverges_instead_of_crashing() {
    use raft_core::Input;
    use trace::machine::RaftInput;
    use trace::Frame;
    let tmp = tempfile::tempdir().unwrap();
    with_trace_dir(tmp.path(), || drop(raft_sim::lab2::figure8(3)));
    let dir = tmp.path().join("seed3");
    let edits: [fn(u64) -> RaftInput; 2] = [
        |id| RaftInput::Persisted(id + 1_000),
        |_| {
            RaftInput::Step(Input::Persisted(raft_core::LogPosition {
                index: 1,
                term: 1,
            }))
        },
    ];
    for edit in edits {
        let mut t = read_dir(&dir).expect("the run wrote its trace").remove(0);
        let found = t.frames.iter_mut().find_map(|f| match f {
            Frame::Step(s) => match postcard::from_bytes(&s.input) {
                Ok(RaftInput::Persisted(id)) => Some((s, id)),
                _ => None,
            },
            Frame::Header(_) => None,
        });
        let (step, id) = found.expect("a durability report");
        step.input = postcard::to_allocvec(&edit(id)).unwrap();
        let d = replay_node(&t)
            .divergence
            .expect("the edited step diverges");
        assert!(d.actual_output.contains("Err"), "{d}");
    }
}
