//! The view as one self-contained HTML page (no network, no external scripts or fonts).

use super::ViewModel;

/// Renders `model` as a page. (A first, plain rendering; the space-time diagram
/// replaces it.)
pub fn render(model: &ViewModel) -> String {
    let json = serde_json_string(model);
    format!(
        "<!doctype html><meta charset=utf-8><title>{}</title><pre id=data>{}</pre>",
        escape(&model.title),
        escape(&json)
    )
}

fn serde_json_string(model: &ViewModel) -> String {
    format!("{model:?}")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
