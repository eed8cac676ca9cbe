//! Check: the nodes' traces of one run merged by time and replayed together under the
//! simulator's own invariant watch (`sim_kit::watch::RaftWatch`: election safety, log
//! matching, leader completeness, state-machine safety, the lease promise) and
//! raft-sim's read freshness (`reads.rs`). The first
//! violation is reported with the steps that led to it.

use std::collections::VecDeque;
use std::fmt;

use raft_core::NodeId;
use sim_kit::watch::RaftWatch;

use crate::format::Frame;
use crate::live::{self, Driven};
use crate::replay::NodeTrace;

mod reads;

use reads::{ReadWatch, WithReads};

/// Steps shown before a violation.
const CONTEXT_STEPS: usize = 12;
/// Characters of one context line.
const LINE_CHARS_MAX: usize = 240;

#[derive(Debug)]
pub struct Violation {
    pub node: NodeId,
    pub time_us: u64,
    pub what: String,
    /// The steps before it, oldest first, the violating one last.
    pub context: Vec<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} (node {} at {} µs)",
            self.what, self.node, self.time_us
        )?;
        writeln!(f, "the steps that led to it (oldest first):")?;
        for line in &self.context {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
pub struct CheckReport {
    pub nodes: usize,
    pub steps: u64,
    /// Steps whose output digest differed from the recorded one (the check goes on:
    /// it judges what the code does with these inputs).
    pub divergent_steps: u64,
    /// Incarnations that could not be started, and why.
    pub skipped: Vec<String>,
    pub violation: Option<Violation>,
}

/// One event of the merged run: a node's frame at a time.
struct At {
    time_us: u64,
    slot: usize,
    frame: usize,
}

/// Merges the traces by time (each node's own order kept) and replays them, each Raft
/// group under its own watch (a sharded deployment runs several groups, whose terms and
/// logs are unrelated). Stops at the first violation.
pub fn check(traces: &[NodeTrace]) -> CheckReport {
    let mut report = CheckReport {
        nodes: traces.len(),
        ..CheckReport::default()
    };
    let group = raft_groups(traces);
    let mut watches: Vec<RaftWatch> = (0..traces.len())
        .map(|_| RaftWatch::for_service())
        .collect();
    let mut reads: Vec<ReadWatch> = (0..traces.len()).map(|_| ReadWatch::default()).collect();
    let mut machines: Vec<Option<Box<dyn Driven>>> = traces.iter().map(|_| None).collect();
    let mut context: VecDeque<String> = VecDeque::new();
    for at in merged(traces) {
        let trace = &traces[at.slot];
        match &trace.frames[at.frame] {
            Frame::Header(h) if h.first_step == 0 => match live::boot(h.kind, &h.boot) {
                Ok(m) => {
                    // A machine without Raft (the MapReduce coordinator) is replayed
                    // for the digests; the watch has nothing to look at in it.
                    if let Some(node) = m.node() {
                        let watch = &mut watches[group[at.slot]];
                        // The application restarts at its snapshot (`on_start`
                        // tells the watch, as for the simulators).
                        watch.on_start(at.slot, node);
                    }
                    push(
                        &mut context,
                        format!(
                            "{:>12} µs node {} starts (incarnation {})",
                            at.time_us, h.node, h.incarnation
                        ),
                    );
                    machines[at.slot] = Some(m);
                }
                Err(why) => {
                    report.skipped.push(format!(
                        "node {} incarnation {}: {why}",
                        h.node, h.incarnation
                    ));
                    machines[at.slot] = None;
                }
            },
            Frame::Header(_) => {}
            Frame::Step(s) => {
                let Some(m) = machines[at.slot].as_mut() else {
                    continue;
                };
                report.steps += 1;
                let line = format!(
                    "{:>12} µs node {}: {}",
                    at.time_us,
                    trace.node,
                    m.describe_input(&s.input)
                );
                push(&mut context, line);
                let g = group[at.slot];
                let mut obs = WithReads {
                    reads: &mut reads[g],
                    inner: watches[g].observer(at.slot),
                    stale: None,
                };
                let stepped = m.step(&s.input, &mut obs);
                let stale = obs.stale.take();
                let verdict = obs.inner.verdict().and(stale.map_or(Ok(()), Err));
                if stepped.is_ok_and(|d| d != s.digest) {
                    report.divergent_steps += 1;
                }
                if let Err(what) = verdict {
                    report.violation = Some(Violation {
                        node: trace.node,
                        time_us: at.time_us,
                        what,
                        context: context.into_iter().collect(),
                    });
                    return report;
                }
            }
        }
    }
    report
}

fn push(context: &mut VecDeque<String>, mut line: String) {
    if line.len() > LINE_CHARS_MAX {
        let mut cut = LINE_CHARS_MAX;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push('…');
    }
    if context.len() == CONTEXT_STEPS {
        context.pop_front();
    }
    context.push_back(line);
}

/// Every frame of every trace, by time; a node's frames keep their order even if its
/// clock stepped back.
fn merged(traces: &[NodeTrace]) -> Vec<At> {
    let mut all = Vec::new();
    for (slot, t) in traces.iter().enumerate() {
        let mut last = 0;
        for (frame, f) in t.frames.iter().enumerate() {
            let time = match f {
                Frame::Header(h) => h.started_us,
                Frame::Step(s) => s.time_us,
            };
            last = time.max(last);
            all.push(At {
                time_us: last,
                slot,
                frame,
            });
        }
    }
    all.sort_by_key(|a| (a.time_us, a.slot, a.frame));
    all
}

/// The Raft group of each trace, as the index of one trace in it: nodes that exchanged
/// Raft messages are in one group (groups never send each other Raft messages).
fn raft_groups(traces: &[NodeTrace]) -> Vec<usize> {
    let slot_of: std::collections::BTreeMap<NodeId, usize> = traces
        .iter()
        .enumerate()
        .map(|(i, t)| (t.node, i))
        .collect();
    let mut parent: Vec<usize> = (0..traces.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, t) in traces.iter().enumerate() {
        for f in &t.frames {
            let Frame::Step(s) = f else { continue };
            let Some(from) = s.received.and_then(|l| slot_of.get(&l.from).copied()) else {
                continue;
            };
            let (a, b) = (root(&mut parent, i), root(&mut parent, from));
            parent[a.max(b)] = a.min(b);
        }
    }
    (0..traces.len()).map(|i| root(&mut parent, i)).collect()
}
