//! `raftkv check-history FILE --model kv|register`: decide whether a recorded history is
//! linearizable, with the `lincheck` crate.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use lincheck::{
    check_with_limits, html, parse_jepsen_file, parse_kv_file, CheckResult, KvModel, Limit, Limits,
    Model, Operation, RegisterModel, Verdict,
};

/// `println!`/`eprintln!` without their panic: a closed or broken stdout or stderr must not
/// turn the exit code, which carries the verdict, into a panic's 101. What cannot be
/// written is lost either way.
macro_rules! out {
    ($($arg:tt)*) => {{
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}
macro_rules! err {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Exit codes; 0–2 are the verdict, so scripts can branch on them.
pub const EXIT_LINEARIZABLE: u8 = 0;
pub const EXIT_NOT_LINEARIZABLE: u8 = 1;
pub const EXIT_UNKNOWN: u8 = 2;
/// The input could not be read or understood (or the HTML could not be written).
pub const EXIT_BAD_INPUT: u8 = 3;

const DEFAULT_MEMO_MIB: u64 = (Limits::DEFAULT_MEMO_BYTES >> 20) as u64;
/// Keeps the bound representable in bytes on every target.
const MEMO_MIB_MAX: u64 = 1 << 30;

#[derive(Args, Clone, Debug)]
#[command(
    after_help = "Prints `linearizable`, `not linearizable` or `unknown` as the first \
line of stdout (an explanation follows a violation) and exits with 0, 1 or 2 accordingly; \
exits with 3 when the file cannot be read or a line is malformed, or the arguments are wrong."
)]
pub struct CheckHistoryArgs {
    /// The history: a 6.824 key/value log (`--model kv`) or a Jepsen etcd log
    /// (`--model register`), in the formats of shared/testdata/linearizability/README.md.
    pub file: PathBuf,
    /// The sequential specification to check against.
    #[arg(long, value_enum)]
    pub model: ModelKind,
    /// Give up with `unknown` after this many seconds.
    #[arg(long, default_value_t = 60)]
    pub budget_secs: u64,
    /// Give up with `unknown` when the search's memo tables would outgrow this many MiB
    /// (the history itself comes on top: about 200 bytes per operation).
    #[arg(long, default_value_t = DEFAULT_MEMO_MIB, value_parser = clap::value_parser!(u64).range(1..=MEMO_MIB_MAX))]
    pub memo_mib: u64,
    /// Also draw the history (and any violation) as a self-contained HTML page.
    #[arg(long, value_name = "OUT.html")]
    pub html: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelKind {
    /// Key/value store, one register per key ("" and absent are the same value).
    Kv,
    /// A single integer register with compare-and-set, initially nil.
    Register,
}

pub fn run(args: &CheckHistoryArgs) -> ExitCode {
    let code = match args.model {
        ModelKind::Kv => {
            parse_kv_file(&args.file).map(|h| decide(&KvModel::empty_is_absent(), &h, args))
        }
        ModelKind::Register => {
            parse_jepsen_file(&args.file).map(|h| decide(&RegisterModel, &h, args))
        }
    };
    let code = code.unwrap_or_else(|e| {
        err!("raftkv: check-history: {}: {e}", args.file.display());
        EXIT_BAD_INPUT
    });
    ExitCode::from(code)
}

/// Checks, prints the verdict (and explanation), writes the picture if asked; returns the
/// exit code.
fn decide<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    args: &CheckHistoryArgs,
) -> u8 {
    let limits = Limits {
        time: Duration::from_secs(args.budget_secs),
        memo_bytes: usize::try_from(args.memo_mib << 20).unwrap_or(usize::MAX),
    };
    let result = check_with_limits(model, history, limits);
    let code = match &result.verdict {
        Verdict::Linearizable => {
            out!("linearizable\n");
            EXIT_LINEARIZABLE
        }
        Verdict::NotLinearizable(why) => {
            out!("not linearizable\n{why}");
            EXIT_NOT_LINEARIZABLE
        }
        Verdict::Unknown => {
            out!("unknown\n");
            match result.limit_reached {
                Some(Limit::Memory) => err!(
                    "raftkv: check-history: memory bound reached: the memo would outgrow {} MiB (--memo-mib)",
                    args.memo_mib
                ),
                _ => err!(
                    "raftkv: check-history: the budget of {} s ran out",
                    args.budget_secs
                ),
            }
            EXIT_UNKNOWN
        }
    };
    let _ = std::io::stdout().flush();
    err!("{}", summary(&result));
    match &args.html {
        Some(out) if !write_html(out, &html::render(model, history, &result.verdict)) => {
            EXIT_BAD_INPUT
        }
        _ => code,
    }
}

fn summary(result: &CheckResult) -> String {
    let s = &result.stats;
    format!(
        "{} operations ({} unknown reads dropped) in {} partitions, {} decided; {} steps, {} states, {} configurations, {:.1} MiB of memo at most; {:.3} s",
        s.operations,
        s.dropped,
        s.partitions,
        s.partitions_decided,
        s.steps,
        s.states,
        s.configurations,
        s.memo_bytes_peak as f64 / f64::from(1 << 20),
        s.elapsed.as_secs_f64()
    )
}

/// Writes the page; false (after saying why) if it cannot.
fn write_html(out: &Path, page: &str) -> bool {
    match std::fs::write(out, page) {
        Ok(()) => {
            err!("wrote {}", out.display());
            true
        }
        Err(e) => {
            err!("raftkv: check-history: cannot write {}: {e}", out.display());
            false
        }
    }
}
