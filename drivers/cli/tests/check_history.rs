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
