//! The labelled precision set (`fixtures/precision/`): real-shaped migration histories, each
//! with the findings a careful DBA judged true (`[[finding]]`, `verdict = "true"`) and the
//! findings a naive linter reports that are false (`[[false]]`). dbwarden must report exactly
//! the true ones: a missing true finding, an unlabelled finding or a false one fails.
//! `benches/precision.py` prints precision and recall on the same set.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(serde::Deserialize)]
struct Case {
    fact: String,
    #[serde(default)]
    finding: Vec<Labelled>,
    #[serde(default, rename = "false")]
    false_: Vec<False>,
}

#[derive(serde::Deserialize)]
struct Labelled {
    rule: String,
    file: String,
    line: usize,
    verdict: String,
}

#[derive(serde::Deserialize)]
struct False {
    rule: String,
    file: String,
    why: String,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/precision")
}

/// The findings of one case: (rule, file relative to the case's tree, line).
fn lint(case: &Path) -> BTreeSet<(String, String, usize)> {
    let tree = case.join("tree");
    let own = case.join("dbwarden.toml");
    let config = if own.exists() { own } else { root().join("dbwarden.toml") };
    let out = Command::new(env!("CARGO_BIN_EXE_dbwarden"))
        .args(["lint", "--format", "json", "--exit-zero", "--fail-on", "info", "--config"])
        .arg(&config)
        .arg(&tree)
        .output()
        .expect("run dbwarden");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{}: no JSON ({e}): {}", case.display(), String::from_utf8_lossy(&out.stderr)));
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let file = Path::new(f["file"].as_str().unwrap_or_default());
            let rel = file.strip_prefix(&tree).unwrap_or(file).to_string_lossy().replace('\\', "/");
            (f["rule"].as_str().unwrap_or_default().to_owned(), rel, f["line"].as_u64().unwrap_or(0) as usize)
        })
        .collect()
}

#[test]
fn the_precision_set_gets_exactly_the_true_findings() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root())
        .expect("fixtures/precision")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 60, "the precision set holds {} cases, fewer than 60", cases.len());
    let mut failures = Vec::new();
    let (mut true_findings, mut false_labels) = (0, 0);
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(case.join("case.toml")).expect("case.toml");
        let labels: Case = toml::from_str(&text).unwrap_or_else(|e| panic!("{name}/case.toml: {e}"));
        assert!(!labels.fact.trim().is_empty(), "{name}: no fact");
        let got = lint(case);
        let want: BTreeSet<(String, String, usize)> = labels
            .finding
            .iter()
            .filter(|f| f.verdict == "true")
            .map(|f| (f.rule.clone(), f.file.clone(), f.line))
            .collect();
        true_findings += want.len();
        false_labels += labels.false_.len();
        for missing in want.difference(&got) {
            failures.push(format!("{name}: true finding not reported: {missing:?}"));
        }
        for extra in got.difference(&want) {
            let why = labels
                .false_
                .iter()
                .find(|f| f.rule == extra.0 && f.file == extra.1)
                .map_or("unlabelled".to_owned(), |f| format!("labelled false: {}", f.why));
            failures.push(format!("{name}: reported {extra:?} ({why})"));
        }
    }
    assert!(true_findings > 0 && false_labels > 0);
    assert!(failures.is_empty(), "precision set:\n{}", failures.join("\n"));
}
