//! A self-contained HTML page drawing a history: one timeline per partition, one lane per
//! client, one bar per operation from its call to its return. For a violation, the
//! failing partition comes first, the longest linearizable prefix is green and numbered in
//! linearization order, and the operations that cannot come next are red.
//!
//! Time is drawn by rank (the n-th distinct time is at the n-th tick), so long idle gaps do
//! not squash the interesting parts. Hover a bar for its details.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;

use crate::{Explanation, Model, Operation, Verdict};

const TICK_PX: usize = 14;
const LANE_PX: usize = 24;
const LEFT_PX: usize = 90;

/// How one operation is drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// n-th (1-based) in the longest linearizable prefix.
    Prefix(usize),
    Stuck,
    Other,
}

/// Renders `history` and its verdict as one HTML page with inline SVG (no scripts, no
/// external resources).
pub fn render<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    verdict: &Verdict,
) -> String {
    let mut page = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>lincheck</title>\n<style>\
         body{font-family:sans-serif;margin:1em}pre{background:#f4f4f4;padding:.5em;overflow:auto}\
         svg text{font-size:10px;font-family:monospace}</style></head><body>\n",
    );
    let (headline, why) = match verdict {
        Verdict::Linearizable => ("linearizable", None),
        Verdict::NotLinearizable(why) => ("not linearizable", Some(why)),
        Verdict::Unknown => ("unknown (the budget ran out)", None),
    };
    let _ = writeln!(
        page,
        "<h1>{headline}</h1><p>{} operations</p>",
        history.len()
    );
    if let Some(why) = why {
        let _ = writeln!(page, "<pre>{}</pre>", escape(&why.to_string()));
    }
    let roles = roles(why);
    let mut parts: Vec<(usize, Vec<usize>)> =
        model.partition(history).into_iter().enumerate().collect();
    // The failing partition first.
    parts.sort_by_key(|(n, _)| why.is_none_or(|w| w.partition != *n));
    for (n, part) in &parts {
        let failing = why.is_some_and(|w| w.partition == *n);
        let open = if failing || parts.len() == 1 {
            " open"
        } else {
            ""
        };
        let _ = writeln!(
            page,
            "<details{open}><summary>partition {} ({} operations){}</summary>",
            n + 1,
            part.len(),
            if failing { " — fails" } else { "" }
        );
        page.push_str(&timeline(model, history, part, &roles));
        page.push_str("</details>\n");
    }
    page.push_str("</body></html>\n");
    page
}

fn roles(why: Option<&Explanation>) -> HashMap<usize, Role> {
    let mut roles = HashMap::new();
    if let Some(why) = why {
        for (n, op) in why.prefix.iter().enumerate() {
            roles.insert(op.index, Role::Prefix(n + 1));
        }
        for s in &why.stuck {
            roles.insert(s.op.index, Role::Stuck);
        }
    }
    roles
}

/// One partition as an SVG.
fn timeline<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    part: &[usize],
    roles: &HashMap<usize, Role>,
) -> String {
    let mut times: Vec<u64> = part
        .iter()
        .flat_map(|&i| [Some(history[i].call), history[i].ret])
        .flatten()
        .collect();
    times.sort_unstable();
    times.dedup();
    let rank: HashMap<u64, usize> = times.iter().enumerate().map(|(r, &t)| (t, r)).collect();
    let clients: BTreeSet<u64> = part.iter().map(|&i| history[i].client).collect();
    let lanes: BTreeMap<u64, usize> = clients.iter().enumerate().map(|(n, &c)| (c, n)).collect();
    let end_x = LEFT_PX + (times.len() + 1) * TICK_PX;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\">\n",
        end_x + 20,
        lanes.len() * LANE_PX + 10
    );
    for (client, lane) in &lanes {
        let y = lane * LANE_PX + 16;
        let _ = writeln!(svg, "<text x=\"4\" y=\"{y}\">client {client}</text>");
    }
    for &i in part {
        let op = &history[i];
        let x0 = LEFT_PX + rank[&op.call] * TICK_PX;
        let x1 = op
            .ret
            .map_or(end_x, |r| LEFT_PX + rank[&r] * TICK_PX + TICK_PX / 2);
        let bar = Bar {
            x0,
            x1,
            y: lanes[&op.client] * LANE_PX + 4,
            role: *roles.get(&i).unwrap_or(&Role::Other),
        };
        let label = model.describe_operation(&op.input, op.output.as_ref());
        let ret = op
            .ret
            .map_or("never returned".to_string(), |r| r.to_string());
        let tip = format!("#{i} client {} [{} .. {ret}] {label}", op.client, op.call);
        bar.draw(&mut svg, &label, &tip);
    }
    svg.push_str("</svg>\n");
    svg
}

struct Bar {
    x0: usize,
    x1: usize,
    y: usize,
    role: Role,
}

impl Bar {
    fn draw(&self, svg: &mut String, label: &str, tip: &str) {
        let (fill, prefix) = match self.role {
            Role::Prefix(n) => ("#9be29b", format!("{n}. ")),
            Role::Stuck => ("#f08a8a", String::new()),
            Role::Other => ("#d8d8e8", String::new()),
        };
        let width = (self.x1 - self.x0).max(4);
        let _ = writeln!(
            svg,
            "<g><title>{}</title><rect x=\"{}\" y=\"{}\" width=\"{width}\" height=\"{}\" rx=\"3\" fill=\"{fill}\" stroke=\"#667\"/>",
            escape(tip),
            self.x0,
            self.y,
            LANE_PX - 6
        );
        let text = format!("{prefix}{label}");
        // Roughly 6 px per monospace character at 10 px: label only bars it fits in.
        if text.chars().count() * 6 + 4 <= width {
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                self.x0 + 3,
                self.y + 13,
                escape(&text)
            );
        } else if let Role::Prefix(n) = self.role {
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\">{n}</text>",
                self.x0 + 2,
                self.y + 13
            );
        }
        svg.push_str("</g>\n");
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::render;
    use crate::{check, Operation, RegisterInput as RI, RegisterModel, RegisterOutput as RO};
    use std::time::Duration;

    #[test]
    fn page_shows_the_verdict_the_prefix_and_the_stuck_operation() {
        let h = [
            Operation {
                client: 0,
                input: RI::Write(1),
                output: Some(RO::Done),
                call: 0,
                ret: Some(1),
            },
            Operation {
                client: 1,
                input: RI::Read,
                output: Some(RO::Read(Some(2))),
                call: 2,
                ret: Some(3),
            },
            Operation {
                client: 2,
                input: RI::Write(3),
                output: None,
                call: 2,
                ret: None,
            },
        ];
        let verdict = check(&RegisterModel, &h, Duration::from_secs(5));
        let page = render(&RegisterModel, &h, &verdict);
        assert!(page.contains("<h1>not linearizable</h1>"));
        assert!(page.contains("fill=\"#9be29b\""), "prefix drawn");
        assert!(page.contains("fill=\"#f08a8a\""), "stuck operation drawn");
        assert!(page.contains("read -&gt; 2"), "labels escaped");
        assert!(page.contains("never returned"));
        assert!(page.ends_with("</html>\n"));
    }
}
