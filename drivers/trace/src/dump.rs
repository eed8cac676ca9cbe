//! The text dump: every step of the chosen nodes in a time range, one line each, with
//! the input decoded, the output's digest and the link numbers of the messages.

use std::io::Write;

use raft_core::NodeId;

use crate::format::Frame;
use crate::live;
use crate::replay::NodeTrace;

/// Which steps to print.
#[derive(Clone, Debug, Default)]
pub struct DumpFilter {
    /// Only these nodes (all when empty).
    pub nodes: Vec<NodeId>,
    pub from_us: u64,
    pub to_us: Option<u64>,
}

impl DumpFilter {
    fn keeps(&self, node: NodeId, time_us: u64) -> bool {
        (self.nodes.is_empty() || self.nodes.contains(&node))
            && time_us >= self.from_us
            && self.to_us.is_none_or(|t| time_us <= t)
    }
}

/// Writes the dump of `traces` to `out`, node by node.
pub fn dump(traces: &[NodeTrace], filter: &DumpFilter, out: &mut dyn Write) -> std::io::Result<()> {
    for t in traces {
        if !filter.nodes.is_empty() && !filter.nodes.contains(&t.node) {
            continue;
        }
        // A machine only to decode inputs with: the kind's types, not its state.
        let mut decoder = None;
        let mut n = 0;
        for f in &t.frames {
            match f {
                Frame::Header(h) => {
                    if h.first_step == 0 {
                        decoder = live::boot(h.kind, &h.boot).ok();
                        n = 0;
                    }
                    if filter.keeps(t.node, h.started_us) {
                        let what = if h.first_step == 0 {
                            "starts"
                        } else {
                            "continues"
                        };
                        writeln!(
                            out,
                            "{:>16} node {} {what}: {} incarnation {} from step {} ({})",
                            h.started_us,
                            h.node,
                            h.kind.name(),
                            h.incarnation,
                            h.first_step,
                            h.note
                        )?;
                    }
                }
                Frame::Step(s) => {
                    n += 1;
                    if !filter.keeps(t.node, s.time_us) {
                        continue;
                    }
                    let input = decoder.as_ref().map_or_else(
                        || format!("({} bytes; no decoder)", s.input.len()),
                        |d| d.describe_input(&s.input),
                    );
                    let recv = s
                        .received
                        .map_or(String::new(), |l| format!(" ← {}#{}", l.from, l.seq));
                    let sent: Vec<String> = s
                        .sent
                        .iter()
                        .map(|l| format!("{}#{}", l.to, l.seq))
                        .collect();
                    let sent = if sent.is_empty() {
                        String::new()
                    } else {
                        format!(" → {}", sent.join(","))
                    };
                    writeln!(
                        out,
                        "{:>16} node {} #{n}{recv}: {input} ⇒ {:016x}{sent}",
                        s.time_us, t.node, s.digest
                    )?;
                }
            }
        }
        if let Some((path, offset, bytes)) = &t.torn_tail {
            writeln!(
                out,
                "node {}: the trace ends with {bytes} bytes of a frame cut short at {}:{offset}",
                t.node,
                path.display()
            )?;
        }
    }
    Ok(())
}
