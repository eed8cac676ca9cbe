//! Running a streaming-mode command: feed it bytes on stdin, collect its stdout.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::thread;

use mr_core::AppError;

/// A command's stdout beyond this is refused rather than buffered without limit.
pub const STDOUT_SIZE_BYTES_MAX: usize = 1 << 30;

/// Runs `sh -c command` with `stdin` as its input and `MR_INPUT_FILE` set (empty for reduce,
/// like Hadoop's `map_input_file`). A non-zero exit or non-UTF-8 output is an [`AppError`].
pub fn run_command(command: &str, stdin: &[u8], input_name: &str) -> Result<String, AppError> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("MR_INPUT_FILE", input_name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| AppError(format!("cannot start `sh -c {command}`: {e}")))?;
    let mut pipe = child.stdin.take().expect("stdin was piped");
    let stdout_pipe = child.stdout.take().expect("stdout was piped");
    let mut stdout = Vec::new();
    // Written from another thread: a command that writes before it has read everything would
    // otherwise deadlock against us with both pipes full.
    let (written, read) = thread::scope(|scope| {
        let writer = scope.spawn(move || pipe.write_all(stdin));
        let limit = STDOUT_SIZE_BYTES_MAX as u64 + 1;
        let read = stdout_pipe.take(limit).read_to_end(&mut stdout);
        if stdout.len() > STDOUT_SIZE_BYTES_MAX {
            let _ = child.kill();
        }
        (writer.join().expect("stdin writer does not panic"), read)
    });
    let status = child
        .wait()
        .map_err(|e| AppError(format!("`{command}`: {e}")))?;
    read.map_err(|e| AppError(format!("reading from `{command}`: {e}")))?;
    if stdout.len() > STDOUT_SIZE_BYTES_MAX {
        return Err(AppError(format!(
            "`{command}` wrote more than {STDOUT_SIZE_BYTES_MAX} bytes"
        )));
    }
    if !status.success() {
        return Err(AppError(format!("`{command}` failed: {status}")));
    }
    // A command may legitimately stop reading early (`head`); only its exit status matters.
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(AppError(format!("writing to `{command}`: {e}")));
        }
    }
    String::from_utf8(stdout)
        .map_err(|_| AppError(format!("`{command}` wrote output that is not UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_reports_failure() {
        assert_eq!(run_command("tr a-z A-Z", b"abc\n", "").unwrap(), "ABC\n");
        assert_eq!(
            run_command("echo \"$MR_INPUT_FILE\"", b"", "f.txt").unwrap(),
            "f.txt\n"
        );
        let err = run_command("exit 3", b"", "").unwrap_err();
        assert!(err.0.contains("failed"), "{err}");
    }
}
