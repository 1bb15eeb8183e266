//! Inputs that used to grow output or time with a square (issue 15, items 1 and 2): every one is
//! now linear. The bounds are generous (ten times what a debug build needs on a loaded 2-core
//! machine) so that only a return of the square fails them; `cargo bench --bench lint`
//! (group `adversarial`) measures the real figures.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn one_long_line_prints_windows_not_copies() {
    // 20,000 statements on one line of 580 KB: each finding prints a window of the line, and
    // finding its column does not count from the line's start (that was 16 s in release).
    let n = 20_000;
    let line: String = (0..n).map(|i| format!("CREATE INDEX i{i} ON t (a);")).collect();
    let dir = std::env::temp_dir().join(format!("dbwarden_long_line_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("0001_long.sql");
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_dbwarden"))
        .args(["lint", "--format", "human"])
        .arg(&file)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(30), "{n} findings on one line took {took:?}");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let findings = text.matches("[index-not-concurrent]").count();
    assert!(findings >= n / 2, "{findings} findings");
    // Each finding: its message, help and fix, and one window of at most 160 characters.
    assert!(out.stdout.len() < findings * 1200, "{} bytes for {findings} findings", out.stdout.len());
    assert!(text.lines().all(|l| l.chars().count() < 400), "a line of the output is longer than a window");
}

fn lint_time(text: &str) -> (Duration, Vec<&'static str>) {
    let start = Instant::now();
    let out = common::lint_sql(text, None);
    (start.elapsed(), out.diagnostics.iter().map(|d| d.rule.name()).collect())
}

#[test]
fn many_suppressions_indexes_and_referrers_lint_in_linear_time() {
    let n = 40_000;
    let suppressions: String =
        (0..n).map(|i| format!("-- dbwarden-ignore: drop-table -- old\nDROP TABLE IF EXISTS t{i};\n")).collect();
    let mut indexes = "CREATE TABLE t (id int PRIMARY KEY, a int);\n".to_owned();
    indexes.extend((0..n).map(|i| format!("CREATE INDEX CONCURRENTLY i{i} ON t (a);\n")));
    let mut referrers = "CREATE TABLE p (id int PRIMARY KEY);\n".to_owned();
    referrers.extend((0..n).map(|i| format!("CREATE TABLE c{i} (id int, p int REFERENCES p (id));\n")));
    for (what, text) in [("suppressions", suppressions), ("indexes", indexes), ("referrers", referrers)] {
        let (t, found) = lint_time(&text);
        eprintln!("{what}: {n} statements in {t:?} ({} findings)", found.len());
        assert!(t < Duration::from_secs(15), "{what}: {n} statements took {t:?}");
        if what == "suppressions" {
            // Every suppression suppressed its finding: none left, none unused.
            assert!(!found.iter().any(|r| *r == "drop-table" || *r == "unused-suppression"), "{found:?}");
        }
    }
}

/// Runs dbwarden with its address space limited to `limit_mb` (`ulimit -v`): an input that
/// needs more aborts it. Returns the exit status and standard error.
fn run_limited(limit_mb: usize, args: &[&str]) -> (Option<i32>, String) {
    let bin = env!("CARGO_BIN_EXE_dbwarden");
    let cmd = format!("ulimit -v {} && exec \"$0\" \"$@\" >/dev/null", limit_mb * 1024);
    let out = Command::new("sh").arg("-c").arg(cmd).arg(bin).args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn memory_stays_proportional_to_the_input() {
    let dir = std::env::temp_dir().join(format!("dbwarden_memory_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // 8 MB of `;` (was 2.5 GB: a statement each).
    let semis = dir.join("semis.sql");
    std::fs::write(&semis, ";".repeat(8 << 20)).unwrap();
    // A 10 MB logged query with a million-element IN list (was parsed whole: ~75 bytes per byte).
    let list: Vec<String> = (0..1_300_000).map(|i| i.to_string()).collect();
    let log = dir.join("big.log");
    std::fs::write(
        &log,
        format!(
            "2026-11-22 03:01:47.659 UTC [2354] LOG:  duration: 1.0 ms  statement: SELECT 1 FROM t WHERE x IN ({})\n",
            list.join(",")
        ),
    )
    .unwrap();
    let size = |p: &std::path::Path| std::fs::metadata(p).unwrap().len() as usize >> 20;
    // 30 bytes per input byte, plus the program's own (threads' stacks are address space too).
    for (args, input) in [
        (vec!["lint", semis.to_str().unwrap()], size(&semis)),
        (vec!["lint", "--queries", log.to_str().unwrap(), "--format", "json"], size(&log)),
    ] {
        let limit = 30 * input + 400;
        let (code, err) = run_limited(limit, &args);
        assert!(code == Some(0) || code == Some(1), "{args:?} under {limit} MB: {code:?} {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
