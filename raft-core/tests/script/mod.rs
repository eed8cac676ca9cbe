//! Protocol scripts: a datadriven file format, the runner that checks a file against a
//! [`World`], a line diff for failures, and rewriting expectations in place.
//!
//! A script is a sequence of blocks. Blank lines and lines starting with `#` between
//! blocks are comments. A block is one command line, a line `----`, and the expected
//! output: every following line up to the next blank line (or the end of the file).
//! A command that prints nothing expects `ok`. The commands are documented in
//! `testdata/README.md` and implemented in `commands.rs`.
//!
//! ```text
//! # Node 1 campaigns.
//! add-nodes 3
//! ----
//! ok
//!
//! campaign 1
//! ----
//! 1: Campaign
//!   send 1->2 t1 PreVote last=0/0
//!   send 1->3 t1 PreVote last=0/0
//! ```
//!
//! With `REWRITE=1` (or `UPDATE_SCRIPTS=1`) in the environment the runner writes the
//! actual output into the file instead of comparing; comments and spacing are kept.

#![allow(dead_code)] // each test binary uses its own subset

mod args;
mod commands;
mod world;

use std::path::Path;

pub use world::World;

/// Lines printed around a change in a diff; longer unchanged runs are elided.
const DIFF_CONTEXT_LINES: usize = 3;
/// Above this many cells the diff does not align lines (it lists both sides whole).
const DIFF_CELLS_MAX: usize = 4_000_000;

/// One command and what it is expected to print.
struct Block {
    /// Comments and blank lines before the command, kept for rewriting.
    leading: Vec<String>,
    /// 1-based line number of the command.
    line: usize,
    command: String,
    expected: Vec<String>,
}

struct Script {
    blocks: Vec<Block>,
    trailing: Vec<String>,
}

fn parse(name: &str, text: &str) -> Result<Script, String> {
    let lines: Vec<&str> = text.lines().collect();
    let (mut blocks, mut leading) = (Vec::new(), Vec::new());
    let mut at = 0;
    while at < lines.len() {
        let line = lines[at];
        if line.trim().is_empty() || line.starts_with('#') {
            leading.push(line.to_string());
            at += 1;
            continue;
        }
        if lines.get(at + 1).copied() != Some("----") {
            return Err(format!("{name}:{}: expected ---- after {line:?}", at + 1));
        }
        let expected_from = at + 2;
        let mut end = expected_from;
        while end < lines.len() && !lines[end].trim().is_empty() {
            end += 1;
        }
        blocks.push(Block {
            leading: std::mem::take(&mut leading),
            line: at + 1,
            command: line.to_string(),
            expected: lines[expected_from..end]
                .iter()
                .map(|l| l.to_string())
                .collect(),
        });
        at = end;
    }
    Ok(Script {
        blocks,
        trailing: leading,
    })
}

/// The script text with `outputs[i]` as block i's expected output.
fn render(script: &Script, outputs: &[Vec<String>]) -> String {
    let mut text = String::new();
    for (block, output) in script.blocks.iter().zip(outputs) {
        for line in block.leading.iter().chain([&block.command]) {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str("----\n");
        for line in output {
            text.push_str(line);
            text.push('\n');
        }
    }
    for line in &script.trailing {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// What running a script produced.
pub struct Outcome {
    /// The script with the actual outputs as expectations.
    pub rewritten: String,
    /// One readable report per block whose output differed.
    pub mismatches: Vec<String>,
    pub violations: Vec<String>,
}

/// Runs a script from its text. Fails only if the text is not a valid script (a
/// malformed block or command); differing output is reported in the outcome.
pub fn run_text(name: &str, text: &str) -> Result<Outcome, String> {
    let script = parse(name, text)?;
    let mut world = World::default();
    let mut outputs = Vec::new();
    let mut mismatches = Vec::new();
    for block in &script.blocks {
        let actual = world
            .execute(&block.command)
            .map_err(|e| format!("{name}:{}: {}: {e}", block.line, block.command))?;
        if actual != block.expected {
            let header = format!(
                "{name}:{}: `{}`: output differs (- expected, + actual):",
                block.line, block.command
            );
            let body = diff(&block.expected, &actual);
            mismatches.push(format!("{header}\n{}", body.join("\n")));
        }
        outputs.push(actual);
    }
    Ok(Outcome {
        rewritten: render(&script, &outputs),
        mismatches,
        violations: world.violations,
    })
}

/// Runs the commands of a script without comparing outputs (expected blocks, if any,
/// are skipped), for tests that inspect the world afterwards. Returns the world and
/// every command with its output, for failure messages.
pub fn run_commands(text: &str) -> Result<(World, String), String> {
    let script = parse("commands", &commands_only(text))?;
    let mut world = World::default();
    let mut transcript = String::new();
    for block in &script.blocks {
        let output = world
            .execute(&block.command)
            .map_err(|e| format!("line {}: {}: {e}", block.line, block.command))?;
        transcript.push_str(&format!("{}\n{}\n", block.command, output.join("\n")));
    }
    Ok((world, transcript))
}

/// A script's commands and comments, its expected outputs left out, every command
/// followed by an empty expectation so it parses as a block.
fn commands_only(text: &str) -> String {
    let mut out = String::new();
    let mut in_expected = false;
    for line in text.lines() {
        if in_expected {
            in_expected = !line.trim().is_empty();
            continue;
        }
        if line == "----" {
            in_expected = true;
        } else if line.trim().is_empty() || line.starts_with('#') {
            out.push_str(line);
            out.push('\n');
        } else {
            out.push_str(&format!("{line}\n----\n\n"));
        }
    }
    out
}

/// Whether the environment asks for expectations to be rewritten.
pub fn rewrite_requested() -> bool {
    ["REWRITE", "UPDATE_SCRIPTS"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| !v.is_empty() && v != "0"))
}

/// Runs one script file: compares (or, if [`rewrite_requested`], rewrites) its
/// expectations. A safety violation fails the script either way.
pub fn run_file(path: &Path, name: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let outcome = run_text(name, &text)?;
    if !outcome.violations.is_empty() {
        let list = outcome.violations.join("\n  ");
        return Err(format!("{name}: safety violated:\n  {list}"));
    }
    if rewrite_requested() {
        if outcome.rewritten != text {
            std::fs::write(path, &outcome.rewritten).map_err(|e| format!("{name}: {e}"))?;
        }
        return Ok(());
    }
    if outcome.mismatches.is_empty() {
        return Ok(());
    }
    let hint = "(if the change is intended, run with REWRITE=1 and review the diff)";
    Err(format!("{}\n{hint}", outcome.mismatches.join("\n\n")))
}

/// A line diff, each line prefixed `  ` (both), `- ` (expected only) or `+ ` (actual
/// only), indented by four spaces; long unchanged runs are elided to `    ...`.
pub fn diff(expected: &[String], actual: &[String]) -> Vec<String> {
    let ops = align(expected, actual);
    let mut out = Vec::new();
    let mut at = 0;
    while at < ops.len() {
        let run = ops[at..].iter().take_while(|(tag, _)| *tag == ' ').count();
        if run == 0 {
            let (tag, line) = ops[at];
            out.push(format!("    {tag} {line}"));
            at += 1;
            continue;
        }
        let (first, last) = (at == 0, at + run == ops.len());
        let head = if first { 0 } else { DIFF_CONTEXT_LINES };
        let tail = if last { 0 } else { DIFF_CONTEXT_LINES };
        let run_ops = &ops[at..at + run];
        if run <= head + tail + 1 {
            run_ops
                .iter()
                .for_each(|(_, l)| out.push(format!("      {l}")));
        } else {
            run_ops[..head]
                .iter()
                .for_each(|(_, l)| out.push(format!("      {l}")));
            out.push("    ...".to_string());
            run_ops[run - tail..]
                .iter()
                .for_each(|(_, l)| out.push(format!("      {l}")));
        }
        at += run;
    }
    out
}

/// Longest-common-subsequence alignment: `(' ', line)`, `('-', expected)`, `('+', actual)`.
fn align<'a>(expected: &'a [String], actual: &'a [String]) -> Vec<(char, &'a str)> {
    let (n, m) = (expected.len(), actual.len());
    if (n + 1) * (m + 1) > DIFF_CELLS_MAX {
        let minus = expected.iter().map(|l| ('-', l.as_str()));
        return minus
            .chain(actual.iter().map(|l| ('+', l.as_str())))
            .collect();
    }
    // common[i][j]: length of the LCS of expected[i..] and actual[j..].
    let mut common = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            common[i][j] = if expected[i] == actual[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut ops) = (0, 0, Vec::with_capacity(n + m));
    while i < n || j < m {
        if i < n && j < m && expected[i] == actual[j] {
            ops.push((' ', expected[i].as_str()));
            (i, j) = (i + 1, j + 1);
        } else if i < n && (j == m || common[i + 1][j] >= common[i][j + 1]) {
            ops.push(('-', expected[i].as_str()));
            i += 1;
        } else {
            ops.push(('+', actual[j].as_str()));
            j += 1;
        }
    }
    ops
}
