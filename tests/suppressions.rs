//! Suppressions behave the same for every input kind: migrations (also inside `DO` bodies),
//! captured queries in `.sql` files, and the findings `dbwarden explain` reports on them.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Runs the binary in `dir` with `--format json`; (exit status, findings as (rule, line)).
fn lint(dir: &Path, args: &[&str]) -> (i32, Vec<(String, u64)>) {
    let out = Command::new(env!("CARGO_BIN_EXE_dbwarden"))
        .current_dir(dir)
        .args(args)
        .args(["--format", "json"])
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let json: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let findings = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["rule"].as_str().unwrap().to_owned(), d["line"].as_u64().unwrap()))
        .collect();
    (out.status.code().unwrap_or(-1), findings)
}

fn temp(name: &str, files: &[(&str, &str)]) -> tempdir::Dir {
    let dir = tempdir::Dir::new(name);
    for (path, text) in files {
        std::fs::write(dir.path().join(path), text).unwrap();
    }
    dir
}

mod tempdir {
    pub struct Dir(std::path::PathBuf);

    impl Dir {
        pub fn new(name: &str) -> Self {
            let p = std::env::temp_dir().join(format!("dbwarden-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Self(p)
        }

        pub fn path(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

const SCHEMA: &str = "CREATE TABLE visits (id bigint PRIMARY KEY, note text);\n";

#[test]
fn file_level_suppression_in_a_queries_file_covers_every_query() {
    let dir = temp(
        "sup-file",
        &[
            ("schema.sql", SCHEMA),
            (
                "q.sql",
                "-- dbwarden-ignore-file: select-star -- reporting queries read whole rows\nSELECT * FROM visits;\nSELECT * FROM visits WHERE id = 1;\nSELECT * FROM visits WHERE id = 2;\n",
            ),
        ],
    );
    let (_, found) = lint(dir.path(), &["lint", "schema.sql", "--queries", "q.sql"]);
    assert!(!found.iter().any(|(r, _)| r == "select-star"), "{found:?}");
}

#[test]
fn query_suppressions_that_suppress_nothing_are_reported() {
    let queries = "-- dbwarden-ignore: no-such-rule -- typo\nSELECT id FROM visits;\n-- dbwarden-ignore: select-star -- needed\nSELECT id FROM visits WHERE id = 3;\n";
    let dir = temp("sup-names", &[("schema.sql", SCHEMA), ("q.sql", queries)]);
    let (_, found) = lint(dir.path(), &["lint", "schema.sql", "--queries", "q.sql"]);
    // The unknown name, and the suppression of a rule that reports nothing there.
    let unused: Vec<u64> = found.iter().filter(|(r, _)| r == "unused-suppression").map(|f| f.1).collect();
    assert_eq!(unused, [1, 3], "{found:?}");
    assert!(!found.iter().any(|(r, _)| r == "select-star"), "{found:?}");
}

#[test]
fn suppressions_inside_do_bodies() {
    let sql = "CREATE TABLE visits (id bigint PRIMARY KEY, patient_id bigint);\n\
        SET lock_timeout = '5s';\n\
        DO $$\nBEGIN\n  IF true THEN\n    -- dbwarden-ignore: index-not-concurrent -- the table is empty here\n    CREATE INDEX visits_patient_idx ON visits (patient_id);\n  END IF;\n  -- dbwarden-ignore: drop-table -- nothing to drop\n  PERFORM 1;\nEND\n$$;\n";
    let dir = temp(
        "sup-do",
        &[
            ("0001_old.sql", "CREATE TABLE visits (id bigint PRIMARY KEY, patient_id bigint);\n"),
            ("0002.sql", &sql[sql.find("SET").unwrap()..]),
        ],
    );
    let (_, found) = lint(dir.path(), &["lint", "."]);
    assert!(!found.iter().any(|(r, _)| r == "index-not-concurrent"), "{found:?}");
    // The second suppression leads no statement: reported, not silently ignored.
    assert!(found.iter().any(|(r, line)| r == "unused-suppression" && *line == 8), "{found:?}");
}
