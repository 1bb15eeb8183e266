//! End-to-end tests of the binary: the command-line contract, exit codes, JSON output.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn dbwarden(args: &[&str], stdin: Option<&str>, cwd: Option<&std::path::Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dbwarden"));
    // Without the GitHub Actions variables, which switch the default format to `github`.
    cmd.args(args)
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let mut child = cmd.spawn().expect("run dbwarden");
    if let Some(s) = stdin {
        // A run that fails before reading its input (a config error) closes the pipe early.
        if let Err(e) = child.stdin.take().unwrap().write_all(s.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "writing dbwarden's input: {e}");
        }
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dbwarden-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn exit_codes_follow_fail_on() {
    let sql = "ALTER TABLE t RENAME COLUMN a TO b;\n";
    // rename-column is a warning: exit 0 by default, 1 with --fail-on warning.
    assert_eq!(dbwarden(&["lint", "-"], Some(sql), None).status.code(), Some(0));
    assert_eq!(dbwarden(&["lint", "--fail-on", "warning", "-"], Some(sql), None).status.code(), Some(1));
    let err = "CREATE INDEX i ON t (a);\n";
    assert_eq!(dbwarden(&["lint", "-"], Some(err), None).status.code(), Some(1));
    assert_eq!(dbwarden(&["lint", "-"], Some("SELECT 1;\n"), None).status.code(), Some(0));
}

#[test]
fn syntax_errors_are_findings_not_exit_2() {
    let out = dbwarden(&["lint", "--format", "json", "-"], Some("SELEC 1;\nCREATE INDEX i ON t (a);\n"), None);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = v["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"syntax-error"), "{rules:?}");
    // Linting went on after the bad statement.
    assert!(rules.contains(&"index-not-concurrent"), "{rules:?}");
}

#[test]
fn usage_and_config_errors_exit_2() {
    assert_eq!(dbwarden(&["lint", "--format", "xml", "-"], Some(""), None).status.code(), Some(2));
    assert_eq!(dbwarden(&["lint", "/no/such/path.sql"], None, None).status.code(), Some(2));
    let dir = tempdir("config");
    std::fs::write(dir.join("dbwarden.toml"), "[lint]\npathz = [\"x\"]\n").unwrap();
    let out = dbwarden(&["lint", "-"], Some("SELECT 1;"), Some(&dir));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pathz"), "{err}");
    assert_eq!(dbwarden(&["rule", "no-such-rule"], None, None).status.code(), Some(2));
}

#[test]
fn json_contract() {
    let sql = "-- a comment\nALTER TABLE patients\n  ADD COLUMN org_id bigint DEFAULT 1 REFERENCES orgs (id);\n";
    let out = dbwarden(&["lint", "--format", "json", "-"], Some(sql), None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], 1);
    let f = v["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "foreign-key-without-not-valid").unwrap();
    for key in ["rule", "severity", "file", "line", "column", "end_line", "end_column", "message", "help"] {
        assert!(f.get(key).is_some(), "missing {key}");
    }
    assert_eq!(f["file"], "-");
    // The position is the column definition that declares the foreign key.
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(3), Some(3)));
    assert_eq!(f["end_line"].as_u64(), Some(3));
    assert!(v["summary"]["findings"].as_u64().unwrap() >= 1);
}

#[test]
fn config_is_found_upwards_and_paths_come_from_it() {
    let dir = tempdir("upwards");
    std::fs::create_dir_all(dir.join("db/migrations")).unwrap();
    std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
    std::fs::write(
        dir.join("dbwarden.toml"),
        "[lint]\npaths = [\"db/migrations\"]\nignore = [\"missing-primary-key\"]\n",
    )
    .unwrap();
    std::fs::write(dir.join("db/migrations/1_a.sql"), "CREATE TABLE a (x int);\n").unwrap();
    std::fs::write(dir.join("db/migrations/2_b.sql"), "CREATE INDEX a_x ON a (x);\n").unwrap();
    std::fs::write(dir.join("db/migrations/2_b.down.sql"), "DROP INDEX a_x;\n").unwrap();
    let out = dbwarden(&["lint", "--format", "json"], None, Some(&dir.join("sub/deeper")));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = v["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["index-not-concurrent"], "{v}");
    assert_eq!(v["summary"]["files"], 2);
}

#[test]
fn rules_and_rule_commands() {
    let out = dbwarden(&["rules"], None, None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for r in dbwarden::rules::RULES {
        assert!(text.contains(r.name), "{} missing from `dbwarden rules`", r.name);
    }
    let out = dbwarden(&["rule", "unindexed-foreign-key"], None, None);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("<!--"));
}

#[test]
fn human_output_has_no_colour_when_piped() {
    let out = dbwarden(&["lint", "-"], Some("CREATE INDEX i ON t (a);\n"), None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(text.contains("error[index-not-concurrent]"), "{text}");
    assert!(text.contains("--> -:1:1"), "{text}");
}

#[test]
fn explain_reads_pg_stat_statements_or_says_why_not() {
    let Some(db) = common::db::TestDb::create("pgss") else { return };
    let out = dbwarden(&["explain", "--database-url", &db.url(), "--from-pg-stat-statements"], None, None);
    let err = String::from_utf8_lossy(&out.stderr);
    // The test server does not preload the extension: a clear error and exit 2.
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("pg_stat_statements"), "{err}");
}

#[test]
fn audit_runs_captured_queries_on_the_audited_database() {
    let Some(db) = common::db::TestDb::create("auditq") else { return };
    db.client()
        .batch_execute(
            "CREATE TABLE t (id bigint PRIMARY KEY, v int);
             INSERT INTO t SELECT g, g % 100 FROM generate_series(1, 50000) g;
             ANALYZE t;",
        )
        .unwrap();
    let dir = tempdir("auditq");
    let queries = dir.join("queries.sql");
    std::fs::write(&queries, "-- name: by_value\nSELECT * FROM t WHERE v = 7;\n").unwrap();
    let out = dbwarden(
        &["audit", "--database-url", &db.url(), "--queries", queries.to_str().unwrap(), "--format", "json"],
        None,
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let findings = v["findings"].as_array().unwrap();
    // The plan rule judged the query's real plan: 49,500 of 50,000 rows discarded by a filter.
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "seq-scan-discards-rows"
                && f["file"].as_str().is_some_and(|p| p.ends_with("queries.sql"))),
        "{v}"
    );
}

/// The example project's README accounts for every finding: each one's `file:line` stands in a
/// table row that names its rule, and the stated totals are right.
#[test]
fn example_readme_accounts_for_every_finding() {
    let root = common::root();
    let out = dbwarden(&["lint", "--config", "fixtures/example/dbwarden.toml", "--format", "json"], None, Some(&root));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let readme = std::fs::read_to_string(root.join("fixtures/example/README.md")).unwrap();
    let rows: Vec<&str> = readme.lines().filter(|l| l.starts_with('|')).collect();
    let names_place = |row: &str, place: &str| {
        row.match_indices(place).any(|(i, _)| !row[i + place.len()..].starts_with(|c: char| c.is_ascii_digit()))
    };
    let mut missing = Vec::new();
    for f in findings {
        let file = f["file"].as_str().unwrap().rsplit('/').next().unwrap();
        let place = format!("{}:{}", &file[..4], f["line"]);
        let rule = format!("`{}`", f["rule"].as_str().unwrap());
        if !rows.iter().any(|r| names_place(r, &place) && r.contains(&rule)) {
            missing.push(format!("{place} {rule}"));
        }
    }
    assert!(missing.is_empty(), "findings the README does not list: {missing:?}");
    let errors = findings.iter().filter(|f| f["severity"] == "error").count();
    let total = format!("reports {} findings ({errors} errors)", findings.len());
    assert!(readme.contains(&total), "README should say: {total}");
}

#[test]
fn list_files_says_what_runs_and_how() {
    let d = tempdir("list-files");
    // goose: one transaction per file, unless the file opts out.
    std::fs::write(d.join("00001_init.sql"), "-- +goose Up\nCREATE TABLE t (id int);\n").unwrap();
    std::fs::write(
        d.join("00002_index.sql"),
        "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (id);\n",
    )
    .unwrap();
    let out = dbwarden(&["lint", "--list-files", "--format", "json", d.to_str().unwrap()], None, None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files: Vec<(String, String, String)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f["path"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
            (name, f["tool"].as_str().unwrap().to_owned(), f["runs_as"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        files,
        [
            ("00001_init.sql".to_owned(), "goose".to_owned(), "transaction".to_owned()),
            ("00002_index.sql".to_owned(), "goose".to_owned(), "statements".to_owned()),
        ]
    );
    // Human output: one line per file, nothing linted (the index would be a finding).
    let out = dbwarden(&["lint", "--list-files", d.to_str().unwrap()], None, None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.lines().nth(2).unwrap().starts_with("migration goose statements"), "{text}");
    std::fs::remove_dir_all(&d).unwrap();
}
