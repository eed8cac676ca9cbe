//! The trace view's page opened in headless Chromium: it loads without errors and draws
//! a lane per node and the messages; and the checks that say so fail on pages that do
//! not (a blank page, a page whose script breaks, a page with every kind of error).
//! Skipped, saying so, when Chromium is missing — unless `CI` is set, then it fails.

mod chromium;

use chromium::{count_class, number_of_id, Rendered};
use trace::view::{html, ViewMark, ViewMessage, ViewModel, ViewStep};

const NASTY: &str = "</script><script>document.body.remove()</script><!-- & \"quoted\"";

fn step(node: u64, time_ms: u64, role: &str, term: u64, commit: u64, incarnation: u64) -> ViewStep {
    ViewStep {
        node,
        time_us: time_ms * 1000,
        step: 0,
        incarnation,
        role: role.into(),
        term,
        commit,
        input: format!("input of node {node} at {time_ms} ms <b>&amp;</b>"),
        output: format!("output: {role} in term {term}"),
    }
}

fn message(
    steps: &[ViewStep],
    send: usize,
    recv: Option<usize>,
    to: u64,
    summary: &str,
) -> ViewMessage {
    ViewMessage {
        from: steps[send].node,
        to,
        sent_us: steps[send].time_us,
        received_us: recv.map(|r| steps[r].time_us),
        summary: summary.into(),
        send_step: send,
        recv_step: recv,
    }
}

fn mark(node: u64, time_ms: u64, kind: &str) -> ViewMark {
    ViewMark {
        node,
        time_us: time_ms * 1000,
        kind: kind.into(),
        text: format!("{kind} on node {node}"),
    }
}

/// Three nodes: node 1 pre-votes, campaigns and leads term 2; one pre-vote reply and
/// one append are lost; node 3 restarts; node 2 takes a snapshot.
fn model() -> ViewModel {
    let mut steps = vec![
        step(1, 1, "follower", 1, 0, 1),
        step(2, 1, "follower", 1, 0, 1),
        step(3, 2, "follower", 1, 0, 1),
        step(1, 10, "precandidate", 1, 0, 1), // 3: pre-votes to 2 and 3
        step(2, 11, "follower", 1, 0, 1),     // 4: grants
        step(3, 12, "follower", 1, 0, 1),     // 5: grants, reply lost
        step(1, 13, "candidate", 2, 0, 1),    // 6: votes to 2 and 3
        step(2, 14, "follower", 2, 0, 1),     // 7
        step(1, 15, "leader", 2, 0, 1),       // 8: appends to 2 and 3
        step(2, 17, "follower", 2, 1, 1),     // 9
        step(1, 19, "leader", 2, 1, 1),       // 10
        step(3, 25, "follower", 2, 1, 2),     // 11: after the restart
        step(2, 30, "follower", 2, 1, 1),     // 12
    ];
    for (n, s) in steps.iter_mut().enumerate() {
        s.step = n as u64 + 1;
    }
    let messages = vec![
        message(&steps, 3, Some(4), 2, "PreVote{term:2, last:0/0}"),
        message(&steps, 3, Some(5), 3, "PreVote{term:2, last:0/0}"),
        message(&steps, 4, Some(6), 1, "PreVoteResp{term:2, granted}"),
        message(&steps, 5, None, 1, "PreVoteResp{term:2, granted}"),
        message(&steps, 6, Some(7), 2, "Vote{term:2}"),
        message(&steps, 7, Some(8), 1, "VoteResp{term:2, granted}"),
        message(&steps, 8, Some(9), 2, NASTY),
        message(&steps, 8, None, 3, "Append{term:2, prev:0/0, entries:1}"),
        message(&steps, 9, Some(10), 1, "AppendResp{term:2, index:1}"),
    ];
    ViewModel {
        title: "three nodes <elect> & lose two messages".into(),
        nodes: vec![1, 2, 3],
        start_us: 1000,
        end_us: 30_000,
        steps,
        messages,
        marks: vec![
            mark(1, 1, "start"),
            mark(1, 15, "leader"),
            mark(2, 17, "commit"),
            mark(1, 19, "commit"),
            mark(3, 24, "start"),
            mark(2, 30, "snapshot"),
        ],
        truncated_steps: 0,
    }
}

/// What is wrong with a rendering of `model`, if anything. Counts come from the DOM
/// after the script ran: the lane elements, and the counts the page publishes of what
/// it drew on its canvas.
fn problems(r: &Rendered, model: &ViewModel) -> Vec<String> {
    let mut out: Vec<String> = r
        .errors
        .iter()
        .map(|e| format!("page error: {e}"))
        .collect();
    let lost = model
        .messages
        .iter()
        .filter(|m| m.received_us.is_none())
        .count();
    let expect = [
        (
            "lane elements",
            Some(count_class(&r.dom, "lane")),
            model.nodes.len(),
        ),
        (
            "lanes drawn",
            number_of_id(&r.dom, "diagram", "data-lanes"),
            model.nodes.len(),
        ),
        (
            "arrows drawn",
            number_of_id(&r.dom, "diagram", "data-arrows"),
            model.messages.len(),
        ),
        (
            "lost arrows drawn",
            number_of_id(&r.dom, "diagram", "data-lost"),
            lost,
        ),
        (
            "step ticks drawn",
            number_of_id(&r.dom, "diagram", "data-steps"),
            model.steps.len(),
        ),
        (
            "marks drawn",
            number_of_id(&r.dom, "diagram", "data-marks"),
            model.marks.len(),
        ),
    ];
    for (what, got, want) in expect {
        if got != Some(want) {
            out.push(format!("{what}: {got:?}, expected {want}"));
        }
    }
    out
}

#[test]
fn the_view_draws_a_lane_per_node_and_every_message_without_errors() {
    let Some(browser) = chromium::browser_or_skip("view page") else {
        return;
    };
    let model = model();
    let page = html::render(&model);
    if let Some(path) = std::env::var_os("VIEW_SAMPLE_OUT") {
        std::fs::write(path, &page).expect("writing VIEW_SAMPLE_OUT");
    }
    let rendered = browser.render(&page).expect("rendering the view");
    let problems = problems(&rendered, &model);
    assert!(problems.is_empty(), "{problems:#?}");
    // The hostile summary stayed inside the model: the page was not cut short by it.
    assert!(rendered.dom.contains("id=\"details\""));
    assert!(rendered.dom.contains("from the first step to the last"));
}

#[test]
fn the_checks_fail_on_a_blank_page() {
    let Some(browser) = chromium::browser_or_skip("view checks on a blank page") else {
        return;
    };
    let rendered = browser
        .render("<!doctype html><html><head><title>x</title></head><body></body></html>")
        .expect("rendering a blank page");
    let problems = problems(&rendered, &model());
    assert!(rendered.errors.is_empty(), "{:?}", rendered.errors);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("lane elements: Some(0)")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with("arrows drawn: None")),
        "{problems:#?}"
    );
}

#[test]
fn a_view_whose_model_does_not_parse_is_caught() {
    let Some(browser) = chromium::browser_or_skip("broken view page") else {
        return;
    };
    let model = model();
    let page = html::render(&model).replacen("id=\"model\">", "id=\"model\">{", 1);
    let rendered = browser.render(&page).expect("rendering the broken view");
    let problems = problems(&rendered, &model);
    assert!(
        rendered.errors.iter().any(|e| e.contains("SyntaxError")),
        "{:?}",
        rendered.errors
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("lane elements: Some(0)")),
        "{problems:#?}"
    );
}

/// The detector itself: every kind of error it claims to catch, on one page, and
/// nothing on a page that only logs.
#[test]
fn the_probe_reports_every_kind_of_page_error_and_nothing_else() {
    let Some(browser) = chromium::browser_or_skip("error probe") else {
        return;
    };
    let broken = r#"<!doctype html><html><head><title>broken</title></head><body>
        <img src="https://example.invalid/picture.png">
        <script>console.log("a log line"); console.warn("a warning");</script>
        <script>console.error("an explicit error");</script>
        <script>undefinedFunction();</script>
        <script>let x = ;</script>
        <script>Promise.reject(new Error("nobody caught this"));</script>
        <p>still here</p></body></html>"#;
    let rendered = browser.render(broken).expect("rendering the broken page");
    let errors = rendered.errors.join("\n");
    for expected in [
        "failed to load <img> https://example.invalid/picture.png",
        "console.error: an explicit error",
        "uncaught: Uncaught ReferenceError: undefinedFunction is not defined",
        "uncaught: Uncaught SyntaxError",
        "unhandled rejection: nobody caught this",
    ] {
        assert!(
            errors.contains(expected),
            "missing {expected:?} in:\n{errors}"
        );
    }
    assert!(
        !errors.contains("a log line") && !errors.contains("a warning"),
        "{errors}"
    );

    let clean = r#"<!doctype html><html><body><script>console.log("fine");
        console.warn("also fine");</script></body></html>"#;
    let rendered = browser.render(clean).expect("rendering the clean page");
    assert!(rendered.errors.is_empty(), "{:?}", rendered.errors);
}

/// Clicking works: a click scanned along node 1's lane picks its step 9 (the leader's
/// appends) and the panel shows it; the panel's "→ to 2" button then shows that
/// message's summary, the hostile one, as text.
#[test]
fn clicking_a_step_and_then_its_message_shows_them() {
    let Some(browser) = chromium::browser_or_skip("view clicks") else {
        return;
    };
    let clicker = r#"<script>(function () {
      const canvas = document.getElementById("canvas");
      const details = document.getElementById("details");
      const box = canvas.getBoundingClientRect();
      const y = box.top + 28 + 32; // the axis, then half of node 1's lane
      const out = document.createElement("output");
      out.id = "click-result";
      document.body.append(out);
      for (let x = 80; x < canvas.clientWidth; x++) {
        for (const type of ["mousedown", "mouseup"]) {
          canvas.dispatchEvent(new MouseEvent(type, {
            clientX: box.left + x, clientY: y, buttons: type === "mousedown" ? 1 : 0,
          }));
        }
        const h2 = details.querySelector("h2");
        if (h2 && h2.textContent.startsWith("node 1 · step 9 ")) {
          out.dataset.step = h2.textContent;
          break;
        }
      }
      const button = [...details.querySelectorAll("button")]
        .find((b) => b.textContent === "→ to 2");
      if (button) {
        button.click();
        out.dataset.message = details.querySelector("h2").textContent;
        out.dataset.summary = details.querySelector("pre").textContent;
      }
    })();</script>"#;
    let page = html::render(&model()).replace("</body>", &format!("{clicker}</body>"));
    let rendered = browser.render(&page).expect("rendering the view");
    assert!(rendered.errors.is_empty(), "{:?}", rendered.errors);
    let attr = |a| chromium::attr_of_id(&rendered.dom, "click-result", a);
    assert_eq!(
        attr("data-step").as_deref(),
        Some("node 1 · step 9 of incarnation 1 · 14 ms")
    );
    assert_eq!(attr("data-message").as_deref(), Some("message 1 → 2"));
    assert_eq!(attr("data-summary").as_deref(), Some(NASTY));
}
