//! `dbwarden explain` against hostile captures on the real server (issue: the safety check must
//! fail closed). fixtures/explain/hostile/setup.sql hides a payload — end the session named
//! `dbwarden-victim`, or change what a rollback does not undo — in views, defaults, checks,
//! domains, triggers, rules, policies, operators and casts; the other files in that folder are
//! the captured queries, each with its expected outcome. The test keeps a victim session open
//! (listening for notifications) and checks, in both modes, that every refusal happens with its
//! reason, and that afterwards the victim is alive, heard nothing, and the database, its
//! sequences, advisory locks and settings are as before.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::db::TestDb;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Runs,
    /// Refused; the message contains this text.
    Refused(String),
}

#[derive(Debug)]
struct Case {
    file: String,
    line: usize,
    name: String,
    expect: Expect,
    expect_with_writes: Option<Expect>,
}

fn folder() -> PathBuf {
    common::root().join("fixtures/explain/hostile")
}

fn query_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql") && !p.ends_with("setup.sql"))
        .collect();
    files.sort();
    files
}

fn parse_expect(s: &str) -> Expect {
    let s = s.trim();
    if s == "runs" {
        return Expect::Runs;
    }
    let rest = s.strip_prefix("refused").unwrap_or_else(|| panic!("bad expectation: {s}"));
    Expect::Refused(rest.trim().to_owned())
}

/// Every statement of the hostile files with its `-- name:` and `-- expect:` lines.
fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for f in query_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        let split = dbwarden::parse::split::split(&text);
        for s in &split.stmts {
            let (mut name, mut expect, mut writes) = (None, None, None);
            for c in s.leading_comments.clone() {
                let line = text[split.comments[c].clone()].trim_start_matches('-').trim();
                if let Some(n) = line.strip_prefix("name:") {
                    name = Some(n.trim().to_owned());
                } else if let Some(e) = line.strip_prefix("expect with --allow-writes:") {
                    writes = Some(parse_expect(e));
                } else if let Some(e) = line.strip_prefix("expect:") {
                    expect = Some(parse_expect(e));
                }
            }
            let line = text[..s.range.start].matches('\n').count() + 1;
            let name = name.unwrap_or_else(|| panic!("{}:{line}: no -- name:", f.display()));
            let expect = expect.unwrap_or_else(|| panic!("{name}: no -- expect:"));
            let file = f.file_name().unwrap().to_string_lossy().into_owned();
            out.push(Case { file, line, name, expect, expect_with_writes: writes });
        }
    }
    out
}

fn explain(url: &str, args: &[String]) -> (i32, String, String) {
    let mut all: Vec<String> = ["--format", "json", "--runs", "1", "--warmup", "0"].map(String::from).to_vec();
    all.extend_from_slice(args);
    common::explain(url, &all)
}

/// Per query name: its status and the message of its `query-refused` finding, if any.
fn outcomes(json: &Value) -> BTreeMap<String, (String, Option<String>)> {
    let mut refusals: BTreeMap<(String, u64), String> = BTreeMap::new();
    for f in json["findings"].as_array().unwrap() {
        if f["rule"] == "query-refused" {
            let file = f["file"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
            refusals.insert((file, f["line"].as_u64().unwrap()), f["message"].as_str().unwrap().to_owned());
        }
    }
    let mut out = BTreeMap::new();
    for q in json["queries"].as_array().unwrap() {
        let origin = q["origin"].as_str().unwrap();
        let (path, line) = origin.rsplit_once(':').unwrap();
        let file = path.rsplit('/').next().unwrap().to_owned();
        let line: u64 = line.parse().unwrap();
        out.insert(
            q["name"].as_str().unwrap().to_owned(),
            (q["status"].as_str().unwrap().to_owned(), refusals.get(&(file, line)).cloned()),
        );
    }
    out
}

/// Everything a hostile query could change that a rollback would not restore, and the data.
fn state(c: &mut postgres::Client) -> BTreeMap<String, String> {
    common::db::wait_for_other_sessions(c, Some("dbwarden-victim"));
    let mut out = BTreeMap::new();
    for (k, q) in [
        ("tables", "SELECT string_agg(t, ',' ORDER BY t) FROM (SELECT format('%s:%s', c.relname, c.reltuples) t FROM pg_class c
                    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r') x"),
        ("accounts", "SELECT count(*)::text || ':' || sum(hashtext(a::text))::text FROM accounts a"),
        ("triggered", "SELECT string_agg(id::text, ',' ORDER BY id) FROM triggered"),
        ("parent", "SELECT string_agg(id::text, ',' ORDER BY id) FROM parent"),
        ("child", "SELECT count(*)::text FROM child"),
        ("rows elsewhere", "SELECT (SELECT count(*) FROM with_default) || ':' || (SELECT count(*) FROM checked) || ':' ||
                            (SELECT count(*) FROM domained) || ':' || (SELECT count(*) FROM ruled)"),
        ("sequences", "SELECT string_agg(format('%s=%s', sequencename, last_value), ',' ORDER BY sequencename) FROM pg_sequences"),
        ("advisory locks", "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory'"),
        ("role and database settings", "SELECT count(*)::text FROM pg_db_role_setting"),
        ("server settings changed", "SELECT count(*)::text FROM pg_settings WHERE source NOT IN ('default', 'override', 'client', 'session')
                                     AND pending_restart"),
        ("large objects", "SELECT count(*)::text FROM pg_largeobject_metadata"),
        ("tables named stolen", "SELECT count(*)::text FROM pg_class WHERE relname = 'stolen'"),
        ("prepared transactions", "SELECT count(*)::text FROM pg_prepared_xacts"),
    ] {
        out.insert(k.to_owned(), c.query_one(q, &[]).unwrap().get::<_, Option<String>>(0).unwrap_or_default());
    }
    out
}

/// The victim: alive, its backend the same, and it heard no notification.
fn assert_victim_unharmed(victim: &mut postgres::Client, pid: i32, admin: &mut postgres::Client, when: &str) {
    victim.simple_query("SELECT 1").unwrap_or_else(|e| panic!("{when}: the victim session was ended: {e}"));
    let n: i64 = admin.query_one("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", &[&pid]).unwrap().get(0);
    assert_eq!(n, 1, "{when}: the victim's backend is gone");
    let heard = postgres::fallible_iterator::FallibleIterator::count(victim.notifications().iter()).unwrap();
    assert_eq!(heard, 0, "{when}: the victim received notifications");
}

fn connect_victim(db: &TestDb) -> (postgres::Client, i32) {
    let mut config: postgres::Config = db.url().parse().unwrap();
    config.application_name("dbwarden-victim");
    let mut victim = config.connect(postgres::NoTls).unwrap();
    victim.batch_execute("LISTEN hostile").unwrap();
    let pid: i32 = victim.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    (victim, pid)
}

struct DropRole(String, TestDbAdmin);
struct TestDbAdmin(String);

impl Drop for DropRole {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&(self.1).0, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS \"{}\"", self.0));
        }
    }
}

#[test]
fn hostile_captures_never_escape_the_transaction() {
    let Some(db) = TestDb::create("hostile") else { return };
    let mut admin = db.client();
    admin.batch_execute(&std::fs::read_to_string(folder().join("setup.sql")).unwrap()).unwrap();
    let (mut victim, pid) = connect_victim(&db);
    let url = db.url();
    let cases = cases();
    assert!(cases.len() >= 60, "the hostile corpus has {} statements", cases.len());
    let files: Vec<String> = query_files().iter().map(|p| p.to_string_lossy().into_owned()).collect();

    for allow_writes in [false, true] {
        let mode = if allow_writes { "--allow-writes" } else { "read-only" };
        let before = state(&mut admin);
        let mut args: Vec<String> = files.iter().flat_map(|f| ["--queries".to_owned(), f.clone()]).collect();
        if allow_writes {
            args.push("--allow-writes".into());
        }
        let (code, out, err) = explain(&url, &args);
        // Refusals are warnings: the exit status is 0 or 1 (an over-budget query), never 2.
        assert!(code == 0 || code == 1, "{mode}: exit {code}: {err}");
        let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{mode}: {e}: {out}"));
        assert!(json["findings"].as_array().unwrap().iter().all(|f| f["rule"] != "internal-error"), "{out}");
        let got = outcomes(&json);
        let mut wrong = Vec::new();
        for c in &cases {
            let expect = if allow_writes { c.expect_with_writes.as_ref().unwrap_or(&c.expect) } else { &c.expect };
            let (status, message) = got.get(&c.name).unwrap_or_else(|| panic!("{}: not in the output", c.name));
            let ok = match expect {
                Expect::Runs => status != "refused",
                Expect::Refused(text) => {
                    status == "refused"
                        && message.as_deref().is_some_and(|m| m.starts_with("not run: ") && m.contains(text.as_str()))
                }
            };
            if !ok {
                wrong.push(format!("{}:{} {}: expected {expect:?}, got {status} {message:?}", c.file, c.line, c.name));
            }
        }
        assert!(wrong.is_empty(), "{mode}:\n{}", wrong.join("\n"));
        assert_victim_unharmed(&mut victim, pid, &mut admin, mode);
        let after = state(&mut admin);
        let consumed: Vec<&Value> =
            json["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "sequence-consumed").collect();
        assert!(consumed.is_empty(), "{consumed:?}");
        assert_eq!(before, after, "{mode}: the hostile capture changed the database");
    }

    // A server that reads backslashes as escapes in '...' (standard_conforming_strings off):
    // the probe reads differently there, and is refused for that.
    admin.batch_execute(&format!("ALTER DATABASE \"{}\" SET standard_conforming_strings = off", db.name)).unwrap();
    let lexer = files.iter().find(|f| f.ends_with("01-lexer.sql")).unwrap().clone();
    let (code, out, err) = explain(&url, &["--queries".into(), lexer]);
    admin.batch_execute(&format!("ALTER DATABASE \"{}\" RESET standard_conforming_strings", db.name)).unwrap();
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let got = outcomes(&serde_json::from_str(&out).unwrap());
    assert_eq!(got["backslash-probe"].0, "refused");
    let (status, message) = &got["backslash-reads-differently"];
    assert_eq!(status, "refused");
    assert!(message.as_deref().unwrap().contains("standard_conforming_strings off"), "{message:?}");
    assert_victim_unharmed(&mut victim, pid, &mut admin, "standard_conforming_strings off");

    // --role: a role with SELECT only. Row-level security then applies, and its policy's
    // function shows in the plan; no privilege warning.
    let role = format!("{}_reader", db.name);
    admin
        .batch_execute(&format!(
            "CREATE ROLE \"{role}\" NOLOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{role}\";
             GRANT USAGE ON SCHEMA public TO \"{role}\";"
        ))
        .unwrap();
    let _drop = DropRole(role.clone(), TestDbAdmin(common::db::server_url()));
    let hidden = files.iter().find(|f| f.ends_with("03-hidden.sql")).unwrap().clone();
    let (code, out, err) = explain(&url, &["--queries".into(), hidden, "--role".into(), role.clone()]);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    assert!(!err.contains("warning: running as"), "{err}");
    let got = outcomes(&serde_json::from_str(&out).unwrap());
    let (status, message) = &got["row-level-security"];
    assert_eq!(status, "refused", "{message:?}");
    assert!(message.as_deref().unwrap().contains("kill_victim"), "{message:?}");
    assert_victim_unharmed(&mut victim, pid, &mut admin, "--role");
    admin.batch_execute(&format!("DROP OWNED BY \"{role}\"")).unwrap();

    // Without --role, the superuser is warned about.
    let (_, _, err) = explain(&url, &["--queries".into(), files[0].clone()]);
    assert!(err.contains("warning: running as `") && err.contains("a superuser"), "{err}");
    // --jobs is capped below the server's free connections, and says so.
    let (code, _, err) = explain(&url, &["--queries".into(), files[0].clone(), "--jobs".into(), "100000".into()]);
    assert!(code == 0 || code == 1, "{err}");
    assert!(err.contains("--jobs 100000 lowered to") && err.contains("free connection"), "{err}");
    // An unknown role is an error (exit 2), nothing is run.
    let (code, _, err) =
        explain(&url, &["--queries".into(), files[0].clone(), "--role".into(), "no_such_role_x".into()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("role `no_such_role_x` does not exist"), "{err}");
}

/// Plans deeper than serde_json's default nesting limit (about 40 plan levels) are read; a bad
/// budget in a capture is an error with its location, not a poisoned session.
#[test]
fn deep_plans_and_bad_budgets() {
    let Some(db) = TestDb::create("deep") else { return };
    db.client()
        .batch_execute("CREATE TABLE t (a int); INSERT INTO t SELECT g FROM generate_series(1, 3) g; ANALYZE t")
        .unwrap();
    let dir = std::env::temp_dir().join(format!("{}_q", db.name));
    std::fs::create_dir_all(&dir).unwrap();
    // 80 LEFT JOINs in a fixed order: a left-deep plan about 80 nodes deep (240 JSON levels).
    let joins: String = (1..=80).map(|i| format!(" LEFT JOIN t t{i} ON t{i}.a = t{}.a", i - 1)).collect();
    let deep = dir.join("deep.sql");
    std::fs::write(&deep, format!("-- name: deep\n-- dbwarden: budget=500ms\nSELECT t80.a FROM t t0{joins};\n"))
        .unwrap();
    let (code, out, err) = explain(&db.url(), &["--queries".into(), deep.to_string_lossy().into_owned()]);
    assert!(code == 0 || code == 1, "{err}");
    let mut de = serde_json::Deserializer::from_str(&out);
    de.disable_recursion_limit();
    let json: Value = serde::Deserialize::deserialize(&mut de).unwrap();
    let q = &json["queries"][0];
    assert_eq!(q["status"], "measured", "{q}");
    fn depth(node: &Value) -> usize {
        1 + node["Plans"].as_array().map_or(0, |c| c.iter().map(depth).max().unwrap_or(0))
    }
    let depth = depth(&q["plan"][0]["Plan"]);
    assert!(depth > 70, "plan depth {depth}");

    // A capture asking for an absurd budget: exit 2, the file and line named, nothing run.
    let bad = dir.join("bad.sql");
    std::fs::write(&bad, "SELECT 1;\n-- dbwarden: budget=99999999999s\nSELECT 2;\nSELECT 3;\n").unwrap();
    let (code, out, err) = explain(&db.url(), &["--queries".into(), bad.to_string_lossy().into_owned()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("bad.sql:2:") && err.contains("invalid budget `99999999999s`"), "{err}");
    for v in ["NaN", "inf", "-5"] {
        let (code, _, err) =
            explain(&db.url(), &["--queries".into(), deep.to_string_lossy().into_owned(), format!("--budget-ms={v}")]);
        assert_eq!(code, 2, "{v}: {err}");
        assert!(err.contains("--budget-ms"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A function declared IMMUTABLE or STABLE runs while PostgreSQL plans (constant folding,
/// estimates, operator classes), before the plan can be checked: one that reaches a never-run
/// function makes every query on the database refused. Written as a SQL `BEGIN ATOMIC` body (no
/// `prosrc`), two levels down, and as a view's folded constant.
#[test]
fn lying_functions_refuse_the_whole_database() {
    let Some(db) = TestDb::create("liar") else { return };
    let mut admin = db.client();
    admin
        .batch_execute(
            "CREATE FUNCTION helper_kill() RETURNS int LANGUAGE plpgsql VOLATILE AS
             $$ BEGIN PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dbwarden-victim'; RETURN 1; END $$;
             CREATE FUNCTION imm_kill(int) RETURNS int LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT helper_kill() + $1; END;
             CREATE VIEW v_fold AS SELECT imm_kill(1) AS x;
             CREATE TABLE t (a int DEFAULT imm_kill(1));",
        )
        .unwrap();
    let (mut victim, pid) = connect_victim(&db);
    let dir = std::env::temp_dir().join(format!("{}_q", db.name));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("q.sql");
    std::fs::write(&file, "-- name: fold\nSELECT * FROM v_fold;\n-- name: plain\nSELECT 1;\n-- name: write\nINSERT INTO t DEFAULT VALUES;\n")
        .unwrap();
    for mode in [None, Some("--allow-writes")] {
        let mut args = vec!["--queries".to_owned(), file.to_string_lossy().into_owned()];
        args.extend(mode.map(str::to_owned));
        let (code, out, err) = explain(&db.url(), &args);
        assert!(code == 0 || code == 1, "{err}");
        let got = outcomes(&serde_json::from_str(&out).unwrap());
        for name in ["fold", "plain", "write"] {
            let (status, message) = &got[name];
            assert_eq!(status, "refused", "{mode:?} {name}");
            let m = message.as_deref().unwrap();
            assert!(m.contains("public.imm_kill()") && m.contains("no query is run"), "{m}");
        }
        assert_victim_unharmed(&mut victim, pid, &mut admin, "lying functions");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// With --allow-writes, a function may advance a sequence where no reading of the text can see
/// it (dynamic SQL): the runner compares the sequences around the query and reports it.
#[test]
fn sequences_advanced_by_dynamic_sql_are_reported() {
    let Some(db) = TestDb::create("dynseq") else { return };
    db.client()
        .batch_execute(
            "CREATE SEQUENCE dynamic_counter;
             CREATE FUNCTION bump_dynamic() RETURNS bigint LANGUAGE plpgsql VOLATILE AS
             $$ DECLARE v bigint; BEGIN EXECUTE 'SELECT next' || 'val(''dynamic_counter'')' INTO v; RETURN v; END $$;",
        )
        .unwrap();
    let dir = std::env::temp_dir().join(format!("{}_q", db.name));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("q.sql");
    std::fs::write(&file, "-- name: dynamic\nSELECT bump_dynamic();\n").unwrap();
    let args = vec!["--queries".to_owned(), file.to_string_lossy().into_owned(), "--allow-writes".into()];
    let (code, out, err) = explain(&db.url(), &args);
    assert!(code == 0 || code == 1, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(outcomes(&json)["dynamic"].0, "measured", "{out}");
    let consumed: Vec<&Value> =
        json["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "sequence-consumed").collect();
    assert_eq!(consumed.len(), 1, "{consumed:?}");
    assert!(consumed[0]["message"].as_str().unwrap().contains("public.dynamic_counter"), "{consumed:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
