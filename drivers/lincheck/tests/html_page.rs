//! The picture of a violation (`html::render`) opened in headless Chromium: no errors,
//! and the DOM holds what the page should show — the verdict, a section per partition
//! with the failing one open, one bar per operation, the prefix green and the stuck
//! operations red, labels as text. Skipped, saying so, when Chromium is missing —
//! unless `CI` is set, then it fails.

#[path = "../../trace/tests/chromium/mod.rs"]
mod chromium;

use std::time::Duration;

use chromium::{count_class, count_tag};
use lincheck::{check, html, KvInput as I, KvModel, KvOutput as O, Operation, Verdict};

fn op(client: u64, input: I, output: Option<O>, call: u64, ret: Option<u64>) -> Operation<I, O> {
    Operation {
        client,
        input,
        output,
        call,
        ret,
    }
}

fn put(key: &str, value: &str) -> I {
    I::Put {
        key: key.into(),
        value: value.into(),
    }
}

fn get(key: &str) -> I {
    I::Get { key: key.into() }
}

/// Key `<k&>`: a put of 1 returns, then a read sees "2", which nobody wrote (a pending
/// put of 3 cannot explain it either). Key `y` is fine.
fn history() -> Vec<Operation<I, O>> {
    vec![
        op(0, put("<k&>", "1"), Some(O::Done), 0, Some(10)),
        op(1, get("<k&>"), Some(O::Get(Some("2".into()))), 20, Some(30)),
        op(2, put("<k&>", "3"), None, 15, None),
        op(0, put("y", "a"), Some(O::Done), 40, Some(50)),
        op(1, get("y"), Some(O::Get(Some("a".into()))), 60, Some(70)),
    ]
}

fn count_fill(dom: &str, colour: &str) -> usize {
    dom.matches(&format!("fill=\"{colour}\"")).count()
}

#[test]
fn the_picture_of_a_violation_renders_with_every_operation() {
    let Some(browser) = chromium::browser_or_skip("lincheck page") else {
        return;
    };
    let model = KvModel::new();
    let history = history();
    let verdict = check(&model, &history, Duration::from_secs(5));
    let Verdict::NotLinearizable(why) = &verdict else {
        panic!("the history should not be linearizable: {verdict:?}");
    };
    let page = html::render(&model, &history, &verdict);
    if let Some(path) = std::env::var_os("LINCHECK_SAMPLE_OUT") {
        std::fs::write(path, &page).expect("writing LINCHECK_SAMPLE_OUT");
    }
    let r = browser.render(&page).expect("rendering the lincheck page");
    assert!(r.errors.is_empty(), "page errors: {:?}", r.errors);
    let dom = &r.dom;
    assert!(dom.contains("<h1>not linearizable</h1>"), "{dom}");
    assert_eq!(count_tag(dom, "details"), 2, "a section per key");
    assert_eq!(
        dom.matches("<details open=\"\">").count(),
        1,
        "only the failing one open"
    );
    assert_eq!(count_tag(dom, "svg"), 2);
    assert_eq!(count_tag(dom, "rect"), history.len(), "a bar per operation");
    assert_eq!(
        count_fill(dom, "#9be29b"),
        why.prefix.len(),
        "the prefix in green"
    );
    assert_eq!(
        count_fill(dom, "#f08a8a"),
        why.stuck.len(),
        "the stuck ones in red"
    );
    assert!(!why.prefix.is_empty() && !why.stuck.is_empty());
    // The key is text, not markup: no element sprang from it.
    assert_eq!(count_tag(dom, "k&"), 0);
    assert!(dom.contains("put(\"&lt;k&amp;&gt;\", \"1\")"), "{dom}");
    // Nothing in this page uses classes; a stray one would be a parse accident.
    assert_eq!(count_class(dom, "lane"), 0);
}
