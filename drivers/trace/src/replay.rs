//! Replay: rebuild each node from its header and feed it its recorded inputs, one node
//! at a time; compare every output's digest with the recorded one. The first step that
//! differs is reported with its input and both outputs (the expected one when the trace
//! kept outputs).

use std::fmt;
use std::path::{Path, PathBuf};

use raft_core::NodeId;

use crate::file::{list_dir, read_file, TraceError};
use crate::format::{Frame, Header, Step};
use crate::live::{self, Driven};

/// One node's trace: every frame of its files, in order.
#[derive(Debug)]
pub struct NodeTrace {
    pub node: NodeId,
    pub frames: Vec<Frame>,
    /// A torn tail (file, offset, bytes): the trace ends at the last whole frame.
    pub torn_tail: Option<(PathBuf, u64, u64)>,
}

/// Reads every node's trace in `dir`.
pub fn read_dir(dir: &Path) -> Result<Vec<NodeTrace>, TraceError> {
    let mut out = Vec::new();
    for (node, files) in list_dir(dir)? {
        let mut frames = Vec::new();
        let mut torn_tail = None;
        for path in files {
            let f = read_file(&path)?;
            frames.extend(f.frames);
            if let Some((offset, bytes)) = f.torn_tail {
                torn_tail = Some((path, offset, bytes));
            }
        }
        out.push(NodeTrace {
            node,
            frames,
            torn_tail,
        });
    }
    Ok(out)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    pub node: NodeId,
    pub incarnation: u64,
    /// The step's number within its incarnation, from 1.
    pub step: u64,
    pub time_us: u64,
    pub input: String,
    pub expected_digest: u64,
    pub actual_digest: u64,
    /// `None` when the trace kept only digests.
    pub expected_output: Option<String>,
    pub actual_output: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "node {} (incarnation {}) step {} at {} µs: the output differs",
            self.node, self.incarnation, self.step, self.time_us
        )?;
        writeln!(f, "  input:    {}", self.input)?;
        writeln!(
            f,
            "  digest:   expected {:016x}, got {:016x}",
            self.expected_digest, self.actual_digest
        )?;
        match &self.expected_output {
            Some(o) => writeln!(f, "  expected: {o}")?,
            None => writeln!(
                f,
                "  expected: (not recorded: this trace keeps digests only)"
            )?,
        }
        write!(f, "  got:      {}", self.actual_output)
    }
}

#[derive(Debug, Default)]
pub struct NodeReplay {
    pub node: NodeId,
    pub incarnations: u64,
    pub steps: u64,
    /// Incarnations that could not be replayed, and why (their first file rotated
    /// away, or their boot does not decode).
    pub skipped: Vec<String>,
    pub divergence: Option<Divergence>,
    pub torn_tail: Option<(PathBuf, u64, u64)>,
}

impl NodeReplay {
    pub fn identical(&self) -> bool {
        self.divergence.is_none() && self.skipped.is_empty()
    }
}

/// Replays one node's trace, stopping at its first divergence.
pub fn replay_node(trace: &NodeTrace) -> NodeReplay {
    let mut report = NodeReplay {
        node: trace.node,
        torn_tail: trace.torn_tail.clone(),
        ..NodeReplay::default()
    };
    let mut live: Option<(Box<dyn Driven>, Header, u64)> = None;
    for frame in &trace.frames {
        match frame {
            Frame::Header(h) => match start(h, live.as_ref().map(|(_, l, n)| (l, *n))) {
                Start::Boot(m) => {
                    report.incarnations += 1;
                    live = Some((m, h.clone(), 0));
                }
                Start::Continue => {}
                Start::Skip(why) => {
                    report.skipped.push(why);
                    live = None;
                }
            },
            Frame::Step(s) => {
                let Some((m, header, n)) = live.as_mut() else {
                    continue;
                };
                *n += 1;
                report.steps += 1;
                if let Some(d) = step(m.as_mut(), header, *n, s) {
                    report.divergence = Some(d);
                    return report;
                }
            }
        }
    }
    report
}

enum Start {
    Boot(Box<dyn Driven>),
    Continue,
    Skip(String),
}

/// What a header means given the incarnation being replayed (its header and steps).
fn start(h: &Header, current: Option<(&Header, u64)>) -> Start {
    if h.first_step == 0 {
        return match live::boot(h.kind, &h.boot) {
            Ok(m) => Start::Boot(m),
            Err(why) => Start::Skip(format!("incarnation {}: {why}", h.incarnation)),
        };
    }
    match current {
        Some((c, n)) if c.incarnation == h.incarnation && n == h.first_step => Start::Continue,
        _ => Start::Skip(format!(
            "incarnation {} is recorded from step {} on: the files before it were rotated away, and replay needs the incarnation's first file",
            h.incarnation, h.first_step
        )),
    }
}

fn step(m: &mut dyn Driven, h: &Header, n: u64, s: &Step) -> Option<Divergence> {
    let actual = match m.step(&s.input, &mut ()) {
        Ok(d) => d,
        Err(why) => {
            return Some(Divergence {
                node: h.node,
                incarnation: h.incarnation,
                step: n,
                time_us: s.time_us,
                input: format!("(undecodable input: {why})"),
                expected_digest: s.digest,
                actual_digest: 0,
                expected_output: None,
                actual_output: "(not stepped)".into(),
            })
        }
    };
    (actual != s.digest).then(|| Divergence {
        node: h.node,
        incarnation: h.incarnation,
        step: n,
        time_us: s.time_us,
        input: m.describe_input(&s.input),
        expected_digest: s.digest,
        actual_digest: actual,
        expected_output: s.output.as_ref().map(|o| m.describe_output(o)),
        actual_output: m.last_output(),
    })
}
