//! Multi-file scenarios: each folder of `fixtures/scenarios/` is one migration history (its .sql
//! files, sub-folders included, in migration order), linted as a whole with the folder's
//! `dbwarden.toml` when it has one. The findings must be exactly those of its `expected.txt`, one a
//! line as `listing()` writes them. `UPDATE_SCENARIOS=1 cargo test --test scenarios` rewrites the
//! `expected.txt` files: read every line it writes before committing it.

mod common;

use std::fs;
use std::path::PathBuf;

fn scenarios() -> Vec<PathBuf> {
    let base = common::root().join("fixtures/scenarios");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&base)
        .unwrap_or_else(|e| panic!("{}: {e}", base.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn scenarios_produce_the_expected_findings() {
    let update = std::env::var_os("UPDATE_SCENARIOS").is_some();
    let dirs = scenarios();
    assert!(!dirs.is_empty(), "fixtures/scenarios has no scenario");
    let mut failures = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let config = fs::read_to_string(dir.join("dbwarden.toml")).ok();
        let out = common::lint_paths(std::slice::from_ref(&dir), config.as_deref());
        assert!(out.files.len() > 1, "scenario {name}: a scenario has several migration files");
        for d in &out.diagnostics {
            assert!(d.span.start < d.span.end, "scenario {name}: empty span for {}", d.rule);
        }
        let got = common::listing(&out, &dir);
        let path = dir.join("expected.txt");
        if update {
            fs::write(&path, &got).unwrap();
            continue;
        }
        let want = fs::read_to_string(&path).unwrap_or_else(|_| panic!("scenario {name} has no expected.txt"));
        if got.replace("\r\n", "\n") != want.replace("\r\n", "\n") {
            failures.push(format!("scenario {name}:\n--- expected.txt\n{want}--- got\n{got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "scenarios whose findings differ (check, then `UPDATE_SCENARIOS=1 cargo test --test scenarios`):\n{}",
        failures.join("\n")
    );
}
