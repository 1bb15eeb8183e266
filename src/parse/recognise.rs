//! The token-level recogniser: identifies statements sqlparser rejects (kind, target objects,
//! locking-relevant flags), so rules still judge them and the model applies what it can.

use std::ops::Range;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::ir::{
    Action, AlterOp, AlterTable, AlterTableOp, Constraint, ConstraintKind, CreateRule, CreateTable, DropKind,
    Generated, ObjName, RuleEvent, TriggerEvents, TriggerSpec, TriggerTiming,
};
use super::lower::{self, alter_table_op_spans};
use super::tokens::{Tok, read_name, span_of, split_top_level};

fn kw(toks: &[Tok], i: usize, k: &str) -> bool {
    toks.get(i).is_some_and(|t| t.is_kw(k))
}

/// Index of the first keyword `k` at or after `from`.
fn find_kw(toks: &[Tok], from: usize, k: &str) -> Option<usize> {
    Some(from + toks.get(from..)?.iter().position(|t| t.is_kw(k))?)
}

/// Skips the given optional keywords in any order.
fn skip_kws(toks: &[Tok], mut i: usize, kws: &[&str]) -> usize {
    while kws.iter().any(|k| kw(toks, i, k)) {
        i += 1;
    }
    i
}

/// Skips `IF EXISTS` / `IF NOT EXISTS`.
fn skip_if_exists(toks: &[Tok], i: usize) -> (usize, bool) {
    if kw(toks, i, "if") {
        let j = skip_kws(toks, i + 1, &["not", "exists"]);
        (j, true)
    } else {
        (i, false)
    }
}

fn parse_one(sql: &str) -> Option<sqlparser::ast::Statement> {
    let mut v = Parser::parse_sql(&PostgreSqlDialect {}, sql).ok()?;
    (v.len() == 1).then(|| v.remove(0))
}

/// Recognises a statement sqlparser could not parse. `text` is the statement's text and
/// `base` its offset in the file. Returns `None` when the statement is not understood.
pub fn recognise(text: &str, base: usize, toks: &[Tok]) -> Option<Action> {
    let t0 = toks.first()?;
    let upper = |i: usize| {
        toks.get(i).and_then(|t| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        })
    };
    let first = upper(0)?;
    let _ = t0;
    match first.as_str() {
        "DROP" => recognise_drop(toks),
        "REINDEX" => {
            let mut i = 1;
            let mut concurrently = false;
            if toks.get(i).map(|t| &t.token) == Some(&Token::LParen) {
                let (_, end) = split_top_level(toks, i + 1);
                // REINDEX (CONCURRENTLY) is not valid syntax; options are VERBOSE/TABLESPACE/CONCURRENTLY(PG14+ as option? no)
                if toks[i + 1..end.min(toks.len())].iter().any(|t| t.is_kw("concurrently")) {
                    concurrently = true;
                }
                i = end + 1;
            }
            let kind = upper(i).unwrap_or_default();
            i += 1;
            if kw(toks, i, "concurrently") {
                concurrently = true;
                i += 1;
            }
            let name = read_name(toks, i).map(|(n, _)| n);
            Some(Action::Reindex { concurrently, kind: kind.to_lowercase(), name })
        }
        "REFRESH" if kw(toks, 1, "materialized") && kw(toks, 2, "view") => {
            let concurrently = kw(toks, 3, "concurrently");
            let (name, _) = read_name(toks, 3 + usize::from(concurrently))?;
            Some(Action::RefreshMatView { name, concurrently })
        }
        "VACUUM" => {
            let mut full = false;
            let mut i = 1;
            loop {
                match toks.get(i) {
                    Some(t) if t.is_kw("full") => full = true,
                    Some(t) if t.is_kw("freeze") || t.is_kw("verbose") || t.is_kw("analyze") || t.is_kw("analyse") => {}
                    Some(t) if t.token == Token::LParen => {
                        let (parts, end) = split_top_level(toks, i + 1);
                        for p in parts {
                            if kw(toks, p.start, "full") {
                                let v = toks.get(p.start + 1);
                                full = v.is_none_or(|v| {
                                    !(v.is_kw("false") || v.is_kw("off") || v.token == Token::Number("0".into(), false))
                                });
                            }
                        }
                        i = end;
                    }
                    _ => break,
                }
                i += 1;
            }
            let (parts, _) = split_top_level(toks, i);
            let tables = parts.iter().filter_map(|p| read_name(toks, p.start).map(|(n, _)| n)).collect();
            Some(Action::Vacuum { full, tables })
        }
        "CLUSTER" => {
            let i = skip_kws(toks, 1, &["verbose"]);
            let i = if toks.get(i).map(|t| &t.token) == Some(&Token::LParen) {
                split_top_level(toks, i + 1).1 + 1
            } else {
                i
            };
            Some(Action::Cluster { table: read_name(toks, i).map(|(n, _)| n) })
        }
        "ALTER" => recognise_alter(text, base, toks),
        "CREATE" => recognise_create(text, base, toks),
        "DO" => Some(Action::Do),
        "COMMENT" if kw(toks, 1, "on") => Some(Action::Other { kind: "COMMENT" }),
        "GRANT" | "REVOKE" => Some(Action::Other { kind: if first == "GRANT" { "GRANT" } else { "REVOKE" } }),
        "SECURITY" => Some(Action::Other { kind: "SECURITY LABEL" }),
        // sqlparser handles PostgreSQL's DML; when it fails, the statement is taken as understood
        // only for syntax it lacks (PostgreSQL 18's `FOR PORTION OF`), not for typos.
        "SELECT" | "WITH" | "VALUES" | "TABLE" | "INSERT" | "UPDATE" | "DELETE" | "MERGE" => {
            let portion = toks.windows(3).any(|w| w[0].is_kw("for") && w[1].is_kw("portion") && w[2].is_kw("of"));
            portion.then_some(Action::Other { kind: "DML" })
        }
        "REASSIGN" if kw(toks, 1, "owned") => Some(Action::Other { kind: "REASSIGN OWNED" }),
        "COPY" => Some(Action::Other { kind: "COPY" }),
        "SET" | "RESET" | "SHOW" | "DISCARD" => Some(Action::Other { kind: "SET" }),
        "ANALYZE" | "ANALYSE" => Some(Action::Other { kind: "ANALYZE" }),
        "CALL" | "EXECUTE" | "PREPARE" | "DEALLOCATE" | "NOTIFY" | "LISTEN" | "UNLISTEN" | "LOAD" | "CHECKPOINT"
        | "EXPLAIN" | "IMPORT" | "SAVEPOINT" | "RELEASE" => Some(Action::Other { kind: "statement" }),
        "BEGIN" | "START" => Some(Action::Begin),
        "COMMIT" | "END" => Some(Action::Commit),
        "ROLLBACK" | "ABORT" => Some(Action::Rollback),
        "LOCK" => {
            let i = skip_kws(toks, 1, &["table", "only"]);
            let (name, _) = read_name(toks, i)?;
            let mode_start = toks.iter().position(|t| t.is_kw("in"));
            let mode = mode_start.map_or_else(
                || "ACCESS EXCLUSIVE".to_owned(),
                |s| {
                    toks[s + 1..]
                        .iter()
                        .take_while(|t| !t.is_kw("mode"))
                        .filter_map(|t| t.ident())
                        .collect::<Vec<_>>()
                        .join(" ")
                        .to_uppercase()
                },
            );
            Some(Action::Lock { tables: vec![name], mode })
        }
        "TRUNCATE" => {
            let i = skip_kws(toks, 1, &["table", "only"]);
            let (parts, _) = split_top_level(toks, i);
            Some(Action::Truncate {
                tables: parts
                    .iter()
                    .map(|p| read_name(toks, skip_kws(toks, p.start, &["only"])).map(|(n, _)| n))
                    .collect::<Option<_>>()?,
            })
        }
        _ => None,
    }
}

/// Timing and events (`BEFORE UPDATE OR DELETE`, between the name and `ON`) and the level and
/// condition (`FOR EACH ROW WHEN (...)`, between `ON` and `EXECUTE`) of a `CREATE TRIGGER`.
fn trigger_spec(head: &[Tok], tail: &[Tok]) -> TriggerSpec {
    let has = |k: &str| head.iter().any(|t| t.is_kw(k));
    let timing = if has("before") {
        TriggerTiming::Before
    } else if has("instead") {
        TriggerTiming::InsteadOf
    } else {
        TriggerTiming::After
    };
    // `UPDATE OF a, b`: the column list follows `OF`; event keywords are not column names here.
    let events = TriggerEvents {
        insert: has("insert"),
        update: has("update"),
        delete: has("delete"),
        truncate: has("truncate"),
    };
    let row = tail.windows(2).any(|w| (w[0].is_kw("for") || w[0].is_kw("each")) && w[1].is_kw("row"));
    TriggerSpec { timing, events, for_each_row: row, conditional: tail.iter().any(|t| t.is_kw("when")) }
}

/// `CREATE [OR REPLACE] RULE name AS ON event TO table [WHERE ...] DO [ALSO | INSTEAD] action`;
/// `i` is the index of the rule's name.
fn recognise_create_rule(toks: &[Tok], i: usize) -> Option<CreateRule> {
    let name = toks.get(i)?.ident()?;
    if !(kw(toks, i + 1, "as") && kw(toks, i + 2, "on") && kw(toks, i + 4, "to")) {
        return None;
    }
    let ev = toks.get(i + 3)?;
    let event = [
        ("select", RuleEvent::Select),
        ("insert", RuleEvent::Insert),
        ("update", RuleEvent::Update),
        ("delete", RuleEvent::Delete),
    ]
    .into_iter()
    .find(|(k, _)| ev.is_kw(k))?
    .1;
    let (table, j) = read_name(toks, i + 5)?;
    let conditional = kw(toks, j, "where");
    let d = j + toks[j..].iter().position(|t| t.is_kw("do"))?;
    let instead = kw(toks, d + 1, "instead");
    let a = if instead || kw(toks, d + 1, "also") { d + 2 } else { d + 1 };
    let nothing = kw(toks, a, "nothing");
    Some(CreateRule { name, table, event, instead, nothing, conditional })
}

fn recognise_drop(toks: &[Tok]) -> Option<Action> {
    if kw(toks, 1, "rule") {
        let (i, _) = skip_if_exists(toks, 2);
        let name = toks.get(i)?.ident()?;
        if kw(toks, i + 1, "on")
            && let Some((table, _)) = read_name(toks, i + 2)
        {
            return Some(Action::DropRule { name, table });
        }
    }
    let (kind, mut i) = if kw(toks, 1, "index") {
        (DropKind::Index, 2)
    } else if kw(toks, 1, "table") {
        (DropKind::Table, 2)
    } else if kw(toks, 1, "materialized") && kw(toks, 2, "view") {
        (DropKind::MaterializedView, 3)
    } else if kw(toks, 1, "view") {
        (DropKind::View, 2)
    } else if kw(toks, 1, "sequence") {
        (DropKind::Sequence, 2)
    } else if kw(toks, 1, "schema") {
        (DropKind::Schema, 2)
    } else if kw(toks, 1, "type") || kw(toks, 1, "domain") {
        (DropKind::Type, 2)
    } else {
        return toks.get(1).and_then(Tok::ident).map(|_| Action::Other { kind: "DROP" });
    };
    let concurrently = kw(toks, i, "concurrently");
    if concurrently {
        i += 1;
    }
    let (i, if_exists) = skip_if_exists(toks, i);
    let (parts, end) = split_top_level(toks, i);
    // Every element must be a name: `DROP TABLE a, ;` is a syntax error.
    let names: Vec<ObjName> = parts.iter().map(|p| read_name(toks, p.start).map(|(n, _)| n)).collect::<Option<_>>()?;
    if names.is_empty() {
        return None;
    }
    let cascade = toks[end.min(toks.len())..].iter().chain(toks.last()).any(|t| t.is_kw("cascade"));
    Some(Action::Drop { kind, names, if_exists, cascade, concurrently })
}

fn recognise_alter(text: &str, base: usize, toks: &[Tok]) -> Option<Action> {
    if kw(toks, 1, "table") {
        return recognise_alter_table(text, base, toks);
    }
    let what = toks.get(1)?;
    let kind = if what.is_kw("sequence") {
        "ALTER SEQUENCE"
    } else if what.is_kw("trigger") {
        "ALTER TRIGGER"
    } else if what.is_kw("default") {
        "ALTER DEFAULT PRIVILEGES"
    } else if what.is_kw("materialized") {
        "ALTER MATERIALIZED VIEW"
    } else if what.is_kw("index") {
        "ALTER INDEX"
    } else if what.is_kw("extension")
        || what.is_kw("domain")
        || what.is_kw("function")
        || what.is_kw("procedure")
        || what.is_kw("type")
        || what.is_kw("schema")
        || what.is_kw("view")
        || what.is_kw("role")
        || what.is_kw("database")
        || what.is_kw("policy")
        || what.is_kw("publication")
        || what.is_kw("subscription")
        || what.is_kw("aggregate")
        || what.is_kw("operator")
        || what.is_kw("user")
        || what.is_kw("event")
        || what.is_kw("text")
        || what.is_kw("foreign")
        || what.is_kw("server")
        || what.is_kw("collation")
        || what.is_kw("large")
        || what.is_kw("routine")
        || what.is_kw("statistics")
        || what.is_kw("system")
        || what.is_kw("tablespace")
        || what.is_kw("group")
        || what.is_kw("conversion")
        || what.is_kw("language")
    {
        "ALTER"
    } else {
        return None;
    };
    Some(Action::Other { kind })
}

/// `ALTER TABLE` that sqlparser rejected as a whole: each sub-command is parsed on its own, and
/// those sqlparser rejects are recognised from their tokens.
fn recognise_alter_table(text: &str, base: usize, toks: &[Tok]) -> Option<Action> {
    // ALTER TABLE ALL IN TABLESPACE a [OWNED BY r] SET TABLESPACE b [NOWAIT]
    if kw(toks, 2, "all") && kw(toks, 3, "in") && kw(toks, 4, "tablespace") {
        return Some(Action::Other { kind: "ALTER TABLE ALL IN TABLESPACE" });
    }
    let (i, if_exists) = skip_if_exists(toks, 2);
    let only = kw(toks, i, "only");
    let i = i + usize::from(only);
    let (name, _) = read_name(toks, i)?;
    let spans = alter_table_op_spans(toks);
    if spans.is_empty() {
        return None;
    }
    let head = &text[..spans[0].start - base];
    let parse_op = |op_text: &str| {
        parse_one(&format!("{head}{op_text}")).and_then(|s| match lower::lower(&s, &[]) {
            Action::AlterTable(mut at) if at.ops.len() == 1 => Some(at.ops.remove(0).op),
            _ => None,
        })
    };
    let mut ops = Vec::with_capacity(spans.len());
    for span in spans {
        let op_text = &text[span.start - base..span.end - base];
        let sub: Vec<Tok> =
            toks.iter().filter(|t| t.range.start >= span.start && t.range.end <= span.end).cloned().collect();
        // `ADD` with syntax sqlparser lacks: respelled, then parsed.
        let lenient = || {
            let (respelled, virtual_column) = lenient_text(&sub, text, base).filter(|_| kw(&sub, 0, "add"))?;
            let mut op = parse_op(&respelled)?;
            if let AlterOp::AddColumn { column, .. } = &mut op
                && virtual_column
            {
                column.generated = Some(Generated::Virtual);
            }
            Some(op)
        };
        let mut op = match parse_op(op_text).or_else(lenient) {
            Some(op) => op,
            None => recognise_alter_op(&sub)?,
        };
        match &mut op {
            AlterOp::AddColumn { column, .. } => column.span = Some(span.clone()),
            AlterOp::AddConstraint(c) => c.span = Some(span.clone()),
            _ => {}
        }
        ops.push(AlterTableOp { op, span: Some(span) });
    }
    Some(Action::AlterTable(AlterTable { name, if_exists, only, ops }))
}

fn recognise_alter_op(toks: &[Tok]) -> Option<AlterOp> {
    let first = toks.first()?;
    if first.is_kw("attach") && kw(toks, 1, "partition") {
        let (partition, _) = read_name(toks, 2)?;
        return Some(AlterOp::AttachPartition { partition });
    }
    if first.is_kw("detach") && kw(toks, 1, "partition") {
        let (partition, j) = read_name(toks, 2)?;
        return Some(AlterOp::DetachPartition { partition, concurrently: kw(toks, j, "concurrently") });
    }
    if first.is_kw("set") && kw(toks, 1, "schema") {
        return Some(AlterOp::SetSchema { schema: toks.get(2)?.ident()? });
    }
    // CLUSTER ON / SET WITHOUT CLUSTER take SHARE UPDATE EXCLUSIVE.
    if first.is_kw("cluster") || (first.is_kw("set") && kw(toks, 1, "without") && kw(toks, 2, "cluster")) {
        return Some(AlterOp::LightweightOther);
    }
    if first.is_kw("set")
        && (kw(toks, 1, "tablespace")
            || kw(toks, 1, "logged")
            || kw(toks, 1, "unlogged")
            || kw(toks, 1, "without")
            || kw(toks, 1, "access"))
    {
        return Some(AlterOp::Other);
    }
    if first.is_kw("set") && toks.get(1).map(|t| &t.token) == Some(&Token::LParen) {
        return Some(AlterOp::LightweightOther);
    }
    if first.is_kw("alter") && kw(toks, 1, "constraint") {
        return alter_constraint(toks);
    }
    if first.is_kw("alter") {
        // ALTER [COLUMN] c SET STATISTICS / SET STORAGE / SET (...) / ADD|DROP|SET IDENTITY ...
        let j = skip_kws(toks, 1, &["column"]);
        let column = toks.get(j)?.ident()?;
        let rest = &toks[j + 1..];
        let verb = rest.first()?;
        if !["set", "drop", "add", "reset", "type", "options", "restart"].iter().any(|k| verb.is_kw(k)) {
            return None;
        }
        // SET EXPRESSION AS (expr) (PostgreSQL 17).
        if verb.is_kw("set") && kw(rest, 1, "expression") {
            let closes = matches!(rest.last().map(|t| &t.token), Some(Token::RParen));
            let well_formed = kw(rest, 2, "as") && rest.get(3).is_some_and(|t| t.token == Token::LParen) && closes;
            return well_formed.then_some(AlterOp::SetExpression { column });
        }
        let light = verb.is_kw("set") && rest.get(1).is_some_and(|t| t.is_kw("statistics") || t.token == Token::LParen);
        return Some(if light { AlterOp::LightweightOther } else { AlterOp::Other });
    }
    // ADD CONSTRAINT ... EXCLUDE / ... WITHOUT OVERLAPS and similar that sqlparser lacks.
    if first.is_kw("add") {
        if let Some(c) = not_null_constraint(&toks[1..]) {
            return Some(AlterOp::AddConstraint(c));
        }
        let j = if kw(toks, 1, "constraint") { 3 } else { 1 };
        let lacks = kw(toks, j, "exclude") || toks.windows(2).any(|w| w[0].is_kw("without") && w[1].is_kw("overlaps"));
        return lacks.then_some(AlterOp::Other);
    }
    // Sub-commands sqlparser does not parse; the ADD/DROP/RENAME/VALIDATE forms it does parse,
    // so their failure is a real error.
    let known = ["owner", "replica", "enable", "disable", "inherit", "no", "cluster", "reset", "of", "not", "force"];
    known.iter().any(|k| first.is_kw(k)).then_some(AlterOp::Other)
}

/// `ALTER CONSTRAINT name` followed by `[NOT] DEFERRABLE`, `INITIALLY {DEFERRED | IMMEDIATE}`,
/// `[NOT] ENFORCED` (PostgreSQL 18), or by `[NO] INHERIT` (PostgreSQL 18); anything else is
/// not understood.
fn alter_constraint(toks: &[Tok]) -> Option<AlterOp> {
    let name = toks.get(2)?.ident()?;
    let mut enforced = None;
    let mut i = 3;
    let inherit = if kw(toks, i, "no") { kw(toks, i + 1, "inherit") && toks.len() == i + 2 } else { false };
    if inherit || (kw(toks, i, "inherit") && toks.len() == i + 1) {
        return Some(AlterOp::AlterConstraint { name, enforced });
    }
    while i < toks.len() {
        let not = kw(toks, i, "not");
        let j = i + usize::from(not);
        if kw(toks, j, "deferrable") {
            i = j + 1;
        } else if kw(toks, j, "enforced") {
            enforced = Some(!not);
            i = j + 1;
        } else if !not && kw(toks, i, "initially") && (kw(toks, i + 1, "deferred") || kw(toks, i + 1, "immediate")) {
            i += 2;
        } else {
            return None;
        }
    }
    (i > 3).then_some(AlterOp::AlterConstraint { name, enforced })
}

/// `[CONSTRAINT name] NOT NULL column [NOT VALID] [NO INHERIT]`: a not-null table constraint
/// (PostgreSQL 18), which sqlparser lacks. `toks` are the constraint's tokens and nothing else.
fn not_null_constraint(toks: &[Tok]) -> Option<Constraint> {
    let (name, i) = if kw(toks, 0, "constraint") { (Some(toks.get(1)?.ident()?), 2) } else { (None, 0) };
    if !(kw(toks, i, "not") && kw(toks, i + 1, "null")) {
        return None;
    }
    let column = toks.get(i + 2)?.ident()?;
    let mut j = i + 3;
    let mut not_valid = false;
    loop {
        if kw(toks, j, "not") && kw(toks, j + 1, "valid") {
            not_valid = true;
        } else if !(kw(toks, j, "no") && kw(toks, j + 1, "inherit")) {
            break;
        }
        j += 2;
    }
    (j == toks.len()).then_some(Constraint {
        name,
        kind: ConstraintKind::NotNull { column },
        not_valid,
        enforced: true,
        span: None,
    })
}

fn recognise_create(text: &str, base: usize, toks: &[Tok]) -> Option<Action> {
    let mut i = skip_kws(
        toks,
        1,
        &[
            "or",
            "replace",
            "unique",
            "temp",
            "temporary",
            "unlogged",
            "global",
            "local",
            "constraint",
            "recursive",
            "trusted",
            "procedural",
            "default",
        ],
    );
    let what = toks.get(i)?;
    if what.is_kw("index") {
        return recognise_create_index(text, toks);
    }
    if what.is_kw("table") {
        return recognise_create_table(text, base, toks, i + 1);
    }
    if what.is_kw("trigger") || what.is_kw("event") {
        if what.is_kw("event") {
            return Some(Action::Other { kind: "CREATE EVENT TRIGGER" });
        }
        let name = toks.get(i + 1)?.ident()?;
        // `ON` after the name, `EXECUTE` after `ON`: searched in order, so the slices below are
        // in bounds whatever the statement holds (`CREATE TRIGGER t EXECUTE ON u`).
        let on = find_kw(toks, i + 2, "on")?;
        let (table, _) = read_name(toks, on + 1)?;
        // Every trigger runs `EXECUTE {FUNCTION | PROCEDURE} name(...)`.
        let execute = find_kw(toks, on + 1, "execute")?;
        if !(kw(toks, execute + 1, "function") || kw(toks, execute + 1, "procedure")) {
            return None;
        }
        let function = Some(read_name(toks, execute + 2)?.0);
        let spec = trigger_spec(&toks[i + 2..on], &toks[on..execute]);
        return Some(Action::CreateTrigger { name, table, function, spec });
    }
    if what.is_kw("rule") {
        return recognise_create_rule(toks, i + 1).map(Action::CreateRule);
    }
    if what.is_kw("policy") {
        let name = toks.get(i + 1)?.ident()?;
        if !kw(toks, i + 2, "on") {
            return None;
        }
        let (table, j) = read_name(toks, i + 3)?;
        let restrictive = kw(toks, j, "as") && kw(toks, j + 1, "restrictive");
        return Some(Action::CreatePolicy { name, table, restrictive });
    }
    if what.is_kw("materialized") && kw(toks, i + 1, "view") {
        i += 2;
        let (i, _) = skip_if_exists(toks, i);
        let (name, _) = read_name(toks, i)?;
        return Some(Action::CreateView { name, materialized: true });
    }
    if what.is_kw("view") {
        let (name, _) = read_name(toks, i + 1)?;
        return Some(Action::CreateView { name, materialized: false });
    }
    let kind = [
        ("function", "CREATE FUNCTION"),
        ("procedure", "CREATE PROCEDURE"),
        ("sequence", "CREATE SEQUENCE"),
        ("type", "CREATE TYPE"),
        ("domain", "CREATE DOMAIN"),
        ("extension", "CREATE EXTENSION"),
        ("schema", "CREATE SCHEMA"),
        ("aggregate", "CREATE AGGREGATE"),
        ("operator", "CREATE OPERATOR"),
        ("rule", "CREATE RULE"),
        ("role", "CREATE ROLE"),
        ("user", "CREATE ROLE"),
        ("group", "CREATE ROLE"),
        ("language", "CREATE LANGUAGE"),
        ("cast", "CREATE CAST"),
        ("collation", "CREATE COLLATION"),
        ("publication", "CREATE PUBLICATION"),
        ("subscription", "CREATE SUBSCRIPTION"),
        ("text", "CREATE TEXT SEARCH"),
        ("foreign", "CREATE FOREIGN"),
        ("server", "CREATE SERVER"),
        ("statistics", "CREATE STATISTICS"),
        ("conversion", "CREATE CONVERSION"),
        ("access", "CREATE ACCESS METHOD"),
        ("database", "CREATE DATABASE"),
        ("tablespace", "CREATE TABLESPACE"),
        ("transform", "CREATE TRANSFORM"),
        ("property", "CREATE PROPERTY GRAPH"),
    ]
    .iter()
    .find(|(k, _)| what.is_kw(k))
    .map(|(_, v)| *v)?;
    if kind == "CREATE SCHEMA" {
        let (j, _) = skip_if_exists(toks, i + 1);
        if let Some(name) = toks.get(j).and_then(Tok::ident) {
            return Some(Action::CreateSchema { name });
        }
    }
    Some(Action::Other { kind })
}

/// `CREATE INDEX ... ON ONLY t ...` and other forms sqlparser rejects: retry without `ONLY`,
/// else read the flags from tokens.
fn recognise_create_index(text: &str, toks: &[Tok]) -> Option<Action> {
    let on = toks.iter().position(|t| t.is_kw("on"))?;
    let base = toks[0].range.start;
    if kw(toks, on + 1, "only") {
        let r = &toks[on + 1].range;
        let retry = format!("{}{}", &text[..r.start - base], &text[r.end - base..]);
        if let Some(stmt) = parse_one(&retry)
            && let Action::CreateIndex(mut ci) = lower::lower(&stmt, &[])
        {
            ci.only = true;
            return Some(Action::CreateIndex(ci));
        }
    }
    None
}

/// `CREATE TABLE` that sqlparser rejected: each element is parsed on its own.
fn recognise_create_table(text: &str, base: usize, toks: &[Tok], i: usize) -> Option<Action> {
    let (i, if_not_exists) = skip_if_exists(toks, i);
    let (name, j) = read_name(toks, i)?;
    let mut ct = CreateTable {
        name,
        if_not_exists,
        temporary: toks[..i].iter().any(|t| t.is_kw("temp") || t.is_kw("temporary")),
        unlogged: toks[..i].iter().any(|t| t.is_kw("unlogged")),
        columns: Vec::new(),
        constraints: Vec::new(),
        partition_of: None,
        columns_unknown: false,
        partitioned: toks.iter().any(|t| t.is_kw("partition")) && toks.iter().any(|t| t.is_kw("by")),
        header: lower::create_table_header(toks),
        like: lower::like_sources(toks),
    };
    if kw(toks, j, "partition") && kw(toks, j + 1, "of") {
        ct.partition_of = read_name(toks, j + 2).map(|(n, _)| n);
        return Some(Action::CreateTable(ct));
    }
    if kw(toks, j, "as") || kw(toks, j, "of") {
        ct.columns_unknown = true;
        return Some(Action::CreateTable(ct));
    }
    if toks.get(j).map(|t| &t.token) != Some(&Token::LParen) {
        return None;
    }
    let (parts, close) = split_top_level(toks, j + 1);
    // `CREATE TABLE t (a, b) [ON COMMIT ...] AS SELECT ...`: a column-name list, not definitions.
    if toks.get(close + 1..).is_some_and(|rest| rest.iter().any(|t| t.is_kw("as"))) {
        ct.columns_unknown = true;
        return Some(Action::CreateTable(ct));
    }
    for p in parts {
        let span = span_of(toks, &p)?;
        // `NOT NULL col` is always valid in `CREATE TABLE` (PostgreSQL ignores `NOT VALID` there).
        if let Some(c) = not_null_constraint(&toks[p.clone()]) {
            ct.constraints.push(Constraint { not_valid: false, span: Some(span), ..c });
            continue;
        }
        let elem = &text[span.start - base..span.end - base];
        let mut virtual_column = false;
        let mut parsed = parse_one(&format!("CREATE TABLE t ({elem})"));
        if parsed.is_none()
            && let Some((respelled, virt)) = lenient_text(&toks[p.clone()], text, base)
        {
            parsed = parse_one(&format!("CREATE TABLE t ({respelled})"));
            virtual_column = virt && parsed.is_some();
        }
        // Else a column read up to what sqlparser lacks after its type (the model keeps its
        // name and type).
        let elem_toks = &toks[p.clone()];
        if parsed.is_none()
            && let Some(cut) = elem_toks
                .iter()
                .position(|t| t.is_kw("generated") || t.is_kw("compression") || t.is_kw("storage"))
                .filter(|&cut| cut >= 2)
        {
            let head = &text[elem_toks[0].range.start - base..elem_toks[cut - 1].range.end - base];
            parsed = parse_one(&format!("CREATE TABLE t ({head})"));
        }
        let Some(sqlparser::ast::Statement::CreateTable(parsed)) = parsed else {
            if toks[p.start].is_kw("like") {
                ct.columns_unknown = true;
                continue;
            }
            return None;
        };
        let Action::CreateTable(mut one) = lower::lower(&sqlparser::ast::Statement::CreateTable(parsed), &[]) else {
            continue;
        };
        for mut c in one.columns.drain(..) {
            c.span = Some(span.clone());
            if virtual_column {
                c.generated = Some(Generated::Virtual);
            }
            ct.columns.push(c);
        }
        for mut c in one.constraints.drain(..) {
            c.span = Some(span.clone());
            ct.constraints.push(Constraint { ..c });
        }
    }
    Some(Action::CreateTable(ct))
}

/// At `GENERATED {ALWAYS | BY DEFAULT} AS IDENTITY (`, the index of that `(`.
fn identity_options(elem: &[Tok], i: usize) -> Option<usize> {
    if !kw(elem, i, "generated") {
        return None;
    }
    let j = if kw(elem, i + 1, "always") { i + 2 } else { i + 3 };
    let by_default = kw(elem, i + 1, "by") && kw(elem, i + 2, "default");
    let head = (kw(elem, i + 1, "always") || by_default) && kw(elem, j, "as") && kw(elem, j + 1, "identity");
    (head && elem.get(j + 2).is_some_and(|t| t.token == Token::LParen)).then_some(j + 2)
}

/// A table element or an `ALTER TABLE ... ADD` sub-command (its tokens `elem`) respelled so that
/// sqlparser reads it, for syntax PostgreSQL accepts and sqlparser lacks. Left out, as the model
/// does not need them: `WITHOUT OVERLAPS` after the last column of a primary key or unique
/// constraint and `PERIOD` before a foreign key's column (PostgreSQL 18), a column's
/// `COMPRESSION method` and `STORAGE mode`, an identity column's sequence options. A virtual generated column (`GENERATED ALWAYS AS
/// (expr) [VIRTUAL]`, PostgreSQL 18; no keyword means virtual) is spelled `STORED`, and the
/// second value says so. `None` when nothing is respelled; typos still fail to parse.
fn lenient_text(elem: &[Tok], text: &str, base: usize) -> Option<(String, bool)> {
    let (first, last) = (elem.first()?, elem.last()?);
    let key = elem.iter().any(|t| t.is_kw("primary") || t.is_kw("unique"));
    let foreign = elem.iter().any(|t| t.is_kw("foreign") || t.is_kw("references"));
    let is = |i: usize, k: &str| kw(elem, i, k);
    let token = |i: usize| elem.get(i).map(|t| &t.token);
    let word = |i: usize| matches!(token(i), Some(Token::Word(_)));
    let mut edits: Vec<(Range<usize>, &str)> = Vec::new();
    let mut virtual_column = false;
    let mut i = 0;
    while i < elem.len() {
        if key
            && i > 0
            && word(i - 1)
            && is(i, "without")
            && is(i + 1, "overlaps")
            && token(i + 2) == Some(&Token::RParen)
        {
            edits.push((elem[i].range.start..elem[i + 1].range.end, ""));
            i += 2;
        } else if foreign
            && i > 0
            && matches!(token(i - 1), Some(Token::LParen | Token::Comma))
            && is(i, "period")
            && word(i + 1)
        {
            edits.push((elem[i].range.clone(), ""));
            i += 1;
        } else if i >= 2
            && !is(i - 1, "add")
            && !is(i - 1, "column")
            && (is(i, "compression") || is(i, "storage"))
            && word(i + 1)
        {
            edits.push((elem[i].range.start..elem[i + 1].range.end, ""));
            i += 2;
        } else if let Some(open) = identity_options(elem, i) {
            // `GENERATED ... AS IDENTITY (sequence options)`: the options sqlparser may not read
            // (`SEQUENCE NAME`, `START 1`) are left out.
            let (_, close) = split_top_level(elem, open + 1);
            if token(close) != Some(&Token::RParen) {
                return None;
            }
            edits.push((elem[open].range.start..elem[close].range.end, ""));
            i = close + 1;
        } else if is(i, "generated") && is(i + 1, "always") && is(i + 2, "as") && token(i + 3) == Some(&Token::LParen) {
            let (_, close) = split_top_level(elem, i + 4);
            if token(close) != Some(&Token::RParen) {
                return None;
            }
            if is(close + 1, "virtual") {
                edits.push((elem[close + 1].range.clone(), "STORED"));
                virtual_column = true;
            } else if !is(close + 1, "stored") {
                edits.push((elem[close].range.end..elem[close].range.end, " STORED"));
                virtual_column = true;
            }
            i = close + 1;
        } else {
            i += 1;
        }
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(last.range.end - first.range.start);
    let mut at = first.range.start;
    for (r, with) in edits {
        out.push_str(&text[at - base..r.start - base]);
        out.push_str(with);
        at = r.end;
    }
    out.push_str(&text[at - base..last.range.end - base]);
    Some((out, virtual_column))
}

#[cfg(test)]
mod tests {
    use super::super::{Status, parse_statement};
    use super::*;

    /// The statement's action, asserting that sqlparser or the recogniser understood it.
    fn understood(sql: &str) -> Action {
        let (action, status) = parse_statement(sql, 0..sql.len());
        assert!(!matches!(status, Status::Failed { .. }), "{sql}: {status:?}");
        action
    }

    fn failed(sql: &str) -> bool {
        matches!(parse_statement(sql, 0..sql.len()).1, Status::Failed { .. })
    }

    fn alter_ops(sql: &str) -> Vec<AlterOp> {
        match understood(sql) {
            Action::AlterTable(at) => at.ops.into_iter().map(|o| o.op).collect(),
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn create_table(sql: &str) -> CreateTable {
        match understood(sql) {
            Action::CreateTable(ct) => ct,
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn not_null_table_constraints_of_postgresql_18() {
        let ops = alter_ops("ALTER TABLE t ADD CONSTRAINT a_nn NOT NULL a NOT VALID;");
        let [AlterOp::AddConstraint(c)] = ops.as_slice() else { panic!("{ops:?}") };
        assert_eq!(c.name.as_deref(), Some("a_nn"));
        assert!(matches!(&c.kind, ConstraintKind::NotNull { column } if column == "a"));
        assert!(c.not_valid && c.enforced && c.span.is_some());
        let ops = alter_ops("alter table s.t add not null \"B\" no inherit, add constraint x check (a > 0);");
        let [AlterOp::AddConstraint(nn), AlterOp::AddConstraint(ck)] = ops.as_slice() else { panic!("{ops:?}") };
        assert!(nn.name.is_none() && !nn.not_valid);
        assert!(matches!(&nn.kind, ConstraintKind::NotNull { column } if column == "B"));
        assert!(matches!(ck.kind, ConstraintKind::Check { .. }));
        let ct = create_table("CREATE TABLE t2 (col int, CONSTRAINT n NOT NULL col, NOT NULL other NOT VALID);");
        assert_eq!(ct.columns.len(), 1);
        assert_eq!(ct.constraints.len(), 2);
        assert!(ct.constraints.iter().all(|c| matches!(c.kind, ConstraintKind::NotNull { .. }) && !c.not_valid));
        assert_eq!(ct.constraints[0].name.as_deref(), Some("n"));
        // Not PostgreSQL: still syntax errors.
        for bad in [
            "ALTER TABLE t ADD CONSTRAINT a_nn NOT NULL;",
            "ALTER TABLE t ADD CONSTRAINT a_nn NOT NULL a b;",
            "ALTER TABLE t ADD CONSTRAINT a_nn NOT NULL a NOT;",
            "CREATE TABLE t (a int, CONSTRAINT NOT NULL a);",
        ] {
            assert!(failed(bad), "{bad}");
        }
    }

    #[test]
    fn temporal_keys_of_postgresql_18() {
        let ct = create_table(
            "CREATE TABLE r (id int, valid_at daterange, PRIMARY KEY (id, valid_at WITHOUT OVERLAPS), UNIQUE (id, valid_at WITHOUT OVERLAPS));",
        );
        assert!(
            matches!(&ct.constraints[0].kind, ConstraintKind::PrimaryKey { columns, .. } if columns == &["id", "valid_at"])
        );
        assert!(matches!(&ct.constraints[1].kind, ConstraintKind::Unique { columns, .. } if columns.len() == 2));
        let ct = create_table(
            "CREATE TABLE f (id int, valid_at daterange, FOREIGN KEY (id, PERIOD valid_at) REFERENCES r (id, PERIOD valid_at));",
        );
        let ConstraintKind::ForeignKey(fk) = &ct.constraints[0].kind else { panic!("{ct:?}") };
        assert_eq!(fk.columns, ["id", "valid_at"]);
        assert_eq!(fk.ref_columns, ["id", "valid_at"]);
        let ops = alter_ops(
            "ALTER TABLE f ADD CONSTRAINT fk FOREIGN KEY (id, PERIOD valid_at) REFERENCES r (id, PERIOD valid_at) NOT VALID;",
        );
        let [AlterOp::AddConstraint(c)] = ops.as_slice() else { panic!("{ops:?}") };
        assert!(c.not_valid && matches!(&c.kind, ConstraintKind::ForeignKey(fk) if fk.columns.len() == 2));
        let ops = alter_ops("ALTER TABLE r ADD CONSTRAINT r_pk PRIMARY KEY (id, valid_at WITHOUT OVERLAPS);");
        assert!(matches!(&ops[0], AlterOp::AddConstraint(c) if matches!(c.kind, ConstraintKind::PrimaryKey { .. })));
        // A column named `period` is a column; `WITHOUT OVERLAPS` needs a key column before it.
        let ct = create_table("CREATE TABLE f (period int, FOREIGN KEY (period) REFERENCES r);");
        assert!(matches!(&ct.constraints[0].kind, ConstraintKind::ForeignKey(fk) if fk.columns == ["period"]));
        assert!(failed("CREATE TABLE r (id int, PRIMARY KEY (WITHOUT OVERLAPS));"));
    }

    #[test]
    fn generated_columns_virtual_and_stored() {
        let ct = create_table(
            "CREATE TABLE g (a int, b int GENERATED ALWAYS AS (a * 2) STORED, c int GENERATED ALWAYS AS (a * 3) VIRTUAL, d int GENERATED ALWAYS AS (f(a, 1)) NOT NULL, e text COMPRESSION lz4 STORAGE external NOT NULL);",
        );
        let generated: Vec<Option<Generated>> = ct.columns.iter().map(|c| c.generated).collect();
        assert_eq!(
            generated,
            [None, Some(Generated::Stored), Some(Generated::Virtual), Some(Generated::Virtual), None]
        );
        assert!(ct.columns[3].not_null && ct.columns[4].not_null);
        for (sql, expected) in [
            ("ALTER TABLE g ADD COLUMN d int GENERATED ALWAYS AS (a * 5) VIRTUAL;", Generated::Virtual),
            ("ALTER TABLE g ADD COLUMN e int GENERATED ALWAYS AS (a * 5);", Generated::Virtual),
            ("ALTER TABLE g ADD e int GENERATED ALWAYS AS (a * 5) STORED;", Generated::Stored),
        ] {
            let ops = alter_ops(sql);
            let [AlterOp::AddColumn { column, .. }] = ops.as_slice() else { panic!("{ops:?}") };
            assert_eq!(column.generated, Some(expected), "{sql}");
        }
        // Identity sequence options sqlparser does not read.
        let ct = create_table(
            "CREATE TABLE a (id bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME a_seq START WITH 10) PRIMARY KEY, b bigint GENERATED BY DEFAULT AS IDENTITY (START 1 INCREMENT 1 NO MINVALUE) NOT NULL);",
        );
        assert_eq!(ct.columns.iter().map(|c| c.generated).collect::<Vec<_>>(), [Some(Generated::Identity); 2]);
        assert!(ct.columns[0].primary_key && ct.columns[1].not_null);
        let ops = alter_ops("ALTER TABLE a ADD COLUMN c int GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME c_seq);");
        assert!(
            matches!(&ops[..], [AlterOp::AddColumn { column, .. }] if column.generated == Some(Generated::Identity))
        );
        assert!(failed("ALTER TABLE g ADD COLUMN e int GENERATED ALWAYS AS (a * 5) VIRTUAL VIRTUAL;"));
        assert!(failed("ALTER TABLE g ADD COLUMN e int GENERATED ALWAYS AS (a * 5;"));
    }

    #[test]
    fn set_expression_and_alter_constraint() {
        let ops = alter_ops("ALTER TABLE g ALTER COLUMN b SET EXPRESSION AS (a * 4), ALTER c SET EXPRESSION AS (1);");
        assert!(
            matches!(&ops[..], [AlterOp::SetExpression { column: b }, AlterOp::SetExpression { column: c }] if b == "b" && c == "c")
        );
        assert!(failed("ALTER TABLE g ALTER COLUMN b SET EXPRESSION (a * 4);"));
        for (sql, expected) in [
            ("ALTER TABLE t ALTER CONSTRAINT fk NOT ENFORCED;", Some(false)),
            ("ALTER TABLE t ALTER CONSTRAINT fk ENFORCED;", Some(true)),
            ("ALTER TABLE t ALTER CONSTRAINT fk DEFERRABLE INITIALLY DEFERRED;", None),
            ("ALTER TABLE t ALTER CONSTRAINT fk NOT DEFERRABLE ENFORCED;", Some(true)),
            ("ALTER TABLE t ALTER CONSTRAINT nn NO INHERIT;", None),
            ("ALTER TABLE t ALTER CONSTRAINT nn INHERIT;", None),
        ] {
            let ops = alter_ops(sql);
            assert!(
                matches!(&ops[..], [AlterOp::AlterConstraint { name, enforced }] if *enforced == expected && (name == "fk" || name == "nn")),
                "{sql}: {ops:?}"
            );
        }
        for bad in [
            "ALTER TABLE t ALTER CONSTRAINT fk;",
            "ALTER TABLE t ALTER CONSTRAINT fk NOT;",
            "ALTER TABLE t ALTER CONSTRAINT nn NO INHERIT ENFORCED;",
            "ALTER TABLE t ALTER CONSTRAINT fk SET NOT NULL;",
        ] {
            assert!(failed(bad), "{bad}");
        }
    }

    #[test]
    fn not_enforced_constraints_of_postgresql_18() {
        let ops = alter_ops(
            "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0) NOT ENFORCED, ADD CONSTRAINT fk FOREIGN KEY (b) REFERENCES u (id) NOT ENFORCED, ADD CONSTRAINT ck2 CHECK (a < 9);",
        );
        let enforced: Vec<bool> = ops
            .iter()
            .map(|o| match o {
                AlterOp::AddConstraint(c) => c.enforced,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(enforced, [false, false, true]);
        let ct =
            create_table("CREATE TABLE ne (a int CHECK (a > 0) NOT ENFORCED, b int REFERENCES t (id) NOT ENFORCED);");
        assert_eq!(ct.columns[0].checks_not_enforced, [true]);
        assert!(ct.columns[1].references_not_enforced);
    }

    #[test]
    fn other_syntax_of_postgresql_17_and_18() {
        for sql in [
            "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = 1 WHEN NOT MATCHED THEN INSERT VALUES (s.id) RETURNING merge_action(), t.*;",
            "CREATE TABLE l (LIKE t INCLUDING ALL EXCLUDING COMPRESSION EXCLUDING STATISTICS);",
            "CREATE TABLE l (LIKE t INCLUDING COMMENTS INCLUDING CONSTRAINTS INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY INCLUDING INDEXES INCLUDING STORAGE);",
            "CREATE VIEW jv AS SELECT jt.* FROM docs, JSON_TABLE(docs.body, '$.items[*]' COLUMNS (id int PATH '$.id', name text PATH '$.name')) AS jt;",
            "ALTER TABLE t ADD COLUMN u uuid DEFAULT uuidv7();",
            "ALTER TABLE t SET ACCESS METHOD DEFAULT;",
            "ALTER TABLE t SET ACCESS METHOD heap;",
        ] {
            understood(sql);
        }
        let ops = alter_ops("ALTER TABLE t SET ACCESS METHOD DEFAULT;");
        assert!(matches!(ops[..], [AlterOp::Other]), "{ops:?}");
    }
}
