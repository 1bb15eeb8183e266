//! What the runner may do with a captured query: measure it, plan it only, or refuse it.
//!
//! This is the static half of the safety contract (docs/explain.md); the runner adds the dynamic
//! half: every query in `BEGIN ... ROLLBACK`, `SET TRANSACTION READ ONLY` unless `--allow-writes`,
//! statement and lock timeouts, the volatility of every called function looked up on the target,
//! and `DISCARD ALL` after each query.

use std::collections::HashMap;

use crate::parse::split;

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

/// The verdict on one query text.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub class: Class,
    /// Functions the query calls (`schema` when qualified), lower-cased, deduplicated.
    pub functions: Vec<(Option<String>, String)>,
}

/// Functions whose effects a rollback cannot undo (or that act outside the transaction): refused
/// whatever the options. Prefix matches end with `*`.
const DENIED: &[&str] = &[
    "nextval",
    "setval",
    "dblink*",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_advisory_unlock*",
    "lo_*",
    "loread",
    "lowrite",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_promote",
    "pg_create_physical_replication_slot",
    "pg_create_logical_replication_slot",
    "pg_drop_replication_slot",
    "pg_copy_*_replication_slot",
    "pg_replication_origin_*",
    "pg_logical_emit_message",
    "pg_logical_slot_get_*",
    "pg_stat_reset*",
    "pg_notify",
    "pg_file_write",
    "pg_file_rename",
    "pg_file_unlink",
    "pg_file_sync",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_*",
    "pg_sleep_for",
    "pg_sleep_until",
    "pg_import_system_collations",
];

fn denied(name: &str) -> bool {
    DENIED.iter().any(|d| match d.split_once('*') {
        Some((a, b)) => name.len() >= a.len() + b.len() && name.starts_with(a) && name.ends_with(b),
        None => name == *d,
    })
}

/// A token of a query: words lower-cased, punctuation as is, literals and comments dropped
/// (a number is kept as `#` with its value, for `pg_sleep`).
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Punct(char),
    Number(f64),
    Str,
    /// `$n`.
    Param(usize),
}

fn tokens(sql: &str) -> Vec<Tok> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'\'' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\\' && i > 0 {
                        // E'' strings: a backslash escapes the next byte; harmless for others.
                        i += 1;
                    } else if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    i += 1;
                }
                i += 1;
                out.push(Tok::Str);
            }
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += 1;
                }
                out.push(Tok::Quoted(sql[start..i.min(b.len())].to_owned()));
                i += 1;
            }
            b'$' if b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_' || *c == b'$') => {
                // A dollar-quoted string: $tag$ ... $tag$.
                let end_tag = sql[i + 1..].find('$').map(|p| i + 1 + p);
                match end_tag {
                    Some(e) => {
                        let tag = &sql[i..=e];
                        let body = e + 1;
                        let close = sql[body..].find(tag).map_or(b.len(), |p| body + p + tag.len());
                        i = close;
                        out.push(Tok::Str);
                    }
                    None => i += 1,
                }
            }
            b'$' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                out.push(sql[start..i].parse().map_or(Tok::Str, Tok::Param));
            }
            c if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                out.push(Tok::Number(sql[start..i].parse().unwrap_or(f64::MAX)));
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80) {
                    i += 1;
                }
                out.push(Tok::Word(sql[start..i].to_ascii_lowercase()));
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                let ch = sql[i..].chars().next().unwrap_or(' ');
                out.push(Tok::Punct(ch));
                i += ch.len_utf8();
            }
        }
    }
    out
}

fn word(t: Option<&Tok>) -> Option<&str> {
    match t {
        Some(Tok::Word(w)) => Some(w),
        _ => None,
    }
}

/// Words that may stand before `(` without being a function call.
const NOT_FUNCTIONS: &[&str] = &[
    "in",
    "any",
    "all",
    "some",
    "exists",
    "values",
    "as",
    "and",
    "or",
    "not",
    "over",
    "filter",
    "within",
    "on",
    "using",
    "from",
    "select",
    "where",
    "join",
    "lateral",
    "cast",
    "coalesce",
    "nullif",
    "greatest",
    "least",
    "row",
    "array",
    "case",
    "when",
    "then",
    "else",
    "into",
    "by",
    "with",
    "between",
    "is",
    "like",
    "ilike",
    "similar",
    "escape",
    "distinct",
    "union",
    "intersect",
    "except",
    "limit",
    "offset",
    "fetch",
    "returning",
    "set",
    "table",
    "extract",
    "position",
    "substring",
    "overlay",
    "trim",
    "grouping",
    "cube",
    "rollup",
    "sets",
    "partition",
    "order",
    "group",
    "having",
    "window",
    "rows",
    "range",
    "groups",
    "numeric",
    "decimal",
    "varchar",
    "char",
    "character",
    "varying",
    "timestamp",
    "timestamptz",
    "time",
    "interval",
    "bit",
    "float",
    "conflict",
    "update",
    "do",
    "if",
    "xmlelement",
    "xmlforest",
    "xmlattributes",
    "json_object",
    "json_array",
    "only",
    "tablesample",
    "repeatable",
    "recursive",
    "materialized",
    "search",
    "cycle",
    "matched",
    "merge",
    "default",
    "user",
    "current_user",
    "session_user",
];

/// Statements refused outright, by first word.
fn refused_statement(first: &str, second: Option<&str>) -> Option<String> {
    let what = match first {
        "create" | "alter" | "drop" | "truncate" | "grant" | "revoke" | "comment" | "security" | "refresh"
        | "import" | "reassign" | "cluster" | "reindex" | "vacuum" | "analyze" | "analyse" | "checkpoint" | "load" => {
            if matches!(first, "cluster" | "reindex" | "vacuum" | "analyze" | "analyse" | "checkpoint") {
                "maintenance commands"
            } else {
                "DDL"
            }
        }
        "begin" | "start" | "commit" | "end" | "rollback" | "abort" | "savepoint" | "release" | "prepare"
        | "deallocate" | "execute" | "declare" | "fetch" | "move" | "close" | "discard" => {
            if first == "prepare" && second == Some("transaction") || first != "prepare" && first != "execute" {
                "transaction and session control"
            } else {
                "prepared statements"
            }
        }
        "copy" => "COPY",
        "do" => "DO blocks",
        "call" => "CALL",
        "set" | "reset" | "show" => "SET, RESET and SHOW",
        "lock" => "LOCK",
        "notify" | "listen" | "unlisten" => "NOTIFY and LISTEN",
        "explain" => "EXPLAIN (the runner adds its own)",
        _ => return None,
    };
    Some(format!("`{}` is not run: {what} never is", first.to_ascii_uppercase()))
}

/// Classifies one captured query. `budget_ms` bounds `pg_sleep`.
pub fn classify(sql: &str, budget_ms: f64) -> Verdict {
    let refuse = |why: String| Verdict { class: Class::Refused(why), functions: Vec::new() };
    let parts = split::split(sql);
    let statements = parts.stmts.iter().filter(|s| !sql[s.range.clone()].trim().trim_matches(';').trim().is_empty());
    if statements.count() > 1 {
        return refuse("the text holds several statements; the runner runs exactly one per round trip".into());
    }
    let toks = tokens(sql);
    let first = toks.iter().find(|t| !matches!(t, Tok::Punct('('))).and_then(|t| word(Some(t)));
    let Some(first) = first else {
        return refuse("not a query".into());
    };
    let second = toks.iter().filter_map(|t| word(Some(t))).nth(1);
    if let Some(why) = refused_statement(first, second) {
        return refuse(why);
    }
    let mut write = matches!(first, "insert" | "update" | "delete" | "merge");
    if !write && !matches!(first, "select" | "with" | "values" | "table") {
        return refuse(format!("`{}` is not a query the runner measures", first.to_ascii_uppercase()));
    }
    let mut functions: Vec<(Option<String>, String)> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let prev = if i > 0 { toks.get(i - 1) } else { None };
        let Some(w) = word(Some(t)) else { continue };
        // A data-modifying CTE: `AS (INSERT|UPDATE|DELETE|MERGE ...`.
        if matches!(w, "insert" | "update" | "delete" | "merge") && prev == Some(&Tok::Punct('(')) {
            write = true;
        }
        // `SELECT ... INTO new_table` creates a table.
        if w == "into"
            && first != "insert"
            && first != "merge"
            && !toks[..i].iter().any(|t| word(Some(t)) == Some("insert"))
        {
            return refuse("`SELECT ... INTO` creates a table: DDL is never run".into());
        }
        if toks.get(i + 1) != Some(&Tok::Punct('(')) || NOT_FUNCTIONS.contains(&w) {
            continue;
        }
        // `AS alias(col, ...)`, `INSERT INTO t (col, ...)`: not calls. (`FROM f(...)` is one.)
        if matches!(word(prev), Some("as" | "into" | "table")) {
            continue;
        }
        let schema = if prev == Some(&Tok::Punct('.')) {
            match i.checked_sub(2).and_then(|j| toks.get(j)) {
                Some(Tok::Word(s) | Tok::Quoted(s)) => Some(s.to_ascii_lowercase()),
                _ => None,
            }
        } else {
            None
        };
        if denied(w) {
            return refuse(format!("calls `{w}()`, whose effects a rollback does not undo"));
        }
        if w == "set_config" && !set_config_is_local(&toks[i + 1..]) {
            return refuse("calls `set_config(..., false)`, which changes the session beyond the rollback".into());
        }
        if w == "pg_sleep" {
            let secs = match toks.get(i + 2) {
                Some(Tok::Number(n)) if toks.get(i + 3) == Some(&Tok::Punct(')')) => *n,
                _ => f64::MAX,
            };
            if secs * 1000.0 > budget_ms {
                return refuse("calls `pg_sleep()` for longer than the budget".into());
            }
        }
        let f = (schema, w.to_owned());
        if !functions.contains(&f) {
            functions.push(f);
        }
    }
    if toks.iter().any(|t| word(Some(t)) == Some("program")) && first == "copy" {
        return refuse("`COPY ... PROGRAM` is never run".into());
    }
    Verdict { class: if write { Class::Write } else { Class::Read }, functions }
}

/// `set_config(name, value, true)`: the third argument at depth 1 is the literal `true`.
fn set_config_is_local(after: &[Tok]) -> bool {
    let mut depth = 0;
    let mut arg = 0;
    let mut third: Vec<&Tok> = Vec::new();
    for t in after {
        match t {
            Tok::Punct('(') => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            Tok::Punct(')') => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Tok::Punct(',') if depth == 1 => {
                arg += 1;
                continue;
            }
            _ => {}
        }
        if arg == 2 {
            third.push(t);
        }
    }
    matches!(third.as_slice(), [Tok::Word(w)] if w == "true")
}

/// The `$n` parameters a query uses (outside literals and comments).
pub fn params(sql: &str) -> Vec<usize> {
    tokens(sql).into_iter().filter_map(|t| if let Tok::Param(n) = t { Some(n) } else { None }).collect()
}

/// For `--sample-values`: the tables a query reads (after `FROM`, `JOIN`, `UPDATE`, `INTO`) and,
/// per `$n`, the column it is compared with (`col = $n`, `$n < t.col`, `col IN ($n, ...)`,
/// `col BETWEEN $n AND $m`, `col LIKE $n`).
pub fn compared_columns(sql: &str) -> (Vec<String>, HashMap<usize, String>) {
    let toks = tokens(sql);
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

fn word_of(t: Option<&Tok>) -> Option<&str> {
    word(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(sql: &str) -> Class {
        classify(sql, 50.0).class
    }

    #[test]
    fn reads_writes_and_refusals() {
        assert_eq!(class("SELECT * FROM t WHERE id = $1"), Class::Read);
        assert_eq!(class("with x as (select 1) select * from x"), Class::Read);
        assert_eq!(class("(SELECT 1) UNION (SELECT 2)"), Class::Read);
        assert_eq!(class("UPDATE t SET a = 1 WHERE id = 2"), Class::Write);
        assert_eq!(class("WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d"), Class::Write);
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
            "SELECT * INTO t2 FROM t",
            "EXPLAIN SELECT 1",
        ] {
            assert!(matches!(class(sql), Class::Refused(_)), "{sql}");
        }
        assert_eq!(class("SELECT pg_sleep(0.01)"), Class::Read);
        assert_eq!(class("SELECT set_config('a.b', 'c', true)"), Class::Read);
        assert_eq!(class("SELECT pg_advisory_xact_lock(1)"), Class::Read);
        assert_eq!(class("SELECT 'nextval(1)' AS x; "), Class::Read);
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

    #[test]
    fn functions_are_listed() {
        let v = classify("SELECT lower(email), app.score(p.id) FROM patients p WHERE x IN (1) AND now() > $1", 50.0);
        let names: Vec<_> = v
            .functions
            .iter()
            .map(|(s, n)| format!("{}{n}", s.as_deref().map_or(String::new(), |s| format!("{s}."))))
            .collect();
        assert_eq!(names, vec!["lower", "app.score", "now"]);
    }
}
