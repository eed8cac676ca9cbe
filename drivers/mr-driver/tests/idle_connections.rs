//! Connections that say nothing (or half a request) must not keep real workers out of the
//! coordinator: it has a limit on connections, and idle ones make room.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use mr_driver::job::AppSpec;
use mr_driver::server::{Server, ServerOptions};
use mr_driver::worker::{run_worker, Ending, WorkerOptions};

fn start(dir: &std::path::Path, configure: impl FnOnce(&mut ServerOptions)) -> Server {
    let inputs = write_inputs(dir, 2, 2_000, 5);
    let app = AppSpec::Builtin {
        name: "wc".into(),
        args: Vec::new(),
    };
    let paths = inputs.iter().map(|name| dir.join(name)).collect();
    let mut options = ServerOptions::new(paths, app, dir.join("out"));
    options.n_reduce = 2;
    configure(&mut options);
    Server::start(options).expect("coordinator starts")
}

/// Opens `n` connections that never send anything.
fn idle_connections(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect"))
        .collect()
}

/// Runs a real worker to the end of the job; fails the test if it takes longer than `limit`.
fn worker_finishes_the_job(addr: SocketAddr, limit: Duration) {
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(run_worker(&WorkerOptions::new(addr.to_string())));
    });
    let summary = finished
        .recv_timeout(limit)
        .expect("the worker finishes in time")
        .expect("the worker is served");
    assert_eq!(summary.ending, Ending::Exit);
    assert_eq!(summary.tasks_done, 4, "{summary:?}");
}

#[test]
fn idle_connections_do_not_lock_workers_out() {
    let dir = temp_dir();
    // Idle connections would time out after a minute: the worker must not wait for that.
    let server = start(dir.path(), |o| o.idle_timeout_ms = 60_000);
    let addr = server.local_addr();
    let idle = idle_connections(addr, 300);
    let started = Instant::now();
    worker_finishes_the_job(addr, Duration::from_secs(20));
    server
        .wait(Duration::from_secs(1))
        .expect("the job succeeds");
    assert!(started.elapsed() < Duration::from_secs(20));
    drop(idle);
}

/// Reads until the peer closes; how long that took, or `None` if it stayed open `limit`.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).expect("timeout");
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return None
            }
            Err(_) => return Some(started.elapsed()),
        }
        if started.elapsed() >= limit {
            return None;
        }
    }
}

#[test]
fn silent_and_slow_connections_are_closed_after_the_idle_timeout() {
    let dir = temp_dir();
    let server = start(dir.path(), |o| o.idle_timeout_ms = 300);
    let addr = server.local_addr();
    let mut silent = TcpStream::connect(addr).expect("connect");
    let mut slow = TcpStream::connect(addr).expect("connect");
    // Half a frame header, then nothing; a byte now and then must not keep it open.
    slow.write_all(&[0, 0]).expect("write");
    let dripping = thread::spawn(move || {
        for _ in 0..4 {
            thread::sleep(Duration::from_millis(100));
            if slow.write_all(&[0]).is_err() {
                break;
            }
        }
        closed_within(&mut slow, Duration::from_secs(5))
    });
    let silent_closed = closed_within(&mut silent, Duration::from_secs(5));
    assert!(silent_closed.is_some(), "a silent connection stayed open");
    assert!(
        dripping.join().unwrap().is_some(),
        "a slow request stayed open"
    );
}

#[test]
fn a_worker_running_a_task_is_not_cut_off_at_the_idle_timeout() {
    use mr_driver::frame::{read_frame, write_frame};
    use mr_driver::protocol::{Outcome, Reply, Request};

    let dir = temp_dir();
    let server = start(dir.path(), |o| o.idle_timeout_ms = 300);
    let mut worker = TcpStream::connect(server.local_addr()).expect("connect");
    write_frame(&mut worker, &Request::Ask).expect("ask");
    let Reply::Task(spec) = read_frame(&mut worker).expect("reply") else {
        panic!("the first worker gets a task")
    };
    // "Running" the task for three idle timeouts.
    assert_eq!(closed_within(&mut worker, Duration::from_millis(900)), None);
    let report = Request::Report {
        attempt: spec.assignment.attempt,
        outcome: Outcome::Failed {
            reason: "test".into(),
        },
    };
    write_frame(&mut worker, &report).expect("report");
    worker
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    assert_eq!(
        read_frame::<_, Reply>(&mut worker).expect("reply"),
        Reply::Ack
    );
    // Back to asking: now the idle timeout applies again.
    assert!(closed_within(&mut worker, Duration::from_secs(5)).is_some());
}
