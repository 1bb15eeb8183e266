//! Helpers shared by rules: PostgreSQL semantics that several rules need.

use sqlparser::tokenizer::Token;

use crate::parse::ir::{Action, AlterOp, TypeName};
use crate::parse::tokens;

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
            let name = w.value.to_lowercase();
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
    let (name, mods) = match text.find('(') {
        Some(p) => {
            let inner = text[p + 1..].trim_end_matches(')');
            let mods = inner.split(',').filter_map(|m| m.trim().parse::<i64>().ok()).collect();
            (text[..p].trim().to_owned(), mods)
        }
        None => (text.clone(), Vec::new()),
    };
    let name = name.rsplit('.').next().unwrap_or(&name).trim_matches('"').to_owned();
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
    if a.array != b.array {
        return false;
    }
    if a == b {
        return true;
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
        ("timestamp", "timestamp") | ("timestamptz", "timestamptz") | ("interval", "interval") => {
            b.mods.is_empty() || (!a.mods.is_empty() && b.mods[0] >= a.mods[0])
        }
        ("cidr", "inet") => true,
        _ => false,
    }
}

/// The strongest lock a statement takes on an existing table, for `missing-lock-timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lock {
    None,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    AccessExclusive,
}

/// The lock the statement takes on its table, and the table (when known).
pub fn table_lock(action: &Action) -> Lock {
    match action {
        Action::AlterTable(at) => at
            .ops
            .iter()
            .map(|op| match &op.op {
                AlterOp::AddConstraint(c) if matches!(c.kind, crate::parse::ir::ConstraintKind::ForeignKey(_)) => {
                    Lock::ShareRowExclusive
                }
                AlterOp::ValidateConstraint { .. } | AlterOp::LightweightOther | AlterOp::AttachPartition { .. } => {
                    Lock::ShareUpdateExclusive
                }
                AlterOp::DetachPartition { concurrently: true, .. } => Lock::ShareUpdateExclusive,
                _ => Lock::AccessExclusive,
            })
            .max()
            .unwrap_or(Lock::None),
        Action::Drop { kind: crate::parse::ir::DropKind::Table, .. } => Lock::AccessExclusive,
        Action::Drop { kind: crate::parse::ir::DropKind::Index, concurrently: false, .. } => Lock::AccessExclusive,
        Action::Truncate { .. } | Action::Cluster { .. } | Action::RefreshMatView { concurrently: false, .. } => {
            Lock::AccessExclusive
        }
        Action::Vacuum { full: true, .. } => Lock::AccessExclusive,
        Action::CreateTrigger { .. } | Action::DropTrigger { .. } => Lock::ShareRowExclusive,
        Action::CreatePolicy { .. } | Action::DropPolicy { .. } => Lock::AccessExclusive,
        Action::Lock { mode, .. } => match mode.as_str() {
            "ACCESS EXCLUSIVE" | "EXCLUSIVE" => Lock::AccessExclusive,
            "SHARE ROW EXCLUSIVE" => Lock::ShareRowExclusive,
            "SHARE" => Lock::Share,
            _ => Lock::None,
        },
        Action::CreateIndex(ci) if !ci.concurrently => Lock::Share,
        // A foreign key to an existing table locks that table (SHARE ROW EXCLUSIVE).
        Action::CreateTable(ct) if !referenced_tables(ct).is_empty() => Lock::ShareRowExclusive,
        _ => Lock::None,
    }
}

/// `sql` with `word` inserted after the first occurrence of keyword `after` (outside quotes),
/// e.g. `CONCURRENTLY` after `INDEX`. `None` when the keyword is not found.
pub fn insert_after_keyword(sql: &str, after: &str, word: &str) -> Option<String> {
    let toks = tokens::tokenize(sql).ok()?;
    let sig = tokens::significant(sql, &toks, 0);
    let t = sig.iter().find(|t| t.is_kw(after))?;
    let at = t.range.end;
    Some(format!("{} {}{}", &sql[..at], word, &sql[at..]))
}

/// Tables (or views) whose lock a statement takes.
pub fn lock_targets(action: &Action, schema: &crate::schema::Schema) -> Vec<crate::parse::ir::ObjName> {
    use crate::parse::ir::{DropKind, ObjName};
    match action {
        Action::AlterTable(at) => vec![at.name.clone()],
        Action::Drop { kind: DropKind::Table, names, .. } => names.clone(),
        Action::Drop { kind: DropKind::Index, names, .. } => names
            .iter()
            .filter_map(|n| {
                let idx = schema.indexes.get(&crate::schema::QualName::resolve(n))?;
                Some(ObjName { schema: Some(idx.table.schema.clone()), name: idx.table.name.clone() })
            })
            .collect(),
        Action::Truncate { tables } | Action::Lock { tables, .. } | Action::Vacuum { tables, .. } => tables.clone(),
        Action::Cluster { table } => table.iter().cloned().collect(),
        Action::RefreshMatView { name, .. } => vec![name.clone()],
        Action::CreateTrigger { table, .. }
        | Action::DropTrigger { table, .. }
        | Action::CreatePolicy { table, .. }
        | Action::DropPolicy { table, .. } => vec![table.clone()],
        Action::CreateIndex(ci) => vec![ci.table.clone()],
        Action::CreateTable(ct) => referenced_tables(ct),
        _ => Vec::new(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> TypeName {
        TypeName::new(s)
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
