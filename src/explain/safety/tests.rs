use super::*;

fn class(sql: &str) -> Class {
    classify(sql, 50.0).class
}

fn refused(sql: &str) -> String {
    match class(sql) {
        Class::Refused(why) => why,
        other => panic!("{sql}: {other:?}"),
    }
}

#[test]
fn reads_writes_and_refusals() {
    assert_eq!(class("SELECT * FROM t WHERE id = $1"), Class::Read);
    assert_eq!(class("with x as (select 1) select * from x"), Class::Read);
    assert_eq!(class("(SELECT 1) UNION (SELECT 2)"), Class::Read);
    assert_eq!(class("UPDATE t SET a = 1 WHERE id = 2"), Class::Write);
    assert_eq!(class("WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d"), Class::Write);
    assert_eq!(class("WITH d AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM d)"), Class::Write);
    assert_eq!(class("INSERT INTO t (a) SELECT a FROM u"), Class::Write);
    for sql in [
        "DROP TABLE t",
        "BEGIN",
        "COMMIT",
        "COPY t TO PROGRAM 'rm -rf /'",
        "DO $$ BEGIN PERFORM 1; END $$",
        "CALL p()",
        "VACUUM t",
        "ANALYZE t",
        "SET work_mem = '1GB'",
        "RESET ALL",
        "LOCK TABLE t",
        "NOTIFY c",
        "LISTEN c",
        "SELECT 1; DELETE FROM t",
        "SELECT nextval('s')",
        "SELECT * FROM dblink('x', 'y') AS t(a int)",
        "SELECT pg_terminate_backend(123)",
        "SELECT pg_advisory_lock(1)",
        "SELECT lo_import('/etc/passwd')",
        "SELECT set_config('a.b', 'c', false)",
        "SELECT pg_catalog.set_config('a.b', 'c', $1)",
        "SELECT pg_reload_conf()",
        "SELECT pg_sleep(5)",
        "SELECT pg_sleep($1)",
        "SELECT * INTO t2 FROM t",
        "EXPLAIN SELECT 1",
        "",
        "-- nothing",
    ] {
        assert!(matches!(class(sql), Class::Refused(_)), "{sql}");
    }
    assert_eq!(class("SELECT pg_sleep(0.01)"), Class::Read);
    assert_eq!(class("SELECT set_config('a.b', 'c', true)"), Class::Read);
    assert!(matches!(class("SELECT set_config('search_path', 'evil, pg_catalog', true)"), Class::Refused(_)));
    assert!(matches!(class("SELECT set_config($1, 'x', true)"), Class::Refused(_)));
    assert_eq!(classify("SELECT ceil(1.5), floor(2)", 50.0).functions.len(), 2);
    assert_eq!(class("SELECT set_config('a.b', 'c', is_local => true)"), Class::Read);
    assert_eq!(class("SELECT pg_advisory_xact_lock(1)"), Class::Read);
    assert_eq!(class("SELECT 'nextval(1)' AS x; "), Class::Read);
}

#[test]
fn the_backslash_probe_is_refused() {
    // With standard_conforming_strings on (sqlparser's reading and the server's default), the
    // backslash does not escape: the call is code.
    let why = refused(r"SELECT 'a\', pg_terminate_backend(12345), 'b'");
    assert!(why.contains("pg_terminate_backend") && why.contains("ends another session"), "{why}");
    // With it off, the server reads one string; the two readings differ, so the runner refuses.
    let off = Mode { standard_conforming_strings: false };
    assert!(!reads_alike(r"SELECT 'a\', 1, 'b'", off));
    assert!(reads_alike("SELECT 'a', 1", off));
    assert!(reads_alike(r"SELECT E'a\'', 1", off));
    assert!(reads_alike(r"SELECT 'a\', 1, 'b'", Mode::default()));
}

#[test]
fn refusals_name_the_function_and_why() {
    assert!(refused("SELECT pg_catalog.pg_cancel_backend(1)").contains("`pg_catalog.pg_cancel_backend()`"));
    assert!(refused(r#"SELECT "pg_terminate_backend"(1)"#).contains("pg_terminate_backend"));
    assert!(refused("SELECT * FROM t, LATERAL pg_ls_dir('.') d").contains("pg_ls_dir"));
    assert!(refused("SELECT * FROM t WHERE x IN (SELECT setval('s', 1))").contains("setval"));
    assert!(refused("SELECT 1 /* pg_sleep(1) */, pg_advisory_lock(1)").contains("pg_advisory_lock"));
    assert!(refused("SELECT $a$ x $a$, public.dblink_exec('x')").contains("dblink_exec"));
    assert!(refused("SELECT * FROM patients TABLESAMPLE SYSTEM (pg_notify('c', 'x')::int)").contains("pg_notify"));
    assert!(refused("DROP TABLE t").contains("DDL"));
    assert!(refused("SELECT FROM WHERE (").contains("cannot parse"));
    // The parse error does not quote the text (it may hold a value).
    assert!(!refused("SELECT 'secret' 'x' FROM").contains("secret"));
}

#[test]
fn functions_are_listed() {
    let v = classify(
        "SELECT lower(email), app.score(p.id), \"Weird\"(1), coalesce(a, b) FROM patients p, generate_series(1, 3) g \
         WHERE x IN (1) AND now() > $1 AND a OPERATOR(public.###) b AND c::public.mood = 'x'",
        50.0,
    );
    let names: Vec<String> = v.functions.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["lower", "app.score", "Weird", "coalesce", "generate_series", "now"]);
    assert!(v.functions[2].quoted);
    let ops: Vec<String> = v.operators.iter().map(ToString::to_string).collect();
    assert_eq!(ops, ["public.###"]);
    assert_eq!(classify("SELECT d ### e", 50.0).operators, [Name::new(None, "###".into(), false)]);
    // Operators sqlparser cannot read make the query unreadable: refused.
    assert!(refused("SELECT 1 WHERE a === b").contains("cannot parse"));
    assert!(v.cast_types.contains(&"mood".to_owned()), "{:?}", v.cast_types);
    let w = classify("UPDATE app.t SET a = 1; ", 50.0);
    assert_eq!(w.targets, [Name::new(Some("app".into()), "t".into(), false)]);
    let m = classify("WITH x AS (INSERT INTO logs VALUES (1) RETURNING 1) DELETE FROM q USING x", 50.0);
    let t: Vec<String> = m.targets.iter().map(ToString::to_string).collect();
    assert_eq!(t, ["logs", "q"]);
}

#[test]
fn parameters_and_compared_columns() {
    let sql = "SELECT * FROM public.appointments a JOIN patients p ON p.id = a.patient_id \
               WHERE a.org_id = $1 AND a.starts_at BETWEEN $2 AND $3 AND p.last_name IN ($4, $5) AND $6 < a.ends_at";
    assert_eq!(params(sql), vec![1, 2, 3, 4, 5, 6]);
    let (tables, cols) = compared_columns(sql);
    assert_eq!(tables, vec!["appointments", "patients"]);
    let get = |n: usize| cols.get(&n).map(String::as_str);
    assert_eq!(get(1), Some("org_id"));
    assert_eq!(get(2), Some("starts_at"));
    assert_eq!(get(3), Some("starts_at"));
    assert_eq!(get(4), Some("last_name"));
    assert_eq!(get(5), Some("last_name"));
    assert_eq!(get(6), Some("ends_at"));
    assert_eq!(params("SELECT '$1', $$ $2 $$ -- $3\n, $10"), vec![10]);
}

/// A catalog from a table: name -> (schema, volatility, language, body).
#[derive(Default)]
pub(super) struct FakeCatalog {
    pub procs: Vec<Proc>,
    pub path: Vec<String>,
    pub operators: Vec<Operator>,
    pub casts: Vec<Cast>,
    pub domains: Vec<(String, String)>,
}

pub(super) fn proc(schema: &str, name: &str, volatility: char, body: Option<&str>) -> Proc {
    Proc {
        oid: u32::try_from(schema.len() * 1000 + name.len() * 7 + name.bytes().map(u32::from).sum::<u32>() as usize)
            .unwrap_or(0),
        schema: schema.into(),
        name: name.into(),
        volatility,
        language: if body.is_some() { "plpgsql".into() } else { "internal".into() },
        body: body.map(str::to_owned),
        symbol: None,
        support: Vec::new(),
    }
}

impl Catalog for FakeCatalog {
    fn procs(&mut self, names: &[String]) -> Result<Vec<Proc>, String> {
        Ok(self.procs.iter().filter(|p| names.contains(&p.name)).cloned().collect())
    }
    fn procs_by_oid(&mut self, oids: &[u32]) -> Result<Vec<Proc>, String> {
        Ok(self.procs.iter().filter(|p| oids.contains(&p.oid)).cloned().collect())
    }
    fn search_path(&mut self) -> Result<Vec<String>, String> {
        Ok(if self.path.is_empty() { vec!["pg_catalog".into(), "public".into()] } else { self.path.clone() })
    }
    fn syntax_keywords(&mut self) -> Result<HashSet<String>, String> {
        Ok(builtin_syntax_keywords())
    }
    fn risky_operators(&mut self) -> Result<Vec<Operator>, String> {
        Ok(self.operators.clone())
    }
    fn risky_casts(&mut self) -> Result<Vec<Cast>, String> {
        Ok(self.casts.clone())
    }
    fn planner_callable(&mut self) -> Result<Vec<Proc>, String> {
        Ok(self.procs.iter().filter(|p| p.schema != "pg_catalog" && p.volatility != 'v').cloned().collect())
    }
    fn domain_checks(&mut self) -> Result<Vec<(String, String)>, String> {
        Ok(self.domains.clone())
    }
}

pub(super) fn catalog() -> FakeCatalog {
    FakeCatalog {
        procs: vec![
            proc("pg_catalog", "lower", 'i', None),
            proc("pg_catalog", "now", 's', None),
            proc("pg_catalog", "random", 'v', None),
            proc("pg_catalog", "count", 'i', None),
            proc("pg_catalog", "generate_series", 'i', None),
            proc("pg_catalog", "query_to_xml", 'v', None),
            proc("pg_catalog", "txid_current", 's', None),
            proc("pg_catalog", "pg_terminate_backend", 'v', None),
            proc("pg_catalog", "pg_stat_get_activity", 's', None),
            proc("public", "score", 's', Some("BEGIN RETURN 1; END")),
            proc("public", "bump", 'v', Some("UPDATE t SET n = n + 1")),
            proc("public", "sneaky", 's', Some("SELECT helper()")),
            proc("public", "helper", 'i', Some("BEGIN PERFORM pg_terminate_backend (1); RETURN 1; END")),
            proc("app", "lower", 'v', None),
            proc("public", "f", 's', None),
            proc("public", "g", 'i', None),
            proc("public", "Quoted", 'i', None),
            proc("pg_catalog", "row_number", 'i', None),
        ],
        ..FakeCatalog::default()
    }
}

fn check(cat: &mut FakeCatalog, sql: &str, allow_writes: bool) -> Result<(), Denied> {
    let v = classify(sql, 50.0);
    if let Class::Refused(why) = v.class {
        return Err(Denied::Refused(why));
    }
    let mut c = Checker::new(cat, allow_writes, Mode::default());
    c.check_calls(&v.functions, false, "the query")?;
    c.check_operators(&v.operators, "the query")
}

fn refusal(r: Result<(), Denied>) -> String {
    match r {
        Err(Denied::Refused(why)) => why,
        other => panic!("{other:?}"),
    }
}

#[test]
fn calls_resolve_in_the_catalog_and_fail_closed() {
    let mut cat = catalog();
    assert_eq!(
        check(&mut cat, "SELECT lower('A'), now(), count(*), coalesce(1, 2) FROM generate_series(1, 2)", false),
        Ok(())
    );
    // A VOLATILE built-in on the reviewed list.
    assert_eq!(check(&mut cat, "SELECT random()", false), Ok(()));
    // Unknown: refused in every mode.
    let why = refusal(check(&mut cat, "SELECT nosuch(1)", true));
    assert!(why.contains("`nosuch()`") && why.contains("does not have"), "{why}");
    // A quoted keyword is a function name to look up.
    assert!(refusal(check(&mut cat, "SELECT \"coalesce\"(1, 2)", false)).contains("coalesce"));
    // VOLATILE built-ins off the list: refused in both modes.
    for aw in [false, true] {
        assert!(
            refusal(check(&mut cat, "SELECT query_to_xml('delete from t', true, true, '')", aw))
                .contains("query_to_xml")
        );
    }
    // VOLATILE user functions: only with --allow-writes.
    let why = refusal(check(&mut cat, "SELECT bump()", false));
    assert!(why.contains("`public.bump()`, which is VOLATILE") && why.contains("--allow-writes"), "{why}");
    assert_eq!(check(&mut cat, "SELECT bump()", true), Ok(()));
    // A schema not on the search path is not looked in unless named; `app.lower` is VOLATILE.
    assert_eq!(check(&mut cat, "SELECT lower('x')", false), Ok(()));
    assert!(refusal(check(&mut cat, "SELECT app.lower('x')", false)).contains("app.lower"));
    cat.path = vec!["pg_catalog".into(), "app".into(), "public".into()];
    // Overloads are not told apart: every candidate on the path must pass.
    assert!(refusal(check(&mut cat, "SELECT lower('x')", false)).contains("app.lower"));
}

#[test]
fn aggregates_are_judged_by_their_support_functions() {
    let mut cat = catalog();
    let sfunc = proc("public", "evil_sfunc", 'v', Some("BEGIN PERFORM pg_terminate_backend(1); RETURN 1; END"));
    let mut agg = proc("public", "my_agg", 'i', None);
    agg.support = vec![sfunc.oid];
    cat.procs.extend([sfunc, agg]);
    // IMMUTABLE as every aggregate is recorded, but its transition function is VOLATILE.
    let why = refusal(check(&mut cat, "SELECT my_agg(a) FROM t", false));
    assert!(why.contains("aggregate `public.my_agg()`") && why.contains("evil_sfunc"), "{why}");
    // With --allow-writes the VOLATILE function passes, its body does not.
    let why = refusal(check(&mut cat, "SELECT my_agg(a) FROM t", true));
    assert!(why.contains("pg_terminate_backend"), "{why}");
}

#[test]
fn bodies_are_followed() {
    let mut cat = catalog();
    assert_eq!(check(&mut cat, "SELECT score()", false), Ok(()));
    let why = refusal(check(&mut cat, "SELECT sneaky()", true));
    assert!(why.contains("public.sneaky") && why.contains("pg_terminate_backend"), "{why}");
}

#[test]
fn operators_and_casts_with_risky_functions() {
    let mut cat = catalog();
    cat.operators.push(Operator {
        schema: "public".into(),
        name: "###".into(),
        function: proc("public", "bump", 'v', None),
    });
    assert!(refusal(check(&mut cat, "SELECT 1 WHERE a ### b", false)).contains("operator `public.###`"));
    assert!(refusal(check(&mut cat, "SELECT 1 WHERE a OPERATOR(public.###) b", false)).contains("public.###"));
    assert_eq!(check(&mut cat, "SELECT 1 WHERE a OPERATOR(other.###) b", false), Ok(()));
    assert_eq!(check(&mut cat, "SELECT 1 WHERE a ### b", true), Ok(()));
    assert_eq!(check(&mut cat, "SELECT 1 WHERE a = b", false), Ok(()));
    let mut c = Checker::new(&mut cat, false, Mode::default());
    c.catalog.casts.push(Cast {
        source: "text".into(),
        target: "mood".into(),
        context: 'e',
        function: proc("public", "bump", 'v', None),
    });
    assert_eq!(c.check_casts(&HashSet::from(["int4".to_owned()]), "the query"), Ok(()));
    assert!(
        refusal(c.check_casts(&HashSet::from(["mood".to_owned()]), "the query"))
            .contains("explicit cast from `text` to `mood`")
    );
    c.catalog.casts[0].context = 'i';
    assert!(refusal(c.check_casts(&HashSet::new(), "the query")).contains("implicit cast"));
}

#[test]
fn plans_show_hidden_calls() {
    let plan: Value = serde_json::from_str(
        r#"[{"Plan": {"Node Type": "Function Scan", "Function Name": "generate_series", "Schema": "pg_catalog",
            "Alias": "f(x)", "Relation Name": "odd(name",
            "Output": ["pg_terminate_backend(42)", "(x)::character varying(10)", "public.f(y)", "'a('::text",
                       "count(*) FILTER (WHERE (x > 1))", "COALESCE(a, b)", "(a OPERATOR(public.===) b)",
                       "(ts)::timestamp(3) with time zone", "x = ANY ('{1,2}'::integer[])", "\"Quoted\"(z)",
                       "((x)::interval second(3) + lower(y))", "row_number() OVER (?)"],
            "Filter": "(x > public.g(1))"}}]"#,
    )
    .unwrap();
    let r = plan_refs(&plan, Mode::default());
    let mut calls: Vec<String> = r.calls.iter().map(ToString::to_string).collect();
    calls.sort();
    assert_eq!(
        calls,
        [
            "Quoted",
            "coalesce",
            "count",
            "lower",
            "pg_catalog.generate_series",
            "pg_terminate_backend",
            "public.f",
            "public.g",
            "row_number"
        ]
    );
    assert!(r.operators.iter().any(|o| o.to_string() == "public.==="), "{:?}", r.operators);
    assert!(r.words.contains("varying") && r.words.contains("character"));
    // A plan's calls resolve like the statement's: COALESCE is syntax, the rest are looked up.
    let mut cat = catalog();
    let mut c = Checker::new(&mut cat, true, Mode::default());
    let why = refusal(c.check_calls(&r.calls, false, "the plan"));
    assert!(why.contains("pg_terminate_backend"), "{why}");
}

#[test]
fn lying_functions_make_the_database_hazardous() {
    // `public.sneaky()` is STABLE and reaches pg_terminate_backend through `helper()`.
    let mut cat = catalog();
    let mut c = Checker::new(&mut cat, false, Mode::default());
    let why = c.database_hazard().unwrap().unwrap();
    assert!(why.contains("STABLE") && why.contains("pg_terminate_backend") && why.contains("no query is run"), "{why}");
    let mut cat = catalog();
    cat.procs.retain(|p| p.name != "sneaky" && p.name != "helper");
    assert_eq!(Checker::new(&mut cat, false, Mode::default()).database_hazard(), Ok(None));
    // Internal functions under another name are judged by their symbol.
    let mut alias = proc("public", "harmless_status", 's', None);
    alias.symbol = Some("pg_terminate_backend".into());
    cat.procs.push(alias);
    let why = Checker::new(&mut cat, false, Mode::default()).database_hazard().unwrap().unwrap();
    assert!(why.contains("harmless_status"), "{why}");
}

#[test]
fn casts_to_domains_run_their_checks() {
    let mut cat = catalog();
    cat.procs.retain(|p| p.name != "sneaky" && p.name != "helper");
    cat.domains.push(("killer_int".into(), "CHECK (bump() OR VALUE > 0)".into()));
    let mut c = Checker::new(&mut cat, false, Mode::default());
    assert_eq!(c.check_domains(&HashSet::from(["other".to_owned()]), "the query"), Ok(()));
    let why = refusal(c.check_domains(&HashSet::from(["killer_int".to_owned()]), "the query"));
    assert!(why.contains("domain `killer_int`") && why.contains("public.bump"), "{why}");
}
