//! Agreement with the verdicts of an established checker on real recorded histories
//! (shared/testdata/linearizability; see its README).

use std::path::{Path, PathBuf};
use std::time::Duration;

use lincheck::{
    check_with_stats, parse_jepsen_file, parse_kv_file, KvModel, RegisterModel, Verdict,
};

/// Generous: every file takes well under a second; the budget only guards against hangs.
const BUDGET: Duration = Duration::from_secs(120);

/// The test data folder: `$LINEARIZABILITY_TESTDATA`, else the shared folder beside this
/// repository, else the workplace's shared folder. `None` (with a note) if none exists.
fn testdata() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("LINEARIZABILITY_TESTDATA").map(PathBuf::from),
        Some(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/testdata/linearizability"
        ))),
        Some(PathBuf::from("/work/shared/testdata/linearizability")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("README.md").is_file());
    if found.is_none() {
        eprintln!(
            "SKIPPED: no linearizability test data (set LINEARIZABILITY_TESTDATA to the folder \
             holding kv/ and jepsen/)"
        );
    }
    found
}

fn verdict_name(v: &Verdict) -> &'static str {
    match v {
        Verdict::Linearizable => "linearizable",
        Verdict::NotLinearizable(_) => "not linearizable",
        Verdict::Unknown => "unknown",
    }
}

fn assert_verdict(path: &Path, verdict: &Verdict, expect_linearizable: bool) {
    let want = if expect_linearizable {
        "linearizable"
    } else {
        "not linearizable"
    };
    assert_eq!(verdict_name(verdict), want, "{}", path.display());
}

#[test]
fn kv_histories_agree_with_their_names() {
    let Some(root) = testdata() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("kv"))
        .expect("kv folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 6,
        "expected the c01/c10/c50 ok and bad files"
    );
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let expect = match name.rsplit('-').next() {
            Some("ok") => true,
            Some("bad") => false,
            _ => panic!("{name}: cannot tell the verdict from the name"),
        };
        let history = parse_kv_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let result = check_with_stats(&KvModel::empty_is_absent(), &history, BUDGET);
        eprintln!(
            "{name}: {} ({:?})",
            verdict_name(&result.verdict),
            result.stats
        );
        assert_verdict(&path, &result.verdict, expect);
    }
}

#[test]
fn jepsen_histories_agree_with_verdicts_txt() {
    let Some(root) = testdata() else { return };
    let dir = root.join("jepsen");
    let verdicts = std::fs::read_to_string(dir.join("verdicts.txt")).expect("verdicts.txt");
    let mut checked = 0;
    for line in verdicts.lines().filter(|l| !l.trim().is_empty()) {
        let (file, expect) = match line.split_whitespace().collect::<Vec<_>>().as_slice() {
            [file, "true"] => (file.to_string(), true),
            [file, "false"] => (file.to_string(), false),
            _ => panic!("verdicts.txt: cannot read {line:?}"),
        };
        let path = dir.join(&file);
        let history =
            parse_jepsen_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let result = check_with_stats(&RegisterModel, &history, BUDGET);
        eprintln!(
            "{file}: {} ({:?})",
            verdict_name(&result.verdict),
            result.stats
        );
        assert_verdict(&path, &result.verdict, expect);
        checked += 1;
    }
    assert!(checked > 0, "verdicts.txt lists no file");
}
