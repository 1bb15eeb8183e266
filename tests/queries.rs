//! Captured queries: the readers on server-written samples (fixtures/queries/logs, see its
//! README), fingerprints, redaction of values in every output format, and the query-rule harness
//! (catalogue examples of query rules; their fixtures are in fixtures/rules/RULE/, run by tests/fixtures.rs).

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

use dbwarden::config::Config;
use dbwarden::pipeline::lint_queries;
use dbwarden::queries::{self, CapturedQuery, Format, QueryOrigin, QuerySet, ReadOptions};
use dbwarden::rules::QueryOptions;
use dbwarden::rules::catalogue::ExampleKind;
use dbwarden::rules::{self, Kind, RULES, Settings};
use dbwarden::source::SourceFile;

fn logs() -> PathBuf {
    common::root().join("fixtures/queries/logs")
}

fn read(name: &str, format: Option<Format>) -> QuerySet {
    let opts = ReadOptions { format, show_values: false };
    QuerySet::read(&[logs().join(name)], &opts).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The fake patient data generate.py sent; it must never be printed without `--show-values`.
const SECRETS: &[&str] = &["900-12-3456", "Fakename", "Zelda", "itchy", "555-0100"];

fn line_of(q: &CapturedQuery) -> usize {
    match &q.origin {
        QueryOrigin::File { line, .. } | QueryOrigin::Log { line, .. } => *line,
        QueryOrigin::PgStatStatements { line, .. } => line.unwrap_or(0),
    }
}

// ---------------------------------------------------------------------------------------------
// Readers

#[test]
fn stderr_log_with_durations() {
    let set = read("duration.log", None);
    let text = fs::read_to_string(logs().join("duration.log")).unwrap();
    // One query per execution: `execute` lines (extended protocol) and `statement:` lines, but
    // not parse/bind, BEGIN/COMMIT, or the failed statement's STATEMENT line.
    let executes = text.lines().filter(|l| l.contains("LOG:  duration:") && l.contains(" execute ")).count();
    let statements = text
        .lines()
        .filter(|l| {
            l.contains("  statement: ") && !l.ends_with("statement: BEGIN") && !l.ends_with("statement: COMMIT")
        })
        .count();
    assert_eq!(
        set.queries.len(),
        executes + statements,
        "{:#?}",
        set.queries.iter().map(|q| &q.normalised).collect::<Vec<_>>()
    );

    // The multi-line simple-protocol statement, whole, at its first line.
    let multi = &set.queries[0];
    assert!(
        multi.text.contains("p.first_name\n") && multi.text.ends_with("AND p.deleted_at IS NULL"),
        "{}",
        multi.text
    );
    assert_eq!(
        multi.normalised,
        "SELECT p.id, p.first_name FROM patients p WHERE p.last_name = $1 AND p.deleted_at IS NULL"
    );
    assert!(multi.params.is_empty());
    assert!(multi.total_ms.is_some());

    // Parameters: quotes, commas, NULL.
    let p3 = set.queries.iter().find(|q| q.text.contains("IS NOT DISTINCT FROM $3")).unwrap();
    assert_eq!(p3.params, vec![Some("900-12-3456".to_owned()), Some("Zelda O'Fakename, Jr.".to_owned()), None]);
    // `$10` is the tenth parameter, not `$1` followed by `0`.
    let p10 = set.queries.iter().find(|q| q.text.contains("reason = $10")).unwrap();
    assert_eq!(p10.params.len(), 10);
    assert_eq!(p10.params[0].as_deref(), Some("1"));
    assert_eq!(p10.params[9].as_deref(), Some("rash, 'itchy'"));
    assert_eq!(
        line_of(p10),
        text.lines().position(|l| l.contains("execute <unnamed>: SELECT id FROM appointments WHERE org_id")).unwrap()
            + 1
    );

    // psycopg switches to a named prepared statement after five executions.
    let named: Vec<_> = set.queries.iter().filter(|q| q.prepared_name.as_deref() == Some("_pg3_0")).collect();
    assert_eq!(named.len(), 3);
    // pgbench -M prepared.
    assert!(set.queries.iter().any(|q| q.prepared_name.as_deref() == Some("P_0")));

    // Session and transaction ids from the prefix; the N+1 loop shares one transaction.
    let loop_q: Vec<_> = set.queries.iter().filter(|q| q.text.contains("4bf92f3577b34da6a3ce929d0e0e4736")).collect();
    assert_eq!(loop_q.len(), 12);
    assert!(loop_q.iter().all(|q| q.transaction == loop_q[0].transaction && q.transaction.is_some()));
    assert!(loop_q.iter().all(|q| q.session.as_deref().is_some_and(|s| s.contains('.'))));
    assert_eq!(loop_q[0].traceparent.as_deref(), Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    // Autocommit statements each have their own transaction.
    let auto: Vec<_> =
        set.queries.iter().filter(|q| q.text.contains("WHERE provider_id = $1 AND deleted_at")).collect();
    assert_eq!(auto.len(), 11);
    assert_eq!(auto.iter().map(|q| q.transaction.clone()).collect::<BTreeSet<_>>().len(), 11);

    // Client-side bound literals stay in the text (sensitive) and out of the normalised form.
    let client = set.queries.iter().find(|q| q.text.contains("'900-12-3456'")).unwrap();
    assert_eq!(client.normalised, "SELECT id FROM patients WHERE mrn = $1 AND first_name = $2");
    for q in &set.queries {
        assert!(SECRETS.iter().all(|s| !q.normalised.contains(s)), "{}", q.normalised);
    }
}

/// The same workload read from every log format gives the same queries, parameters and sessions.
#[test]
fn log_formats_agree() {
    let key = |set: &QuerySet| -> Vec<(String, Vec<Option<String>>, Option<String>)> {
        set.queries.iter().map(|q| (q.fingerprint.clone(), q.params.clone(), q.prepared_name.clone())).collect()
    };
    let stderr = read("duration.log", None);
    let csv = read("duration.csv", None);
    let json = read("duration.json", None);
    assert_eq!(key(&stderr), key(&csv));
    assert_eq!(key(&stderr), key(&json));
    let sessions =
        |set: &QuerySet| set.queries.iter().map(|q| (q.session.clone(), q.transaction.clone())).collect::<Vec<_>>();
    assert_eq!(sessions(&stderr), sessions(&csv));
    assert_eq!(sessions(&stderr), sessions(&json));
    // Origins point at the entry's first line in each file.
    for (name, set) in [("duration.csv", &csv), ("duration.json", &json)] {
        let text = fs::read_to_string(logs().join(name)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for q in &set.queries {
            let l = lines[line_of(q) - 1];
            assert!(l.contains("statement: ") || l.contains("execute "), "{name}:{}: {l}", line_of(q));
        }
    }
    // log_statement = all with log_duration: durations on their own lines, a prefix without
    // session or transaction ids (BEGIN ... COMMIT gives the transaction).
    // (A second server run: pgbench's random parameters differ, the rest is the same.)
    let stmt = read("statement.log", None);
    let pgbench = &stderr.queries.last().unwrap().fingerprint;
    let shape = |set: &QuerySet| {
        set.queries
            .iter()
            .map(|q| (q.fingerprint.clone(), if &q.fingerprint == pgbench { Vec::new() } else { q.params.clone() }))
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&stmt), shape(&stderr));
    assert!(stmt.queries.iter().all(|q| q.total_ms.is_some() && q.session.is_some()));
    let loop_q: Vec<_> = stmt.queries.iter().filter(|q| q.text.contains("4bf92f3577b34da6a3ce929d0e0e4736")).collect();
    assert!(loop_q.iter().all(|q| q.transaction.is_some() && q.transaction == loop_q[0].transaction));
    assert!(
        stmt.queries
            .iter()
            .filter(|q| q.text.contains("WHERE provider_id = $1 AND deleted_at"))
            .all(|q| q.transaction.is_none())
    );
}

#[test]
fn formats_are_detected() {
    for (name, want) in [
        ("duration.log", Format::Stderr),
        ("statement.log", Format::Stderr),
        ("duration.csv", Format::Csvlog),
        ("duration.json", Format::Jsonlog),
        ("pg_stat_statements.csv", Format::PgssCsv),
        ("pg_stat_statements.json", Format::PgssJson),
    ] {
        let text = fs::read_to_string(logs().join(name)).unwrap();
        assert_eq!(queries::read::detect(name, &text), want, "{name}");
        // Without a telling extension, by content.
        assert_eq!(queries::read::detect("capture", &text), want, "{name} by content");
    }
    assert_eq!(queries::read::detect("q.sql", "SELECT 1;"), Format::Sql);
}

#[test]
fn pg_stat_statements_exports() {
    let csv = read("pg_stat_statements.csv", None);
    let json = read("pg_stat_statements.json", None);
    let key = |s: &QuerySet| {
        s.queries
            .iter()
            .map(|q| (q.fingerprint.clone(), q.calls, q.total_ms.map(|t| (t * 1e6).round() as i64)))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&csv), key(&json));
    assert!(!csv.queries.is_empty());
    // The N+1 query: 12 calls in the view, the same fingerprint as in the log.
    let log = read("duration.log", None);
    let n1 = log.queries.iter().find(|q| q.text.contains("4bf92f3577b34da6a3ce929d0e0e4736")).unwrap();
    let row = csv.queries.iter().find(|q| q.fingerprint == n1.fingerprint).expect("same fingerprint as the log");
    assert_eq!(row.calls, Some(12));
    assert!(row.total_ms.is_some_and(|t| t > 0.0));
    assert!(matches!(row.origin, QueryOrigin::PgStatStatements { queryid: Some(_), line: Some(_), .. }));
    // BEGIN / COMMIT rows are skipped.
    assert!(csv.queries.iter().all(|q| q.text != "BEGIN" && q.text != "COMMIT"));
}

/// PostgreSQL 12 and older: `total_time`; 17: `shared_blk_read_time` and friends (ignored), still
/// `total_exec_time`.
#[test]
fn pg_stat_statements_column_renames() {
    let opts = ReadOptions::default();
    let mut set = QuerySet::default();
    let pg12 =
        "userid,dbid,queryid,query,calls,total_time,rows\n10,1,42,\"SELECT a, b FROM t WHERE id = $1\",7,12.5,7\n";
    queries::read::read_text("pg12.csv", pg12, &opts, &mut set).unwrap();
    let pg17 = r#"[{"queryid": -9, "query": "SELECT 1 FROM t WHERE x IN ($1, $2)", "calls": 3, "total_exec_time": 1.5, "shared_blk_read_time": 0.1}]"#;
    queries::read::read_text("pg17.json", pg17, &opts, &mut set).unwrap();
    assert_eq!(set.queries.len(), 2);
    assert_eq!((set.queries[0].calls, set.queries[0].total_ms), (Some(7), Some(12.5)));
    assert_eq!((set.queries[1].calls, set.queries[1].total_ms), (Some(3), Some(1.5)));
    assert!(matches!(set.queries[1].origin, QueryOrigin::PgStatStatements { queryid: Some(-9), line: Some(1), .. }));
    assert_eq!(set.queries[1].normalised, "SELECT $1 FROM t WHERE x IN ($2)");
}

#[test]
fn sql_files_with_names_and_budgets() {
    let text = "-- name: list_upcoming_appointments\n-- dbwarden: budget=20ms\nSELECT id\n  FROM appointments\n WHERE provider_id = $1;\n\n-- name: slow_report\n-- dbwarden: budget=1.5s\nSELECT count(*) FROM appointments;\nSELECT 1;\n";
    let mut set = QuerySet::default();
    queries::read::read_text("app.sql", text, &ReadOptions::default(), &mut set).unwrap();
    let q = &set.queries;
    assert_eq!(q.len(), 3);
    assert_eq!(
        (q[0].name.as_deref(), q[0].budget_ms, line_of(&q[0])),
        (Some("list_upcoming_appointments"), Some(20.0), 3)
    );
    assert_eq!(q[0].text, "SELECT id\n  FROM appointments\n WHERE provider_id = $1");
    assert_eq!((q[1].name.as_deref(), q[1].budget_ms, line_of(&q[1])), (Some("slow_report"), Some(1500.0), 9));
    assert_eq!((q[2].name.as_deref(), q[2].budget_ms), (None, None));
    // Findings are anchored on the statement in the file itself.
    let f = &set.files[q[0].anchor.file];
    assert_eq!(f.position(q[0].anchor.span.start), (3, 1));
    assert!(!q[0].origin.is_sensitive());
}

#[test]
fn fingerprints_group_repeats() {
    let set = read("duration.log", None);
    let groups = set.groups();
    let n1 =
        groups.iter().find(|(_, ix)| set.queries[ix[0]].text.contains("4bf92f3577b34da6a3ce929d0e0e4736")).unwrap();
    assert_eq!(n1.1.len(), 12);
    // The simple-protocol query with inline literals and the extended one with parameters of the
    // same shape share a fingerprint.
    let a = queries::normalise("SELECT id FROM patients WHERE mrn = '900-12-3456' AND first_name = 'Zelda'");
    let b = queries::normalise("select id from patients where mrn = $1 and first_name = $2");
    assert_eq!(queries::fingerprint(&a), queries::fingerprint(&b));
    assert_eq!(
        queries::normalise("SELECT 1 FROM t WHERE id IN (1, 2, 3)"),
        queries::normalise("SELECT 1 FROM t WHERE id IN ($1,$2)")
    );
}

/// A malformed input's error names the file and line, never a value.
#[test]
fn read_errors_carry_no_values() {
    let mut set = QuerySet::default();
    let bad_csv = "2026-11-22 02:46:44.242 UTC,\"postgres\",\"clinic\",1,\"[local]\",6b0.1,1,\"SELECT\",x,3/1,0,LOG,00000,\"duration: 1 ms  statement: SELECT '900-12-3456\n";
    let e = queries::read::read_text(
        "bad.csv",
        bad_csv,
        &ReadOptions { format: Some(Format::Csvlog), show_values: false },
        &mut set,
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("bad.csv:1:") && !e.contains("900-12"), "{e}");
    let e = queries::read::read_text(
        "bad.json",
        "{\"message\": \"900-12-3456\"\n",
        &ReadOptions { format: Some(Format::Jsonlog), show_values: false },
        &mut set,
    )
    .unwrap_err()
    .to_string();
    assert!(!e.contains("900-12"), "{e}");
}

/// A csvlog or jsonlog copied while the server writes it ends in the middle of a record: that
/// record is skipped with a warning and the rest is read (issue 15). Cut at every 61st byte, in
/// the middle of the last line, and inside a quoted multi-line field.
#[test]
fn truncated_logs_read_their_whole_records() {
    for (name, format) in [("duration.csv", Format::Csvlog), ("duration.json", Format::Jsonlog)] {
        let text = fs::read_to_string(logs().join(name)).unwrap();
        let full = read(name, None);
        let fingerprints = |set: &QuerySet| set.queries.iter().map(|q| q.fingerprint.clone()).collect::<Vec<_>>();
        let all = fingerprints(&full);
        assert!(!all.is_empty());
        let last_line = text.trim_end().rfind('\n').unwrap() + 1;
        let mut cuts: Vec<usize> = (1..text.len()).step_by(61).collect();
        cuts.extend([last_line + 5, text.len() - 3, text.len() - 1]);
        // Inside a quoted field that spans lines (a multi-line statement in the csvlog).
        if let Some(nl) = text.find("\n  ") {
            cuts.push(nl + 2);
        }
        for cut in cuts.into_iter().filter(|&c| text.is_char_boundary(c)) {
            let cut_text = &text[..cut];
            let mut set = QuerySet::default();
            let opts = ReadOptions { format: Some(format), show_values: false };
            let r = queries::read::read_text(name, cut_text, &opts, &mut set);
            // Before the first whole record there is nothing to read: that alone is an error.
            let first_end = text.find("\n").unwrap();
            if cut <= first_end {
                continue;
            }
            r.unwrap_or_else(|e| panic!("{name} cut at {cut}: {e}"));
            let got = fingerprints(&set);
            assert!(all.starts_with(&got), "{name} cut at {cut}: {got:?}");
            let mid_line = !cut_text.ends_with('\n') && !cut_text.ends_with('}');
            if mid_line && format == Format::Jsonlog {
                assert_eq!(set.warnings.len(), 1, "{name} cut at {cut}: {:?}", set.warnings);
            }
            for w in &set.warnings {
                assert!(w.starts_with(&format!("{name}:")) && w.contains("partial last record"), "{w}");
                assert!(SECRETS.iter().all(|s| !w.contains(s)), "{w}");
            }
        }
        // Cut inside the last record: all but that record's queries.
        let mut set = QuerySet::default();
        let opts = ReadOptions { format: Some(format), show_values: false };
        queries::read::read_text(name, &text[..text.len() - 3], &opts, &mut set).unwrap();
        assert_eq!(set.warnings.len(), 1, "{:?}", set.warnings);
    }
}

// ---------------------------------------------------------------------------------------------
// Redaction end to end: the binary, every output format.

fn dbwarden(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dbwarden"))
        .current_dir(common::root())
        .args(args)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn values_from_logs_never_appear_in_any_output_format() {
    let inputs = [
        "fixtures/queries/logs/duration.log",
        "fixtures/queries/logs/duration.csv",
        "fixtures/queries/logs/duration.json",
        "fixtures/queries/logs/statement.log",
        "fixtures/queries/logs/pg_stat_statements.csv",
    ];
    for format in ["human", "json", "github", "sarif", "gitlab"] {
        let mut args = vec!["lint", "fixtures/example/migrations", "--format", format, "--fail-on", "error"];
        for i in &inputs {
            args.extend(["--queries", i]);
        }
        let (code, out, err) = dbwarden(&args);
        assert!(code == 0 || code == 1, "{format}: exit {code}: {err}");
        assert!(out.contains("n-plus-one"), "{format}: no query findings:\n{out}");
        for s in SECRETS {
            assert!(!out.contains(s) && !err.contains(s), "{format}: `{s}` printed:\n{out}{err}");
        }
    }
    // JSON carries each query's fingerprint, calls and total time.
    let (_, out, _) = dbwarden(&["lint", "fixtures/example/migrations", "--queries", inputs[0], "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let n1 = v["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "n-plus-one").unwrap();
    assert_eq!(n1["query"]["calls"], 12);
    assert_eq!(n1["query"]["fingerprint"].as_str().unwrap().len(), 16);
    assert!(n1["query"]["total_ms"].as_f64().is_some_and(|t| t > 0.0));
    assert_eq!(n1["query"]["text"], "SELECT * FROM appointments WHERE patient_id = $1");
    // With --show-values the captured text is shown.
    let (_, out, _) = dbwarden(&["lint", "fixtures/example/migrations", "--queries", inputs[0], "--show-values"]);
    assert!(out.contains("900-12-3456"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// The query-rule harness.

struct Linted {
    set: QuerySet,
    diagnostics: Vec<dbwarden::diagnostic::Diagnostic>,
}

fn lint_case(migrations: &[SourceFile], queries_set: QuerySet, config: Option<&str>) -> Linted {
    let config = config.map_or_else(Config::default, |c| Config::parse(c, "test").expect("test config"));
    let settings = Settings::new(&config);
    let schema = dbwarden::pipeline::lint(
        migrations.iter().map(|f| SourceFile::new(f.path.clone(), f.text.clone())).collect(),
        &settings,
    )
    .schema;
    let opts = QueryOptions::from_config(&config.queries, false);
    let diagnostics = lint_queries(&queries_set, &schema, &settings, &opts);
    Linted { set: queries_set, diagnostics }
}

fn listing(l: &Linted) -> String {
    l.diagnostics
        .iter()
        .map(|d| {
            let f = &l.set.files[d.file];
            let (line, col) = f.position(d.span.start);
            format!("{}:{line}:{col} {} [{}]: {}\n", f.path, d.severity, d.rule, d.message)
        })
        .collect()
}

fn load_migrations(paths: &[PathBuf]) -> Vec<SourceFile> {
    dbwarden::source::discover(paths).unwrap().iter().map(|f| dbwarden::source::load(f).unwrap()).collect()
}

#[test]
fn query_rule_catalogue_examples_behave() {
    let mut failures = Vec::new();
    for (i, r) in RULES.iter().enumerate() {
        if !matches!(r.kind, Kind::Query(_)) {
            continue;
        }
        let e = rules::entry(i);
        assert_eq!(e.category, "query", "{}", r.name);
        for (k, ex) in e.examples.iter().enumerate() {
            let migrations: Vec<SourceFile> =
                ex.schema.iter().map(|s| SourceFile::new("schema.sql", s.clone())).collect();
            let mut set = QuerySet::default();
            queries::read::read_text("example", &ex.sql, &ReadOptions::default(), &mut set).unwrap();
            let out = lint_case(&migrations, set, ex.config.as_deref());
            let hit = out.diagnostics.iter().any(|d| d.rule == r.name);
            if hit != (ex.kind == ExampleKind::Diagnostic) {
                failures.push(format!("{} example {k} ({:?}): got\n{}", r.name, ex.kind, listing(&out)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Findings on log queries are anchored at the log line of the entry, and the anchored line of
/// the report's file shows the normalised query only.
#[test]
fn log_findings_are_anchored_at_the_entry() {
    let migrations = load_migrations(&[common::root().join("fixtures/example/migrations")]);
    let set = read("duration.log", None);
    let out = lint_case(&migrations, set, None);
    let log = fs::read_to_string(logs().join("duration.log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(!out.diagnostics.is_empty());
    for d in &out.diagnostics {
        let f = &out.set.files[d.file];
        let (line, _) = f.position(d.span.start);
        assert!(lines[line - 1].contains("statement: ") || lines[line - 1].contains("execute "), "{}", lines[line - 1]);
        let shown = &f.text[f.index.line_range(&f.text, line)];
        assert!(SECRETS.iter().all(|s| !shown.contains(s)), "{shown}");
    }
    let n1: Vec<_> = out.diagnostics.iter().filter(|d| d.rule == "n-plus-one").collect();
    assert_eq!(n1.len(), 2, "{}", listing(&out));
}

// ---------------------------------------------------------------------------------------------
// --from-pg-stat-statements on the test server. The server does not preload the extension, so
// the view is stood in for by views of the same shape as PostgreSQL 12's (`total_time`) and 17's
// (`total_exec_time`, `shared_blk_read_time`); the missing view gives a clear error.

#[test]
fn live_pg_stat_statements() {
    let Some(db) = common::db::TestDb::create("pgss") else { return };
    let mut c = db.client();
    let (code, out, err) = dbwarden(&["lint", "--from-pg-stat-statements", "--database-url", &db.url()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("pg_stat_statements is not installed"), "{err}");
    c.batch_execute(
        "CREATE VIEW pg_stat_statements AS
         SELECT 10::oid AS userid, d.oid AS dbid, 42::bigint AS queryid,
                'SELECT * FROM appointments WHERE patient_id = $1'::text AS query,
                12::bigint AS calls, 30.5::float8 AS total_time, 0::float8 AS blk_read_time
         FROM pg_database d WHERE d.datname = current_database()
         UNION ALL
         SELECT 10::oid, 1::oid, 43, 'SELECT 1 FROM other_database', 1, 1, 0",
    )
    .unwrap();
    let opts = ReadOptions::default();
    let mut set = QuerySet::default();
    queries::read::from_pg_stat_statements(&db.target, &opts, &mut set).unwrap();
    assert_eq!(set.queries.len(), 1, "rows of the current database only");
    let q = &set.queries[0];
    assert_eq!((q.calls, q.total_ms), (Some(12), Some(30.5)));
    assert!(matches!(q.origin, QueryOrigin::PgStatStatements { path: None, line: None, queryid: Some(42) }));
    c.batch_execute(
        "DROP VIEW pg_stat_statements;
         CREATE VIEW pg_stat_statements AS
         SELECT 10::oid AS userid, d.oid AS dbid, 7::bigint AS queryid, 'SELECT * FROM t'::text AS query,
                3::bigint AS calls, 2.25::float8 AS total_exec_time, 0::float8 AS shared_blk_read_time
         FROM pg_database d WHERE d.datname = current_database()",
    )
    .unwrap();
    let mut set = QuerySet::default();
    queries::read::from_pg_stat_statements(&db.target, &opts, &mut set).unwrap();
    assert_eq!((set.queries[0].calls, set.queries[0].total_ms), (Some(3), Some(2.25)));
    // End to end: the finding is reported on the view's row.
    let (code, out, err) =
        dbwarden(&["lint", "--from-pg-stat-statements", "--database-url", &db.url(), "--format", "json"]);
    assert!(code == 0 || code == 1, "{out}{err}");
    assert!(
        out.contains(r#""rule":"select-star""#) && out.contains(r#""file":"pg_stat_statements","line":1"#),
        "{out}"
    );
}
