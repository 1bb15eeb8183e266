//! Helpers shared by rules: PostgreSQL semantics that several rules need.

use sqlparser::tokenizer::Token;

use crate::diagnostic::{Applicability, Edit};
use crate::explain::plan::{Node, condition_columns};
use crate::explain::{Facts, count, ms};
use crate::parse::ir::{AlterTable, AlterTableOp, ObjName, TypeName, quote_ident};
use crate::parse::tokens;
use crate::rules::{Report, RunsIn, StmtCtx};
use crate::source::layout::Tool;

/// The comment text contains the word PHI.
pub fn mentions_phi(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w.eq_ignore_ascii_case("phi"))
}

/// Functions called in an expression, lower-cased, without schema; also the SQL-standard
/// value functions written without parentheses (`current_timestamp`, ...).
pub fn function_calls(expr: &str) -> Vec<String> {
    let Ok(toks) = tokens::tokenize(expr) else { return Vec::new() };
    let sig: Vec<&Token> = toks.iter().map(|t| &t.token).filter(|t| !matches!(t, Token::Whitespace(_))).collect();
    let mut out = Vec::new();
    for (i, t) in sig.iter().enumerate() {
        if let Token::Word(w) = t {
            let name = crate::parse::lex::fold_ident(&w.value, false);
            let called = matches!(sig.get(i + 1), Some(Token::LParen));
            let bare = w.quote_style.is_none()
                && matches!(
                    name.as_str(),
                    "current_timestamp" | "current_date" | "current_time" | "localtime" | "localtimestamp"
                );
            if called || bare {
                out.push(name);
            }
        }
    }
    out
}

/// Volatile functions commonly used as column defaults. `now()`, `current_timestamp` and
/// friends are STABLE (evaluated once per statement), so PostgreSQL 11+ stores them without a
/// rewrite.
pub const VOLATILE_FUNCTIONS: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v7",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "random_normal",
    "gen_random_bytes",
    "setseed",
    "currval",
    "lastval",
    "gen_salt",
];

/// The first volatile function an expression calls, if any.
pub fn volatile_call(expr: &str) -> Option<String> {
    function_calls(expr).into_iter().find(|f| VOLATILE_FUNCTIONS.contains(&f.as_str()))
}

/// A column type reduced to a canonical base name and its modifiers.
#[derive(Debug, PartialEq, Eq)]
pub struct TypeShape {
    pub base: String,
    pub mods: Vec<i64>,
    pub array: bool,
}

/// Parses `character varying(10)`, `VARCHAR(255)`, `numeric(10,2)`, `int4[]`, ...
pub fn type_shape(t: &TypeName) -> TypeShape {
    let mut text = t.text.trim().to_ascii_lowercase();
    let array = text.ends_with("[]");
    while text.ends_with("[]") {
        text.truncate(text.len() - 2);
    }
    // `name(mods) suffix`, e.g. `TIMESTAMP(3) WITH TIME ZONE`.
    let (name, mods) = match (text.find('('), text.rfind(')')) {
        (Some(p), Some(q)) if q > p => {
            let mods = text[p + 1..q].split(',').filter_map(|m| m.trim().parse::<i64>().ok()).collect();
            let name = format!("{} {}", text[..p].trim(), text[q + 1..].trim());
            (name.trim().to_owned(), mods)
        }
        _ => (text.clone(), Vec::new()),
    };
    // `"char"` (the one-byte type) is not `char` (bpchar): keep its quotes.
    let name = name.rsplit('.').next().unwrap_or(&name).to_owned();
    let name = if name == "\"char\"" { name } else { name.trim_matches('"').to_owned() };
    let base = match name.as_str() {
        "character varying" | "varchar" => "varchar",
        "character" | "char" | "bpchar" => "char",
        "int" | "integer" | "int4" => "int4",
        "bigint" | "int8" => "int8",
        "smallint" | "int2" => "int2",
        "decimal" | "numeric" => "numeric",
        "bool" | "boolean" => "bool",
        "double precision" | "float8" => "float8",
        "real" | "float4" => "float4",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "timestamptz" | "timestamp with time zone" => "timestamptz",
        "time" | "time without time zone" => "time",
        "timetz" | "time with time zone" => "timetz",
        "varbit" | "bit varying" => "varbit",
        other => other,
    }
    .to_owned();
    TypeShape { base, mods, array }
}

/// Whether changing a column from `from` to `to` needs no table rewrite (and no index rebuild).
/// `None` when the old type is unknown. See the `alter-column-type` catalogue entry.
pub fn type_change_is_safe(from: &TypeName, to: &TypeName, using: bool) -> bool {
    if using {
        return false;
    }
    let (a, b) = (type_shape(from), type_shape(to));
    if a == b {
        return true;
    }
    // Arrays are rewritten unless the element type is unchanged (even varchar(10)[] -> text[]).
    if a.array || b.array {
        return false;
    }
    match (a.base.as_str(), b.base.as_str()) {
        // varchar(n) -> varchar(m >= n) or unbounded varchar/text: binary coercible, no rewrite.
        ("varchar", "varchar") => b.mods.is_empty() || (!a.mods.is_empty() && b.mods[0] >= a.mods[0]),
        ("varchar", "text") | ("text", "varchar") => b.mods.is_empty() || b.base == "text",
        ("varbit", "varbit") => b.mods.is_empty() || (!a.mods.is_empty() && b.mods[0] >= a.mods[0]),
        // numeric(p,s) -> numeric(p2 >= p, same s) or unconstrained numeric.
        ("numeric", "numeric") => {
            b.mods.is_empty()
                || (!a.mods.is_empty()
                    && b.mods[0] >= a.mods[0]
                    && a.mods.get(1).copied().unwrap_or(0) == b.mods.get(1).copied().unwrap_or(0))
        }
        // timestamp precision increase, or dropping it.
        ("timestamp", "timestamp")
        | ("timestamptz", "timestamptz")
        | ("interval", "interval")
        | ("time", "time")
        | ("timetz", "timetz") => b.mods.is_empty() || (!a.mods.is_empty() && b.mods[0] >= a.mods[0]),
        ("cidr", "inet") => true,
        _ => false,
    }
}

/// An edit of the statement inserting ` word` after the first occurrence of keyword `after`
/// (outside quotes and comments), e.g. `CONCURRENTLY` after `INDEX`. `None` when the keyword
/// is not found.
pub fn insert_after_keyword(ctx: &StmtCtx<'_>, after: &str, word: &str) -> Option<Edit> {
    let at = keyword_end(ctx.sql(), after)?;
    Some(Edit::insert(ctx.stmt.range.start + at, format!(" {word}")))
}

/// The end of the first occurrence of keyword `after` in `sql` (outside quotes and comments).
fn keyword_end(sql: &str, after: &str) -> Option<usize> {
    leading_keyword_end(sql, after).or_else(|| {
        let toks = tokens::tokenize(sql).ok()?;
        let sig = tokens::significant(sql, &toks, 0);
        sig.iter().find(|t| t.is_kw(after)).map(|t| t.range.end)
    })
}

/// The end of keyword `kw` when it is among the first plain words of `sql` (`CREATE UNIQUE
/// INDEX`, `DROP INDEX`), found without tokenizing; `None` when anything else (a quote, a
/// parenthesis) comes first, so that the caller tokenizes.
fn leading_keyword_end(sql: &str, kw: &str) -> Option<usize> {
    let b = sql.as_bytes();
    let mut i = 0;
    for _ in 0..8 {
        loop {
            match b.get(i)? {
                c if c.is_ascii_whitespace() => i += 1,
                b'-' if b.get(i + 1) == Some(&b'-') => i = crate::parse::lex::line_end(b, i),
                _ => break,
            }
        }
        if !b[i].is_ascii_alphabetic() {
            return None;
        }
        let start = i;
        while b.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
            i += 1;
        }
        if matches!(b.get(i), Some(c) if *c == b'$' || *c >= 0x80) {
            return None;
        }
        if sql[start..i].eq_ignore_ascii_case(kw) {
            return Some(i);
        }
    }
    None
}

/// Other tables a `CREATE TABLE` references with foreign keys.
pub fn referenced_tables(ct: &crate::parse::ir::CreateTable) -> Vec<crate::parse::ir::ObjName> {
    use crate::parse::ir::ConstraintKind;
    let me = crate::schema::QualName::resolve(&ct.name);
    let mut out: Vec<crate::parse::ir::ObjName> = ct
        .columns
        .iter()
        .filter_map(|c| c.references.as_ref().map(|fk| fk.ref_table.clone()))
        .chain(ct.constraints.iter().filter_map(|c| match &c.kind {
            ConstraintKind::ForeignKey(fk) => Some(fk.ref_table.clone()),
            _ => None,
        }))
        .filter(|t| !me.matches(t))
        .collect();
    out.dedup();
    out
}

/// Normalises a CHECK expression for comparison: lower case, no parentheses, quotes or extra spaces.
pub fn normalise_expr(e: &str) -> String {
    e.chars()
        .filter(|c| !matches!(c, '(' | ')' | '"'))
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `` `a`, `b` `` for messages.
pub(crate) fn columns(cols: &[String]) -> String {
    cols.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
}

/// Up to three items, then "and N more".
pub(crate) fn list(items: &[String]) -> String {
    let mut s = items.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
    if items.len() > 3 {
        s.push_str(&format!("; and {} more", items.len() - 3));
    }
    s
}

pub(crate) fn pct(part: f64, whole: f64) -> String {
    if whole <= 0.0 { "0%".into() } else { format!("{:.0}%", 100.0 * part / whole) }
}

/// A scan node that discards by its filter at least `min_rows` rows and at least `fraction` of
/// the rows it `verb`s (reads, fetches): the message part that says so, and the filter's columns.
pub fn discarded_by_filter(n: &Node, verb: &str, min_rows: f64, fraction: f64) -> Option<(String, Vec<String>)> {
    let removed = n.total_removed_by_filter();
    let read = removed + n.total_rows();
    if removed < min_rows || removed < fraction * read {
        return None;
    }
    let cols = n.filter.as_deref().map(condition_columns).unwrap_or_default();
    let message = format!(
        "{} {verb} {} rows and discarded {} ({}) by its filter on {} in {}",
        n.describe(),
        count(read),
        count(removed),
        pct(removed, read),
        columns(&cols),
        ms(n.inclusive_ms)
    );
    Some((message, cols))
}

/// A fix that adds `CONCURRENTLY` in place runs only outside a transaction block: safe where
/// the statement would then run outside one, to be moved to a migration of its own elsewhere.
pub fn applicability_outside_transaction(ctx: &StmtCtx<'_>) -> Applicability {
    if ctx.runs_in.concurrently_ok { Applicability::Safe } else { Applicability::Unsafe }
}

/// Where statements PostgreSQL refuses inside a transaction block (`CONCURRENTLY`) can run
/// instead of where the finding is, written for the file's migration tool: the end of a help
/// sentence that starts "move it ...".
pub fn outside_transaction(ctx: &StmtCtx<'_>) -> String {
    outside(&ctx.runs_in)
}

/// [`outside_transaction`] for a statement that runs as `r` says.
pub fn outside(r: &RunsIn) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if r.inner {
        parts.push("out of the `DO` block (which always runs in a transaction)");
    }
    if r.block {
        parts.push("out of the file's `BEGIN` ... `COMMIT` block");
    }
    if r.one_query && !r.tool_transaction {
        parts.push("alone to a migration file of its own (the tool sends the file as one query string, which PostgreSQL runs in one transaction when it holds several statements)");
    }
    if !r.tool_transaction {
        return if parts.is_empty() { "out of the transaction block".to_owned() } else { parts.join(" and ") };
    }
    parts.push(match r.tool {
        Tool::Goose => "to a migration file of its own that says `-- +goose NO TRANSACTION` (goose then runs its statements one by one)",
        Tool::Dbmate => "to a migration file of its own under `-- migrate:up transaction:false`, one statement per file (dbmate sends the section as one query string, which PostgreSQL runs in one transaction when it holds several)",
        Tool::Flyway => "to a migration file of its own (`V<n>__name.sql`) holding only statements that cannot run in a transaction, which Flyway runs without one (or add a `V<n>__name.sql.conf` beside it saying `executeInTransaction=false`)",
        Tool::GolangMigrate => "to a migration file of its own holding only that one statement (golang-migrate sends the file as one query string, which PostgreSQL runs in one transaction when it holds several; sqlx: also make `-- no-transaction` the file's first line)",
        Tool::Popx => "alone to a migration of its own whose file name says `.autocommit.` (`<version>_<name>.postgres.autocommit.up.sql`), which ory's popx runs without a transaction (gobuffalo pop has no such opt-out: run it outside pop)",
        Tool::Prisma => "to a migration of its own whose `migration.sql` holds only that one statement (Prisma sends the file as one query string, which PostgreSQL runs in one transaction when it holds several)",
        Tool::Diesel => "to a migration of its own, one statement per migration, whose `metadata.toml` says `run_in_transaction = false`",
        Tool::Drizzle => "out of drizzle: `drizzle-kit migrate` runs all pending migrations in one transaction, so no drizzle migration can hold it; run it by hand or from a deploy step outside drizzle (e.g. `psql -c`, one statement per call) after the migrations it depends on",
        Tool::GraphileMigrate => "to a migration of its own that starts with `--! no-transaction`, one statement per migration (it is sent as one query string)",
        Tool::Atlas => "to a migration file of its own with `-- atlas:txmode none` at its top",
        Tool::Liquibase => "to a changeset of its own with `runInTransaction:false` (`--changeset author:id runInTransaction:false`)",
        Tool::Sqitch => "to a change of its own whose deploy script has no `BEGIN` / `COMMIT`",
        Tool::Rails => "to a migration of its own with `disable_ddl_transaction!`",
        Tool::Supabase => "to a migration file of its own",
        Tool::Plain => "to a migration your tool runs without a transaction (`assume_in_transaction = true` says it wraps each file in one)",
    });
    parts.join(" and ")
}

/// The tool runs each statement of a file that holds statements refused in a transaction block
/// only when the file holds one statement: a second (`DROP INDEX CONCURRENTLY IF EXISTS`) needs
/// a migration of its own.
pub fn one_statement_per_file(ctx: &StmtCtx<'_>) -> bool {
    ctx.runs_in.one_query || (ctx.runs_in.tool_transaction && one_statement_per_tool(ctx.runs_in.tool))
}

/// The retry-safe build of a new index `name` (in the schema of `table`): `DROP INDEX
/// CONCURRENTLY IF EXISTS`, then `CREATE [UNIQUE] INDEX CONCURRENTLY name ON table rest`. A
/// concurrent build that fails (a deadlock, a cancel, a duplicate key) leaves an invalid index
/// of that name behind (`pg_index.indisvalid` false), which a retried `CREATE INDEX ... IF NOT
/// EXISTS` would accept as done and an unnamed one would build a second time; the `DROP`
/// removes it first. Two statements, each to run on its own, outside a transaction block.
pub fn index_build(table: &ObjName, name: &str, unique: bool, rest: &str) -> [String; 2] {
    let index = ObjName { schema: table.schema.clone(), name: name.to_owned() };
    let unique = if unique { "UNIQUE " } else { "" };
    [
        format!("DROP INDEX CONCURRENTLY IF EXISTS {index};"),
        format!("CREATE {unique}INDEX CONCURRENTLY {} ON {table} {rest};", quote_ident(name)),
    ]
}

/// [`index_build`] for a plan's finding: an index on `table` (in `schema`, `None` when the plan
/// does not say) over `columns`, named as `CREATE INDEX ON table (columns)` would name it, free
/// among the target's relations of that schema (of any schema when it is not known).
pub fn plan_index_build(facts: &Facts, schema: Option<&str>, table: &str, columns: &[String]) -> [String; 2] {
    let addition = crate::schema::index_name_addition(columns);
    let name = crate::schema::choose_name(table, Some(&addition), "idx", |n| {
        facts.relations.iter().any(|(s, r)| r == n && schema.is_none_or(|schema| schema == s))
    });
    let target = ObjName { schema: schema.filter(|s| *s != "public").map(str::to_owned), name: table.to_owned() };
    let cols = columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
    index_build(&target, &name, false, &format!("({cols})"))
}

/// How a fix that adds an index as new statements ([`index_build`]) is offered for a finding
/// whose statement runs as `at` says (`None`: a live database, where the statements run as
/// given): the end of the help (after "create the index `CONCURRENTLY`"), and whether the new
/// statements may be offered as a fix. New statements are new migrations of the file's tool;
/// where that tool runs them inside a transaction, where `CONCURRENTLY` fails, there is no fix
/// and the help gives the statements and where they go instead.
pub fn new_index_advice(at: Option<&RunsIn>, assume_in_transaction: bool, build: &[String; 2]) -> (String, bool) {
    const RETRY: &str = "the `DROP INDEX CONCURRENTLY IF EXISTS` first removes the invalid index a failed build leaves behind, so the pair can be run again";
    let Some(at) = at else {
        return (format!(", each statement on its own (not in a transaction block): {RETRY}"), true);
    };
    let new = RunsIn::new_file(at.tool, assume_in_transaction);
    if !new.concurrently_ok {
        // No migration of this tool runs it as written: no fix, the statements and where they go.
        let [drop, create] = build;
        return (
            format!(
                ", outside a transaction (not in this file, whose transaction refuses `CONCURRENTLY`): `{drop}` then `{create}`, moved {}; {RETRY}",
                outside(&new)
            ),
            false,
        );
    }
    let here = if !at.concurrently_ok || at.one_query {
        " (not in this file: `CONCURRENTLY` cannot run in the transaction this statement runs in)"
    } else {
        ""
    };
    let apart = if new.one_query {
        ", each statement in a migration of its own (the tool sends a file as one query string, which PostgreSQL runs in one transaction when it holds several)"
    } else {
        ""
    };
    (format!(", in a new migration{here}{apart}: {RETRY}"), true)
}

/// The tool's opt-out from its transaction holds one statement per migration.
fn one_statement_per_tool(tool: Tool) -> bool {
    matches!(
        tool,
        Tool::Dbmate | Tool::GolangMigrate | Tool::Popx | Tool::Prisma | Tool::Diesel | Tool::GraphileMigrate
    )
}

/// Offers the fix of an `ADD CONSTRAINT` sub-command (`op`) that validates every row under a
/// lock: `ADD CONSTRAINT ... NOT VALID`, then `VALIDATE CONSTRAINT`. It replaces the statement,
/// so only when the constraint is named and is all the statement does. Inside a transaction the
/// `ADD`'s lock is held until `COMMIT`, through the `VALIDATE`'s scan: there the `VALIDATE` goes
/// to a later migration (a new statement of the fix).
pub fn offer_not_valid_fix(
    report: Report<'_>,
    ctx: &StmtCtx<'_>,
    at: &AlterTable,
    op: &AlterTableOp,
    name: Option<&str>,
) {
    let report = if ctx.in_transaction {
        report.help("add the constraint `NOT VALID`, and `VALIDATE CONSTRAINT` in a later migration: this statement runs in a transaction, which holds the `ADD`'s lock until it commits, so a `VALIDATE` in the same transaction scans under that lock and gains nothing")
    } else {
        report
    };
    let op_sql = ctx.text.get(op.span.clone().unwrap_or(0..0)).unwrap_or("");
    if let Some(name) = name
        && at.ops.len() == 1
        && !op_sql.is_empty()
    {
        let table = &at.name;
        let add = format!("ALTER TABLE {table} {} NOT VALID;", op_sql.trim_end());
        let validate = format!("ALTER TABLE {table} VALIDATE CONSTRAINT {};", quote_ident(name));
        if ctx.in_transaction {
            let range = ctx.stmt.range.clone();
            report.fix(
                "add the constraint `NOT VALID`; validate it in a later migration",
                Applicability::Safe,
                vec![Edit::replace(range, add), Edit::New { text: validate }],
            );
        } else {
            report.fix_statement(
                "add the constraint `NOT VALID`, then validate it",
                Applicability::Safe,
                format!("{add}\n{validate}"),
            );
        }
    }
}

/// A column default that gives existing rows a value: any but `NULL` (also `NULL::type`,
/// `(NULL)`), which is what a column without a default gets.
pub fn default_gives_value(default: Option<&str>) -> bool {
    default.is_some_and(|d| {
        let d = d.trim().trim_start_matches('(').trim_end_matches(')').trim();
        let head = d.split("::").next().unwrap_or(d).trim();
        !head.eq_ignore_ascii_case("null")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> TypeName {
        TypeName::new(s)
    }

    #[test]
    fn keyword_insertion_near_the_start_and_far_from_it() {
        let fix = |sql: &str| keyword_end(sql, "index").map(|at| format!("{} CONCURRENTLY{}", &sql[..at], &sql[at..]));
        assert_eq!(fix("CREATE INDEX i ON t (a);").unwrap(), "CREATE INDEX CONCURRENTLY i ON t (a);");
        // A long statement: the keyword is found in its first bytes.
        let cols: Vec<String> = (0..100).map(|i| format!("c{i}")).collect();
        let long = format!("CREATE UNIQUE INDEX i ON t ({});", cols.join(", "));
        assert!(fix(&long).unwrap().starts_with("CREATE UNIQUE INDEX CONCURRENTLY i ON t (c0, "));
        // A block comment comes before the keyword (found by the tokenizer).
        for pad in [250, 251, 252, 253, 254, 255, 300] {
            let sql = format!("CREATE /* {} */ INDEX i ON t ({});", "é".repeat(pad / 2), cols.join(", "));
            let out = fix(&sql).unwrap();
            assert!(out.contains("*/ INDEX CONCURRENTLY i ON"), "{pad}: {out}");
        }
        // Line comments, and a word that only begins with the keyword.
        assert_eq!(
            fix("CREATE -- a comment\n  UNIQUE INDEX i ON t (a);").unwrap(),
            "CREATE -- a comment\n  UNIQUE INDEX CONCURRENTLY i ON t (a);"
        );
        assert_eq!(fix("COMMENT ON TABLE indexes IS 'x';"), None);
        assert_eq!(fix("CREATE INDEX_x;"), None);
        assert_eq!(fix("COMMENT ON TABLE \"index\" IS 'index';"), None);
        assert_eq!(fix("REINDEX (VERBOSE) INDEX i;").unwrap(), "REINDEX (VERBOSE) INDEX CONCURRENTLY i;");
    }

    #[test]
    fn safe_type_changes() {
        assert!(type_change_is_safe(&t("varchar(10)"), &t("VARCHAR(20)"), false));
        assert!(type_change_is_safe(&t("character varying(10)"), &t("text"), false));
        assert!(type_change_is_safe(&t("text"), &t("varchar"), false));
        assert!(type_change_is_safe(&t("numeric(10,2)"), &t("numeric(12,2)"), false));
        assert!(!type_change_is_safe(&t("varchar(20)"), &t("varchar(10)"), false));
        assert!(!type_change_is_safe(&t("text"), &t("varchar(10)"), false));
        assert!(!type_change_is_safe(&t("int"), &t("bigint"), false));
        assert!(!type_change_is_safe(&t("numeric(10,2)"), &t("numeric(12,3)"), false));
        assert!(!type_change_is_safe(&t("varchar(10)"), &t("varchar(20)"), true));
        assert!(!type_change_is_safe(&t("varchar(10)[]"), &t("varchar(20)[]"), false));
        assert!(!type_change_is_safe(&t("varchar(10)[]"), &t("text[]"), false));
        assert!(type_change_is_safe(&t("int[]"), &t("integer[]"), false));
        assert!(type_change_is_safe(&t("time(3)"), &t("time(6)"), false));
        assert!(type_change_is_safe(&t("timetz(3)"), &t("time with time zone(6)"), false));
        assert!(!type_change_is_safe(&t("\"char\""), &t("char"), false));
        assert!(type_change_is_safe(&t("TIMESTAMP(3) WITH TIME ZONE"), &t("timestamptz(6)"), false));
        assert!(!type_change_is_safe(&t("TIMESTAMP(3) WITH TIME ZONE"), &t("timestamp(6)"), false));
    }

    #[test]
    fn volatile_defaults() {
        assert_eq!(volatile_call("gen_random_uuid()").as_deref(), Some("gen_random_uuid"));
        assert_eq!(volatile_call("public.uuid_generate_v4()").as_deref(), Some("uuid_generate_v4"));
        assert_eq!(volatile_call("now()"), None);
        assert_eq!(volatile_call("CURRENT_TIMESTAMP"), None);
        assert_eq!(volatile_call("'random()'"), None);
        assert_eq!(volatile_call("(random() * 10)::int").as_deref(), Some("random"));
    }
}
