//! What a picture of a trace shows, built by replaying it: every step of every node
//! with the node's role, term and commit index after it, every message from its send
//! to its receipt (or marked lost), and marks for starts, commits and snapshots.
//! [`html`] draws it as one self-contained page; the text dump reads the same steps.

pub mod html;

use std::collections::BTreeMap;

use raft_core::NodeId;
use serde::Serialize;

use crate::format::{Frame, LinkSeq};
use crate::live::{self, Driven};
use crate::replay::NodeTrace;

#[derive(Clone, Debug, Default, Serialize)]
pub struct ViewModel {
    pub title: String,
    pub nodes: Vec<NodeId>,
    pub start_us: u64,
    pub end_us: u64,
    /// Every step of every node, ordered by time.
    pub steps: Vec<ViewStep>,
    pub messages: Vec<ViewMessage>,
    pub marks: Vec<ViewMark>,
    /// Steps left out past [`VIEW_STEPS_MAX`] (narrow the time range to see them).
    pub truncated_steps: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ViewStep {
    pub node: NodeId,
    pub time_us: u64,
    /// The step's number within its incarnation, from 1.
    pub step: u64,
    pub incarnation: u64,
    /// After the step: "leader", "follower", "candidate", "precandidate", "learner"...
    pub role: String,
    pub term: u64,
    pub commit: u64,
    pub input: String,
    pub output: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ViewMessage {
    pub from: NodeId,
    pub to: NodeId,
    pub sent_us: u64,
    /// `None`: never received (lost, or the receiver's trace ends first).
    pub received_us: Option<u64>,
    /// One line: the message as raft-core displays it.
    pub summary: String,
    /// Indexes into `steps` of the sending step and the receiving one.
    pub send_step: usize,
    pub recv_step: Option<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ViewMark {
    pub node: NodeId,
    pub time_us: u64,
    /// "start" (an incarnation began: a crash and restart, or the first boot),
    /// "commit" (the commit index moved), "snapshot" (a snapshot was taken or
    /// installed), "leader" (became leader).
    pub kind: String,
    pub text: String,
}

/// Output text kept per step, at most; a view is for reading, not for bytes.
const TEXT_CHARS_MAX: usize = 2000;
/// Input and output text of all steps together, at most: a long trace keeps less of
/// each step's text rather than making a page of hundreds of megabytes.
const TEXT_BYTES_BUDGET: usize = 48 << 20;
/// Text kept per step however long the trace.
const TEXT_CHARS_MIN: usize = 120;
/// Steps a view holds at most (a longer trace is cut to its first ones, and says so).
pub const VIEW_STEPS_MAX: usize = 200_000;

/// Builds the view of `traces` by replaying every node (from its first full
/// incarnation), keeping steps within `[from_us, to_us]`.
pub fn build(traces: &[NodeTrace], title: &str, from_us: u64, to_us: u64) -> ViewModel {
    let mut model = ViewModel {
        title: title.to_string(),
        nodes: traces.iter().map(|t| t.node).collect(),
        start_us: u64::MAX,
        ..ViewModel::default()
    };
    let mut sends: BTreeMap<LinkSeq, (usize, usize)> = BTreeMap::new();
    let mut receipts: Vec<(LinkSeq, usize)> = Vec::new();
    let mut steps: Vec<Collected> = Vec::new();
    for t in traces {
        node_steps(t, from_us, to_us, &mut steps, &mut model.marks);
    }
    steps.sort_by_key(|(s, _, _)| (s.time_us, s.node));
    model.truncated_steps = steps.len().saturating_sub(VIEW_STEPS_MAX);
    steps.truncate(VIEW_STEPS_MAX);
    for (i, (step, sent, received)) in steps.into_iter().enumerate() {
        model.start_us = model.start_us.min(step.time_us);
        model.end_us = model.end_us.max(step.time_us);
        for (link, summary) in sent {
            sends.insert(link, (i, model.messages.len()));
            model.messages.push(ViewMessage {
                from: link.from,
                to: link.to,
                sent_us: step.time_us,
                received_us: None,
                summary,
                send_step: i,
                recv_step: None,
            });
        }
        if let Some(link) = received {
            receipts.push((link, i));
        }
        model.steps.push(step);
    }
    for (link, i) in receipts {
        if let Some(&(_, m)) = sends.get(&link) {
            let msg = &mut model.messages[m];
            // A duplicate delivery keeps the first receipt.
            if msg.recv_step.is_none() {
                msg.recv_step = Some(i);
                msg.received_us = Some(model.steps[i].time_us);
            }
        }
    }
    model.marks.sort_by_key(|m| (m.time_us, m.node));
    fit_text(&mut model.steps);
    // A start before a node's first step must be inside the drawn range too.
    for m in &model.marks {
        model.start_us = model.start_us.min(m.time_us);
        model.end_us = model.end_us.max(m.time_us);
    }
    if model.start_us == u64::MAX {
        model.start_us = 0;
    }
    model
}

type Collected = (ViewStep, Vec<(LinkSeq, String)>, Option<LinkSeq>);

fn node_steps(
    t: &NodeTrace,
    from_us: u64,
    to_us: u64,
    out: &mut Vec<Collected>,
    marks: &mut Vec<ViewMark>,
) {
    let mut live: Option<(Box<dyn Driven>, u64, u64)> = None;
    for frame in &t.frames {
        match frame {
            Frame::Header(h) if h.first_step == 0 => {
                live = live::boot(h.kind, &h.boot)
                    .ok()
                    .map(|m| (m, h.incarnation, 0));
                if (from_us..=to_us).contains(&h.started_us) {
                    marks.push(ViewMark {
                        node: t.node,
                        time_us: h.started_us,
                        kind: "start".into(),
                        text: format!("node {} starts (incarnation {})", t.node, h.incarnation),
                    });
                }
            }
            Frame::Header(_) => {}
            Frame::Step(s) => {
                let Some((m, incarnation, n)) = live.as_mut() else {
                    continue;
                };
                *n += 1;
                let before = seen(m.as_ref());
                if m.step(&s.input, &mut ()).is_err() {
                    continue;
                }
                if !(from_us..=to_us).contains(&s.time_us) {
                    continue;
                }
                let after = seen(m.as_ref());
                mark_changes(t.node, s.time_us, before, after, marks);
                let sent = s
                    .sent
                    .iter()
                    .copied()
                    .zip(m.last_messages().into_iter().map(|(_, s)| s))
                    .collect();
                out.push((
                    ViewStep {
                        node: t.node,
                        time_us: s.time_us,
                        step: *n,
                        incarnation: *incarnation,
                        role: m.node().map_or("coordinator".into(), |n| {
                            format!("{:?}", n.role()).to_lowercase()
                        }),
                        term: m.node().map_or(0, |n| n.term()),
                        commit: after.1,
                        input: cut(m.describe_input(&s.input)),
                        output: cut(m.last_output()),
                    },
                    sent,
                    s.received,
                ));
            }
        }
    }
}

type Seen = (raft_core::Role, u64, u64);

/// Role, commit and snapshot index of a machine's node (a follower at 0 without one).
fn seen(m: &dyn Driven) -> Seen {
    m.node().map_or((raft_core::Role::Follower, 0, 0), |n| {
        (
            n.role(),
            n.log().committed(),
            n.log().snapshot_position().index,
        )
    })
}

fn mark_changes(node: NodeId, time_us: u64, before: Seen, after: Seen, marks: &mut Vec<ViewMark>) {
    let mut mark = |kind: &str, text: String| {
        marks.push(ViewMark {
            node,
            time_us,
            kind: kind.into(),
            text,
        })
    };
    if after.0 == raft_core::Role::Leader && before.0 != raft_core::Role::Leader {
        mark("leader", format!("node {node} becomes leader"));
    }
    if after.1 > before.1 {
        mark("commit", format!("commit {} → {}", before.1, after.1));
    }
    if after.2 > before.2 {
        mark("snapshot", format!("snapshot through {}", after.2));
    }
}

fn cut(s: String) -> String {
    cut_to(s, TEXT_CHARS_MAX)
}

fn cut_to(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut at = max;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
        s.push('…');
    }
    s
}

/// Shortens every step's text so that all of it fits the page's budget.
fn fit_text(steps: &mut [ViewStep]) {
    let per = (TEXT_BYTES_BUDGET / steps.len().max(1) / 2).clamp(TEXT_CHARS_MIN, TEXT_CHARS_MAX);
    if per == TEXT_CHARS_MAX {
        return;
    }
    for s in steps {
        s.input = cut_to(std::mem::take(&mut s.input), per);
        s.output = cut_to(std::mem::take(&mut s.output), per);
    }
}
