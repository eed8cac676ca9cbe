//! The course's test-mr.sh cases, with real coordinator and worker processes over TCP.
//!
//! Delays in the test apps are the course's divided by ten, and so are the task timeouts
//! passed here, so the whole file runs in well under a minute.

mod common;

use std::thread::sleep;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn wc_matches_sequential_and_direct_count() {
    let dir = temp_dir();
    let inputs = write_inputs(dir.path(), 8, 40_000, 1);
    let output = run_job(dir.path(), &inputs, "wc", 3, &["--n-reduce", "10"]);
    let expected = sequential_output(dir.path(), &inputs, &["--app", "wc"]);
    assert!(!output.is_empty());
    assert_eq!(output, expected, "mr output differs from mr seq");
    assert_eq!(
        output,
        count_words(dir.path(), &inputs),
        "mr output differs from a direct count"
    );
    // Ⓒ is not a letter in Go (it is alphabetic in Rust): "Ⓒopyright" counts as "opyright".
    assert!(output.iter().any(|l| l.starts_with("opyright ")));
    assert!(!output.iter().any(|l| l.contains('Ⓒ')));
    for y in 0..10 {
        assert!(
            dir.path().join(format!("mr-out-{y}")).is_file(),
            "mr-out-{y} missing"
        );
    }
}

#[test]
fn indexer_matches_sequential() {
    let dir = temp_dir();
    let inputs = write_inputs(dir.path(), 8, 20_000, 2);
    let output = run_job(dir.path(), &inputs, "indexer", 2, &[]);
    let expected = sequential_output(dir.path(), &inputs, &["--app", "indexer"]);
    assert_eq!(output, expected);
    assert!(
        output
            .iter()
            .any(|l| l.starts_with("Holmes 8 pg-0.txt,pg-1.txt,")),
        "{:?}",
        &output[..3]
    );
}

#[test]
fn map_parallelism() {
    let dir = temp_dir();
    let inputs = write_inputs(dir.path(), 8, 1_000, 3);
    let output = run_job(dir.path(), &inputs, "mtiming", 2, &[]);
    let workers = output.iter().filter(|l| l.starts_with("times-")).count();
    assert_eq!(
        workers, 2,
        "expected map output from exactly 2 workers: {output:?}"
    );
    let saw_two = output
        .iter()
        .any(|l| l.starts_with("parallel-") && l.split(' ').skip(1).any(|n| n == "2"));
    assert!(saw_two, "map workers did not run in parallel: {output:?}");
}

#[test]
fn reduce_parallelism() {
    let dir = temp_dir();
    let inputs = write_inputs(dir.path(), 8, 1_000, 4);
    let output = run_job(dir.path(), &inputs, "rtiming", 2, &[]);
    assert_eq!(output.len(), 10, "{output:?}");
    assert!(
        output.iter().any(|l| l.ends_with(" 2")),
        "reduce workers did not run in parallel: {output:?}"
    );
}

#[test]
fn job_count_is_exactly_eight() {
    let dir = temp_dir();
    let inputs = write_inputs(dir.path(), 8, 1_000, 5);
    let output = run_job(
        dir.path(),
        &inputs,
        "jobcount",
        4,
        &["--task-timeout-ms", "3000"],
    );
    assert_eq!(
        output,
        ["a 8"],
        "map tasks ran more or fewer times than needed"
    );
}

#[test]
fn early_exit_no_process_exits_before_output_is_complete() {
    let dir = temp_dir();
    let inputs = write_inputs(dir.path(), 8, 1_000, 6);
    let coordinator = start_coordinator(dir.path(), &inputs, "early_exit", &[]);
    let addr = coordinator.addr.clone();
    let mut procs = Procs::default();
    procs.children.push(coordinator.child);
    for _ in 0..3 {
        procs.children.push(spawn_worker(dir.path(), &addr));
    }
    let deadline = Instant::now() + PROCESS_WAIT_MAX;
    let at_first_exit = loop {
        if procs
            .children
            .iter_mut()
            .any(|c| c.try_wait().unwrap().is_some())
        {
            break merged_output(dir.path());
        }
        assert!(
            Instant::now() < deadline,
            "no process exited within {PROCESS_WAIT_MAX:?}"
        );
        sleep(Duration::from_millis(10));
    };
    for child in &mut procs.children {
        assert!(wait_bounded(child, PROCESS_WAIT_MAX).success());
    }
    let final_output = merged_output(dir.path());
    assert_eq!(final_output.len(), 8, "{final_output:?}");
    assert_eq!(
        at_first_exit, final_output,
        "a process exited before the output was complete"
    );
}

#[test]
fn crash_with_respawned_workers_equals_no_crash_run() {
    let reference_dir = temp_dir();
    let inputs = write_inputs(reference_dir.path(), 8, 5_000, 7);
    let expected = run_job(reference_dir.path(), &inputs, "nocrash", 1, &[]);
    assert_eq!(expected.len(), 4, "{expected:?}");

    let dir = temp_dir();
    assert_eq!(write_inputs(dir.path(), 8, 5_000, 7), inputs);
    let timing = ["--task-timeout-ms", "1000", "--tick-ms", "50"];
    let coordinator = start_coordinator(dir.path(), &inputs, "crash", &timing);
    let addr = coordinator.addr.clone();
    let mut coordinator = coordinator.child;
    let mut workers = Procs::default();
    let deadline = Instant::now() + PROCESS_WAIT_MAX;
    let mut spawned = 0;
    // Keep three workers alive while the coordinator runs, like the course's crash test.
    while coordinator.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "crash job did not finish within {PROCESS_WAIT_MAX:?}"
        );
        workers
            .children
            .retain_mut(|w| w.try_wait().unwrap().is_none());
        while workers.children.len() < 3 {
            workers.children.push(spawn_worker(dir.path(), &addr));
            spawned += 1;
        }
        sleep(Duration::from_millis(50));
    }
    assert!(coordinator.wait().unwrap().success(), "coordinator failed");
    assert!(
        spawned > 3,
        "no worker crashed, so nothing was tested (spawned {spawned})"
    );
    assert_eq!(merged_output(dir.path()), expected);
}
