//! Coordinator behaviour, input by input.

use mr_core::{Attempt, AttemptId, Config, Coordinator, Input, Output, Phase, StepError, TaskId};
use quickcheck::{quickcheck, Arbitrary, Gen};

fn config(n_map: u32, n_reduce: u32) -> Config {
    Config {
        task_timeout_ticks: 3,
        ..Config::new(n_map, n_reduce)
    }
}

fn assign(c: &mut Coordinator) -> Attempt {
    match c.step(Input::Ask).unwrap() {
        Output::Assign(a) => a.attempt,
        other => panic!("expected an assignment, got {other:?}"),
    }
}

#[test]
fn maps_then_reduces_then_exit() {
    let mut c = Coordinator::new(config(2, 1)).unwrap();
    let m0 = assign(&mut c);
    let m1 = assign(&mut c);
    assert_eq!((m0.task, m1.task), (TaskId::Map(0), TaskId::Map(1)));
    assert_eq!(
        c.step(Input::Ask).unwrap(),
        Output::Wait,
        "no reduce before every map commits"
    );
    assert_eq!(c.step(Input::Done(m1)).unwrap(), Output::Commit(m1));
    assert_eq!(c.step(Input::Ask).unwrap(), Output::Wait);
    assert_eq!(c.step(Input::Done(m0)).unwrap(), Output::Commit(m0));
    assert_eq!(c.phase(), Phase::Reduce);
    let r0 = assign(&mut c);
    assert_eq!(r0.task, TaskId::Reduce(0));
    assert_eq!(c.step(Input::Done(r0)).unwrap(), Output::Commit(r0));
    assert!(c.is_done());
    assert_eq!(c.step(Input::Ask).unwrap(), Output::Exit);
}

#[test]
fn timed_out_task_is_reissued_and_first_completion_wins() {
    let mut c = Coordinator::new(config(1, 1)).unwrap();
    let slow = assign(&mut c);
    assert_eq!(c.step(Input::Ask).unwrap(), Output::Wait);
    for _ in 0..2 {
        assert_eq!(
            c.step(Input::Tick).unwrap(),
            Output::Ticked { timed_out: 0 }
        );
    }
    assert_eq!(
        c.step(Input::Tick).unwrap(),
        Output::Ticked { timed_out: 1 }
    );
    let fast = assign(&mut c);
    assert_eq!(fast.task, slow.task);
    assert_ne!(fast.id, slow.id);
    // The slow one finishes first after all: it counts, the other is discarded.
    assert_eq!(c.step(Input::Done(slow)).unwrap(), Output::Commit(slow));
    assert_eq!(c.step(Input::Done(fast)).unwrap(), Output::Discard(fast));
    assert_eq!(
        c.step(Input::Done(slow)).unwrap(),
        Output::Discard(slow),
        "duplicate report"
    );
    assert_eq!(c.stats().committed, 1);
}

#[test]
fn failure_reissues_at_once_and_repeated_failure_fails_the_job() {
    let mut c = Coordinator::new(Config {
        failures_per_task_max: 2,
        ..config(1, 1)
    })
    .unwrap();
    let first = assign(&mut c);
    assert_eq!(
        c.step(Input::Failed(first)).unwrap(),
        Output::Discard(first)
    );
    let second = assign(&mut c);
    assert_eq!(
        c.step(Input::Done(first)).unwrap(),
        Output::Discard(first),
        "a failed attempt never commits"
    );
    assert_eq!(
        c.step(Input::Failed(second)).unwrap(),
        Output::Discard(second)
    );
    assert_eq!(c.phase(), Phase::Failed(TaskId::Map(0)));
    assert_eq!(c.step(Input::Ask).unwrap(), Output::Exit);
}

#[test]
fn forged_reports_are_typed_errors() {
    let mut c = Coordinator::new(config(1, 1)).unwrap();
    let real = assign(&mut c);
    let unknown = Attempt {
        id: AttemptId(99),
        task: TaskId::Map(0),
    };
    assert_eq!(
        c.step(Input::Done(unknown)),
        Err(StepError::UnknownAttempt(AttemptId(99)))
    );
    let wrong_task = Attempt {
        id: real.id,
        task: TaskId::Reduce(5),
    };
    assert_eq!(
        c.step(Input::Done(wrong_task)),
        Err(StepError::NoSuchTask(TaskId::Reduce(5)))
    );
    assert!(Coordinator::new(Config::new(0, 1)).is_err());
    assert!(Coordinator::new(Config {
        task_timeout_ticks: 0,
        ..Config::new(1, 1)
    })
    .is_err());
}

#[test]
fn live_attempts_per_task_are_bounded() {
    let mut c = Coordinator::new(Config {
        attempts_live_per_task_max: 2,
        ..config(1, 1)
    })
    .unwrap();
    let mut attempts = Vec::new();
    for _ in 0..3 {
        attempts.push(assign(&mut c));
        for _ in 0..3 {
            c.step(Input::Tick).unwrap();
        }
    }
    // The oldest was forgotten: its late report is harmless but no longer counts.
    assert_eq!(
        c.step(Input::Done(attempts[0])).unwrap(),
        Output::Discard(attempts[0])
    );
    assert_eq!(
        c.step(Input::Done(attempts[1])).unwrap(),
        Output::Commit(attempts[1])
    );
}

#[derive(Debug, Clone)]
enum Op {
    Ask,
    Done(u8),
    Failed(u8),
    Tick,
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Op {
        match u8::arbitrary(g) % 4 {
            0 => Op::Ask,
            1 => Op::Done(u8::arbitrary(g)),
            2 => Op::Failed(u8::arbitrary(g)),
            _ => Op::Tick,
        }
    }
}

/// Whatever order asks, reports (of any attempt ever handed out) and ticks come in: each task
/// commits at most once, no reduce is handed out before every map committed, and the
/// coordinator is deterministic.
#[test]
fn any_input_sequence_commits_each_task_at_most_once() {
    fn prop(ops: Vec<Op>) -> bool {
        let cfg = Config {
            failures_per_task_max: 50,
            ..config(3, 2)
        };
        let mut c = Coordinator::new(cfg).unwrap();
        let mut twin = Coordinator::new(cfg).unwrap();
        let mut handed: Vec<Attempt> = Vec::new();
        let mut committed: Vec<TaskId> = Vec::new();
        for op in ops {
            let pick = |i: u8| handed.get(i as usize % handed.len().max(1)).copied();
            let input = match op {
                Op::Ask => Input::Ask,
                Op::Tick => Input::Tick,
                Op::Done(i) => match pick(i) {
                    Some(a) => Input::Done(a),
                    None => Input::Tick,
                },
                Op::Failed(i) => match pick(i) {
                    Some(a) => Input::Failed(a),
                    None => Input::Tick,
                },
            };
            let out = c.step(input).unwrap();
            assert_eq!(twin.step(input).unwrap(), out, "same inputs, same outputs");
            match out {
                Output::Assign(a) => {
                    if let TaskId::Reduce(_) = a.attempt.task {
                        assert!(
                            committed
                                .iter()
                                .filter(|t| matches!(t, TaskId::Map(_)))
                                .count()
                                == 3
                        );
                    }
                    handed.push(a.attempt);
                }
                Output::Commit(a) => {
                    assert!(!committed.contains(&a.task), "{:?} committed twice", a.task);
                    committed.push(a.task);
                }
                _ => {}
            }
        }
        c.is_done() == (committed.len() == 5)
    }
    quickcheck(prop as fn(Vec<Op>) -> bool);
}
