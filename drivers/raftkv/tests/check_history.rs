//! `raftkv check-history` end to end: verdict line and exit code for each outcome.

use std::io::Write;
use std::process::{Command, Output};

const OK: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t1
INFO  jepsen.util - 0\t:ok\t:write\t1
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:ok\t:read\t1
";

const STALE_READ: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t1
INFO  jepsen.util - 0\t:ok\t:write\t1
INFO  jepsen.util - 0\t:invoke\t:write\t2
INFO  jepsen.util - 0\t:ok\t:write\t2
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:ok\t:read\t1
";

fn history(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write history");
    file
}

fn raftkv(args: &[&str]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_raftkv"))
        .args(args)
        .output()
        .expect("run raftkv");
    let text = |b: Vec<u8>| String::from_utf8(b).expect("utf-8 output");
    (
        status.code().expect("exit code"),
        text(stdout),
        text(stderr),
    )
}

fn check(file: &tempfile::NamedTempFile, extra: &[&str]) -> (i32, String, String) {
    let path = file.path().to_str().expect("utf-8 path");
    let mut args = vec!["check-history", path, "--model", "register"];
    args.extend_from_slice(extra);
    raftkv(&args)
}

#[test]
fn linearizable_exits_0() {
    let (code, out, _) = check(&history(OK), &[]);
    assert_eq!((code, out.as_str()), (0, "linearizable\n"));
}

#[test]
fn not_linearizable_exits_1_with_an_explanation() {
    let (code, out, _) = check(&history(STALE_READ), &[]);
    assert_eq!(code, 1);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("not linearizable"));
    let rest: Vec<&str> = lines.collect();
    assert!(
        rest.iter()
            .any(|l| l.contains("read -> 1") && l.contains("illegal")),
        "{out}"
    );
}

#[test]
fn out_of_budget_exits_2() {
    let (code, out, err) = check(&history(OK), &["--budget-secs", "0"]);
    assert_eq!((code, out.as_str()), (2, "unknown\n"), "{err}");
}

#[test]
fn unreadable_input_exits_3_naming_file_and_line() {
    let (code, out, err) = raftkv(&["check-history", "/nonexistent/h.log", "--model", "register"]);
    assert_eq!((code, out.as_str()), (3, ""));
    assert!(err.contains("/nonexistent/h.log"), "{err}");

    let bad = history("{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\nnot edn\n");
    let path = bad.path().to_str().unwrap();
    let (code, _, err) = raftkv(&["check-history", path, "--model", "kv"]);
    assert_eq!(code, 3);
    assert!(err.contains(path) && err.contains("line 2"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn bad_arguments_exit_3_not_the_unknown_code() {
    let file = history(OK);
    let path = file.path().to_str().unwrap();
    let (code, _, err) = raftkv(&["check-history", path, "--model", "graph"]);
    assert_eq!(code, 3, "{err}");
    let (code, _, _) = raftkv(&["check-history", "--help"]);
    assert_eq!(code, 0);
}

#[test]
fn html_picture_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("h.html");
    let (code, _, _) = check(&history(STALE_READ), &["--html", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(page.contains("<h1>not linearizable</h1>") && page.contains("<svg"));
}

/// A 6.824 kv history of `n` puts by one client, each returning before the next starts.
fn sequential_puts(n: usize) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    let mut out = std::io::BufWriter::new(file.as_file_mut());
    for i in 0..n {
        for kind in ["invoke", "ok"] {
            writeln!(
                out,
                "{{:process 0, :type :{kind}, :f :put, :key \"0\", :value \"x 0 {i} y\"}}"
            )
            .expect("write history");
        }
    }
    out.flush().expect("flush history");
    drop(out);
    file
}

/// Runs raftkv under `sh` with its address space limited to `limit_kib`, so that memory
/// growth shows as an allocation failure rather than as a slow machine.
fn raftkv_limited(limit_kib: u64, args: &[&str]) -> (Option<i32>, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {limit_kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_raftkv"))
        .args(args)
        .output()
        .expect("run sh");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (status.code(), text(stdout), text(stderr))
}

#[test]
fn a_long_sequential_history_is_decided_in_little_memory() {
    // 100k operations: the memo used to store a 100k-bit set per configuration (1.3 GB).
    let file = sequential_puts(100_000);
    let path = file.path().to_str().unwrap();
    let (code, out, err) = raftkv_limited(512 << 10, &["check-history", path, "--model", "kv"]);
    assert_eq!((code, out.as_str()), (Some(0), "linearizable\n"), "{err}");
}

#[test]
fn reaching_the_memory_bound_exits_2_saying_so() {
    // 14 overlapping writes and an impossible read: refuting it visits ~100k configurations.
    let mut text = String::new();
    for client in 0..14 {
        text += &format!("INFO  jepsen.util - {client}\t:invoke\t:write\t{client}\n");
    }
    for client in 0..14 {
        text += &format!("INFO  jepsen.util - {client}\t:ok\t:write\t{client}\n");
    }
    text += "INFO  jepsen.util - 99\t:invoke\t:read\tnil\nINFO  jepsen.util - 99\t:ok\t:read\t-1\n";
    let file = history(&text);
    let (code, out, err) = check(&file, &["--memo-mib", "1"]);
    assert_eq!((code, out.as_str()), (2, "unknown\n"), "{err}");
    assert!(err.contains("memory bound reached"), "{err}");
    let (code, out, _) = check(&file, &["--memo-mib", "64"]);
    assert_eq!((code, out.lines().next()), (1, Some("not linearizable")));
}
#[test]
fn errors_do_not_echo_long_tokens() {
    let token = "z".repeat(200_000);
    let text = format!(
        "{{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}}\n\
         {{:process 0, :type :ok, :f :get, :key \"1\", :value {token}}}\n"
    );
    let bad = history(&text);
    let path = bad.path().to_str().unwrap();
    let (code, _, err) = raftkv(&["check-history", path, "--model", "kv"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("line 2") && err.contains('…'), "{err}");
    assert!(err.len() < 1000, "{} bytes of error message", err.len());

    let jepsen = format!("INFO  jepsen.util - 0\t:invoke\t:write\t{token}\n");
    let bad = history(&jepsen);
    let (code, _, err) = check(&bad, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.len() < 1000, "{} bytes of error message", err.len());
}

#[test]
fn a_closed_stderr_does_not_change_the_exit_code() {
    use std::os::fd::OwnedFd;
    use std::os::unix::net::UnixStream;
    use std::process::Stdio;

    // A socket whose peer is gone: every write to it fails (EPIPE).
    let (ours, theirs) = UnixStream::pair().expect("socket pair");
    drop(ours);
    let status = Command::new(env!("CARGO_BIN_EXE_raftkv"))
        .args(["check-history", "/nonexistent/h.log", "--model", "kv"])
        .stdout(Stdio::null())
        .stderr(Stdio::from(OwnedFd::from(theirs)))
        .status()
        .expect("run raftkv");
    assert_eq!(status.code(), Some(3));

    // The same for a verdict written to a closed stdout.
    let (ours, theirs) = UnixStream::pair().expect("socket pair");
    drop(ours);
    let file = history(STALE_READ);
    let status = Command::new(env!("CARGO_BIN_EXE_raftkv"))
        .args([
            "check-history",
            file.path().to_str().unwrap(),
            "--model",
            "register",
        ])
        .stdout(Stdio::from(OwnedFd::from(theirs)))
        .stderr(Stdio::null())
        .status()
        .expect("run raftkv");
    assert_eq!(status.code(), Some(1));
}
