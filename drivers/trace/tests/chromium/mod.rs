//! Opens a page in headless Chromium and returns its DOM after the scripts ran, with
//! every error the page raised. Shared by the trace view's test and lincheck's (each
//! includes this file with `#[path]`), so not every item is used by both.
//!
//! How errors are caught: Chromium's own log (`--enable-logging=stderr`) prints console
//! messages at one level whatever their kind, and says nothing of a resource that failed
//! to load, so it cannot tell `console.error` from `console.log`. Instead a probe script
//! is put first in the page (right after the doctype, before any of the page's own
//! code); it records uncaught exceptions and syntax errors (window `error`), resources
//! that fail to load (the same event in the capture phase, from the element),
//! unhandled promise rejections, Content-Security-Policy violations and calls to
//! `console.error`, each as an `<li>` of a hidden list that `--dump-dom` prints with the
//! rest of the DOM. The probe marks the root element when it has run, so a page on which
//! it never ran is an error rather than a clean bill. Chromium's "Uncaught" console lines
//! on stderr are read too, as a second witness. Name resolution is mapped to nothing, so
//! anything the page fetches from the network fails, and is reported.
#![allow(dead_code)]

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one page may take, Chromium's start included (builds share the machine).
const PAGE_TIMEOUT: Duration = Duration::from_secs(120);
const PROBE_LIST_ID: &str = "__probe_errors";
const PROBE: &str = r#"<script>(function () {
  function note(text) {
    var list = document.getElementById("__probe_errors");
    if (!list) {
      list = document.createElement("ol");
      list.id = "__probe_errors";
      list.hidden = true;
      document.documentElement.appendChild(list);
    }
    var item = document.createElement("li");
    item.textContent = String(text);
    list.appendChild(item);
  }
  var consoleError = console.error;
  console.error = function () {
    note("console.error: " + Array.prototype.map.call(arguments, String).join(" "));
    return consoleError.apply(console, arguments);
  };
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window) {
      note("failed to load <" + t.tagName.toLowerCase() + "> " + (t.src || t.href || ""));
    } else {
      note("uncaught: " + e.message + " at " + e.filename + ":" + e.lineno);
    }
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    var r = e.reason;
    note("unhandled rejection: " + (r && r.message ? r.message : String(r)));
  });
  document.addEventListener("securitypolicyviolation", function (e) {
    note("content security policy: " + e.violatedDirective + " blocked " + e.blockedURI);
  });
  document.documentElement.setAttribute("data-probe", "ready");
})();</script>"#;

pub struct Browser {
    path: PathBuf,
}

/// What the page became: its DOM serialised after load, and the errors it raised.
pub struct Rendered {
    pub dom: String,
    pub errors: Vec<String>,
}

/// The browser, or `None` after saying why the test is skipped. With `CI` set a missing
/// browser is a failure: CI installs Debian's `chromium`, and a test that silently
/// skips there checks nothing.
pub fn browser_or_skip(test: &str) -> Option<Browser> {
    if let Some(path) = find_chromium() {
        return Some(Browser { path });
    }
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    assert!(
        !ci,
        "{test}: CI is set but Chromium was not found (install Debian's `chromium`, \
         or set CHROMIUM to a browser binary)"
    );
    eprintln!(
        "SKIPPED {test}: Chromium not found (install Debian's `chromium`, or set \
         CHROMIUM); with CI set this would fail"
    );
    None
}

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    let names = ["chromium", "chromium-browser", "google-chrome"];
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

impl Browser {
    /// Loads `html` (with the probe put in) from a file and returns the DOM after load.
    pub fn render(&self, html: &str) -> Result<Rendered, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let page = dir.path().join("page.html");
        fs::write(&page, with_probe(html)).map_err(|e| format!("writing the page: {e}"))?;
        let (stdout, stderr) = self.run(dir.path(), &page)?;
        if !stdout.contains("data-probe=\"ready\"") {
            return Err(format!(
                "the error probe did not run, so errors cannot be known; DOM:\n{}\nstderr:\n{}",
                head(&stdout, 2000),
                tail(&stderr, 3000)
            ));
        }
        let mut errors = probe_errors(&stdout);
        errors.extend(
            stderr
                .lines()
                .filter(|l| l.contains(":CONSOLE") && l.contains("\"Uncaught"))
                .map(|l| format!("chromium log: {l}")),
        );
        Ok(Rendered {
            dom: stdout,
            errors,
        })
    }

    fn run(&self, dir: &Path, page: &Path) -> Result<(String, String), String> {
        let out_path = dir.join("stdout");
        let err_path = dir.join("stderr");
        let file = |p: &Path| File::create(p).map_err(|e| format!("{}: {e}", p.display()));
        let mut child = Command::new(&self.path)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-extensions",
                "--disable-background-networking",
                "--no-first-run",
                "--no-default-browser-check",
                "--window-size=1280,900",
                "--enable-logging=stderr",
                "--v=0",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg(file_url(page))
            .stdin(Stdio::null())
            .stdout(file(&out_path)?)
            .stderr(file(&err_path)?)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", self.path.display()))?;
        let deadline = Instant::now() + PAGE_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("Chromium took more than {PAGE_TIMEOUT:?}"));
                }
                Err(e) => return Err(format!("waiting for Chromium: {e}")),
            }
        };
        let read = |p: &Path| fs::read_to_string(p).unwrap_or_default();
        let (stdout, stderr) = (read(&out_path), read(&err_path));
        if !status.success() {
            return Err(format!(
                "Chromium exited with {status}:\n{}",
                tail(&stderr, 3000)
            ));
        }
        Ok((stdout, stderr))
    }
}

/// The probe goes before anything the page runs; after the doctype so the page keeps
/// its standards mode.
fn with_probe(html: &str) -> String {
    let trimmed = html.trim_start();
    let doctype = "<!doctype html>";
    match trimmed.get(..doctype.len()) {
        Some(d) if d.eq_ignore_ascii_case(doctype) => {
            format!("{d}{PROBE}{}", &trimmed[doctype.len()..])
        }
        _ => format!("{PROBE}{html}"),
    }
}

fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

fn probe_errors(dom: &str) -> Vec<String> {
    let open = format!("<ol id=\"{PROBE_LIST_ID}\"");
    let Some(start) = dom.find(&open) else {
        return Vec::new();
    };
    let list = &dom[start..];
    let list = &list[..list.find("</ol>").unwrap_or(list.len())];
    list.split("<li>")
        .skip(1)
        .map(|item| unescape(item.trim_end_matches("</li>")))
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

fn head(s: &str, n: usize) -> &str {
    &s[..boundary(s, n)]
}

fn tail(s: &str, n: usize) -> &str {
    &s[boundary(s, s.len().saturating_sub(n))..]
}

/// The last character boundary at or before `at`.
fn boundary(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

// ---- reading the DOM -------------------------------------------------------------------

/// Elements whose class list has `class` (the serialiser always quotes with `"`).
pub fn count_class(dom: &str, class: &str) -> usize {
    dom.split(" class=\"")
        .skip(1)
        .filter(|rest| {
            let value = &rest[..rest.find('"').unwrap_or(rest.len())];
            value.split_whitespace().any(|c| c == class)
        })
        .count()
}

/// Start tags named `tag`.
pub fn count_tag(dom: &str, tag: &str) -> usize {
    let open = format!("<{tag}");
    dom.match_indices(&open)
        .filter(|(at, _)| {
            let next = dom[at + open.len()..].chars().next();
            matches!(next, Some(' ' | '>' | '/'))
        })
        .count()
}

/// The value of `attr` on the element whose id is `id`.
pub fn attr_of_id(dom: &str, id: &str, attr: &str) -> Option<String> {
    let at = dom.find(&format!(" id=\"{id}\""))?;
    let start = dom[..at].rfind('<')?;
    let end = at + dom[at..].find('>')?;
    let tag = &dom[start..end];
    let key = format!(" {attr}=\"");
    let value = &tag[tag.find(&key)? + key.len()..];
    Some(unescape(&value[..value.find('"')?]))
}

/// `attr_of_id` as a number; `None` when absent or not a number.
pub fn number_of_id(dom: &str, id: &str, attr: &str) -> Option<usize> {
    attr_of_id(dom, id, attr)?.parse().ok()
}
