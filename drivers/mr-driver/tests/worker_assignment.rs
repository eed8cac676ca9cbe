//! A worker checks the task it is handed before running it: a coordinator (confused, or
//! not a coordinator at all) that sends an impossible assignment makes the worker exit
//! with a clear error, not panic or abort on a huge allocation.

mod common;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use common::*;
use mr_core::{Assignment, Attempt, AttemptId, TaskId};
use mr_driver::frame::{read_frame, write_frame};
use mr_driver::job::AppSpec;
use mr_driver::protocol::{InputFile, Reply, Request, TaskSpec};

/// A coordinator that answers the first request with `spec`, then waits for the worker to
/// hang up (bounded by a read timeout).
fn fake_coordinator(spec: TaskSpec) -> (String, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address").to_string();
    let serving = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut reader = stream.try_clone().expect("clone");
        let mut writer = stream;
        let request: Request = read_frame(&mut reader).expect("the worker asks");
        assert_eq!(request, Request::Ask);
        write_frame(&mut writer, &Reply::Task(spec)).expect("send task");
        // A report (of a failure) or a hang-up; either is fine, a panic is not.
        let _ = read_frame::<_, Request>(&mut reader);
    });
    (addr, serving)
}

fn spec(dir: &std::path::Path, task: TaskId, n_map: u32, n_reduce: u32) -> TaskSpec {
    let input = dir.join("in.txt");
    std::fs::write(&input, "a b c\n").expect("input");
    TaskSpec {
        assignment: Assignment {
            attempt: Attempt {
                id: AttemptId(1),
                task,
            },
            n_map,
            n_reduce,
        },
        input: Some(InputFile {
            name: "in.txt".into(),
            path: input.display().to_string(),
        }),
        app: AppSpec::Builtin {
            name: "wc".into(),
            args: Vec::new(),
        },
        work_dir: dir.display().to_string(),
    }
}

/// Runs `mr worker` against a coordinator that sends `spec`; returns its exit code and
/// stderr.
fn worker_given(spec: TaskSpec) -> (Option<i32>, String) {
    let (addr, serving) = fake_coordinator(spec);
    let mut child = Command::new(MR)
        .args(["worker", "--coordinator", &addr])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mr worker");
    let status = wait_bounded(&mut child, PROCESS_WAIT_MAX);
    let stderr = child.wait_with_output().expect("stderr").stderr;
    serving.join().expect("fake coordinator");
    (status.code(), String::from_utf8_lossy(&stderr).into_owned())
}

#[test]
fn impossible_assignments_are_refused_with_a_clear_error() {
    let dir = temp_dir();
    let d = dir.path();
    let cases = [
        (spec(d, TaskId::Map(0), 1, 0), "reduce tasks"),
        (spec(d, TaskId::Map(0), 1, u32::MAX), "reduce tasks"),
        (spec(d, TaskId::Reduce(0), 0, 1), "map tasks"),
        (spec(d, TaskId::Reduce(0), u32::MAX, 1), "map tasks"),
        (spec(d, TaskId::Map(1), 1, 1), "Map(1)"),
        (spec(d, TaskId::Reduce(5), 1, 5), "Reduce(5)"),
        (
            TaskSpec {
                work_dir: "relative/dir".into(),
                ..spec(d, TaskId::Map(0), 1, 1)
            },
            "work directory",
        ),
        (
            TaskSpec {
                input: None,
                ..spec(d, TaskId::Map(0), 1, 1)
            },
            "input",
        ),
    ];
    for (bad, expected) in cases {
        let shown = format!("{:?}", bad.assignment);
        let (code, stderr) = worker_given(bad);
        assert_eq!(code, Some(1), "{shown}: {stderr}");
        assert!(!stderr.contains("panicked"), "{shown}: {stderr}");
        assert!(
            stderr.contains("invalid task") && stderr.contains(expected),
            "{shown}: {stderr}"
        );
    }
}
