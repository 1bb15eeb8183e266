//! What the runner may do with a captured query: measure it, plan it only, or refuse it.
//!
//! The contract fails closed (docs/explain.md). A query is run only if
//! 1. sqlparser (PostgreSQL dialect) reads it as exactly one `SELECT`/`VALUES`/`TABLE`/`WITH`,
//!    `INSERT`, `UPDATE`, `DELETE` or `MERGE` ([`classify`], no database needed);
//! 2. every function its syntax tree calls resolves in the target's `pg_proc` (on the search path
//!    the query runs under) and every candidate is allowed by [`judge`]: `IMMUTABLE` or `STABLE`,
//!    or a `VOLATILE` built-in on the reviewed list, or (with `--allow-writes`) a `VOLATILE` user
//!    function; the functions of [`NEVER`] (effects a rollback does not undo) never are;
//! 3. before `ANALYZE`, the plain `EXPLAIN (VERBOSE)` (nothing is executed) shows every function
//!    and operator the server will evaluate, views, rules and row-level security included
//!    ([`plan_refs`]); each is checked the same way; for writes, the triggers, defaults and check
//!    constraints of every table the write can reach too.
//!
//! The runner (`runner.rs`) does the database half with the [`Catalog`] it implements; the
//! judgement itself is here, pure, so that it is unit-tested and fuzzed without a server.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use serde_json::Value;
use sqlparser::ast::{
    self, BinaryOperator, DataType, Expr, FromTable, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName,
    ObjectNamePart, Select, SetExpr, Statement, TableFactor, TableObject, Visit, Visitor,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::parse::lex::{self, Kind, Mode, Token};

/// What a query is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// `SELECT`, `VALUES`, `TABLE`, `WITH ... SELECT` without data-modifying parts.
    Read,
    /// `INSERT`, `UPDATE`, `DELETE`, `MERGE`, or a `WITH` holding one.
    Write,
    /// Never sent to the server; the reason is safe to print (no values).
    Refused(String),
}

/// A possibly schema-qualified name, folded as PostgreSQL folds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name {
    pub schema: Option<String>,
    pub name: String,
    /// Written in double quotes (a quoted `"coalesce"` is a function, an unquoted one is syntax).
    pub quoted: bool,
}

impl Name {
    fn new(schema: Option<String>, name: String, quoted: bool) -> Self {
        Self { schema, name, quoted }
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// The static verdict on one query text.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub class: Class,
    /// Functions the statement calls, deduplicated, in order of appearance.
    pub functions: Vec<Name>,
    /// Operators the statement names explicitly (`OPERATOR(schema.op)`, custom operators).
    pub operators: Vec<Name>,
    /// Tables the statement writes (targets of `INSERT`, `UPDATE`, `DELETE`, `MERGE`).
    pub targets: Vec<Name>,
    /// Type names the statement casts to (last part, folded).
    pub cast_types: Vec<String>,
}

impl Verdict {
    fn refused(why: String) -> Self {
        Self {
            class: Class::Refused(why),
            functions: Vec::new(),
            operators: Vec::new(),
            targets: Vec::new(),
            cast_types: Vec::new(),
        }
    }
}

/// Functions whose effects a rollback does not undo, or that act outside the transaction:
/// refused in every mode, in any schema (extensions install where they are told). `*` at the end
/// matches a prefix. The reason is printed.
pub const NEVER: &[(&str, &str)] = &[
    ("pg_terminate_backend", "it ends another session"),
    ("pg_cancel_backend", "it cancels another session's query"),
    ("pg_advisory_lock*", "a session-level advisory lock outlives the transaction"),
    ("pg_try_advisory_lock*", "a session-level advisory lock outlives the transaction"),
    ("pg_advisory_unlock*", "it releases advisory locks the session holds"),
    ("nextval", "sequence advances are never rolled back"),
    ("setval", "sequence changes are never rolled back"),
    ("setseed", "it changes the session's random seed"),
    ("dblink*", "it runs SQL on another connection, outside the transaction"),
    ("lo_*", "large-object functions read and write server files and objects"),
    ("loread", "large-object functions read and write server files and objects"),
    ("lowrite", "large-object functions read and write server files and objects"),
    ("pg_reload_conf", "it reloads the server's configuration"),
    ("pg_rotate_logfile*", "it rotates the server's log file"),
    ("pg_switch_wal", "it forces a WAL switch"),
    ("pg_create_restore_point", "it writes a WAL restore point"),
    ("pg_promote", "it promotes a standby"),
    ("pg_backup_*", "it starts or stops a backup"),
    ("pg_wal_replay_*", "it pauses or resumes WAL replay"),
    ("pg_create_*_replication_slot", "replication slots outlive the transaction"),
    ("pg_copy_*_replication_slot", "replication slots outlive the transaction"),
    ("pg_drop_replication_slot", "replication slots outlive the transaction"),
    ("pg_replication_slot_advance", "replication slots outlive the transaction"),
    ("pg_replication_origin_*", "replication origins outlive the transaction"),
    ("pg_logical_slot_*", "it consumes a logical replication slot"),
    ("pg_logical_emit_message", "non-transactional messages reach the WAL"),
    ("pg_stat_reset*", "it resets statistics"),
    ("pg_stat_statements_reset", "it resets statistics"),
    ("pg_stat_clear_snapshot", "it changes the session's statistics snapshot"),
    ("pg_stat_force_next_flush", "it flushes statistics"),
    ("pg_notify", "notifications reach other sessions"),
    ("pg_file_*", "it writes server files"),
    ("pg_read_file*", "it reads server files"),
    ("pg_read_binary_file", "it reads server files"),
    ("pg_stat_file", "it reads server files"),
    ("pg_ls_*", "it lists server directories"),
    ("pg_logdir_ls", "it lists server directories"),
    ("pg_sleep_for", "it sleeps for a caller-chosen time"),
    ("pg_sleep_until", "it sleeps for a caller-chosen time"),
    ("pg_import_system_collations", "it creates collations"),
    ("pg_log_backend_memory_contexts", "it writes to the server log on behalf of another session"),
    ("pg_export_snapshot", "it exports a snapshot to other sessions"),
    ("query_to_xml*", "it runs SQL given as text, unseen by the check"),
    ("table_to_xml*", "it reads a relation through SQL the check does not see (a view can call anything)"),
    ("schema_to_xml*", "it reads relations through SQL the check does not see (a view can call anything)"),
    ("database_to_xml*", "it reads relations through SQL the check does not see (a view can call anything)"),
    ("cursor_to_xml*", "it reads cursors of the session"),
    ("ts_stat", "it runs SQL given as text, unseen by the check"),
    ("ts_rewrite", "it runs SQL given as text, unseen by the check"),
    ("brin_summarize*", "it changes an index outside the transaction"),
    ("brin_desummarize_range", "it changes an index outside the transaction"),
    ("gin_clean_pending_list", "it changes an index outside the transaction"),
    ("binary_upgrade_*", "it is for pg_upgrade only"),
    ("pg_nextoid", "it consumes OIDs"),
    ("pg_stop_making_pinned_objects", "it is for initdb only"),
    ("pg_extension_config_dump", "it changes an extension's configuration"),
    ("pg_background_*", "it starts work in a background worker, outside the transaction"),
    ("http", "it makes a network request"),
    ("http_*", "it makes a network request"),
    ("postgres_fdw_disconnect*", "it closes foreign-server connections"),
];

/// `VOLATILE` built-ins reviewed as harmless inside a rolled-back transaction: they read, draw
/// random numbers or clock values, or take transaction-scoped locks. `pg_sleep` and `set_config`
/// are allowed only with the arguments [`classify`] checks.
pub const REVIEWED: &[&str] = &[
    "random",
    "random_normal",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "pg_sleep",
    "set_config",
    "currval",
    "lastval",
    "pg_sequence_last_value",
    "pg_relation_size",
    "pg_table_size",
    "pg_indexes_size",
    "pg_total_relation_size",
    "pg_database_size",
    "pg_tablespace_size",
    "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared",
    "pg_try_advisory_xact_lock",
    "pg_try_advisory_xact_lock_shared",
    "pg_current_wal_lsn",
    "pg_current_wal_insert_lsn",
    "pg_current_wal_flush_lsn",
    "pg_is_in_recovery",
    "pg_last_wal_receive_lsn",
    "pg_last_wal_replay_lsn",
    "pg_last_xact_replay_timestamp",
    "pg_is_wal_replay_paused",
    "pg_get_wal_replay_pause_state",
    "pg_blocking_pids",
    "pg_safe_snapshot_blocking_pids",
    "pg_lock_status",
    "pg_partition_tree",
    "pg_partition_ancestors",
    "pg_jit_available",
    "pg_xact_commit_timestamp",
    "pg_last_committed_xact",
    "pg_xact_status",
    "txid_status",
    "pg_notification_queue_usage",
    "pg_stat_have_stats",
    "pg_get_backend_memory_contexts",
    "pg_get_shmem_allocations",
    "pg_get_multixact_members",
    "pg_collation_actual_version",
    "pg_database_collation_actual_version",
    "pg_control_checkpoint",
    "pg_control_init",
    "pg_control_recovery",
    "pg_control_system",
    "pg_prepared_xact",
    "pg_show_all_file_settings",
    "pg_hba_file_rules",
    "pg_ident_file_mappings",
    "pg_current_logfile",
    "current_query",
    "suppress_redundant_updates_trigger",
    "tsvector_update_trigger",
    "tsvector_update_trigger_column",
];

fn matches_pattern(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        Some((a, b)) => name.len() >= a.len() + b.len() && name.starts_with(a) && name.ends_with(b),
        None => name == pattern,
    }
}

/// Why a function is never run, if it is one of [`NEVER`].
pub fn never(name: &str) -> Option<&'static str> {
    NEVER.iter().find(|(p, _)| matches_pattern(p, name)).map(|(_, why)| *why)
}

/// SQL-standard forms that look like calls but are syntax with no `pg_proc` lookup when written
/// without parentheses (sqlparser gives them as argument-less functions).
const VALUE_FUNCTIONS: &[&str] = &[
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "current_role",
    "current_user",
    "session_user",
    "user",
    "current_catalog",
    "current_schema",
    "system_user",
];

/// PostgreSQL's reserved and column-name keywords (`pg_get_keywords()` categories R and C, as of
/// PostgreSQL 15): written unquoted before `(`, they are syntax (`COALESCE(...)`, `ROW(...)`,
/// `EXTRACT(...)`), never a function looked up by name. The runner uses the target's own list.
pub const SYNTAX_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "between",
    "bigint",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "from",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "in",
    "initially",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "lateral",
    "leading",
    "least",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "nchar",
    "none",
    "normalize",
    "not",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "row",
    "select",
    "session_user",
    "setof",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "table",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// The built-in keyword list as a set (for tests and offline use).
pub fn builtin_syntax_keywords() -> HashSet<String> {
    SYNTAX_KEYWORDS.iter().map(|s| (*s).to_owned()).collect()
}

/// Statements refused outright, by first word: the reason a user reads.
fn refused_statement(first: &str, second: Option<&str>) -> String {
    let what = match first {
        "create" | "alter" | "drop" | "truncate" | "grant" | "revoke" | "comment" | "security" | "refresh"
        | "import" | "reassign" => "DDL",
        "cluster" | "reindex" | "vacuum" | "analyze" | "analyse" | "checkpoint" | "load" => "maintenance commands",
        "prepare" if second != Some("transaction") => "prepared statements",
        "execute" | "deallocate" => "prepared statements",
        "begin" | "start" | "commit" | "end" | "rollback" | "abort" | "savepoint" | "release" | "prepare"
        | "declare" | "fetch" | "move" | "close" | "discard" => "transaction and session control",
        "copy" => "COPY",
        "do" => "DO blocks",
        "call" => "CALL",
        "set" | "reset" | "show" => "SET, RESET and SHOW",
        "lock" => "LOCK",
        "notify" | "listen" | "unlisten" => "NOTIFY and LISTEN",
        "explain" => "EXPLAIN (the runner adds its own)",
        _ => {
            return format!(
                "`{}` is not a query the runner measures (only SELECT, VALUES, TABLE, WITH, INSERT, UPDATE, DELETE and MERGE are)",
                first.to_ascii_uppercase()
            );
        }
    };
    format!("`{}` is not run: {what} never is", first.to_ascii_uppercase())
}

/// The first two words of a text (comments and opening parentheses skipped), folded.
fn first_words(sql: &str) -> (Option<String>, Option<String>) {
    let toks = lex::tokens(sql, Mode::default());
    let mut words = toks.iter().filter(|t| t.kind != Kind::Comment).filter_map(|t| match t.kind {
        Kind::Word => Some(sql[t.range.clone()].to_ascii_lowercase()),
        Kind::Punct if &sql[t.range.clone()] == "(" => None,
        _ => Some(String::new()),
    });
    let first = words.next().filter(|w| !w.is_empty());
    (first, words.next())
}

/// Where sqlparser stopped, without the token it quotes (it may be a value).
fn parse_error_location(e: &sqlparser::parser::ParserError) -> String {
    let text = e.to_string();
    match text.rfind(" at Line: ") {
        Some(p) => format!(" (it stops at line {})", text[p + 10..].replace(", Column: ", ", column ")),
        None => String::new(),
    }
}

/// Classifies one captured query without a database. `budget_ms` bounds `pg_sleep`.
pub fn classify(sql: &str, budget_ms: f64) -> Verdict {
    let (first, second) = first_words(sql);
    let stmts = match Parser::parse_sql(&PostgreSqlDialect {}, sql) {
        Ok(s) => s,
        Err(e) => {
            if let Some(f) = &first
                && !matches!(
                    f.as_str(),
                    "select" | "with" | "values" | "table" | "insert" | "update" | "delete" | "merge"
                )
            {
                return Verdict::refused(refused_statement(f, second.as_deref()));
            }
            return Verdict::refused(format!(
                "dbwarden cannot parse it{}, so it cannot tell what the query calls; only queries it fully reads are run",
                parse_error_location(&e)
            ));
        }
    };
    let stmt = match stmts.as_slice() {
        [] => return Verdict::refused("not a query".into()),
        [one] => one,
        _ => {
            return Verdict::refused(
                "the text holds several statements; the runner runs exactly one per round trip".into(),
            );
        }
    };
    if !matches!(
        stmt,
        Statement::Query(_) | Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) | Statement::Merge(_)
    ) {
        let f = first.unwrap_or_default();
        return Verdict::refused(refused_statement(&f, second.as_deref()));
    }
    let mut w = Walker { budget_ms, ..Walker::default() };
    let _ = stmt.visit(&mut w);
    if let Some(why) = w.refused {
        return Verdict::refused(why);
    }
    Verdict {
        class: if w.write { Class::Write } else { Class::Read },
        functions: w.functions,
        operators: w.operators,
        targets: w.targets,
        cast_types: w.cast_types,
    }
}

#[derive(Default)]
struct Walker {
    budget_ms: f64,
    write: bool,
    refused: Option<String>,
    functions: Vec<Name>,
    operators: Vec<Name>,
    targets: Vec<Name>,
    cast_types: Vec<String>,
}

fn object_name(n: &ObjectName) -> Option<Name> {
    let mut parts = Vec::new();
    for p in &n.0 {
        match p {
            ObjectNamePart::Identifier(i) => parts.push(i),
            ObjectNamePart::Function(_) => return None,
        }
    }
    let last = parts.last()?;
    let schema = (parts.len() >= 2).then(|| {
        let s = parts[parts.len() - 2];
        lex::fold_ident(&s.value, s.quote_style.is_some())
    });
    Some(Name::new(schema, lex::fold_ident(&last.value, last.quote_style.is_some()), last.quote_style.is_some()))
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// The expression of an argument list's `n`th positional argument, or of the argument named
/// `named`.
fn argument<'a>(args: &'a FunctionArguments, n: usize, named: &str) -> Option<&'a Expr> {
    let FunctionArguments::List(list) = args else { return None };
    let mut pos = 0;
    for a in &list.args {
        match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => {
                if pos == n {
                    return Some(e);
                }
                pos += 1;
            }
            FunctionArg::Named { name, arg: FunctionArgExpr::Expr(e), .. }
            | FunctionArg::ExprNamed { name: Expr::Identifier(name), arg: FunctionArgExpr::Expr(e), .. }
                if lex::fold_ident(&name.value, name.quote_style.is_some()) == named =>
            {
                return Some(e);
            }
            _ => pos += 1,
        }
    }
    None
}

/// A numeric literal, possibly negated or cast (`0.5`, `'0.5'::float8`, `-1`).
fn literal_number(e: &Expr) -> Option<f64> {
    match e {
        Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n.replace('_', "").parse().ok(),
            ast::Value::SingleQuotedString(s) => s.trim().parse().ok(),
            _ => None,
        },
        Expr::Cast { expr, .. } | Expr::Nested(expr) => literal_number(expr),
        Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr } => literal_number(expr).map(|n| -n),
        _ => None,
    }
}

fn literal_string(e: &Expr) -> Option<&str> {
    match e {
        Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) => Some(s),
            _ => None,
        },
        Expr::Nested(e) | Expr::Cast { expr: e, .. } => literal_string(e),
        _ => None,
    }
}

fn literal_true(e: &Expr) -> bool {
    match e {
        Expr::Value(v) => matches!(&v.value, ast::Value::Boolean(true)),
        Expr::Nested(e) => literal_true(e),
        _ => false,
    }
}

impl Walker {
    fn refuse(&mut self, why: String) -> ControlFlow<()> {
        self.refused.get_or_insert(why);
        ControlFlow::Break(())
    }

    fn call(&mut self, name: &ObjectName, args: Option<&FunctionArguments>) -> ControlFlow<()> {
        let Some(n) = object_name(name) else {
            return self.refuse(format!("calls `{name}()`, whose name dbwarden cannot resolve"));
        };
        if let Some(why) = never(&n.name) {
            return self.refuse(format!("calls `{n}()`: {why}, and a rollback does not undo that"));
        }
        if n.name == "pg_sleep" {
            let secs = args.and_then(|a| argument(a, 0, "seconds")).and_then(literal_number);
            if secs.is_none_or(|s| !s.is_finite() || s * 1000.0 > self.budget_ms) {
                return self
                    .refuse("calls `pg_sleep()` for longer than the budget (or for a time it does not state)".into());
            }
        }
        if n.name == "set_config" && !args.and_then(|a| argument(a, 2, "is_local")).is_some_and(literal_true) {
            return self.refuse(
                "calls `set_config(...)` without a literal `true` as `is_local`: the setting would outlive the rollback"
                    .into(),
            );
        }
        if n.name == "set_config"
            && !args
                .and_then(|a| argument(a, 0, "setting_name"))
                .and_then(literal_string)
                .is_some_and(|s| s.contains('.'))
        {
            // A server setting (search_path, role, ...) changes what later code resolves to:
            // only custom settings (`app.current_org_id`, as row-level security uses) are set.
            return self.refuse(
                "calls `set_config(...)` on a server setting: only custom settings (with a dot in their name) may be set, since others change what the query's functions resolve to"
                    .into(),
            );
        }
        push_unique(&mut self.functions, n);
        ControlFlow::Continue(())
    }

    fn target(&mut self, name: &ObjectName) {
        if let Some(n) = object_name(name) {
            push_unique(&mut self.targets, n);
        }
    }

    fn factor_target(&mut self, f: &TableFactor) {
        if let TableFactor::Table { name, .. } = f {
            self.target(name);
        }
    }
}

impl Visitor for Walker {
    type Break = ();

    fn pre_visit_statement(&mut self, s: &Statement) -> ControlFlow<()> {
        match s {
            Statement::Query(_) => {}
            Statement::Insert(i) => {
                self.write = true;
                match &i.table {
                    TableObject::TableName(n) => self.target(n),
                    TableObject::TableFunction(_) | TableObject::TableQuery(_) => {
                        return self.refuse("`INSERT INTO` a function or a query is not PostgreSQL".into());
                    }
                }
            }
            Statement::Update(u) => {
                self.write = true;
                self.factor_target(&u.table.relation);
            }
            Statement::Delete(d) => {
                self.write = true;
                let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &d.from;
                for t in from {
                    self.factor_target(&t.relation);
                }
                for n in &d.tables {
                    self.target(n);
                }
            }
            Statement::Merge(m) => {
                self.write = true;
                self.factor_target(&m.table);
            }
            other => {
                let text = other.to_string();
                let (first, second) = first_words(&text);
                return self.refuse(format!(
                    "holds a nested statement: {}",
                    refused_statement(&first.unwrap_or_default(), second.as_deref())
                ));
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &ast::Query) -> ControlFlow<()> {
        if matches!(*q.body, SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_)) {
            self.write = true;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
        if s.into.is_some() {
            return self.refuse("`SELECT ... INTO` creates a table: DDL is never run".into());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<()> {
        match t {
            TableFactor::Table { name, args: Some(_), .. } | TableFactor::Function { name, .. } => {
                self.call(name, None)
            }
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        match e {
            Expr::Function(f) => {
                // `pg_sleep(...)` and `set_config(...)` have their arguments checked.
                return self.call(&f.name, Some(&f.args));
            }
            Expr::BinaryOp { op, .. } => match op {
                BinaryOperator::PGCustomBinaryOperator(parts) => {
                    let (schema, op) = match parts.as_slice() {
                        [.., s, o] => (Some(lex::fold_ident(s, false)), o.clone()),
                        [o] => (None, o.clone()),
                        [] => return ControlFlow::Continue(()),
                    };
                    push_unique(&mut self.operators, Name::new(schema, op, false));
                }
                BinaryOperator::Custom(s) => push_unique(&mut self.operators, Name::new(None, s.clone(), false)),
                _ => {}
            },
            // Regular functions in PostgreSQL, resolved on the search path, that sqlparser reads
            // as syntax of their own.
            Expr::Ceil { .. } => push_unique(&mut self.functions, Name::new(None, "ceil".into(), false)),
            Expr::Floor { .. } => push_unique(&mut self.functions, Name::new(None, "floor".into(), false)),
            Expr::Cast { data_type, .. } => {
                let t = match data_type {
                    DataType::Custom(n, _) => object_name(n).map(|n| n.name),
                    other => other.to_string().split(['(', ' ', '[']).next().map(str::to_ascii_lowercase),
                };
                if let Some(t) = t {
                    push_unique(&mut self.cast_types, t);
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// A function of the target's catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// `pg_proc.provolatile`: `i`, `s` or `v`.
    pub volatility: char,
    /// `pg_language.lanname`.
    pub language: String,
    /// `pg_proc.prosrc` for `sql` and `plpgsql` functions.
    pub body: Option<String>,
    /// For a C or `internal` function: the symbol it runs (`prosrc`).
    pub symbol: Option<String>,
    /// For an aggregate: its support functions (transition, final, combine, serial, moving
    /// ones). CREATE AGGREGATE records every aggregate as IMMUTABLE, whatever they do.
    pub support: Vec<u32>,
}

impl Proc {
    fn display(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

/// Whether one resolved function may run: `Err` holds the reason.
pub fn judge(p: &Proc, allow_writes: bool) -> Result<(), String> {
    if let Some(why) = never(&p.name) {
        return Err(format!("`{}()`: {why}, and a rollback does not undo that", p.display()));
    }
    // A C or internal function under another name: its symbol says what it is.
    if let Some(symbol) = &p.symbol
        && let Some(why) = never(symbol)
    {
        return Err(format!("`{}()`, which is `{symbol}` under another name: {why}", p.display()));
    }
    if matches!(p.volatility, 'i' | 's') {
        return Ok(());
    }
    if p.schema == "pg_catalog" {
        if REVIEWED.contains(&p.name.as_str()) {
            return Ok(());
        }
        return Err(format!(
            "`{}()`, a VOLATILE built-in that is not on dbwarden's reviewed list of functions whose effects a rollback undoes",
            p.display()
        ));
    }
    if allow_writes {
        return Ok(());
    }
    Err(format!(
        "`{}()`, which is VOLATILE (not IMMUTABLE or STABLE) and may write; run with --allow-writes to measure it, on a copy",
        p.display()
    ))
}

/// An operator of the target's catalog and the function behind it.
#[derive(Debug, Clone)]
pub struct Operator {
    pub schema: String,
    pub name: String,
    pub function: Proc,
}

/// A cast through a function.
#[derive(Debug, Clone)]
pub struct Cast {
    pub source: String,
    pub target: String,
    /// `pg_cast.castcontext`: `e` explicit, `a` assignment, `i` implicit.
    pub context: char,
    pub function: Proc,
}

/// What the checks need from the target. The runner answers from `pg_proc`, `pg_operator`,
/// `pg_cast` and `current_schemas(true)`; tests answer from a table.
pub trait Catalog {
    /// Every function with one of these names, in any schema.
    fn procs(&mut self, names: &[String]) -> Result<Vec<Proc>, String>;
    /// The functions with these OIDs (an aggregate's support functions).
    fn procs_by_oid(&mut self, oids: &[u32]) -> Result<Vec<Proc>, String>;
    /// The schemas an unqualified name is looked up in, `pg_catalog` included.
    fn search_path(&mut self) -> Result<Vec<String>, String>;
    /// Unquoted words that are syntax before `(`.
    fn syntax_keywords(&mut self) -> Result<HashSet<String>, String>;
    /// Operators whose function is not IMMUTABLE or STABLE, or is one of [`NEVER`].
    fn risky_operators(&mut self) -> Result<Vec<Operator>, String>;
    /// Casts whose function is not IMMUTABLE or STABLE, or is one of [`NEVER`].
    fn risky_casts(&mut self) -> Result<Vec<Cast>, String>;
    /// Functions outside `pg_catalog` declared IMMUTABLE or STABLE: the planner may run them
    /// while it plans (constant folding, estimates, operator classes).
    fn planner_callable(&mut self) -> Result<Vec<Proc>, String>;
    /// Every domain outside `pg_catalog` with the text of each check it enforces (its base
    /// domains' included).
    fn domain_checks(&mut self) -> Result<Vec<(String, String)>, String>;
}

/// A refusal (printed) or a database error while checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    Refused(String),
    Failed(String),
}

impl From<String> for Denied {
    fn from(e: String) -> Self {
        Self::Failed(e)
    }
}

fn prefix(d: Denied, text: &str) -> Denied {
    match d {
        Denied::Refused(why) => Denied::Refused(format!("{text}{why}")),
        f @ Denied::Failed(_) => f,
    }
}

/// How deep function bodies are followed.
const BODY_DEPTH: usize = 4;

/// Checks functions against the catalog.
pub struct Checker<'c, C: Catalog> {
    pub catalog: &'c mut C,
    pub allow_writes: bool,
    /// Mode the server lexes in (for function bodies and plan expressions).
    pub mode: Mode,
    cache: HashMap<String, Vec<Proc>>,
}

impl<'c, C: Catalog> Checker<'c, C> {
    pub fn new(catalog: &'c mut C, allow_writes: bool, mode: Mode) -> Self {
        Self { catalog, allow_writes, mode, cache: HashMap::new() }
    }

    fn load(&mut self, names: &[&str]) -> Result<(), String> {
        let missing: Vec<String> =
            names.iter().filter(|n| !self.cache.contains_key(**n)).map(|n| (*n).to_owned()).collect();
        if missing.is_empty() {
            return Ok(());
        }
        for m in &missing {
            self.cache.insert(m.clone(), Vec::new());
        }
        for p in self.catalog.procs(&missing)? {
            self.cache.entry(p.name.clone()).or_default().push(p);
        }
        Ok(())
    }

    /// The functions a call may resolve to: every candidate on the search path (or in the
    /// named schema). Overloads are not told apart: all must pass.
    fn candidates(&mut self, call: &Name) -> Result<Vec<Proc>, String> {
        self.load(&[call.name.as_str()])?;
        let path = self.catalog.search_path()?;
        Ok(self.cache[&call.name]
            .iter()
            .filter(|p| match &call.schema {
                Some(s) => *s == p.schema,
                None => path.contains(&p.schema),
            })
            .cloned()
            .collect())
    }

    /// The loaded functions a call may name in any schema (its own schema when it is qualified):
    /// for text that may run under another search path (bodies, domain checks).
    fn in_any_schema(&self, call: &Name) -> Vec<Proc> {
        self.cache
            .get(&call.name)
            .into_iter()
            .flatten()
            .filter(|q| call.schema.as_ref().is_none_or(|s| *s == q.schema))
            .cloned()
            .collect()
    }

    /// Checks the calls; `allow_nextval` lets `nextval` through (an analysed write's column
    /// defaults, whose consumption the runner reports).
    pub fn check_calls(&mut self, calls: &[Name], allow_nextval: bool, origin: &str) -> Result<(), Denied> {
        let syntax = self.catalog.syntax_keywords()?;
        for call in calls {
            if call.schema.is_none()
                && !call.quoted
                && (syntax.contains(&call.name) || VALUE_FUNCTIONS.contains(&call.name.as_str()))
            {
                continue;
            }
            if allow_nextval && call.name == "nextval" {
                continue;
            }
            if let Some(why) = never(&call.name) {
                return Err(Denied::Refused(format!(
                    "{origin} calls `{call}()`: {why}, and a rollback does not undo that"
                )));
            }
            let found = self.candidates(call)?;
            if found.is_empty() {
                return Err(Denied::Refused(format!(
                    "{origin} calls `{call}()`, which the target's catalog does not have{}: dbwarden runs only functions it can check",
                    if call.schema.is_some() { "" } else { " on the search path" }
                )));
            }
            for p in &found {
                self.check_proc(p).map_err(|e| prefix(e, &format!("{origin} calls ")))?;
            }
        }
        Ok(())
    }

    /// One resolved function: [`judge`], then its body, and an aggregate's support functions
    /// the same way. The reason reads after "calls ".
    fn check_proc(&mut self, p: &Proc) -> Result<(), Denied> {
        judge(p, self.allow_writes).map_err(Denied::Refused)?;
        if !p.support.is_empty() {
            for s in self.catalog.procs_by_oid(&p.support)? {
                self.check_proc(&s)
                    .map_err(|e| prefix(e, &format!("the aggregate `{}()`, which calls ", p.display())))?;
            }
        }
        let mut seen = HashSet::new();
        self.check_body(p, 0, &mut seen).map_err(|e| prefix(e, &format!("`{}()`, whose body ", p.display())))
    }

    /// A `sql` or `plpgsql` user function's body: the functions it names (read from its text,
    /// a best effort: dynamic SQL is not seen) must not be [`NEVER`] functions or unreviewed
    /// volatile built-ins, and the bodies of user functions it calls are followed in turn.
    fn check_body(&mut self, p: &Proc, depth: usize, seen: &mut HashSet<u32>) -> Result<(), Denied> {
        if p.schema == "pg_catalog" || depth > BODY_DEPTH || !seen.insert(p.oid) {
            return Ok(());
        }
        // An aggregate runs its support functions.
        if !p.support.is_empty() {
            for s in self.catalog.procs_by_oid(&p.support)? {
                self.body_callee(&s, depth, seen)?;
            }
        }
        let Some(body) = &p.body else { return Ok(()) };
        let refs = expression_refs(body, self.mode, false);
        let names: Vec<&str> = refs.calls.iter().map(|c| c.name.as_str()).collect();
        self.load(&names)?;
        for call in &refs.calls {
            if let Some(why) = never(&call.name) {
                return Err(Denied::Refused(format!("calls `{call}()`: {why}")));
            }
            // Every schema, not only the query's search path: a function may run under a
            // `SET search_path` of its own, or set one.
            for q in self.in_any_schema(call) {
                self.body_callee(&q, depth, seen)?;
            }
        }
        // The operators and casts a body uses run their functions too.
        for r in self.catalog.risky_operators()? {
            if refs.operators.iter().any(|o| o.name == r.name) {
                self.body_callee(&r.function, depth, seen)
                    .map_err(|e| prefix(e, &format!("uses the operator `{}.{}`, which ", r.schema, r.name)))?;
            }
        }
        for c in self.catalog.risky_casts()? {
            if c.context != 'e' || refs.words.contains(&c.target) {
                self.body_callee(&c.function, depth, seen)
                    .map_err(|e| prefix(e, &format!("may cast to `{}`, which ", c.target)))?;
            }
        }
        Ok(())
    }

    /// Whether any of the calls may resolve to a VOLATILE function outside `pg_catalog`.
    pub fn calls_volatile_user(&mut self, calls: &[Name]) -> Result<bool, Denied> {
        for call in calls {
            if self.candidates(call)?.iter().any(|p| p.schema != "pg_catalog" && p.volatility == 'v') {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A function the planner may run, whose body reaches a function that may not run: the
    /// planner could run it while planning any query, before the plan is seen, so nothing is run
    /// on such a database. The reason, or `None`.
    pub fn database_hazard(&mut self) -> Result<Option<String>, Denied> {
        for p in self.catalog.planner_callable()? {
            let mut seen = HashSet::new();
            match self.body_callee(&p, 0, &mut seen) {
                Ok(()) => {}
                Err(Denied::Refused(why)) => {
                    let declared = if p.volatility == 'i' { "IMMUTABLE" } else { "STABLE" };
                    return Ok(Some(format!(
                        "the database defines `{}()`, declared {declared}, which {why}; PostgreSQL may run such a function while it plans any query, before dbwarden sees the plan, so no query is run on this database (declare it VOLATILE, or fix it)",
                        p.display()
                    )));
                }
                Err(f) => return Err(f),
            }
        }
        Ok(None)
    }

    /// Domains named in `words` (casts to them run their checks) whose checks reach a function
    /// that may not run.
    pub fn check_domains(&mut self, words: &HashSet<String>, origin: &str) -> Result<(), Denied> {
        for (domain, check) in self.catalog.domain_checks()? {
            if !words.contains(&domain) {
                continue;
            }
            let refs = expression_refs(&check, self.mode, false);
            let names: Vec<&str> = refs.calls.iter().map(|c| c.name.as_str()).collect();
            self.load(&names)?;
            for call in &refs.calls {
                for q in self.in_any_schema(call) {
                    let at = format!("{origin} casts to the domain `{domain}`, whose check calls ");
                    judge(&q, self.allow_writes).map_err(|why| Denied::Refused(format!("{at}{why}")))?;
                    self.body_callee(&q, 0, &mut HashSet::new())
                        .map_err(|e| prefix(e, &format!("{at}`{}()`, which ", q.display())))?;
                }
            }
        }
        Ok(())
    }

    /// A function a body calls: never one of [`NEVER`] (by name or symbol), nor an unreviewed
    /// VOLATILE built-in; a user function's own body is followed.
    fn body_callee(&mut self, q: &Proc, depth: usize, seen: &mut HashSet<u32>) -> Result<(), Denied> {
        if let Some(why) = never(&q.name).or_else(|| q.symbol.as_deref().and_then(never)) {
            return Err(Denied::Refused(format!("calls `{}()`: {why}", q.display())));
        }
        if q.schema == "pg_catalog" {
            if q.volatility == 'v' && !REVIEWED.contains(&q.name.as_str()) {
                return Err(Denied::Refused(format!(
                    "calls `{}()`, a VOLATILE built-in not on dbwarden's reviewed list",
                    q.display()
                )));
            }
            return Ok(());
        }
        self.check_body(q, depth + 1, seen)
    }

    /// Checks the operators used (by symbol, with their schema where written) against the
    /// catalog's risky operators on the search path.
    pub fn check_operators(&mut self, ops: &[Name], origin: &str) -> Result<(), Denied> {
        let risky = self.catalog.risky_operators()?;
        if risky.is_empty() {
            return Ok(());
        }
        let path = self.catalog.search_path()?;
        for op in ops {
            for r in &risky {
                let visible = match &op.schema {
                    Some(s) => *s == r.schema,
                    None => path.contains(&r.schema),
                };
                if visible && r.name == op.name {
                    self.check_proc(&r.function).map_err(|e| {
                        prefix(e, &format!("{origin} uses the operator `{}.{}`, which calls ", r.schema, r.name))
                    })?;
                }
            }
        }
        Ok(())
    }

    /// Casts through functions that may not run: implicit and assignment ones could be applied
    /// anywhere, so any of them refuses the query; explicit ones when a named type is their target.
    pub fn check_casts(&mut self, types: &HashSet<String>, origin: &str) -> Result<(), Denied> {
        for c in self.catalog.risky_casts()? {
            if c.context != 'e' || types.contains(&c.target) {
                let kind = match c.context {
                    'e' => "explicit",
                    'a' => "assignment",
                    _ => "implicit",
                };
                self.check_proc(&c.function).map_err(|e| {
                    prefix(
                        e,
                        &format!(
                            "{origin} may apply the {kind} cast from `{}` to `{}`, which calls ",
                            c.source, c.target
                        ),
                    )
                })?;
            }
        }
        Ok(())
    }
}

/// Functions, operators and words found in deparsed expressions or function bodies.
#[derive(Debug, Default, Clone)]
pub struct ExprRefs {
    pub calls: Vec<Name>,
    pub operators: Vec<Name>,
    /// Every identifier, folded (for cast targets).
    pub words: HashSet<String>,
}

/// Words that may continue a type name after `::` (`character varying`, `double precision`,
/// `timestamp(3) with time zone`, `interval day to second`).
const TYPE_WORDS: &[&str] = &[
    "varying",
    "precision",
    "with",
    "without",
    "time",
    "zone",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "to",
];

fn is_ident(t: &Token) -> bool {
    matches!(t.kind, Kind::Word | Kind::QuotedIdent)
}

fn punct(text: &str, t: Option<&Token>, p: &str) -> bool {
    t.is_some_and(|t| t.kind == Kind::Punct && &text[t.range.clone()] == p)
}

/// Index past the type name starting at `j` (after `::`).
fn skip_type(text: &str, toks: &[Token], mut j: usize) -> usize {
    if !toks.get(j).is_some_and(is_ident) {
        return j;
    }
    j += 1;
    while punct(text, toks.get(j), ".") && toks.get(j + 1).is_some_and(is_ident) {
        j += 2;
    }
    loop {
        if let Some(t) = toks.get(j)
            && t.kind == Kind::Word
            && TYPE_WORDS.contains(&text[t.range.clone()].to_ascii_lowercase().as_str())
        {
            j += 1;
        } else if punct(text, toks.get(j), "(") {
            // A type modifier: numbers and commas only.
            let mut k = j + 1;
            while toks
                .get(k)
                .is_some_and(|t| t.kind == Kind::Number || (t.kind == Kind::Punct && &text[t.range.clone()] == ","))
            {
                k += 1;
            }
            if !punct(text, toks.get(k), ")") {
                return j;
            }
            j = k + 1;
        } else if punct(text, toks.get(j), "[") {
            let mut k = j + 1;
            if toks.get(k).is_some_and(|t| t.kind == Kind::Number) {
                k += 1;
            }
            if !punct(text, toks.get(k), "]") {
                return j;
            }
            j = k + 1;
        } else {
            return j;
        }
    }
}

/// The calls and operators in a deparsed expression (`adjacent`: a call's `(` follows its name
/// with no space, as the server prints them; `FILTER (`, `OVER (`, `ANY (` are then not calls)
/// or in a function body (`adjacent` false: any name before `(`).
pub fn expression_refs(text: &str, mode: Mode, adjacent: bool) -> ExprRefs {
    let mut out = ExprRefs::default();
    expression_refs_into(text, mode, adjacent, &mut out);
    out
}

fn expression_refs_into(text: &str, mode: Mode, adjacent: bool, out: &mut ExprRefs) {
    let toks: Vec<Token> = lex::tokens(text, mode).into_iter().filter(|t| t.kind != Kind::Comment).collect();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        match t.kind {
            Kind::Cast => {
                // A type name, not calls; its words count (explicit casts to it).
                let end = skip_type(text, &toks, i + 1);
                out.words.extend(toks[i + 1..end].iter().filter_map(|t| lex::ident(text, t)));
                i = end.max(i + 1);
                continue;
            }
            Kind::Operator => {
                push_unique(&mut out.operators, Name::new(None, text[t.range.clone()].to_owned(), false));
            }
            Kind::Word | Kind::QuotedIdent => {
                let Some(name) = lex::ident(text, t) else {
                    i += 1;
                    continue;
                };
                out.words.insert(name.clone());
                let next = toks.get(i + 1);
                let opens = punct(text, next, "(") && (!adjacent || next.is_some_and(|n| n.range.start == t.range.end));
                let qualified = i >= 2 && punct(text, toks.get(i - 1), ".") && is_ident(&toks[i - 2]);
                if t.kind == Kind::Word && name == "operator" && opens && !qualified {
                    // OPERATOR(schema.op)
                    let (s, o) = (toks.get(i + 2), toks.get(i + 4));
                    if let (Some(s), Some(o)) = (s, o)
                        && is_ident(s)
                        && punct(text, toks.get(i + 3), ".")
                        && o.kind == Kind::Operator
                        && punct(text, toks.get(i + 5), ")")
                    {
                        push_unique(
                            &mut out.operators,
                            Name::new(lex::ident(text, s), text[o.range.clone()].to_owned(), false),
                        );
                        i += 6;
                        continue;
                    }
                    if let Some(o) = toks.get(i + 2)
                        && o.kind == Kind::Operator
                        && punct(text, toks.get(i + 3), ")")
                    {
                        push_unique(&mut out.operators, Name::new(None, text[o.range.clone()].to_owned(), false));
                        i += 4;
                        continue;
                    }
                }
                if opens {
                    let schema = if qualified { lex::ident(text, &toks[i - 2]) } else { None };
                    push_unique(&mut out.calls, Name::new(schema, name, t.kind == Kind::QuotedIdent));
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// Keys of `EXPLAIN (FORMAT JSON)` whose values are names, not expressions.
const NAME_KEYS: &[&str] = &[
    "Node Type",
    "Relation Name",
    "Schema",
    "Alias",
    "Index Name",
    "CTE Name",
    "Tuplestore Name",
    "Function Name",
    "Subplan Name",
    "Trigger Name",
    "Constraint Name",
    "Conflict Arbiter Indexes",
    "Strategy",
    "Partial Mode",
    "Parent Relationship",
    "Scan Direction",
    "Join Type",
    "Operation",
    "Sort Method",
    "Sort Space Type",
    "Command",
    "Conflict Resolution",
    "Sampling Method",
];

/// Every function, operator and word of a `EXPLAIN (VERBOSE, FORMAT JSON)` plan: the
/// expressions the server will evaluate, with views, rules and row-level security expanded.
/// A Function Scan's `Function Name` with its `Schema` counts as a call.
pub fn plan_refs(plan: &Value, mode: Mode) -> ExprRefs {
    let mut out = ExprRefs::default();
    walk_plan(plan, mode, &mut out);
    out
}

fn walk_plan(v: &Value, mode: Mode, out: &mut ExprRefs) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(f)) = m.get("Function Name") {
                let schema = m.get("Schema").and_then(Value::as_str).map(str::to_owned);
                push_unique(&mut out.calls, Name::new(schema, f.clone(), true));
            }
            for (k, v) in m {
                if !NAME_KEYS.contains(&k.as_str()) {
                    walk_plan(v, mode, out);
                }
            }
        }
        Value::Array(a) => {
            for v in a {
                walk_plan(v, mode, out);
            }
        }
        Value::String(s) => expression_refs_into(s, mode, true, out),
        _ => {}
    }
}

/// When the server does not use standard-conforming strings, a text whose tokens differ between
/// the two readings is refused: what dbwarden checked would not be what the server runs.
pub fn reads_alike(sql: &str, server: Mode) -> bool {
    server.standard_conforming_strings || lex::tokens(sql, server) == lex::tokens(sql, Mode::default())
}

/// The `$n` parameters a query uses (outside literals and comments).
pub fn params(sql: &str) -> Vec<usize> {
    lex::tokens(sql, Mode::default())
        .into_iter()
        .filter(|t| t.kind == Kind::Param)
        .filter_map(|t| sql[t.range.start + 1..t.range.end].parse().ok())
        .collect()
}

/// A token of a query for [`compared_columns`]: words lower-cased, punctuation as is, literals
/// and comments dropped.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Punct(char),
    Other,
    Param(usize),
}

fn simple_tokens(sql: &str) -> Vec<Tok> {
    lex::tokens(sql, Mode::default())
        .into_iter()
        .filter(|t| t.kind != Kind::Comment)
        .map(|t| {
            let s = &sql[t.range.clone()];
            match t.kind {
                Kind::Word => Tok::Word(s.to_ascii_lowercase()),
                Kind::QuotedIdent => lex::ident(sql, &t).map_or(Tok::Other, Tok::Quoted),
                Kind::Param => s[1..].parse().map_or(Tok::Other, Tok::Param),
                Kind::Punct if s == ".." => Tok::Other,
                Kind::Punct | Kind::Operator => s.chars().next().map_or(Tok::Other, Tok::Punct),
                _ => Tok::Other,
            }
        })
        .collect()
}

fn word_of(t: Option<&Tok>) -> Option<&str> {
    match t {
        Some(Tok::Word(w)) => Some(w),
        _ => None,
    }
}

/// For `--sample-values`: the tables a query reads (after `FROM`, `JOIN`, `UPDATE`, `INTO`) and,
/// per `$n`, the column it is compared with (`col = $n`, `$n < t.col`, `col IN ($n, ...)`,
/// `col BETWEEN $n AND $m`, `col LIKE $n`).
pub fn compared_columns(sql: &str) -> (Vec<String>, HashMap<usize, String>) {
    let toks = simple_tokens(sql);
    let mut tables = Vec::new();
    let mut cols = HashMap::new();
    let is_op = |t: Option<&Tok>| {
        matches!(t, Some(Tok::Punct('=' | '<' | '>' | '!')))
            || matches!(word_of(t), Some("like" | "ilike" | "in" | "between" | "and"))
            || t == Some(&Tok::Punct('('))
            || t == Some(&Tok::Punct(','))
    };
    for (i, t) in toks.iter().enumerate() {
        if let Some(w) = word_of(Some(t))
            && matches!(w, "from" | "join" | "update" | "into")
            && let Some(Tok::Word(name) | Tok::Quoted(name)) = toks.get(i + 1)
        {
            // `schema.table`: keep the table.
            let name = match (toks.get(i + 2), toks.get(i + 3)) {
                (Some(Tok::Punct('.')), Some(Tok::Word(n) | Tok::Quoted(n))) => n.clone(),
                _ => name.clone(),
            };
            if !tables.contains(&name) {
                tables.push(name);
            }
        }
        let Tok::Param(n) = t else { continue };
        // Walk back over operators, `IN (`, commas and other parameters to the column.
        let mut j = i;
        while j > 0 && (is_op(toks.get(j - 1)) || matches!(toks.get(j - 1), Some(Tok::Param(_)))) {
            j -= 1;
        }
        let before = j.checked_sub(1).and_then(|k| toks.get(k));
        let col = match before {
            Some(Tok::Word(w) | Tok::Quoted(w)) if j != i => Some(w.clone()),
            _ => {
                // `$n = col`.
                let mut k = i + 1;
                while is_op(toks.get(k)) {
                    k += 1;
                }
                match (toks.get(k), toks.get(k + 1), toks.get(k + 2)) {
                    (Some(Tok::Word(_)), Some(Tok::Punct('.')), Some(Tok::Word(c))) => Some(c.clone()),
                    (Some(Tok::Word(c) | Tok::Quoted(c)), _, _) if k != i + 1 => Some(c.clone()),
                    _ => None,
                }
            }
        };
        if let Some(c) = col {
            cols.entry(*n).or_insert(c);
        }
    }
    (tables, cols)
}

#[cfg(test)]
mod tests;
