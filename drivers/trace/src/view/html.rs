//! The view as one self-contained HTML page: no network, no external scripts, fonts or
//! images. The model travels inside the page as JSON and the script (`view.js`) draws
//! the space-time diagram from it; why a canvas is said at the top of that file.

use super::ViewModel;

const CSS: &str = include_str!("view.css");
const JS: &str = include_str!("view.js");

/// Renders `model` as a page.
pub fn render(model: &ViewModel) -> String {
    let json = match serde_json::to_string(model) {
        Ok(json) => script_safe(&json),
        // Not expected (the model has no maps and no non-finite floats), but a page
        // that says so beats a panic in a tool someone runs on a failing trace.
        Err(e) => return error_page(&model.title, &e.to_string()),
    };
    let title = escape(&model.title);
    let cut = match model.truncated_steps {
        0 => String::new(),
        n => format!(
            "<p class=\"hint\">{n} later steps are left out: view a narrower time range \
             (raftkv trace view --from-us/--to-us) to see them.</p>"
        ),
    };
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         script-src 'unsafe-inline'; style-src 'unsafe-inline'\">\n\
         <title>{title}</title>\n<style>\n{CSS}</style></head>\n<body>\n\
         <h1>{title}</h1>{cut}<div id=\"summary\"></div>\n\
         <div id=\"controls\">\
         <button id=\"zoom-in\" title=\"zoom in\">+</button>\
         <button id=\"zoom-out\" title=\"zoom out\">−</button>\
         <button id=\"fit\" title=\"show everything\">fit</button>\
         <label>from <input type=\"range\" id=\"from\" min=\"0\" max=\"10000\" value=\"0\"></label>\
         <label>to <input type=\"range\" id=\"to\" min=\"0\" max=\"10000\" value=\"10000\"></label>\
         <span id=\"range-label\"></span><span id=\"legend\"></span>\
         <span class=\"hint\">wheel: zoom · drag: pan · click: details</span></div>\n\
         <div id=\"diagram\"><div id=\"lanes\"></div><canvas id=\"canvas\"></canvas></div>\n\
         <div id=\"details\"></div>\n\
         <script type=\"application/json\" id=\"model\">{json}</script>\n\
         <script>\n{JS}</script>\n</body></html>\n"
    )
}

/// JSON that cannot end the `<script>` element holding it: every `<` becomes `\u003c`,
/// which rules out `</script` and `<!--` (whose "escaped" parser state could otherwise
/// swallow the rest of the page). `<` only ever occurs inside JSON strings, where the
/// escape means the same character, so `JSON.parse` gives back the original text.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

fn error_page(title: &str, error: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body><p>This view could not be written: {}</p></body></html>\n",
        escape(title),
        escape(error)
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{ViewMessage, ViewModel};

    #[test]
    fn text_in_the_model_cannot_close_the_script_or_open_a_comment() {
        let model = ViewModel {
            title: "</title><b>".into(),
            nodes: vec![1, 2],
            messages: vec![ViewMessage {
                from: 1,
                to: 2,
                sent_us: 0,
                received_us: None,
                summary: "</script><script>alert(1)</script><!-- x".into(),
                send_step: 0,
                recv_step: None,
            }],
            ..ViewModel::default()
        };
        let page = render(&model);
        // Exactly the two script elements the page has, each closed once.
        assert_eq!(page.matches("</script>").count(), 2);
        assert_eq!(page.matches("<!--").count(), 0);
        assert!(page.contains("<title>&lt;/title&gt;&lt;b&gt;</title>"));
        let start = page.find("id=\"model\">").unwrap() + "id=\"model\">".len();
        let end = start + page[start..].find("</script>").unwrap();
        let back: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
        assert_eq!(
            back["messages"][0]["summary"],
            "</script><script>alert(1)</script><!-- x"
        );
    }

    #[test]
    fn the_script_and_style_cannot_end_their_own_elements() {
        assert!(!JS.to_ascii_lowercase().contains("</script"));
        assert!(!JS.contains("<!--"));
        assert!(!CSS.to_ascii_lowercase().contains("</style"));
    }
}
