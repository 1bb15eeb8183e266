//! The one fixture harness, for every kind of rule: `fixtures/rules/NAME/` holds `fail_*` cases
//! (the rule must report each) and `pass_*` cases (it must not), with an optional
//! `CASE.toml` configuration. What a case is depends on the rule's kind:
//! - statement and schema rules: a migration file (`.sql`), or a folder of migrations;
//! - query rules: captured queries (`.sql`, server logs, pg_stat_statements exports), or a
//!   folder of them with its own `migrations/`, judged against `fixtures/queries/schema`;
//! - plan rules: a captured `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` (`.json`);
//! - live rules: SQL run on a new database, whose catalog is then audited (for `schema-drift`:
//!   the migrations, then `-- the database:` and what the database holds). A statement expected
//!   to fail says `-- fails` on the line before it.
//!
//! Each rule's findings on its cases are snapshot-tested (`tests/snapshots/fixtures__NAME.snap`:
//! messages, help and fixes are part of the product; `cargo insta review` after a change). For
//! statement and schema rules, each safe fix is applied (its edits of a migration in place, each
//! of its new statements as a new migration of the same tool after the last one); the result is
//! linted again (the finding must be gone, and no finding of `concurrent-in-transaction` may
//! come in), and the original and the fixed migrations run on PostgreSQL, in the transaction
//! the tool would run them in: a fix must run wherever the original ran.

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use dbwarden::config::Config;
use dbwarden::diagnostic::{Applicability, Diagnostic, Edit};
use dbwarden::explain::plan::Explain;
use dbwarden::explain::{ExplainConfig, Facts, Timing};
use dbwarden::queries::{QuerySet, ReadOptions};
use dbwarden::rules::{self, Kind, PlanCtx, QueryOptions, RULES, RuleId, Settings};
use dbwarden::source::{self, SourceFile};

/// Rules with no fixtures here: reported by the pipeline itself (tests/explain.rs runs the explain
/// runner's on a database).
fn has_no_fixtures(r: &rules::RuleDef) -> bool {
    [
        RuleId::InternalError,
        RuleId::QueryRefused,
        RuleId::QueryFailed,
        RuleId::BudgetNotMeasured,
        RuleId::SequenceConsumed,
    ]
    .contains(&r.id)
}

struct Case {
    /// `fail_...` or `pass_...`.
    stem: String,
    path: PathBuf,
    config: Option<String>,
}

fn cases(dir: &Path) -> Vec<Case> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let name = path.file_name()?.to_string_lossy().to_string();
            if !(name.starts_with("fail_") || name.starts_with("pass_")) || name.ends_with(".toml") {
                return None;
            }
            let stem = name.split('.').next().unwrap_or(&name).to_owned();
            let config = fs::read_to_string(dir.join(format!("{stem}.toml"))).ok();
            Some(Case { stem, path, config })
        })
        .collect()
}

fn config_of(case: &Case) -> Config {
    let config =
        case.config.as_deref().map_or_else(Config::default, |c| Config::parse(c, "fixture").expect("fixture config"));
    rules::check_names(&config, &case.stem).expect("fixture config names rules");
    config
}

fn files_in(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    let mut v: Vec<PathBuf> = fs::read_dir(path).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
    v.sort();
    v
}

fn load(paths: &[PathBuf]) -> Vec<SourceFile> {
    source::discover(paths).expect("discover").iter().map(|f| source::load(f).expect("load")).collect()
}

/// What a case produced: the findings and the files they point into.
struct Judged {
    files: Vec<SourceFile>,
    diagnostics: Vec<Diagnostic>,
}

/// `None` when the case needs a database and there is none (outside CI).
fn judge(rule: &rules::RuleDef, case: &Case) -> Option<Judged> {
    let config = config_of(case);
    let settings = Settings::new(&config);
    Some(match rule.kind {
        Kind::Live(_) => {
            let db = common::db::TestDb::create("live_fixture")?;
            let mut client = db.client();
            let text = fs::read_to_string(&case.path).unwrap();
            let (migrations, database) = match text.split_once("-- the database:") {
                Some((m, d)) => (Some(m.to_owned()), d.to_owned()),
                None => (None, text.clone()),
            };
            let failed = common::db::run_script(&mut client, &database, Path::new("."));
            assert_eq!(failed.len(), database.matches("-- fails").count(), "{}/{}: {failed:?}", rule.name, case.stem);
            let schema = dbwarden::schema::catalog::load(&mut client, &Default::default()).expect("load the catalog");
            let replayed = migrations
                .map(|m| dbwarden::pipeline::lint(vec![SourceFile::new(relative(&case.path), m)], &settings).schema);
            let diagnostics = dbwarden::pipeline::judge_live(&schema, replayed.as_ref(), &settings);
            // Live findings name objects, not positions: the file is there for the listing only.
            Judged { files: vec![SourceFile::new(relative(&case.path), text)], diagnostics }
        }
        Kind::Query(_) => {
            let schema_dir = common::root().join("fixtures/queries/schema");
            let mut migrations = vec![schema_dir];
            let own = case.path.join("migrations");
            if own.is_dir() {
                migrations.push(own);
            }
            let schema = dbwarden::pipeline::lint(load(&migrations), &settings).schema;
            let set = QuerySet::read(&files_in(&case.path), &ReadOptions::default()).expect("read queries");
            assert!(!set.queries.is_empty(), "{}/{}: no queries", rule.name, case.stem);
            let options = QueryOptions::from_config(&config.queries, false);
            let diagnostics = dbwarden::pipeline::lint_queries(&set, &schema, &settings, &options);
            Judged { files: set.files, diagnostics }
        }
        Kind::Plan(_) => {
            let text = fs::read_to_string(&case.path).unwrap();
            let explain = Explain::parse_str(&text).unwrap_or_else(|e| panic!("{}: {e}", case.path.display()));
            let explain_config = ExplainConfig::default();
            let timing = explain
                .analyzed
                .then(|| {
                    Timing::from_runs(&[(explain.execution_ms.unwrap_or(0.0), explain.planning_ms.unwrap_or(0.0))])
                })
                .flatten();
            let facts = Facts::default();
            let ctx = PlanCtx {
                explain: &explain,
                timing: timing.as_ref(),
                budget_ms: explain_config.budget_ms,
                name: Some("fixture"),
                config: &explain_config,
                facts: &facts,
            };
            // Plans have no text to point into: findings anchor at the file's first byte.
            let file = SourceFile::new(relative(&case.path), "-");
            let diagnostics = dbwarden::pipeline::plans::plan_findings(&ctx, &settings, 0, 0..1);
            Judged { files: vec![file], diagnostics }
        }
        _ => {
            let out = dbwarden::pipeline::lint(load(std::slice::from_ref(&case.path)), &settings);
            Judged { files: out.files.into_iter().map(|f| f.source).collect(), diagnostics: out.diagnostics }
        }
    })
}

fn relative(p: &Path) -> String {
    let root = common::root();
    p.strip_prefix(&root).unwrap_or(p).display().to_string().replace('\\', "/")
}

/// The findings of `rule` (and any syntax or internal error, which break a case) as the snapshot
/// shows them: position, severity, message, help and fix.
fn render(rule: RuleId, judged: &Judged) -> String {
    let mut s = String::new();
    for d in judged.diagnostics.iter().filter(|d| [rule, RuleId::SyntaxError, RuleId::InternalError].contains(&d.rule))
    {
        let f = &judged.files[d.file];
        let place = match &d.object {
            Some(object) => object.clone(),
            None => {
                let (line, col) = f.position(d.span.start);
                let name = Path::new(&f.path).file_name().map_or(f.path.clone(), |n| n.to_string_lossy().to_string());
                format!("{name}:{line}:{col}")
            }
        };
        let _ = writeln!(s, "{place} {} [{}] {}", d.severity, d.rule, d.message);
        if let Some(help) = &d.help {
            let _ = writeln!(s, "  help: {help}");
        }
        if let Some(fix) = &d.fix {
            let applicability = match fix.applicability {
                Applicability::Safe => "safe",
                Applicability::Unsafe => "unsafe",
            };
            let _ = writeln!(s, "  fix ({applicability}): {}", fix.title);
            let text = d.object.is_none().then_some(f.text.as_str());
            for l in fix.preview(text).lines() {
                let _ = writeln!(s, "    {l}");
            }
        }
    }
    if s.is_empty() {
        s.push_str("(no findings)\n");
    }
    s
}

#[test]
fn every_rule_has_fixtures_that_behave() {
    let base = common::root().join("fixtures/rules");
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    let mut dirs: Vec<PathBuf> = fs::read_dir(&base).unwrap().flatten().map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let rule = rules::lookup(&name).unwrap_or_else(|| panic!("fixtures/rules/{name} does not name a rule")).def();
        assert_eq!(rule.name, name, "fixtures/rules/{name}: use the rule's name, not an alias");
        assert!(!has_no_fixtures(rule), "fixtures/rules/{name}: this rule's cases are run elsewhere");
        seen.insert(rule.name);
        let cases = cases(&dir);
        assert!(cases.iter().any(|c| c.stem.starts_with("fail_")), "fixtures/rules/{name} has no fail_ case");
        assert!(cases.iter().any(|c| c.stem.starts_with("pass_")), "fixtures/rules/{name} has no pass_ case");
        let mut snapshot = String::new();
        let mut skipped = false;
        for case in &cases {
            let Some(judged) = judge(rule, case) else {
                skipped = true;
                continue;
            };
            for d in judged.diagnostics.iter().filter(|d| d.object.is_none()) {
                assert!(d.span.start < d.span.end, "{name}/{}: empty span for {}", case.stem, d.rule);
            }
            let hits = judged.diagnostics.iter().filter(|d| d.rule == rule.id).count();
            // A fail_ file of .sql queries: every query is a case, and each must be reported.
            let queries = match rule.kind {
                Kind::Query(_) if case.path.is_file() && case.path.extension().is_some_and(|x| x == "sql") => {
                    QuerySet::read(std::slice::from_ref(&case.path), &ReadOptions::default()).unwrap().queries.len()
                }
                _ => 1,
            };
            let ok = if case.stem.starts_with("fail_") { hits >= queries.max(1) } else { hits == 0 };
            let rendered = render(rule.id, &judged);
            if !ok {
                failures.push(format!("{name}/{}:\n{rendered}", case.stem));
            }
            let _ = write!(snapshot, "## {}\n{rendered}\n", relative(&case.path).trim_start_matches("fixtures/rules/"));
        }
        if !skipped {
            insta::assert_snapshot!(name.as_str(), snapshot);
        }
    }
    for r in RULES.iter().filter(|r| !has_no_fixtures(r) && r.id != RuleId::SyntaxError) {
        assert!(seen.contains(r.name), "rule {} has no fixtures in fixtures/rules/{}", r.name, r.name);
    }
    assert!(failures.is_empty(), "fixtures that do not behave:\n{}", failures.join("\n"));
}

/// `text` with the `Replace` edits applied (they do not overlap).
fn apply(text: &str, edits: &mut [(std::ops::Range<usize>, String)]) -> String {
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = text.to_owned();
    for (r, t) in edits.iter() {
        out.replace_range(r.clone(), t);
    }
    out
}

fn pg_error(e: postgres::Error) -> String {
    e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_owned())
}

/// `file` with the migration-tool plan of `like` (the file it was made from).
fn with_plan(mut file: SourceFile, like: &SourceFile) -> SourceFile {
    file.plan = like.plan;
    file
}

/// Whether a statement is one PostgreSQL refuses inside a transaction block.
fn non_transactional(sql: &str) -> bool {
    let s = sql.to_ascii_lowercase();
    let words: Vec<&str> = s.split_whitespace().take(4).collect();
    words.contains(&"concurrently") || words.first() == Some(&"vacuum")
}

/// Runs migration files on a new database as each file's migration tool would: in one
/// transaction the tool opens (`BEGIN` ... `COMMIT`), as one query string (PostgreSQL's implicit
/// transaction when it holds several statements), or statement by statement; a file of no known
/// tool as `in_transaction` (`[lint] assume_in_transaction`) says.
fn runs_on_postgres(files: &[SourceFile], in_transaction: bool) -> Option<Result<(), String>> {
    use dbwarden::source::layout::{Tool, TxnMode};
    let db = common::db::TestDb::create("fix")?;
    let mut c = db.client();
    let result = files.iter().try_for_each(|f| {
        let at = |e: postgres::Error| format!("{}: {}", relative(Path::new(&f.path)), pg_error(e));
        let split = dbwarden::parse::split::split(&f.text);
        let stmts: Vec<&str> = split.stmts.iter().map(|s| &f.text[s.range.clone()]).collect();
        let mode = match f.plan.txn {
            _ if split.no_transaction && f.plan.tool == Tool::Dbmate => TxnMode::MultiStatement,
            _ if split.no_transaction => TxnMode::None,
            TxnMode::Setting if in_transaction => TxnMode::Wrapped,
            TxnMode::Setting => TxnMode::None,
            // Flyway runs a file of only non-transactional statements without a transaction.
            TxnMode::Wrapped if f.plan.tool == Tool::Flyway && stmts.iter().all(|s| non_transactional(s)) => {
                TxnMode::None
            }
            m => m,
        };
        match mode {
            TxnMode::MultiStatement => c.batch_execute(&stmts.join("\n")).map_err(at),
            TxnMode::None | TxnMode::Setting => stmts.iter().try_for_each(|s| c.batch_execute(s).map_err(at)),
            TxnMode::Wrapped | TxnMode::WrappedButNonTransactional => {
                let apart = mode == TxnMode::WrappedButNonTransactional;
                c.batch_execute("BEGIN").map_err(pg_error)?;
                for s in stmts.iter().filter(|s| !(apart && non_transactional(s))) {
                    c.batch_execute(s).map_err(at)?;
                }
                c.batch_execute("COMMIT").map_err(pg_error)?;
                // The Supabase CLI runs them on their own, after the batch.
                stmts.iter().filter(|s| apart && non_transactional(s)).try_for_each(|s| c.batch_execute(s).map_err(at))
            }
        }
    });
    Some(result)
}

#[test]
fn safe_fixes_apply_relint_clean_and_run_on_postgres() {
    let base = common::root().join("fixtures/rules");
    let mut failures = Vec::new();
    // Per rule with safe fixes: cases whose original migrations ran on PostgreSQL (so the fixed
    // ones were run too).
    let mut executed: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut skipped_db = false;
    for r in RULES.iter().filter(|r| matches!(r.kind, Kind::Statement(_) | Kind::Schema(_))) {
        let dir = base.join(r.name);
        if !dir.is_dir() {
            continue;
        }
        for case in cases(&dir).into_iter().filter(|c| c.stem.starts_with("fail_")) {
            let judged = judge(r, &case).expect("migration cases need no database");
            // Per file: the safe edits of this rule's fixes; and their new statements, each a
            // new migration of the finding's file's tool, after the last file.
            let mut edits: Vec<Vec<(std::ops::Range<usize>, String)>> = vec![Vec::new(); judged.files.len()];
            let mut added: Vec<SourceFile> = Vec::new();
            let mut fixed = 0;
            for d in judged.diagnostics.iter().filter(|d| d.rule == r.id) {
                let Some(fix) = d.fix.as_ref().filter(|f| f.applicability == Applicability::Safe) else {
                    continue;
                };
                fixed += 1;
                for e in &fix.edits {
                    match e {
                        Edit::Replace { range, text } => edits[d.file].push((range.clone(), text.clone())),
                        Edit::New { text } => {
                            let like = &judged.files[d.file];
                            let path = Path::new(&like.path).with_file_name(format!("zz_fix_{}.sql", added.len() + 1));
                            let mut file = with_plan(SourceFile::new(path.display().to_string(), text.clone()), like);
                            file.plan.fresh_group = None;
                            added.push(file);
                        }
                    }
                }
            }
            if fixed == 0 {
                continue;
            }
            executed.entry(r.name).or_default();
            let before = judged.diagnostics.iter().filter(|d| d.rule == r.id).count();
            let fixed_files: Vec<SourceFile> = judged
                .files
                .iter()
                .zip(edits.iter_mut())
                .map(|(f, e)| with_plan(SourceFile::new(f.path.clone(), apply(&f.text, e)), f))
                .chain(added)
                .collect();
            let settings = Settings::new(&config_of(&case));
            let copies =
                fixed_files.iter().map(|f| with_plan(SourceFile::new(f.path.clone(), f.text.clone()), f)).collect();
            let again = dbwarden::pipeline::lint(copies, &settings);
            let after = again.diagnostics.iter().filter(|d| d.rule == r.id).count();
            if after + fixed > before {
                failures.push(format!(
                    "{}/{}: {fixed} fixes applied, {before} findings before, {after} after:\n{}",
                    r.name,
                    case.stem,
                    fixed_files.iter().map(|f| f.text.as_str()).collect::<String>()
                ));
            }
            // dbwarden never reports its own fix: no finding at all in the new migrations.
            let own: Vec<&Diagnostic> = again.diagnostics.iter().filter(|d| d.file >= judged.files.len()).collect();
            if !own.is_empty() {
                failures.push(format!(
                    "{}/{}: the fix's new statements are reported: {:?}",
                    r.name,
                    case.stem,
                    own.iter().map(|d| format!("[{}] {}", d.rule, d.message)).collect::<Vec<_>>()
                ));
            }
            let refused = |ds: &[Diagnostic]| ds.iter().filter(|d| d.rule == RuleId::ConcurrentInTransaction).count();
            if refused(&again.diagnostics) > refused(&judged.diagnostics) {
                failures.push(format!(
                    "{}/{}: the fix puts `CONCURRENTLY` where a transaction refuses it:\n{}",
                    r.name,
                    case.stem,
                    common::listing(&again, Path::new(""))
                ));
            }
            let Some(original) = runs_on_postgres(&judged.files, settings.assume_in_transaction) else {
                skipped_db = true;
                continue;
            };
            if original.is_err() {
                // The case needs objects it does not create: it says nothing about the fix.
                continue;
            }
            *executed.entry(r.name).or_default() += 1;
            if let Some(Err(e)) = runs_on_postgres(&fixed_files, settings.assume_in_transaction) {
                failures.push(format!(
                    "{}/{}: the original ran on PostgreSQL, the fixed migration fails: {e}\n{}",
                    r.name,
                    case.stem,
                    fixed_files.iter().map(|f| f.text.as_str()).collect::<String>()
                ));
            }
        }
    }
    eprintln!("cases run on PostgreSQL per rule: {executed:?}");
    if !skipped_db {
        for (rule, n) in &executed {
            if *n == 0 {
                failures.push(format!("{rule}: no fail_ case with a safe fix runs on PostgreSQL as it is (add one that creates what it needs)"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Whether the index `name` is valid (`pg_index.indisvalid`); `None` when there is none.
fn index_valid(c: &mut postgres::Client, name: &str) -> Option<bool> {
    c.query_opt(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid WHERE x.relname = $1",
        &[&name],
    )
    .unwrap()
    .map(|r| r.get(0))
}

/// A concurrent build that fails (here a unique index over duplicate rows) leaves an invalid
/// index behind (`pg_index.indisvalid` false), which `CREATE INDEX CONCURRENTLY IF NOT EXISTS`
/// then reports as done. The fix dbwarden emits drops it first (`DROP INDEX CONCURRENTLY IF
/// EXISTS`, a statement of its own), so the same fix, run again once the duplicates are gone,
/// ends with a valid index and the constraint attached to it.
#[test]
fn a_failed_concurrent_build_is_retried_by_the_fix() {
    let migrations = [
        ("001_patients.sql", "CREATE TABLE patients (id bigint PRIMARY KEY, email text);\n"),
        ("002_unique.sql", "ALTER TABLE patients ADD CONSTRAINT patients_email_key UNIQUE (email);\n"),
    ];
    let files = migrations.iter().map(|(p, t)| SourceFile::new((*p).to_owned(), (*t).to_owned())).collect();
    let out = dbwarden::pipeline::lint(files, &Settings::new(&Config::default()));
    let d = out
        .diagnostics
        .iter()
        .find(|d| d.rule == RuleId::UniqueConstraintWithoutIndex)
        .expect("unique-constraint-without-index reports the ALTER");
    let fix = d.fix.as_ref().filter(|f| f.applicability == Applicability::Safe).expect("a safe fix");
    let mut edits: Vec<(std::ops::Range<usize>, String)> = fix
        .edits
        .iter()
        .filter_map(|e| match e {
            Edit::Replace { range, text } => Some((range.clone(), text.clone())),
            Edit::New { .. } => None,
        })
        .collect();
    let fixed = apply(&out.files[d.file].source.text, &mut edits);
    let split = dbwarden::parse::split::split(&fixed);
    let stmts: Vec<&str> = split.stmts.iter().map(|s| &fixed[s.range.clone()]).collect();
    assert!(stmts[0].starts_with("DROP INDEX CONCURRENTLY IF EXISTS patients_email_key"), "{fixed}");
    assert!(stmts.iter().all(|s| !s.contains("IF NOT EXISTS")), "{fixed}");

    let Some(db) = common::db::TestDb::create("retry") else { return };
    let mut c = db.client();
    c.batch_execute(migrations[0].1).unwrap();
    c.batch_execute("INSERT INTO patients VALUES (1, 'a@example.org'), (2, 'a@example.org'), (3, 'b@example.org')")
        .unwrap();
    // As a migration tool without a transaction runs the file: statement by statement.
    let run = |c: &mut postgres::Client| stmts.iter().try_for_each(|s| c.batch_execute(s).map_err(pg_error));
    let failed = run(&mut c).expect_err("the build fails on the duplicate emails");
    assert!(failed.contains("could not create unique index"), "{failed}");
    assert_eq!(
        index_valid(&mut c, "patients_email_key"),
        Some(false),
        "a failed concurrent build leaves an invalid index"
    );
    // What the fix must not be: `IF NOT EXISTS` takes the invalid index for a built one.
    c.batch_execute("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS patients_email_key ON patients (email)").unwrap();
    assert_eq!(index_valid(&mut c, "patients_email_key"), Some(false));

    c.batch_execute("DELETE FROM patients WHERE id = 2").unwrap();
    run(&mut c).expect("the fix, run again, succeeds");
    assert_eq!(index_valid(&mut c, "patients_email_key"), Some(true));
    let attached: i64 = c
        .query_one("SELECT count(*) FROM pg_constraint WHERE conname = 'patients_email_key' AND contype = 'u'", &[])
        .unwrap()
        .get(0);
    assert_eq!(attached, 1);
    // Run once more after it succeeded: the `DROP INDEX` refuses the index its constraint now
    // owns, and nothing changes.
    let again = run(&mut c).expect_err("the constraint owns the index");
    assert!(again.contains("requires it"), "{again}");
    assert_eq!(index_valid(&mut c, "patients_email_key"), Some(true));
}
