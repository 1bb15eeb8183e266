//! Hostile, huge and broken input (issue 15): each file under `tests/adversarial/` is run through
//! the binary with a time bound, and its exit code and messages are checked.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one run may take before it counts as a hang.
const TIME_BOUND: Duration = Duration::from_secs(30);

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/adversarial")
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Address space the binary may use on these inputs (`ulimit -v`, KB): an input that makes it
/// grow past this aborts the run, and the test fails.
const MEMORY_BOUND_KB: u64 = 1 << 20;

/// Runs the binary with `args` (in `cwd`, with extra environment variables), killing it past
/// [`TIME_BOUND`], under [`MEMORY_BOUND_KB`].
fn run_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {MEMORY_BOUND_KB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_dbwarden"))
        .args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run dbwarden");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > TIME_BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dbwarden {args:?} ran longer than {TIME_BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    assert!(!stderr.contains("panicked"), "dbwarden {args:?} panicked: {stderr}");
    Run { code: status.code(), stdout, stderr }
}

fn run(args: &[&str]) -> Run {
    run_env(args, &dir(), &[])
}

/// The rules of the JSON findings of `dbwarden lint --format json FILE`.
fn lint_rules(file: &str) -> (Option<i32>, Vec<String>, String) {
    let r = run(&["lint", "--format", "json", file]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{file}: not JSON ({e}): {}\nstderr: {}", r.stdout, r.stderr));
    let rules = v["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_owned()).collect();
    (r.code, rules, r.stderr)
}

/// Malformed statements are `syntax-error` findings and the rest of the file is still linted
/// (each file ends with an index build that must still be reported).
#[test]
fn malformed_statements_are_syntax_errors_and_linting_continues() {
    for file in ["crash_empty_table_element.sql", "crash_empty_alter_op.sql", "crash_trigger_keywords_out_of_order.sql"]
    {
        let (code, rules, stderr) = lint_rules(file);
        assert_eq!(code, Some(1), "{file}: {rules:?} {stderr}");
        assert!(!rules.iter().any(|r| r == "internal-error"), "{file}: {rules:?}");
        assert!(rules.iter().any(|r| r == "syntax-error"), "{file}: {rules:?}");
        assert!(rules.iter().any(|r| r == "index-not-concurrent"), "{file}: {rules:?}");
    }
}

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel).display().to_string()
}

/// A connection failure prints the target without its password, in every spelling libpq
/// accepts, and a string it cannot parse not at all.
#[test]
fn connection_errors_never_print_the_password() {
    let queries = fixture("fixtures/queries/example.sql");
    for url in [
        "host=127.0.0.1 port=1 user=app password = 'hunter2' connect_timeout=5",
        "host=127.0.0.1 port=1 user=app password= hunter2",
        "host=127.0.0.1 port=1 user=app sslpassword=hunter2 password='it\\'s hunter2'",
        "postgres://app:hun@ter2@127.0.0.1:1/x",
        "postgresql://app:hunter2@127.0.0.1:1/x?sslpassword=hunter2",
        "mysql://app:hunter2@127.0.0.1:1/x",
        "hunter2",
    ] {
        let r = run(&["explain", "--database-url", url, "--queries", &queries]);
        assert_eq!(r.code, Some(2), "{url}: {}{}", r.stdout, r.stderr);
        for secret in ["hunter2", "hun", "ter2"] {
            assert!(!r.stdout.contains(secret) && !r.stderr.contains(secret), "{url}: {}{}", r.stdout, r.stderr);
        }
        assert!(r.stderr.contains("127.0.0.1") || r.stderr.contains("unparseable"), "{url}: {}", r.stderr);
    }
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dbwarden-adversarial-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A `.sql` symlink to a file outside the linted folder (or to `/proc/self/environ`, or a FIFO)
/// is not read: nothing of it is printed, stderr says what was skipped, and the run ends.
#[cfg(unix)]
#[test]
fn symlinks_out_of_the_tree_are_not_read() {
    use std::os::unix::fs::symlink;
    let base = tempdir("symlinks");
    let tree = base.join("migrations");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("1_ok.sql"), "CREATE TABLE t (id bigint PRIMARY KEY);\n").unwrap();
    std::fs::write(base.join("secret.sql"), "SELEC 'outside-secret-text';\n").unwrap();
    symlink(base.join("secret.sql"), tree.join("2_outside.sql")).unwrap();
    symlink("/proc/self/environ", tree.join("3_environ.sql")).unwrap();
    let fifo = tree.join("4_fifo.sql");
    let fifo_made = Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
    let tree_arg = tree.display().to_string();
    let marker = [("DBWARDEN_ADVERSARIAL_MARKER", "environ-secret-value")];
    let r = run_env(&["lint", &tree_arg], &base, &marker);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(!all.contains("outside-secret-text") && !all.contains("environ-secret-value"), "{all}");
    assert!(
        r.stderr
            .contains(&format!("skipped {}: symlink to outside the linted tree", tree.join("2_outside.sql").display())),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("3_environ.sql: symlink to outside the linted tree"), "{}", r.stderr);
    if fifo_made {
        assert!(r.stderr.contains("4_fifo.sql: not a regular file"), "{}", r.stderr);
    }
    // --follow-symlinks reads the file outside, never /proc or a FIFO.
    let r = run_env(&["lint", "--follow-symlinks", &tree_arg], &base, &marker);
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("syntax-error"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("environ-secret-value") && r.stderr.contains("3_environ.sql: not a regular file"),
        "{}",
        r.stderr
    );
    // A folder of captured queries is searched the same way.
    let r = run_env(&["lint", "--queries", &tree_arg], &base, &marker);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(!all.contains("outside-secret-text") && !all.contains("environ-secret-value"), "{all}");
    assert!(r.stderr.contains("3_environ.sql: symlink to outside the linted tree"), "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&base);
}

/// `--base` goes to git: a value that git would read as an option (`--output=FILE` makes
/// `git diff` write a file) is rejected before git runs.
#[test]
fn base_refs_cannot_inject_git_options() {
    let repo = tempdir("git-base");
    let ok = Command::new("git").args(["init", "-q"]).current_dir(&repo).status().is_ok_and(|s| s.success());
    if !ok {
        eprintln!("git is not available; skipped");
        return;
    }
    std::fs::write(repo.join("1.sql"), "CREATE TABLE t (id bigint PRIMARY KEY);\n").unwrap();
    let written = repo.join("written-by-git");
    for base in [format!("--output={}", written.display()), "-p".to_owned(), String::new()] {
        let arg = format!("--base={base}");
        let r = run_env(&["lint", "--changed-only", &arg, "1.sql"], &repo, &[]);
        assert_eq!(r.code, Some(2), "{base}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("is not a revision"), "{}", r.stderr);
        assert!(!written.exists(), "git wrote {}", written.display());
    }
    let _ = std::fs::remove_dir_all(&repo);
}

/// A csvlog or jsonlog copied while the server writes it (cut in the middle of a record) is
/// read up to its last whole record, with a warning, not rejected.
#[test]
fn truncated_logs_are_read_with_a_warning() {
    for (file, format) in [("truncated_csvlog.csv", "csvlog"), ("truncated_jsonlog.json", "jsonlog")] {
        for args in [vec!["lint", "--queries", file], vec!["lint", "--queries-format", format, "--queries", file]] {
            let r = run(&args);
            assert_ne!(r.code, Some(2), "{args:?}: {}{}", r.stdout, r.stderr);
            assert!(
                r.stderr.contains(&format!("{file}:")) && r.stderr.contains("skipped the partial last record"),
                "{}",
                r.stderr
            );
            assert!(!r.stderr.contains("no queries found"), "{}", r.stderr);
        }
    }
}

/// Input PostgreSQL or psql rejects, or options that would silently do nothing, are reported
/// instead of passing clean.
#[test]
fn silent_passes_are_reported() {
    // An unterminated `/*` at the end of a file: a syntax error at the comment's start.
    let r = run(&["lint", "--format", "json", "unterminated_comment.sql"]);
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!(
        (f["rule"].as_str(), f["line"].as_u64(), f["column"].as_u64()),
        (Some("syntax-error"), Some(3), Some(1)),
        "{f}"
    );
    assert!(f["message"].as_str().unwrap().contains("unterminated `/*` comment"), "{f}");
    // COPY FROM stdin data without its `\.` line.
    let r = run(&["lint", "--format", "json", "copy_without_end_marker.sql"]);
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!((f["rule"].as_str(), f["line"].as_u64()), (Some("syntax-error"), Some(2)), "{f}");
    assert!(f["message"].as_str().unwrap().contains("`\\.` line is missing"), "{f}");
    // A folder without .sql files.
    let empty = tempdir("no-sql");
    std::fs::write(empty.join("README.md"), "migrations go here\n").unwrap();
    let r = run(&["lint", empty.to_str().unwrap()]);
    assert_eq!(r.code, Some(2), "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(&format!("{}: no .sql migration files", empty.display())), "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&empty);
    // --queries-format csvlog on a file that is not a csvlog.
    let queries = fixture("fixtures/queries/example.sql");
    for args in [
        vec!["lint", "--queries-format", "csvlog", "--queries", &queries],
        vec![
            "explain",
            "--database-url",
            "postgres://u@127.0.0.1:1/x",
            "--queries-format",
            "csvlog",
            "--queries",
            &queries,
        ],
    ] {
        let r = run(&args);
        assert_eq!(r.code, Some(2), "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(&format!("{queries}:1: not a csvlog file")), "{}", r.stderr);
    }
    // An empty --database-url would connect to localhost's defaults.
    for cmd in ["explain", "audit"] {
        let r = run_env(&[cmd, "--database-url", "", "--queries", &queries], &dir(), &[("PGHOST", "127.0.0.1")]);
        assert_eq!(r.code, Some(2), "{}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("--database-url is empty"), "{}", r.stderr);
    }
}

/// UTF-16 files (with a byte-order mark, as Windows editors save them) are decoded: linted like
/// their UTF-8 twin, not reported as garbled syntax errors.
#[test]
fn utf16_files_are_decoded() {
    for file in ["utf16le.sql", "utf16be.sql"] {
        let (code, rules, stderr) = lint_rules(file);
        assert_eq!(code, Some(1), "{file}: {rules:?} {stderr}");
        assert_eq!(rules, ["index-not-concurrent"], "{file}");
    }
}

/// A failed GitHub step summary is a warning: the exit status stays the lint's.
#[test]
fn unwritable_step_summary_keeps_the_exit_status() {
    let summary = dir().join("no-such-folder/summary.md");
    let summary = summary.to_str().unwrap();
    let r = run_env(
        &["lint", "--format", "github", "crash_empty_table_element.sql"],
        &dir(),
        &[("GITHUB_STEP_SUMMARY", summary)],
    );
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(&format!("warning: cannot write the step summary to {summary}")), "{}", r.stderr);
    assert!(r.stdout.contains("::error"), "{}", r.stdout);
}

/// An --output path that cannot be written is named in the error.
#[test]
fn unwritable_output_is_named() {
    let Some(db) = common::db::TestDb::create("adv_output") else { return };
    let out = dir().join("no-such-folder/report.json");
    let out = out.to_str().unwrap();
    let r = run(&["audit", "--database-url", &db.url(), "--format", "json", "--output", out]);
    assert_eq!(r.code, Some(2), "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(&format!("cannot write output to {out}: ")), "{}", r.stderr);
}

/// Terminal escapes, BEL, CR and bidi controls in migration text and identifiers reach no
/// output raw, and a table name with a backtick cannot put HTML into the GitHub step summary.
#[test]
fn terminal_and_markup_injection_is_escaped() {
    let raw = ['\u{1b}', '\u{7}', '\r', '\u{202e}', '\u{2066}'];
    let summary = tempdir("summary").join("summary.md");
    for format in ["human", "github", "html"] {
        let r = run_env(
            &["lint", "--format", format, "terminal_injection.sql"],
            &dir(),
            &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
        );
        assert_eq!(r.code, Some(1), "{format}: {}{}", r.stdout, r.stderr);
        assert!(!r.stdout.contains(raw), "{format}: raw control character in {:?}", r.stdout);
        assert!(r.stdout.contains("\\u{1b}") && r.stdout.contains("\\u{202e}"), "{format}: {}", r.stdout);
    }
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(!md.contains(raw), "{md:?}");
    assert!(!md.contains("<img") && md.contains("&lt;img"), "{md}");
    // Every cell of the findings table stays a cell: no `|` but the separators.
    for line in md.lines().filter(|l| l.starts_with("| error") || l.starts_with("| warning")) {
        assert_eq!(line.matches('|').count(), 5, "{line}");
    }
    let _ = std::fs::remove_dir_all(summary.parent().unwrap());
}

/// The HTML report's CSP nonce is new for every report, and the script carries it.
#[test]
fn html_nonce_is_random_per_report() {
    let nonce = |html: &str| {
        let at = html.find("'nonce-").expect("a CSP nonce") + "'nonce-".len();
        let n = &html[at..at + html[at..].find('\'').unwrap()];
        assert!(html.contains(&format!("<script nonce=\"{n}\">")), "the script carries the policy's nonce");
        n.to_owned()
    };
    let a = run(&["lint", "--format", "html", "crash_empty_alter_op.sql"]);
    let b = run(&["lint", "--format", "html", "crash_empty_alter_op.sql"]);
    let (na, nb) = (nonce(&a.stdout), nonce(&b.stdout));
    assert_ne!(na, nb);
    assert!(na.len() >= 32 && na.chars().all(|c| c.is_ascii_hexdigit()), "{na}");
}
