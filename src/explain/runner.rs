//! Runs captured queries on the target under the safety contract (docs/explain.md):
//!
//! 1. one statement per round trip; captured text only over the extended protocol
//!    (`Client::query_typed`: parse, bind and execute an unnamed statement in one round trip; the
//!    server refuses several commands in one); the runner's own constant statements (`BEGIN`,
//!    `SET LOCAL ...`, `ROLLBACK`) over the simple protocol, one per call;
//! 2. each query in `BEGIN ... ROLLBACK`, with `SET LOCAL statement_timeout` and `lock_timeout`,
//!    and `SET TRANSACTION READ ONLY` unless `--allow-writes`;
//! 3. refused unless every function it calls passes [`super::safety`]'s checks: first those its
//!    syntax tree names, resolved in `pg_proc` on the query's search path; then, before it is
//!    measured, those the server's own `EXPLAIN (VERBOSE)` shows (views, rules, row-level
//!    security), and for writes the triggers, defaults and checks of the tables it reaches;
//! 4. writes without `--allow-writes` are planned, not executed;
//! 5. with `--role`, every transaction runs `SET LOCAL ROLE` first.

use std::collections::{HashMap, HashSet};
use std::error::Error;

use postgres::Client;
use postgres::types::{Format, IsNull, ToSql, Type, private::BytesMut, to_sql_checked};
use serde_json::Value;

use super::plan::Explain;
use super::safety::{self, Cast, Catalog, Checker, Class, Denied, Name, Operator, Proc, Verdict, classify};
use super::{ExplainConfig, Facts, FkFact, Timing};
use crate::db::{DbError, Target, error_text};
use crate::parse::ir::quote_ident;
use crate::parse::lex::Mode;
use crate::queries::CapturedQuery;

/// Options of one run.
#[derive(Debug, Clone)]
pub struct Options {
    pub budget_ms: f64,
    pub runs: u32,
    pub warmup: u32,
    pub allow_writes: bool,
    pub jobs: usize,
    pub sample_values: bool,
    pub budget_includes_planning: bool,
    pub show_values: bool,
    pub statement_timeout_factor: f64,
    pub lock_timeout_ms: u64,
    /// No statement timeout is set above this, whatever a capture's budget asks for.
    pub max_statement_timeout_ms: f64,
    /// `--role`: `SET LOCAL ROLE` in every transaction.
    pub role: Option<String>,
}

impl Options {
    /// The statement timeout for a budget: the budget times the factor, at least 1 s, at most
    /// the configured cap, in whole ms.
    pub fn timeout_ms(&self, budget_ms: f64) -> f64 {
        let t = budget_ms * self.statement_timeout_factor;
        let t = if t.is_finite() { t } else { self.max_statement_timeout_ms };
        t.max(1000.0).min(self.max_statement_timeout_ms.max(1000.0)).round()
    }

    pub fn from_config(c: &ExplainConfig) -> Self {
        Self {
            budget_ms: c.budget_ms,
            runs: c.runs,
            warmup: c.warmup,
            allow_writes: false,
            jobs: 1,
            sample_values: false,
            budget_includes_planning: c.budget_includes_planning,
            show_values: false,
            statement_timeout_factor: c.statement_timeout_factor,
            lock_timeout_ms: c.lock_timeout_ms,
            max_statement_timeout_ms: c.max_statement_timeout_ms,
            role: None,
        }
    }
}

/// Something the runner has to say about a query, beyond its plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Not sent to the server; the reason.
    Refused(String),
    /// The query failed on the target (message without values unless `--show-values`).
    Failed(String),
    /// Cancelled by `statement_timeout` after this many ms.
    TimedOut(f64),
    /// Planned but not executed; why.
    NotMeasured(String),
    /// `--allow-writes`: sequences the analysed query advanced (not undone by the rollback).
    SequencesConsumed(Vec<String>),
}

/// The result of one query.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Index into the query list.
    pub query: usize,
    pub budget_ms: f64,
    pub class: Option<Class>,
    pub timing: Option<Timing>,
    /// The plan of the median run (or the plan without ANALYZE).
    pub explain: Option<Explain>,
    /// The plan as PostgreSQL printed it.
    pub plan_json: Option<Value>,
    /// How the parameters were bound: `log`, `sampled`, `generic`, or `none`.
    pub params: &'static str,
    pub events: Vec<Event>,
    /// Wall time the runner spent on this query, ms (for the overhead measurement).
    pub wall_ms: f64,
}

/// A value bound in text format, whatever the parameter's type (the server parses it, exactly as
/// it parsed the logged value).
#[derive(Debug)]
struct TextParam<'a>(Option<&'a str>);

impl ToSql for TextParam<'_> {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self.0 {
            Some(s) => {
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

/// Values bound in text format with their type left to the server (`query_typed`).
fn text_binds<'a>(values: &'a [TextParam<'_>]) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
    values.iter().map(|v| (v as &(dyn ToSql + Sync), Type::UNKNOWN)).collect()
}

/// The highest `$n` in the text (outside literals and comments).
pub fn param_count(sql: &str) -> usize {
    super::safety::params(sql).into_iter().max().unwrap_or(0)
}

/// What a session learnt of the target's catalog (the role and search path are fixed for the
/// session, so all of it holds for every query).
#[derive(Default)]
struct CatalogCache {
    procs: HashMap<String, Vec<Proc>>,
    search_path: Option<Vec<String>>,
    keywords: Option<HashSet<String>>,
    operators: Option<Vec<Operator>>,
    casts: Option<Vec<Cast>>,
    planner_callable: Option<Vec<Proc>>,
    domains: Option<Vec<(String, String)>>,
    /// [`Checker::database_hazard`], once per session.
    hazard: Option<Option<String>>,
}

/// The [`Catalog`] of a session, read inside the check's transaction (after `SET LOCAL ROLE`).
struct SessionCatalog<'a> {
    client: &'a mut Client,
    cache: &'a mut CatalogCache,
}

const PROC_COLUMNS: &str = "p.oid::int8, n.nspname::text, p.proname::text, p.provolatile::text, l.lanname::text,
     CASE WHEN l.lanname IN ('sql', 'plpgsql') THEN
         CASE WHEN coalesce(p.prosrc, '') = '' THEN pg_get_functiondef(p.oid) ELSE p.prosrc END END,
     CASE WHEN l.lanname IN ('internal', 'c') THEN p.prosrc END,
     CASE WHEN p.prokind = 'a' THEN (SELECT array_remove(ARRAY[a.aggtransfn::oid, a.aggfinalfn::oid, a.aggcombinefn::oid,
         a.aggserialfn::oid, a.aggdeserialfn::oid, a.aggmtransfn::oid, a.aggminvtransfn::oid, a.aggmfinalfn::oid], 0::oid)::int8[]
       FROM pg_aggregate a WHERE a.aggfnoid = p.oid) END";

fn proc_row(r: &postgres::Row, at: usize) -> Proc {
    Proc {
        oid: u32::try_from(r.get::<_, i64>(at)).unwrap_or(0),
        schema: r.get(at + 1),
        name: r.get(at + 2),
        volatility: r.get::<_, String>(at + 3).chars().next().unwrap_or('v'),
        language: r.get(at + 4),
        body: r.get(at + 5),
        symbol: r.get(at + 6),
        support: r
            .get::<_, Option<Vec<i64>>>(at + 7)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|o| u32::try_from(o).ok())
            .collect(),
    }
}

impl SessionCatalog<'_> {
    fn rows(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<postgres::Row>, String> {
        self.client.query(sql, params).map_err(|e| error_text(&e))
    }
}

impl Catalog for SessionCatalog<'_> {
    fn procs(&mut self, names: &[String]) -> Result<Vec<Proc>, String> {
        let missing: Vec<String> = names.iter().filter(|n| !self.cache.procs.contains_key(*n)).cloned().collect();
        if !missing.is_empty() {
            let rows = self.rows(
                &format!(
                    "SELECT {PROC_COLUMNS} FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                     JOIN pg_language l ON l.oid = p.prolang WHERE p.proname = ANY($1)"
                ),
                &[&missing],
            )?;
            for m in missing {
                self.cache.procs.entry(m).or_default();
            }
            for r in &rows {
                let p = proc_row(r, 0);
                self.cache.procs.entry(p.name.clone()).or_default().push(p);
            }
        }
        Ok(names.iter().flat_map(|n| self.cache.procs.get(n).into_iter().flatten().cloned()).collect())
    }

    fn procs_by_oid(&mut self, oids: &[u32]) -> Result<Vec<Proc>, String> {
        let oids: Vec<i64> = oids.iter().map(|&o| i64::from(o)).collect();
        let rows = self.rows(
            &format!(
                "SELECT {PROC_COLUMNS} FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 JOIN pg_language l ON l.oid = p.prolang WHERE p.oid = ANY($1::int8[]::oid[])"
            ),
            &[&oids],
        )?;
        Ok(rows.iter().map(|r| proc_row(r, 0)).collect())
    }

    fn planner_callable(&mut self) -> Result<Vec<Proc>, String> {
        self.planner_callable_rows()
    }

    fn domain_checks(&mut self) -> Result<Vec<(String, String)>, String> {
        let sql = "WITH RECURSIVE chain(top, typ) AS (
                       SELECT t.oid, t.oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                       WHERE t.typtype = 'd' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                       UNION
                       SELECT c.top, t.typbasetype FROM chain c JOIN pg_type t ON t.oid = c.typ WHERE t.typtype = 'd')
                   SELECT tt.typname::text, pg_get_constraintdef(con.oid)
                   FROM chain c JOIN pg_type tt ON tt.oid = c.top JOIN pg_constraint con ON con.contypid = c.typ
                   WHERE con.contype = 'c'";
        cached(self.client, &mut self.cache.domains, sql, |r| (r.get(0), r.get(1)))
    }

    fn search_path(&mut self) -> Result<Vec<String>, String> {
        if self.cache.search_path.is_none() {
            let rows = self.rows("SELECT unnest(current_schemas(true))::text", &[])?;
            self.cache.search_path = Some(rows.iter().map(|r| r.get(0)).collect());
        }
        Ok(self.cache.search_path.clone().unwrap_or_default())
    }

    fn syntax_keywords(&mut self) -> Result<HashSet<String>, String> {
        if self.cache.keywords.is_none() {
            let rows = self.rows("SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'C')", &[])?;
            self.cache.keywords = Some(rows.iter().map(|r| r.get(0)).collect());
        }
        Ok(self.cache.keywords.clone().unwrap_or_default())
    }

    fn risky_operators(&mut self) -> Result<Vec<Operator>, String> {
        let sql = format!(
            "SELECT on_.nspname::text, o.oprname::text, {PROC_COLUMNS}
             FROM pg_operator o JOIN pg_namespace on_ ON on_.oid = o.oprnamespace
             JOIN pg_proc p ON p.oid = o.oprcode JOIN pg_namespace n ON n.oid = p.pronamespace
             JOIN pg_language l ON l.oid = p.prolang
             WHERE p.provolatile = 'v' OR n.nspname <> 'pg_catalog'"
        );
        cached(self.client, &mut self.cache.operators, &sql, |r| Operator {
            schema: r.get(0),
            name: r.get(1),
            function: proc_row(r, 2),
        })
    }

    fn risky_casts(&mut self) -> Result<Vec<Cast>, String> {
        let sql = format!(
            "SELECT format_type(c.castsource, NULL), t.typname::text, c.castcontext::text, {PROC_COLUMNS}
             FROM pg_cast c JOIN pg_type t ON t.oid = c.casttarget
             JOIN pg_proc p ON p.oid = c.castfunc JOIN pg_namespace n ON n.oid = p.pronamespace
             JOIN pg_language l ON l.oid = p.prolang
             WHERE p.provolatile = 'v' OR n.nspname <> 'pg_catalog'"
        );
        cached(self.client, &mut self.cache.casts, &sql, |r| Cast {
            source: r.get(0),
            target: r.get(1),
            context: r.get::<_, String>(2).chars().next().unwrap_or('i'),
            function: proc_row(r, 3),
        })
    }
}

impl SessionCatalog<'_> {
    fn planner_callable_rows(&mut self) -> Result<Vec<Proc>, String> {
        let sql = format!(
            "SELECT {PROC_COLUMNS} FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             JOIN pg_language l ON l.oid = p.prolang
             WHERE p.provolatile IN ('i', 's') AND p.prokind = 'f'
               AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        );
        cached(self.client, &mut self.cache.planner_callable, &sql, |r| proc_row(r, 0))
    }
}

/// The rows of `sql`, each made a `T`, read once per session into `slot`.
fn cached<T: Clone>(
    client: &mut Client,
    slot: &mut Option<Vec<T>>,
    sql: &str,
    row: impl Fn(&postgres::Row) -> T,
) -> Result<Vec<T>, String> {
    if slot.is_none() {
        let rows = client.query(sql, &[]).map_err(|e| error_text(&e))?;
        *slot = Some(rows.iter().map(row).collect());
    }
    Ok(slot.clone().unwrap_or_default())
}

/// A connection with what the runner learnt about the server.
pub struct Session {
    client: Client,
    version: u32,
    /// How the server reads string literals.
    mode: Mode,
    catalog: CatalogCache,
    show_values: bool,
}

impl Session {
    pub fn connect(target: &Target, show_values: bool) -> Result<Self, DbError> {
        let mut client = target.connect()?;
        let row = client
            .query_one(
                "SELECT current_setting('server_version_num')::int, current_setting('standard_conforming_strings') = 'on'",
                &[],
            )
            .map_err(|e| DbError::Query { message: target.scrub(&error_text(&e)) })?;
        Ok(Self {
            client,
            version: u32::try_from(row.get::<_, i32>(0)).unwrap_or(0) / 10000,
            mode: Mode { standard_conforming_strings: row.get(1) },
            catalog: CatalogCache::default(),
            show_values,
        })
    }

    /// PostgreSQL major version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The catalog facts the plan rules cross-reference.
    pub fn facts(&mut self) -> Result<Facts, DbError> {
        let q = |e: postgres::Error| DbError::Query { message: error_text(&e) };
        let mut facts = Facts::default();
        for row in self
            .client
            .query(
                "SELECT c.relname::text, a.attname::text
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND i.indisvalid",
                &[],
            )
            .map_err(q)?
        {
            facts.index_leads.entry(row.get(0)).or_default().push(row.get(1));
        }
        // Tables without any index are known too (every filter column on them is unindexed);
        // and every relation's name, which an index a fix proposes must not take.
        for row in self
            .client
            .query(
                "SELECT c.relname::text, n.nspname::text, c.relkind IN ('r', 'p', 'm')
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')",
                &[],
            )
            .map_err(q)?
        {
            if row.get::<_, bool>(2) {
                facts.index_leads.entry(row.get(0)).or_default();
            }
            facts.relations.insert((row.get(1), row.get(0)));
        }
        // Foreign keys whose columns are not the leading columns of any valid index.
        for row in self
            .client
            .query(
                "SELECT con.conname::text, c.relname::text, r.relname::text,
                        array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
                              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o),
                        cn.nspname::text
                 FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_class r ON r.oid = con.confrelid
                 JOIN pg_namespace cn ON cn.oid = c.relnamespace
                 WHERE con.contype = 'f' AND NOT EXISTS (
                     SELECT 1 FROM pg_index i WHERE i.indrelid = con.conrelid AND i.indisvalid
                       AND (i.indkey::int2[])[0:array_length(con.conkey, 1) - 1] @> con.conkey
                       AND (i.indkey::int2[])[0:array_length(con.conkey, 1) - 1] <@ con.conkey)",
                &[],
            )
            .map_err(q)?
        {
            facts.unindexed_fks.insert(
                row.get(0),
                FkFact { schema: row.get(4), table: row.get(1), columns: row.get(3), referenced: row.get(2) },
            );
        }
        Ok(facts)
    }

    fn query_err(&self, e: &postgres::Error) -> String {
        let text = match e.as_db_error() {
            // The message only: DETAIL lines quote key values.
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => error_text(e),
        };
        if self.show_values { text } else { redact_quoted(&text) }
    }

    /// One of the runner's own statements (constant text, one statement): simple protocol, one
    /// round trip.
    fn exec(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.client.batch_execute(sql)
    }

    /// A statement holding captured text: extended protocol, which refuses several commands.
    fn exec_extended(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.client.execute(sql, &[]).map(|_| ())
    }

    /// Runs `check` in a transaction of its own (role and timeouts as for the query), rolled
    /// back afterwards.
    fn checked<T>(
        &mut self,
        opts: &Options,
        timeout_ms: f64,
        check: impl FnOnce(&mut Self) -> Result<T, Denied>,
    ) -> Result<T, Denied> {
        self.begin(opts, timeout_ms).map_err(Denied::Failed)?;
        let r = check(self);
        let _ = self.exec("ROLLBACK");
        r
    }

    fn checker_run<T>(
        &mut self,
        allow_writes: bool,
        f: impl FnOnce(&mut Checker<'_, SessionCatalog<'_>>) -> Result<T, Denied>,
    ) -> Result<T, Denied> {
        let show = self.show_values;
        let mode = self.mode;
        let mut cat = SessionCatalog { client: &mut self.client, cache: &mut self.catalog };
        let mut checker = Checker::new(&mut cat, allow_writes, mode);
        f(&mut checker).map_err(|e| match e {
            Denied::Failed(m) if !show => Denied::Failed(redact_quoted(&m)),
            other => other,
        })
    }

    /// The checks that come before the server plans the query: [`classify`], the reading under
    /// the server's `standard_conforming_strings`, and the statement's functions, operators
    /// and casts against the catalog (in a rolled-back transaction). Used by [`Session::run`];
    /// public for the fuzz tests, which compare it with the server's own reading.
    pub fn check_text(&mut self, text: &str, opts: &Options) -> Result<Verdict, Denied> {
        let verdict = classify(text, opts.budget_ms);
        self.check_classified(text, &verdict, opts)?;
        Ok(verdict)
    }

    /// [`Session::check_text`] for a text already classified.
    fn check_classified(&mut self, text: &str, verdict: &Verdict, opts: &Options) -> Result<(), Denied> {
        if let Class::Refused(why) = &verdict.class {
            return Err(Denied::Refused(why.clone()));
        }
        if !safety::reads_alike(text, self.mode) {
            return Err(Denied::Refused(
                "the server has standard_conforming_strings off, so it reads the backslashes in this query's '...' strings as escapes and the query differently from dbwarden's check".into(),
            ));
        }
        self.checked(opts, 1000.0, |s| s.check_statement(verdict, opts))
    }

    /// Checks calls (e.g. a plan's, from [`safety::plan_refs`]) against the catalog.
    pub fn check_calls(&mut self, calls: &[Name], opts: &Options) -> Result<(), Denied> {
        self.checked(opts, 1000.0, |s| s.checker_run(opts.allow_writes, |c| c.check_calls(calls, false, "the plan")))
    }

    /// How the server reads string literals.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The statement's own functions, operators and casts.
    fn check_statement(&mut self, v: &Verdict, opts: &Options) -> Result<(), Denied> {
        let types: HashSet<String> = v.cast_types.iter().cloned().collect();
        // Once per session: a function the planner may run that reaches a never-run one makes
        // every query unsafe to plan.
        if self.catalog.hazard.is_none() {
            let h = self.checker_run(opts.allow_writes, |c| c.database_hazard())?;
            self.catalog.hazard = Some(h);
        }
        if let Some(Some(why)) = &self.catalog.hazard {
            return Err(Denied::Refused(why.clone()));
        }
        self.checker_run(opts.allow_writes, |c| {
            c.check_calls(&v.functions, false, "the query")?;
            c.check_operators(&v.operators, "the query")?;
            c.check_casts(&types, "the query")?;
            c.check_domains(&types, "the query")
        })
    }

    /// What the server will evaluate: the plain `EXPLAIN (VERBOSE)` (nothing is executed; the
    /// planner never runs a VOLATILE function) of the query with its parameters, and for an
    /// analysed write the triggers, defaults, checks and policies of every table it can reach.
    fn check_plan(
        &mut self,
        sql: &str,
        binds: &[(&(dyn ToSql + Sync), Type)],
        v: &Verdict,
        opts: &Options,
    ) -> Result<(), Denied> {
        let write = v.class == Class::Write;
        let rows = self
            .client
            .query_typed(format!("EXPLAIN (VERBOSE, FORMAT JSON) {sql}").as_str(), binds)
            .map_err(|e| Denied::Failed(self.query_err(&e)))?;
        let plan = plan_of(&rows).map_err(Denied::Failed)?;
        let mode = self.mode;
        let refs = safety::plan_refs(&plan, mode);
        let mut extra = Vec::new();
        if write && opts.allow_writes {
            extra = self.write_side_effects(&v.targets).map_err(Denied::Failed)?;
        }
        // A write inside a trigger or a function can reach any table: with --allow-writes, a
        // write, or a call of a VOLATILE user function, is checked against every trigger.
        if opts.allow_writes {
            let calls: Vec<Name> = v.functions.iter().chain(&refs.calls).cloned().collect();
            let volatile = self.checker_run(true, |c| c.calls_volatile_user(&calls))?;
            if write || volatile {
                extra.extend(self.all_triggers().map_err(Denied::Failed)?);
            }
        }
        self.checker_run(opts.allow_writes, |c| {
            // An analysed write draws its columns' defaults: sequences it advances are reported.
            let nextval = write && opts.allow_writes;
            c.check_calls(&refs.calls, nextval, "its plan")?;
            c.check_operators(&refs.operators, "its plan")?;
            c.check_casts(&refs.words, "its plan")?;
            c.check_domains(&refs.words, "its plan")?;
            for (what, text) in &extra {
                let r = safety::expression_refs(text, mode, false);
                c.check_calls(&r.calls, true, what)?;
                c.check_operators(&r.operators, what)?;
            }
            Ok(())
        })
    }

    /// Every enabled trigger of the database, as (what, `schema.function()`).
    fn all_triggers(&mut self) -> Result<Vec<(String, String)>, String> {
        let rows = self
            .client
            .query(
                "SELECT 'the trigger ' || quote_ident(t.tgname) || ' on ' || t.tgrelid::regclass::text
                        || ' (a write inside a trigger or function can reach it)',
                        quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '()'
                 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'",
                &[],
            )
            .map_err(|e| self.query_err(&e))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// For a write: the trigger functions (with their bodies), and the text of the check
    /// constraints, domain checks, defaults, generated columns and policies of its target
    /// tables and of every table reached from them by cascading foreign keys or inheritance.
    fn write_side_effects(&mut self, targets: &[Name]) -> Result<Vec<(String, String)>, String> {
        let names: Vec<String> = targets
            .iter()
            .map(|t| match &t.schema {
                Some(s) => format!("{}.{}", quote_ident(s), quote_ident(&t.name)),
                None => quote_ident(&t.name),
            })
            .collect();
        let rows = self
            .client
            .query(
                "WITH RECURSIVE reach(oid, depth) AS (
                     SELECT to_regclass(n)::oid, 0 FROM unnest($1::text[]) n WHERE to_regclass(n) IS NOT NULL
                     UNION
                     SELECT x.oid, r.depth + 1 FROM reach r, LATERAL (
                         SELECT c.conrelid AS oid FROM pg_constraint c WHERE c.contype = 'f' AND c.confrelid = r.oid
                           AND (c.confdeltype IN ('c', 'n', 'd') OR c.confupdtype IN ('c', 'n', 'd'))
                         UNION SELECT i.inhrelid FROM pg_inherits i WHERE i.inhparent = r.oid) x
                     WHERE r.depth < 16),
                 rel AS (SELECT DISTINCT oid FROM reach)
                 SELECT 'the trigger ' || quote_ident(t.tgname) || ' on ' || t.tgrelid::regclass::text,
                        quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '()'
                 FROM pg_trigger t JOIN rel ON rel.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
                 JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'
                 UNION ALL
                 SELECT 'the check ' || quote_ident(c.conname) || ' on ' || c.conrelid::regclass::text,
                        pg_get_expr(c.conbin, c.conrelid)
                 FROM pg_constraint c JOIN rel ON rel.oid = c.conrelid WHERE c.contype = 'c'
                 UNION ALL
                 SELECT 'the domain check ' || quote_ident(d.conname) || ' of ' || format_type(a.atttypid, NULL),
                        pg_get_expr(d.conbin, 0)
                 FROM pg_attribute a JOIN rel ON rel.oid = a.attrelid JOIN pg_constraint d ON d.contypid = a.atttypid
                 WHERE a.attnum > 0 AND NOT a.attisdropped AND d.contype = 'c'
                 UNION ALL
                 SELECT 'the default of ' || d.adrelid::regclass::text || '.' || quote_ident(a.attname),
                        pg_get_expr(d.adbin, d.adrelid)
                 FROM pg_attrdef d JOIN rel ON rel.oid = d.adrelid
                 JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                 UNION ALL
                 SELECT 'the policy ' || quote_ident(p.polname) || ' on ' || p.polrelid::regclass::text,
                        concat_ws(' AND ', pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
                 FROM pg_policy p JOIN rel ON rel.oid = p.polrelid",
                &[&names],
            )
            .map_err(|e| self.query_err(&e))?;
        Ok(rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, Option<String>>(1).unwrap_or_default())).collect())
    }

    /// Values for the parameters from `pg_stats` (`--sample-values`): for each `$n`, the most
    /// common value of the column it is compared with, else the middle histogram bound.
    fn sample(&mut self, sql: &str, n: usize) -> Option<Vec<Option<String>>> {
        let (tables, compared) = super::safety::compared_columns(sql);
        let mut out = Vec::with_capacity(n);
        for i in 1..=n {
            let col = compared.get(&i)?;
            let row = self
                .client
                .query_opt(
                    "SELECT coalesce((most_common_vals::text::text[])[1],
                                     (histogram_bounds::text::text[])[array_length(histogram_bounds::text::text[], 1) / 2 + 1])
                     FROM pg_stats WHERE attname = $1 AND tablename = ANY($2)
                     ORDER BY most_common_vals IS NULL LIMIT 1",
                    &[col, &tables],
                )
                .ok()??;
            out.push(Some(row.get::<_, Option<String>>(0)?));
        }
        Some(out)
    }

    fn sequences(&mut self) -> HashMap<String, i64> {
        self.client
            .query(
                "SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences WHERE last_value IS NOT NULL",
                &[],
            )
            .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
            .unwrap_or_default()
    }

    /// Runs one query under the contract.
    pub fn run(&mut self, index: usize, q: &CapturedQuery, opts: &Options) -> Outcome {
        let start = std::time::Instant::now();
        let budget_ms = q.budget_ms.unwrap_or(opts.budget_ms);
        let mut out = Outcome {
            query: index,
            budget_ms,
            class: None,
            timing: None,
            explain: None,
            plan_json: None,
            params: "none",
            events: Vec::new(),
            wall_ms: 0.0,
        };
        self.run_inner(q, opts, budget_ms, &mut out);
        out.wall_ms = start.elapsed().as_secs_f64() * 1000.0;
        out
    }

    fn run_inner(&mut self, q: &CapturedQuery, opts: &Options, budget_ms: f64, out: &mut Outcome) {
        // Parsed once: the class is reported even when the catalog check refuses the query.
        let verdict = classify(&q.text, budget_ms);
        out.class = Some(verdict.class.clone());
        if let Err(d) = self.check_classified(&q.text, &verdict, opts) {
            out.events.push(denied_event(d));
            return;
        }
        let write = verdict.class == Class::Write;
        let timeout_ms = opts.timeout_ms(budget_ms);
        let n = param_count(&q.text);
        let mut params: Option<Vec<Option<String>>> = None;
        if n > 0 {
            if q.params.len() >= n {
                params = Some(q.params[..n].to_vec());
                out.params = "log";
            } else if opts.sample_values
                && let Some(v) = self.sample(&q.text, n)
            {
                params = Some(v);
                out.params = "sampled";
            } else {
                out.params = "generic";
                self.generic_plan(q, n, opts, budget_ms, out);
                return;
            }
        }
        let analyse = !write || opts.allow_writes;
        if !analyse {
            out.events.push(Event::NotMeasured(
                "the query writes: planned without ANALYZE (run with --allow-writes to execute it inside a rolled-back transaction)"
                    .into(),
            ));
        }
        let options = if analyse { "ANALYZE, BUFFERS, FORMAT JSON" } else { "FORMAT JSON" };
        let explain = format!("EXPLAIN ({options}) {}", q.text);
        let values: Vec<TextParam<'_>> =
            params.as_ref().map(|p| p.iter().map(|v| TextParam(v.as_deref())).collect()).unwrap_or_default();
        // Parse, bind and execute in one round trip; the server infers each parameter's type and
        // parses the text value, as it did for the application.
        let binds = text_binds(&values);
        if analyse && let Err(d) = self.checked(opts, timeout_ms, |s| s.check_plan(&q.text, &binds, &verdict, opts)) {
            out.events.push(denied_event(d));
            return;
        }
        let total = if analyse { opts.warmup + opts.runs.max(1) } else { 1 };
        // With --allow-writes anything analysed may advance a sequence (a default, or a function's
        // dynamic SQL): compare them all before and after.
        let seq_before = (analyse && opts.allow_writes).then(|| self.sequences());
        let mut runs: Vec<(f64, f64, Value)> = Vec::new();
        // Reads share one transaction; each write run gets its own, so that every run sees the
        // same data.
        let per_run_tx = write;
        let mut in_tx = false;
        for i in 0..total {
            if !in_tx {
                if let Err(e) = self.begin(opts, timeout_ms) {
                    out.events.push(Event::Failed(e));
                    return;
                }
                in_tx = true;
            }
            let result = self.client.query_typed(explain.as_str(), &binds);
            match result {
                Ok(rows) => {
                    let json = match plan_of(&rows) {
                        Ok(j) => j,
                        Err(e) => {
                            out.events.push(Event::Failed(e));
                            break;
                        }
                    };
                    let top = json.get(0).unwrap_or(&json);
                    let exec = top.get("Execution Time").and_then(Value::as_f64).unwrap_or(0.0);
                    let plan = top.get("Planning Time").and_then(Value::as_f64).unwrap_or(0.0);
                    if i >= opts.warmup || !analyse {
                        runs.push((exec, plan, json));
                    }
                }
                Err(e) => {
                    let _ = self.exec("ROLLBACK");
                    in_tx = false;
                    if e.code() == Some(&postgres::error::SqlState::QUERY_CANCELED) {
                        out.events.push(Event::TimedOut(timeout_ms));
                    } else {
                        out.events.push(Event::Failed(self.query_err(&e)));
                    }
                    break;
                }
            }
            if per_run_tx {
                let _ = self.exec("ROLLBACK");
                in_tx = false;
            }
        }
        if in_tx {
            let _ = self.exec("ROLLBACK");
        }
        if let Some(before) = seq_before {
            let after = self.sequences();
            let mut moved: Vec<String> =
                after.iter().filter(|(k, v)| before.get(*k) != Some(v)).map(|(k, _)| k.clone()).collect();
            moved.sort();
            if !moved.is_empty() {
                out.events.push(Event::SequencesConsumed(moved));
            }
        }
        if runs.is_empty() {
            return;
        }
        if analyse {
            out.timing = Timing::from_runs(&runs.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>());
        }
        // The plan of the median run.
        let mut order: Vec<usize> = (0..runs.len()).collect();
        order.sort_by(|a, b| runs[*a].0.total_cmp(&runs[*b].0));
        let median = runs.swap_remove(order[order.len() / 2]).2;
        out.explain = Explain::parse(&median).ok();
        out.plan_json = Some(median);
    }

    /// `BEGIN` and the runner's own settings. On any failure the transaction is rolled back, so
    /// that the session is clean for the next query; the error is the runner's own (no captured
    /// text, so not redacted).
    fn begin(&mut self, opts: &Options, timeout_ms: f64) -> Result<(), String> {
        let r = self.begin_settings(opts, timeout_ms);
        if let Err(e) = &r {
            let _ = self.exec("ROLLBACK");
            return Err(format!("setting up the transaction failed: {}", error_text(e)));
        }
        Ok(())
    }

    fn begin_settings(&mut self, opts: &Options, timeout_ms: f64) -> Result<(), postgres::Error> {
        self.exec("BEGIN")?;
        if let Some(role) = &opts.role {
            self.exec(&format!("SET LOCAL ROLE {}", quote_ident(role)))?;
        }
        if !opts.allow_writes {
            self.exec("SET TRANSACTION READ ONLY")?;
        }
        self.exec(&format!("SET LOCAL statement_timeout = {timeout_ms}"))?;
        self.exec(&format!("SET LOCAL lock_timeout = {}", opts.lock_timeout_ms.max(1)))
    }

    /// A plan for a query whose parameter values are unknown: `EXPLAIN (GENERIC_PLAN)` on PG16+,
    /// else `PREPARE` + `plan_cache_mode = force_generic_plan` + `EXPLAIN EXECUTE` with NULLs.
    fn generic_plan(&mut self, q: &CapturedQuery, n: usize, opts: &Options, budget_ms: f64, out: &mut Outcome) {
        let timeout_ms = opts.timeout_ms(budget_ms);
        if let Err(e) = self.begin(opts, timeout_ms) {
            out.events.push(Event::Failed(e));
            return;
        }
        let result = if self.version >= 16 {
            // The extended protocol (one statement only) wants a value per parameter even for a
            // generic plan, which ignores them: NULLs.
            let nulls: Vec<TextParam<'_>> = (0..n).map(|_| TextParam(None)).collect();
            self.client
                .query_typed(format!("EXPLAIN (GENERIC_PLAN, FORMAT JSON) {}", q.text).as_str(), &text_binds(&nulls))
        } else {
            let nulls = vec!["NULL"; n].join(", ");
            self.exec_extended(&format!("PREPARE dbwarden_generic AS {}", q.text))
                .and_then(|()| self.exec("SET LOCAL plan_cache_mode = force_generic_plan"))
                .and_then(|()| {
                    self.client.query(format!("EXPLAIN (FORMAT JSON) EXECUTE dbwarden_generic({nulls})").as_str(), &[])
                })
        };
        let _ = self.exec("ROLLBACK");
        if self.version < 16 {
            // A prepared statement outlives the transaction.
            let _ = self.exec("DEALLOCATE dbwarden_generic");
        }
        match result {
            Ok(rows) => {
                if let Ok(json) = plan_of(&rows) {
                    out.explain = Explain::parse(&json).ok();
                    out.plan_json = Some(json);
                }
                out.events.push(Event::NotMeasured(format!(
                    "the query has {n} parameter(s) and the capture has no values for them: generic plan only (capture with log_parameter_max_length, or use --sample-values)"
                )));
            }
            Err(e) => out.events.push(Event::Failed(self.query_err(&e))),
        }
    }

    /// Leaves the session as it found it (for poolers that hand the connection on).
    pub fn finish(mut self) {
        let _ = self.exec("RESET ALL");
        let _ = self.client.query("SELECT pg_advisory_unlock_all()", &[]);
        let _ = self.client.close();
    }
}

/// The deepest JSON nesting read from a plan (about a third of it in plan levels); serde_json's
/// default of 128 stopped plans of about 40 levels.
pub const MAX_PLAN_JSON_DEPTH: usize = 1536;

/// The text of a `json` (or `text`) column.
struct RawJson(String);

impl<'a> postgres::types::FromSql<'a> for RawJson {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(Self(std::str::from_utf8(raw)?.to_owned()))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || *ty == Type::TEXT
    }
}

/// How deep the JSON text nests (brackets outside strings).
fn json_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// The plan `EXPLAIN (FORMAT JSON)` returned, read whatever its depth up to
/// [`MAX_PLAN_JSON_DEPTH`]; the error says why not.
fn plan_of(rows: &[postgres::Row]) -> Result<Value, String> {
    let row = rows.first().ok_or("EXPLAIN returned no rows")?;
    let text = row.try_get::<_, RawJson>(0).map_err(|e| format!("EXPLAIN returned no plan: {e}"))?.0;
    parse_plan_json(&text)
}

/// Parses plan JSON of any depth up to [`MAX_PLAN_JSON_DEPTH`].
pub fn parse_plan_json(text: &str) -> Result<Value, String> {
    let depth = json_depth(text);
    if depth > MAX_PLAN_JSON_DEPTH {
        return Err(format!(
            "the plan nests {depth} levels deep in JSON, more than the {MAX_PLAN_JSON_DEPTH} dbwarden reads"
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let v = <Value as serde::Deserialize>::deserialize(&mut de)
        .map_err(|e| format!("EXPLAIN returned unreadable JSON: {e}"))?;
    Ok(v)
}

fn denied_event(d: Denied) -> Event {
    match d {
        Denied::Refused(why) => Event::Refused(why),
        Denied::Failed(why) => Event::Failed(why),
    }
}

/// Replaces quoted parts of a server message (`"..."`, `'...'`) with `…`: they may quote values.
pub fn redact_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut quote: Option<char> = None;
    for c in msg.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || c == '\'' {
                    quote = Some(c);
                }
            }
        }
    }
    if quote.is_some() {
        out.push('…');
    }
    out
}

/// What [`run_all`] returns: outcomes in query order, the catalog facts, and warnings for
/// standard error (the role the queries run as could do more than read; `--jobs` was lowered).
pub type RunResult = (Vec<Outcome>, Facts, Vec<String>);

/// Connections `--jobs` leaves free on the server for everyone else.
const CONNECTION_MARGIN: i64 = 5;

/// Stack of each runner thread: deep plans are read and judged recursively.
const RUNNER_STACK: usize = 64 << 20;

/// Runs every query on `jobs` connections (each its own session); outcomes in query order.
/// `progress` is called after each query.
pub fn run_all(
    target: &Target,
    queries: &[CapturedQuery],
    opts: &Options,
    progress: &(dyn Fn() + Sync),
) -> Result<RunResult, DbError> {
    let mut jobs = opts.jobs.max(1);
    let mut first = Session::connect(target, opts.show_values)?;
    let mut warnings: Vec<String> =
        crate::db::privilege_warning(&mut first.client, opts.role.as_deref())?.into_iter().collect();
    if jobs > 1 {
        // The server's connection limit, less the reserved slots, those in use and a margin.
        let free: i64 = first
            .client
            .query_one(
                "SELECT current_setting('max_connections')::int8 - current_setting('superuser_reserved_connections')::int8
                        - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')",
                &[],
            )
            .ok()
            .and_then(|r| r.try_get::<_, i64>(0).ok())
            .unwrap_or(0);
        let allowed = usize::try_from((free - CONNECTION_MARGIN).max(0)).unwrap_or(0) + 1;
        if jobs > allowed {
            warnings.push(format!(
                "--jobs {jobs} lowered to {allowed}: the server has {} free connection(s) and dbwarden leaves {CONNECTION_MARGIN} for others",
                free.max(0)
            ));
            jobs = allowed;
        }
    }
    let jobs = jobs.min(queries.len().max(1));
    let facts = first.facts()?;
    let mut sessions = vec![first];
    for _ in 1..jobs {
        sessions.push(Session::connect(target, opts.show_values)?);
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::with_capacity(queries.len()));
    std::thread::scope(|s| {
        for mut session in sessions {
            let (next, results) = (&next, &results);
            let spawned = std::thread::Builder::new().stack_size(RUNNER_STACK).spawn_scoped(s, move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(q) = queries.get(i) else { break };
                    let o = session.run(i, q, opts);
                    results.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(o);
                    progress();
                }
                session.finish();
            });
            if let Err(e) = spawned {
                warnings.push(format!("a runner thread could not start: {e}"));
            }
        }
    });
    let mut outcomes = results.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    outcomes.sort_by_key(|o| o.query);
    Ok((outcomes, facts, warnings))
}
